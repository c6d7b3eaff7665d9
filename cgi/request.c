/* cgi/request.c: request header access and response header bookkeeping. */
#include "cgi/request.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *
req_header(const struct request *r, const char *name)
{
	int i;

	for (i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

void
req_add_header(struct request *r, const char *name, const char *value)
{
	char *n;
	size_t i;

	if (r->nhdrs >= REQ_MAX_HEADERS)
		return;
	n = arena_strdup(r->arena, name);
	if (n == NULL)
		return;
	for (i = 0; n[i]; i++)
		n[i] = (char)tolower((unsigned char)n[i]);
	r->hdrs[r->nhdrs].name = n;
	r->hdrs[r->nhdrs].value = arena_strdup(r->arena, value);
	if (r->hdrs[r->nhdrs].value != NULL)
		r->nhdrs++;
}

void
resp_header(struct request *r, const char *name, const char *value)
{
	if (r->nout >= RESP_MAX_HEADERS)
		return;
	r->out[r->nout].name = name;
	r->out[r->nout].value = arena_strdup(r->arena, value);
	if (r->out[r->nout].value != NULL)
		r->nout++;
}

void
req_set_uri(struct request *r, const char *uri)
{
	const char *q = strchr(uri, '?');

	r->uri = arena_strdup(r->arena, uri);
	if (q) {
		r->path = arena_strndup(r->arena, uri, (size_t)(q - uri));
		r->query = arena_strdup(r->arena, q + 1);
	} else {
		r->path = r->uri;
		r->query = "";
	}
	if (r->path == NULL)
		r->path = "/";
	if (r->query == NULL)
		r->query = "";
}

void
resp_stream_end(struct request *r)
{
	if (r->stream_free != NULL && r->stream_arg != NULL)
		r->stream_free(r->stream_arg);
	r->stream = NULL;
	r->stream_free = NULL;
	r->stream_arg = NULL;
}

const char *
status_text(int s)
{
	switch (s) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}
