/* maild/sock.h: TCP sockets for the daemon: listen on ADDR:PORT, connect with a timeout, split HOST:PORT. */
#ifndef YUBIN_MAILD_SOCK_H
#define YUBIN_MAILD_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* "127.0.0.1:25", "[::1]:25", "host:25" into host and port; false when malformed. */
bool sock_split(const char *addrport, char *host, size_t hostsz, char *port, size_t portsz);
/* The same for connecting to one of our own listeners: a wildcard address (0.0.0.0, ::,
 * empty) becomes loopback. */
bool sock_split_local(const char *addrport, char *host, size_t hostsz, char *port, size_t portsz);
/* A listening socket (SO_REUSEADDR, backlog 512); -1 (logged) on failure. */
int sock_listen(const char *addrport);
/* A connected TCP socket to host:port within timeout_s, with send/receive timeouts of
 * io_timeout_s set on it; -1 on failure (errno kept). */
int sock_connect(const char *host, const char *port, int timeout_s, int io_timeout_s);
/* Write all of it, 0 or -1. */
int sock_write_all(int fd, const void *p, size_t n);
/* Read one line ending in LF from fd (slowly, byte by byte: for short protocol replies
 * only); CRLF stripped. Length, or -1 on EOF/error/timeout/overflow. */
ssize_t sock_read_line(int fd, char *buf, size_t bufsz);

#endif
