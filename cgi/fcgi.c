/* cgi/fcgi.c: the FastCGI transport (libfcgi): a fixed set of worker threads sharing one socket;
 * routes on REQUEST_URI so a stock nginx `include fastcgi_params` location serves it. */
#include "cgi/transport.h"

#include <fcgiapp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

static const struct config *fcgi_cfg;
static int listen_sock;
static pthread_mutex_t accept_mtx = PTHREAD_MUTEX_INITIALIZER;

/* Each part as the stream makes it, flushed, so memory holds one part at a time. Over
 * FastCGI a fault can only end the body early. */
static void
send_stream(struct request *r, FCGX_Request *fr)
{
	struct buf part;
	int rc;

	buf_init(&part);
	do {
		buf_reset(&part);
		rc = r->stream(r->stream_arg, &part);
		if (part.oom)
			rc = -1;
		if (rc >= 0 && part.len > 0 &&
		    (FCGX_PutStr(part.data, (int)part.len, fr->out) < 0 || FCGX_FFlush(fr->out) < 0))
			rc = -1;        /* the web server or client went away */
	} while (rc == 1);
	if (rc < 0)
		log_warnx("streamed answer to %s ended early", r->uri);
	buf_free(&part);
}

static void
serve_one(FCGX_Request *fr)
{
	struct request r;
	const char *v, *uri;
	char **e, name[128];
	int64_t clen = 0;

	memset(&r, 0, sizeof(r));
	r.arena = arena_new("req");
	if (r.arena == NULL)
		return;
	r.cfg = fcgi_cfg;
	buf_init(&r.body_out);
	v = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	r.method = arena_strdup(r.arena, v ? v : "GET");
	uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	req_set_uri(&r, uri ? uri : "/");
	v = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	r.remote_addr = arena_strdup(r.arena, v ? v : "");
	v = FCGX_GetParam("HTTPS", fr->envp);
	r.tls = v != NULL && strcasecmp(v, "on") == 0;
	for (e = fr->envp; *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		size_t nl;

		if (eq == NULL || strncmp(*e, "HTTP_", 5) != 0)
			continue;
		nl = (size_t)(eq - *e) - 5;
		if (nl == 0 || nl >= sizeof(name))
			continue;
		for (size_t k = 0; k < nl; k++)
			name[k] = (*e)[5 + k] == '_' ? '-' : (*e)[5 + k];
		name[nl] = '\0';
		req_add_header(&r, name, eq + 1);
	}
	v = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	if (v && *v)
		req_add_header(&r, "content-type", v);
	v = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	/* RFC 3875 4.1.2: CONTENT_LENGTH is the body's size; a bad one is the client's fault. */
	if (v && *v && (!parse_i64(v, 0, INT64_MAX, &clen))) {
		clen = 0;
		r.body_too_large = true;
	}
	if (clen > (int64_t)REQ_MAX_BODY) {
		r.body_too_large = true;
	} else if (clen > 0) {
		char *body = malloc((size_t)clen + 1);
		int got = 0, n;

		if (body == NULL) {
			r.body_too_large = true;
		} else {
			while (got < clen && (n = FCGX_GetStr(body + got, (int)(clen - got), fr->in)) > 0)
				got += n;
			body[got] = '\0';
			r.body = body;
			r.body_len = (size_t)got;
		}
	}
	app_handle(&r);
	{
		/* Headers are formatted here, not by libfcgi's own printf, which lacks
		 * parts of C99 (no %zu; %lu mis-sized on some builds). */
		struct buf h;
		int i2;

		buf_init(&h);
		buf_printf(&h, "Status: %d %s\r\n", r.status, status_text(r.status));
		for (i2 = 0; i2 < r.nout; i2++)
			buf_printf(&h, "%s: %s\r\n", r.out[i2].name, r.out[i2].value);
		if (r.content_type)
			buf_printf(&h, "Content-Type: %s\r\n", r.content_type);
		/* A streamed body has no length: the web server chunks it or closes after it. */
		if (r.stream != NULL)
			buf_adds(&h, "\r\n");
		else
			buf_printf(&h, "Content-Length: %zu\r\n\r\n", r.body_out.len);
		if (!h.oom)
			FCGX_PutStr(h.data, (int)h.len, fr->out);
		buf_free(&h);
	}
	if (r.body_out.len > 0)
		FCGX_PutStr(r.body_out.data, (int)r.body_out.len, fr->out);
	if (r.stream != NULL)
		send_stream(&r, fr);
	resp_stream_end(&r);
	if (r.body != NULL) {
		explicit_bzero((char *)r.body, r.body_len);
		free((char *)r.body);
	}
	buf_free(&r.body_out);
	arena_free(&r.arena);
}

static void *
worker(void *arg)
{
	FCGX_Request fr;

	(void)arg;
	if (FCGX_InitRequest(&fr, listen_sock, 0) != 0)
		return NULL;
	for (;;) {
		int rc;

		/* One thread in accept at a time, as libfcgi's threaded example does. */
		pthread_mutex_lock(&accept_mtx);
		rc = FCGX_Accept_r(&fr);
		pthread_mutex_unlock(&accept_mtx);
		if (rc < 0)
			break;
		serve_one(&fr);
		FCGX_Finish_r(&fr);
	}
	return NULL;
}

int
fcgi_serve(const struct config *cfg, const char *bind, const sigset_t *stop)
{
	pthread_t *th;
	struct timespec deadline;
	int i, n = (int)cfg->workers, sig = 0, late = 0;

	fcgi_cfg = cfg;
	if (FCGX_Init() != 0)
		return -1;
	if (bind == NULL) {
		listen_sock = 0;      /* under a FastCGI spawner: the socket is fd 0 */
	} else {
		listen_sock = FCGX_OpenSocket(bind, 256);
		if (listen_sock < 0) {
			log_warnx("cannot listen for FastCGI on %s", bind);
			return -1;
		}
		log_info("serving FastCGI on %s with %d workers", bind, n);
	}
	th = calloc((size_t)n, sizeof(*th));
	if (th == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0)
			fatal("pthread_create");
	if (sigwait(stop, &sig) != 0)
		fatalx("sigwait");
	log_info("signal %d: stopping", sig);
	/* No new requests: FCGX_Accept_r answers -1 from now on, and a worker blocked in
	 * accept() is woken by the listening socket's shutdown. A request in hand finishes. */
	FCGX_ShutdownPending();
	if (shutdown(listen_sock, SHUT_RDWR) != 0)
		log_warn("FastCGI socket shutdown");
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FCGI_STOP_GRACE_S;
	for (i = 0; i < n; i++)
		if (pthread_timedjoin_np(th[i], NULL, &deadline) != 0)
			late++;
	if (late > 0)
		log_warnx("%d FastCGI requests still running after %d s: stopping without them", late,
		    FCGI_STOP_GRACE_S);
	free(th);
	return 0;
}
