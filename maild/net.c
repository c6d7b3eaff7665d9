/* maild/net.c: listeners and connections (maild/net.h): a thread per connection under a global cap,
 * OpenSSL for implicit TLS and STARTTLS/STLS, buffered line reads with timeouts. */
#include "maild/net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/metrics.h"
#include "maild/sock.h"

#define NET_RBUF 16384
/* Backstop for blocking writes and TLS handshakes (reads use the caller's timeout). */
#define NET_IO_TIMEOUT 300

struct conn {
	int fd;
	SSL *ssl;
	char peer[INET6_ADDRSTRLEN + 8];
	size_t rpos, rlen;
	char rbuf[NET_RBUF];
};

struct listener {
	char name[32];
	int fd;
	bool implicit_tls;
	conn_handler fn;
	void *arg;
};

struct job {
	struct listener *l;
	int fd;
	char peer[INET6_ADDRSTRLEN + 8];
};

static SSL_CTX *tls_ctx;
static pthread_mutex_t slot_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cv = PTHREAD_COND_INITIALIZER;
static int64_t slots_used;
static int64_t slots_max = 256;

static void
log_ssl(const char *what)
{
	unsigned long e;
	char msg[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		log_warnx("tls: %s: %s", what, msg);
	}
}

int
net_tls_init(const struct config *cfg)
{
	SSL_CTX *ctx;

	if (cfg->max_connections > 0)
		slots_max = cfg->max_connections;
	if (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0')
		return 0;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		log_ssl("SSL_CTX_new");
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl(cfg->tls_cert);
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	tls_ctx = ctx;
	return 0;
}

bool
net_tls_available(void)
{
	return tls_ctx != NULL;
}

static int
tls_accept(struct conn *c)
{
	SSL *ssl;

	if (tls_ctx == NULL)
		return -1;
	ssl = SSL_new(tls_ctx);
	if (ssl == NULL || SSL_set_fd(ssl, c->fd) != 1) {
		SSL_free(ssl);
		return -1;
	}
	if (SSL_accept(ssl) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return -1;
	}
	c->ssl = ssl;
	return 0;
}

int
conn_starttls(struct conn *c)
{
	if (c->ssl != NULL)
		return -1;
	/* RFC 3207 §4: anything the client sent before the handshake is not trusted. */
	c->rpos = c->rlen = 0;
	return tls_accept(c);
}

bool
conn_is_tls(const struct conn *c)
{
	return c->ssl != NULL;
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

bool
conn_pending(const struct conn *c)
{
	return c->rpos < c->rlen || (c->ssl != NULL && SSL_pending(c->ssl) > 0);
}

/* Refill the read buffer: >0 bytes read, 0 EOF, -1 error or timeout. */
static ssize_t
fill(struct conn *c, int timeout_s)
{
	struct pollfd pfd;
	ssize_t n;

	c->rpos = c->rlen = 0;
	if (c->ssl == NULL || SSL_pending(c->ssl) == 0) {
		int rc;

		pfd.fd = c->fd;
		pfd.events = POLLIN;
		do
			rc = poll(&pfd, 1, timeout_s > 0 ? timeout_s * 1000 : -1);
		while (rc < 0 && errno == EINTR);
		if (rc <= 0)
			return -1;
	}
	if (c->ssl != NULL) {
		int r = SSL_read(c->ssl, c->rbuf, sizeof(c->rbuf));

		if (r <= 0) {
			ERR_clear_error();
			return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		}
		n = r;
	} else {
		do
			n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
	}
	c->rlen = (size_t)n;
	return n;
}

ssize_t
conn_getline(struct conn *c, char *buf, size_t bufsz, int timeout_s)
{
	size_t len = 0;
	bool overflow = false;

	if (bufsz == 0)
		return -1;
	for (;;) {
		char *nl;
		size_t avail, take;

		if (c->rpos >= c->rlen && fill(c, timeout_s) <= 0)
			return -1;
		avail = c->rlen - c->rpos;
		nl = memchr(c->rbuf + c->rpos, '\n', avail);
		take = nl ? (size_t)(nl - (c->rbuf + c->rpos)) : avail;
		if (!overflow) {
			if (len + take > bufsz - 1) {
				overflow = true;
			} else {
				memcpy(buf + len, c->rbuf + c->rpos, take);
				len += take;
			}
		}
		c->rpos += take;
		if (nl != NULL) {
			c->rpos++;   /* the LF */
			break;
		}
	}
	if (overflow) {
		buf[0] = '\0';
		return -2;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t
conn_read(struct conn *c, void *buf, size_t n, int timeout_s)
{
	size_t take;

	if (n == 0)
		return 0;
	if (c->rpos >= c->rlen) {
		ssize_t r = fill(c, timeout_s);

		if (r <= 0)
			return r;
	}
	take = c->rlen - c->rpos;
	if (take > n)
		take = n;
	memcpy(buf, c->rbuf + c->rpos, take);
	c->rpos += take;
	return (ssize_t)take;
}

int
conn_write(struct conn *c, const void *p, size_t n)
{
	const char *s = p;

	if (c->ssl == NULL)
		return sock_write_all(c->fd, p, n);
	while (n > 0) {
		int chunk = n > 1 << 20 ? 1 << 20 : (int)n;
		int w = SSL_write(c->ssl, s, chunk);

		if (w <= 0) {
			ERR_clear_error();
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int
conn_printf(struct conn *c, const char *fmt, ...)
{
	char small[1024];
	char *big = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return conn_write(c, small, (size_t)n);
	big = malloc((size_t)n + 1);
	if (big == NULL)
		return -1;
	va_start(ap, fmt);
	rc = vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = rc == n ? conn_write(c, big, (size_t)n) : -1;
	free(big);
	return rc;
}

static void
slot_release(void)
{
	pthread_mutex_lock(&slot_mtx);
	slots_used--;
	pthread_cond_signal(&slot_cv);
	pthread_mutex_unlock(&slot_mtx);
	metrics_add("yubin_maild_connections_active", -1);
}

static void *
conn_thread(void *argp)
{
	struct job *j = argp;
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval tv = { .tv_sec = NET_IO_TIMEOUT, .tv_usec = 0 };
	int one = 1;

	if (c == NULL) {
		close(j->fd);
		goto out;
	}
	c->fd = j->fd;
	bstrcpy(c->peer, sizeof(c->peer), j->peer);
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		log_warn("%s: setsockopt", j->l->name);
	if (j->l->implicit_tls && tls_accept(c) != 0) {
		log_info("%s: TLS handshake failed peer=%s", j->l->name, c->peer);
	} else {
		j->l->fn(c, j->l->arg);
	}
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	close(c->fd);
	free(c);
out:
	free(j);
	slot_release();
	return NULL;
}

static void
peer_text(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), out, (socklen_t)outsz, NULL, 0,
	                NI_NUMERICHOST) != 0)
		bstrcpy(out, outsz, "unknown");
}

static void *
accept_thread(void *argp)
{
	struct listener *l = argp;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct job *j;
		pthread_t t;
		pthread_attr_t attr;
		int fd;

		/* Bounded concurrency: wait for a slot before taking the next connection, so
		 * excess clients queue in the kernel's backlog instead of costing threads. */
		pthread_mutex_lock(&slot_mtx);
		while (slots_used >= slots_max)
			pthread_cond_wait(&slot_cv, &slot_mtx);
		pthread_mutex_unlock(&slot_mtx);

		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED) {
				log_warn("%s: accept", l->name);
				usleep(100000);   /* EMFILE and friends: do not spin */
			}
			continue;
		}
		/* Several listeners may pass the wait at once: the cap can be passed by at most
		 * one connection per listener, never more. */
		pthread_mutex_lock(&slot_mtx);
		slots_used++;
		pthread_mutex_unlock(&slot_mtx);
		metrics_inc("yubin_maild_connections_total");
		metrics_add("yubin_maild_connections_active", 1);
		j = calloc(1, sizeof(*j));
		if (j == NULL) {
			close(fd);
			slot_release();
			continue;
		}
		j->l = l;
		j->fd = fd;
		peer_text(&ss, j->peer, sizeof(j->peer));
		if (pthread_attr_init(&attr) != 0) {
			close(fd);
			free(j);
			slot_release();
			continue;
		}
		(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		(void)pthread_attr_setstacksize(&attr, 512 * 1024);
		if (pthread_create(&t, &attr, conn_thread, j) != 0) {
			log_warnx("%s: cannot start a connection thread", l->name);
			close(fd);
			free(j);
			slot_release();
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int
net_listen(const char *name, const char *addrport, bool implicit_tls, conn_handler fn, void *arg)
{
	struct listener *l;
	pthread_t t;

	if (implicit_tls && tls_ctx == NULL) {
		log_warnx("%s: implicit TLS needs tls_cert and tls_key", name);
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -1;
	bstrcpy(l->name, sizeof(l->name), name);
	l->implicit_tls = implicit_tls;
	l->fn = fn;
	l->arg = arg;
	l->fd = sock_listen(addrport);
	if (l->fd < 0) {
		free(l);
		return -1;
	}
	if (pthread_create(&t, NULL, accept_thread, l) != 0) {
		close(l->fd);
		free(l);
		return -1;
	}
	(void)pthread_detach(t);
	log_info("%s: listening on %s%s", name, addrport, implicit_tls ? " (TLS)" : "");
	return 0;
}
