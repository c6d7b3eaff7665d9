/* cgi/transport.h: the two ways the panel meets the network: embedded HTTP and FastCGI. */
#ifndef YUBIN_CGI_TRANSPORT_H
#define YUBIN_CGI_TRANSPORT_H

#include <signal.h>

#include "cgi/request.h"

/* Serve HTTP on ADDR:PORT in background threads. 0 or -1. */
int http_start(const struct config *cfg, const char *addrport);
void http_stop(void);
/* Serve FastCGI on ADDR:PORT, a socket path, or (NULL) fd 0 with `workers` threads until a
 * signal of `stop` (blocked in every thread) arrives; then stop accepting, give the requests
 * in hand up to FCGI_STOP_GRACE_S to finish, and return. 0 or -1. */
#define FCGI_STOP_GRACE_S 10
int fcgi_serve(const struct config *cfg, const char *bind, const sigset_t *stop);

#endif
