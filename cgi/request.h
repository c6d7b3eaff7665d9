/* cgi/request.h: one request and its response, the same for the FastCGI and the HTTP transport. */
#ifndef YUBIN_CGI_REQUEST_H
#define YUBIN_CGI_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"

#define REQ_MAX_HEADERS 64
#define RESP_MAX_HEADERS 24
#define REQ_MAX_BODY (110u * 1024u * 1024u)  /* CSV uploads of big domains; login forms are checked smaller */
#define REQ_MAX_URI 8192

struct hdr {
	const char *name;    /* request: lower-case */
	const char *value;
};

struct request {
	struct arena *arena;
	const struct config *cfg;
	const char *method;
	const char *uri;          /* path and query as the client sent them */
	const char *path;         /* raw path (not decoded) */
	const char *query;        /* raw query, "" when none */
	struct hdr hdrs[REQ_MAX_HEADERS];
	int nhdrs;
	const char *body;
	size_t body_len;
	bool body_too_large;
	const char *remote_addr;
	bool tls;
	/* The response. */
	int status;
	struct hdr out[RESP_MAX_HEADERS];
	int nout;
	const char *content_type;
	struct buf body_out;
	/* A streamed body instead of body_out (see api_ctx.raw_stream): the transport sends
	 * the headers without a length, then the parts stream() appends, as they come. */
	int (*stream)(void *arg, struct buf *out);
	void (*stream_free)(void *arg);
	void *stream_arg;
};

/* Case-insensitive header lookup; NULL when absent. */
const char *req_header(const struct request *r, const char *name);
/* Adds a request header (the transports call this; copies into the arena). */
void req_add_header(struct request *r, const char *name, const char *value);
void resp_header(struct request *r, const char *name, const char *value);
/* Set path and query from uri. */
void req_set_uri(struct request *r, const char *uri);
const char *status_text(int status);
/* Ends r's stream, if any (stream_free once); the transports call it when the response is over. */
void resp_stream_end(struct request *r);

/* The whole application: fill the response of r. Never fails; a fault is a 5xx page. */
void app_handle(struct request *r);
/* Start-up: templates, catalogs, pool. 0 or -1 with a log line. */
int app_init(const struct config *cfg);

#endif
