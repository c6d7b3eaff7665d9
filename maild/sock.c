/* maild/sock.c: TCP helpers shared by the listeners, the metrics server and the clients (queue, spam, virus). */
#include "maild/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

bool
sock_split(const char *addrport, char *host, size_t hostsz, char *port, size_t portsz)
{
	const char *colon;
	size_t hl;

	if (addrport == NULL || *addrport == '\0')
		return false;
	if (addrport[0] == '[') {
		const char *end = strchr(addrport, ']');

		if (end == NULL || end[1] != ':')
			return false;
		hl = (size_t)(end - addrport - 1);
		if (hl + 1 > hostsz)
			return false;
		memcpy(host, addrport + 1, hl);
		host[hl] = '\0';
		return bstrcpy(port, portsz, end + 2) && *port != '\0';
	}
	colon = strrchr(addrport, ':');
	if (colon == NULL || colon == addrport)
		return false;
	hl = (size_t)(colon - addrport);
	if (hl + 1 > hostsz)
		return false;
	memcpy(host, addrport, hl);
	host[hl] = '\0';
	return bstrcpy(port, portsz, colon + 1) && *port != '\0';
}

bool
sock_split_local(const char *addrport, char *host, size_t hostsz, char *port, size_t portsz)
{
	if (!sock_split(addrport, host, hostsz, port, portsz))
		return false;
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
		return bstrcpy(host, hostsz, "127.0.0.1");
	if (strcmp(host, "::") == 0)
		return bstrcpy(host, hostsz, "::1");
	return true;
}

int
sock_listen(const char *addrport)
{
	char host[256], port[32];
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, one = 1, rc;

	if (!sock_split(addrport, host, sizeof(host), port, sizeof(port))) {
		log_warnx("listen: bad address %s", addrport);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		log_warnx("listen: %s: %s", addrport, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 512) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		log_warn("listen: %s", addrport);
	freeaddrinfo(res);
	return fd;
}

static void
set_timeouts(int fd, int io_timeout_s)
{
	struct timeval tv = { .tv_sec = io_timeout_s, .tv_usec = 0 };

	/* Best effort: without them a read still ends by the caller's own poll timeout. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		log_warn("setsockopt timeouts");
}

int
sock_connect(const char *host, const char *port, int timeout_s, int io_timeout_s)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, err = ECONNREFUSED, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		int flags, rc, soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
			goto next;
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc < 0 && errno != EINPROGRESS)
			goto next;
		if (rc < 0) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, timeout_s * 1000);
			if (rc <= 0) {
				errno = rc == 0 ? ETIMEDOUT : errno;
				goto next;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				goto next;
			if (soerr != 0) {
				errno = soerr;
				goto next;
			}
		}
		if (fcntl(fd, F_SETFL, flags) < 0)
			goto next;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_timeouts(fd, io_timeout_s);
		freeaddrinfo(res);
		return fd;
next:
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	errno = err;
	return -1;
}

int
sock_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
sock_read_line(int fd, char *buf, size_t bufsz)
{
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r = recv(fd, &ch, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (ch == '\n')
			break;
		if (n + 1 >= bufsz)
			return -1;
		buf[n++] = ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}
