/* cgi/http.c: the embedded HTTP transport (libmicrohttpd), a thread per connection, capped. */
#include "cgi/transport.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/util.h"

struct conn_state {
	char *uri;
	struct buf body;
	bool too_large;
	bool started;   /* the headers-only first call has been seen */
};

static const struct config *http_cfg;

/* MHD decodes %-escapes in place by default; the router wants the path as sent. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Called first for every request with the raw URI: its return value becomes *con_cls. */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct conn_state *st = calloc(1, sizeof(*st));

	(void)cls;
	(void)con;
	if (st == NULL)
		return NULL;
	st->uri = strdup(uri);
	buf_init(&st->body);
	return st;
}

static enum MHD_Result
add_hdr(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	req_add_header(cls, key, value ? value : "");
	return MHD_YES;
}

/* A streamed body (request.h): MHD pulls it part by part, in chunked encoding, from the
 * connection's thread after the handler returned; it frees it when the response is gone,
 * also when the client left early. */
struct stream_state {
	int (*stream)(void *arg, struct buf *out);
	void (*stream_free)(void *arg);
	void *arg;
	struct buf part;        /* first what the handler put in body_out, then each part */
	size_t off;
	int last;               /* the stream's last answer: 1 more, 0 end, -1 fault */
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream_state *st = cls;
	size_t n;

	(void)pos;
	while (st->off >= st->part.len) {
		if (st->last == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (st->last < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		buf_reset(&st->part);
		st->off = 0;
		st->last = st->stream(st->arg, &st->part);
		if (st->part.oom)
			st->last = -1;
		if (st->last < 0) {
			log_warnx("streamed answer ended early");
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	n = st->part.len - st->off;
	if (n > max)
		n = max;
	memcpy(out, st->part.data + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void
stream_done(void *cls)
{
	struct stream_state *st = cls;

	if (st->stream_free != NULL)
		st->stream_free(st->arg);
	buf_free(&st->part);
	free(st);
}

/* The response of a streamed request; on success the stream belongs to the response. */
static struct MHD_Response *
stream_response(struct request *r)
{
	struct stream_state *st = calloc(1, sizeof(*st));
	struct MHD_Response *resp;

	if (st == NULL)
		return NULL;
	buf_init(&st->part);
	if (!buf_add(&st->part, r->body_out.data ? r->body_out.data : "", r->body_out.len)) {
		buf_free(&st->part);
		free(st);
		return NULL;
	}
	st->stream = r->stream;
	st->stream_free = r->stream_free;
	st->arg = r->stream_arg;
	st->last = 1;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, st, stream_done);
	if (resp == NULL) {
		buf_free(&st->part);
		free(st);
		return NULL;
	}
	/* Owned by the response now. */
	r->stream = NULL;
	r->stream_free = NULL;
	r->stream_arg = NULL;
	return resp;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *con, const char *url, const char *method,
        const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct conn_state *st = *con_cls;
	struct request r;
	struct MHD_Response *resp;
	const union MHD_ConnectionInfo *ci;
	char addr[INET6_ADDRSTRLEN] = "";
	enum MHD_Result ret;
	int i;

	(void)cls;
	(void)version;
	if (st == NULL)
		return MHD_NO;
	/* The first call (headers only) must not answer, or MHD closes the connection
	 * instead of keeping it alive (PERFORMANCE.md). */
	if (!st->started) {
		st->started = true;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (st->body.len + *upload_size > REQ_MAX_BODY)
			st->too_large = true;
		else if (!buf_add(&st->body, upload, *upload_size))
			st->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&r, 0, sizeof(r));
	r.arena = arena_new("req");
	if (r.arena == NULL)
		return MHD_NO;
	r.cfg = http_cfg;
	r.method = method;
	req_set_uri(&r, st->uri ? st->uri : url);
	MHD_get_connection_values(con, MHD_HEADER_KIND, add_hdr, &r);
	ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		if (ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, addr, sizeof(addr));
		else if (ci->client_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr, addr, sizeof(addr));
	}
	r.remote_addr = addr;
	r.body = st->body.data ? st->body.data : "";
	r.body_len = st->body.len;
	r.body_too_large = st->too_large;
	buf_init(&r.body_out);
	app_handle(&r);
	if (r.stream != NULL)
		resp = stream_response(&r);
	else
		resp = MHD_create_response_from_buffer(r.body_out.len, r.body_out.data ? r.body_out.data : (char *)"",
		    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL) {
		resp_stream_end(&r);
		ret = MHD_NO;
		goto out;
	}
	for (i = 0; i < r.nout; i++)
		MHD_add_response_header(resp, r.out[i].name, r.out[i].value);
	if (r.content_type)
		MHD_add_response_header(resp, "Content-Type", r.content_type);
	ret = MHD_queue_response(con, (unsigned)r.status, resp);
	MHD_destroy_response(resp);
out:
	resp_stream_end(&r);
	buf_free(&r.body_out);
	arena_free(&r.arena);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_state *st = *con_cls;

	(void)cls;
	(void)con;
	(void)toe;
	if (st == NULL)
		return;
	free(st->uri);
	if (st->body.data)
		explicit_bzero(st->body.data, st->body.cap);
	buf_free(&st->body);
	free(st);
	*con_cls = NULL;
}

static struct MHD_Daemon *daemon_h;

int
http_start(const struct config *cfg, const char *addrport)
{
	struct sockaddr_in sin;
	char host[64];
	const char *colon = strrchr(addrport, ':');
	int64_t port;

	http_cfg = cfg;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - addrport) >= sizeof(host) ||
	    !parse_i64(colon + 1, 1, 65535, &port)) {
		log_warnx("--http wants ADDR:PORT, not %s", addrport);
		return -1;
	}
	memcpy(host, addrport, (size_t)(colon - addrport));
	host[colon - addrport] = '\0';
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sin.sin_addr) != 1) {
		log_warnx("--http: bad address %s", host);
		return -1;
	}
	sin.sin_port = htons((uint16_t)port);
	daemon_h = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, handler, NULL,
	    MHD_OPTION_SOCK_ADDR, &sin,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, 60u,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
	    MHD_OPTION_END);
	if (daemon_h == NULL) {
		log_warnx("cannot listen on %s", addrport);
		return -1;
	}
	log_info("serving HTTP on %s", addrport);
	return 0;
}

void
http_stop(void)
{
	if (daemon_h)
		MHD_stop_daemon(daemon_h);
	daemon_h = NULL;
}
