/* cgi/transport.h: the two ways the panel meets the network: embedded HTTP and FastCGI. */
#ifndef YUBIN_CGI_TRANSPORT_H
#define YUBIN_CGI_TRANSPORT_H

#include "cgi/request.h"

/* Serve HTTP on ADDR:PORT in background threads. 0 or -1. */
int http_start(const struct config *cfg, const char *addrport);
void http_stop(void);
/* Serve FastCGI on ADDR:PORT, a socket path, or (NULL) fd 0; runs `workers` threads and
 * returns when they end (on a signal). 0 or -1. */
int fcgi_serve(const struct config *cfg, const char *bind);

#endif
