/* maild/smtpc.h: the SMTP client of the outgoing queue: one message, one recipient, one server. */
#ifndef YUBIN_MAILD_SMTPC_H
#define YUBIN_MAILD_SMTPC_H

#include <stddef.h>

#include "core/config.h"

enum smtpc_result {
	SMTPC_OK,      /* 250 after the final dot */
	SMTPC_TEMP,    /* 4xx, or the server could not be reached or went away: retry later */
	SMTPC_PERM,    /* 5xx: bounce */
};

/* Send the message file (LF line ends; sent as CRLF, dot-stuffed) to host:port. err gets
 * the server's reply or what went wrong, with an enhanced status code first. */
enum smtpc_result smtpc_send(const struct config *cfg, const char *host, const char *port,
                             const char *from, const char *rcpt, const char *msgpath,
                             char *err, size_t errsz);

#endif
