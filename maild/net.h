/* maild/net.h: listeners and connections for the mail protocols: a thread per connection,
 * bounded by max_connections, plaintext or TLS (implicit or after STARTTLS/STLS). */
#ifndef YUBIN_MAILD_NET_H
#define YUBIN_MAILD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"

struct conn;   /* opaque: socket, TLS state, read buffer, timeouts */

typedef void (*conn_handler)(struct conn *c, void *arg);

/* Load tls_cert/tls_key once (NULL config paths: TLS unavailable). 0 or -1. */
int net_tls_init(const struct config *cfg);
bool net_tls_available(void);
/* Listen on ADDR:PORT and run fn in its own thread for every connection (after the TLS
 * handshake when implicit_tls). Returns 0 or -1 (logged). `name` is for logs/metrics. */
int net_listen(const char *name, const char *addrport, bool implicit_tls, conn_handler fn, void *arg);

/* Read one line ending in LF (CRLF stripped) into buf. Returns its length, -1 on EOF,
 * timeout or error, -2 when the line was longer than bufsz-1 (the rest is discarded). */
ssize_t conn_getline(struct conn *c, char *buf, size_t bufsz, int timeout_s);
/* Read up to n bytes (for DATA bodies the SMTP code reads lines instead). */
ssize_t conn_read(struct conn *c, void *buf, size_t n, int timeout_s);
/* Write all of it; 0 or -1. conn_printf appends CRLF itself? No: the caller writes it. */
int conn_write(struct conn *c, const void *p, size_t n);
int conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Upgrade to TLS now (STARTTLS/STLS). Any buffered plaintext is discarded first, as
 * RFC 3207 §4 requires. 0 or -1. */
int conn_starttls(struct conn *c);
bool conn_is_tls(const struct conn *c);
const char *conn_peer(const struct conn *c);   /* "127.0.0.1" */
/* Whether input is already buffered (PIPELINING: flush replies only when it is not). */
bool conn_pending(const struct conn *c);

#endif
