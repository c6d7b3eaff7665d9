/* cgi/app.c: the request pipeline both transports call: route, decode, authenticate, gate, CSRF,
 * call the handler, answer JSON or a page. Every check that can be made once is made here. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/csv_job.h"
#include "api/session.h"
#include "cgi/decode.h"
#include "cgi/page.h"
#include "cgi/request.h"
#include "cgi/routes.h"
#include "core/i18n.h"
#include "core/log.h"
#include "core/password.h"
#include "core/util.h"

#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

static const struct config *app_cfg;

int
app_init(const struct config *cfg)
{
	app_cfg = cfg;
	if (pw_init(cfg->argon2_m_kib, cfg->argon2_t, cfg->argon2_p) != 0) {
		log_warnx("argon2 init failed");
		return -1;
	}
	if (db_pool_init(cfg->db, (int)cfg->workers + 2) != 0)
		return -1;
	if (page_init(cfg) != 0)
		return -1;
	/* CSV import jobs run in the panel (CONTRACT "Jobs"); after page_init: they need the catalogs. */
	return csv_runner_start(cfg);
}

static void
security_headers(struct request *r, bool page)
{
	resp_header(r, "X-Content-Type-Options", "nosniff");
	resp_header(r, "Referrer-Policy", "same-origin");
	resp_header(r, "X-Frame-Options", "DENY");
	resp_header(r, "Cache-Control", "no-store");
	if (page)
		resp_header(r, "Content-Security-Policy", CSP);
}

static void
send_json(struct request *r, int status, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	r->status = status;
	if (status != 204) {
		r->content_type = "application/json";
		buf_adds(&r->body_out, s ? s : "{}");
	}
	free(s);
}

/* The value of cookie `name` in the Cookie header, arena copy; NULL when absent. */
static const char *
cookie(struct request *r, const char *name)
{
	const char *h = req_header(r, "cookie"), *p;
	size_t nl = strlen(name);

	for (p = h; p != NULL && *p; ) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t vl = strcspn(v, ";");

			return arena_strndup(r->arena, v, vl);
		}
		p = strchr(p, ';');
	}
	return NULL;
}

/* Cross-site Origin: one whose host differs from Host (login forms, CONTRACT). */
static bool
cross_site(struct request *r)
{
	const char *o = req_header(r, "origin"), *h = req_header(r, "host"), *oh;

	if (o == NULL || strcmp(o, "null") == 0)
		return o != NULL;
	oh = strstr(o, "://");
	if (oh == NULL || h == NULL)
		return true;
	return strcasecmp(oh + 3, h) != 0;
}

/* Content negotiation at a page path (CONTRACT "Browser panels": Accept: text/html or a form
 * POST gets the page, JSON gets JSON): a JSON body, or no form body and an Accept that names
 * application/json but not text/html, gets the JSON API's answer. */
static bool
wants_json(struct request *r)
{
	const char *ct = req_header(r, "content-type"), *acc = req_header(r, "accept");

	if (ct != NULL && r->body_len > 0) {
		if (strncasecmp(ct, "application/json", 16) == 0)
			return true;
		if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 ||
		    strncasecmp(ct, "multipart/form-data", 19) == 0)
			return false;
	}
	return acc != NULL && strstr(acc, "application/json") != NULL && strstr(acc, "text/html") == NULL;
}

static bool
role_allowed(const struct api_route *rt, const struct principal *p)
{
	if (p->role == ROLE_USER)
		return (rt->flags & R_USER) != 0;
	if (!(rt->flags & R_ADMIN))
		return false;
	if ((rt->flags & R_SUPER) && p->role != ROLE_SUPERADMIN)
		return false;
	if ((rt->flags & R_NOSUPPORT) && p->role == ROLE_SUPPORT)
		return false;
	return true;
}

/* Decode the body into c->in by its type. 0, or an HTTP status for the client's error. */
static int
decode_body(struct request *r, struct api_ctx *c)
{
	const char *ct = req_header(r, "content-type");

	c->content_type = ct;
	c->body = r->body;
	c->body_len = r->body_len;
	if (r->body_too_large)
		return 413;
	if (r->body_len == 0 || ct == NULL)
		return 0;
	if (strncasecmp(ct, "application/json", 16) == 0) {
		json_t *o = decode_json_object(r->body, r->body_len);

		if (o == NULL)
			return 400;
		json_decref(c->in);
		c->in = o;
	} else if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		if (decode_urlencoded(r->body, r->body_len, c->in) != 0)
			return 400;
	} else if (strncasecmp(ct, "multipart/form-data", 19) == 0) {
		const char *file;
		size_t flen;

		if (decode_multipart(r->body, r->body_len, ct, c->in, &file, &flen) != 0)
			return 400;
		if (file != NULL) {
			c->body = file;
			c->body_len = flen;
		}
	}
	return 0;
}

static int
fail_status(struct api_ctx *c, int status)
{
	switch (status) {
	case 400: return api_fail(c, 400, "malformed", NULL);
	case 401: return api_fail(c, 401, "unauthenticated", NULL);
	case 403: return api_fail(c, 403, "forbidden", NULL);
	case 404: return api_fail(c, 404, "not_found", NULL);
	case 405: return api_fail(c, 405, "method_not_allowed", NULL);
	case 413: return api_fail(c, 413, "malformed", NULL);
	default: return api_unavailable(c);
	}
}

void
app_handle(struct request *r)
{
	struct api_ctx c;
	const struct api_route *rt = NULL;
	enum route_mode mode;
	const char *path = r->path, *sub = NULL, *base = NULL, *method = r->method;
	char allow[64];
	int status = 500;
	bool got_db = false;

	memset(&c, 0, sizeof(c));
	c.arena = r->arena;
	c.cfg = r->cfg;
	c.remote_addr = r->remote_addr;
	c.tls = r->tls;
	c.in = json_object();
	c.query = json_object();
	c.origin = req_header(r, "origin");
	c.host = req_header(r, "host");
	c.lang = i18n_pick_lang(req_header(r, "accept-language"), cookie(r, "lang"));
	buf_init(&c.raw);

	if (strncmp(path, "/static/", 8) == 0) {
		security_headers(r, false);
		page_static(r, path + 8);
		goto done;
	}
	if (strncmp(path, "/api/v1/", 8) == 0) {
		mode = MODE_API;
		sub = path + 7;
	} else {
		mode = MODE_HTML;
		c.html = true;
		if (strncmp(path, "/mail", 5) == 0 && (path[5] == '/' || path[5] == '\0')) {
			base = "/mail";
			sub = arena_printf(r->arena, "/me%s", path + 5);
		} else if (strncmp(path, "/admin", 6) == 0 && (path[6] == '/' || path[6] == '\0')) {
			base = "/admin";
			sub = path[6] ? path + 6 : "/";
		} else {
			base = "";
			sub = path;
		}
		if (*base && wants_json(r)) {
			mode = MODE_API;
			c.html = false;
		}
	}
	security_headers(r, mode == MODE_HTML);
	if (decode_urlencoded(r->query, strlen(r->query), c.query) != 0) {
		status = fail_status(&c, 400);
		goto answer;
	}
	{
		/* ?lang=ja|en on any page is the user's choice, kept in a cookie. */
		const char *l = json_string_value(json_object_get(c.query, "lang"));

		if (l != NULL && (!strcmp(l, "ja") || !strcmp(l, "en"))) {
			c.lang = l;
			resp_header(r, "Set-Cookie", arena_printf(r->arena,
			    "lang=%s; Path=/; SameSite=Lax; Max-Age=31536000", l));
		}
	}
	if ((status = decode_body(r, &c)) != 0) {
		status = fail_status(&c, status);
		goto answer;
	}
	/* HTML forms can only POST: a hidden _method field stands for PATCH, PUT, DELETE. */
	if (mode == MODE_HTML && strcmp(method, "POST") == 0) {
		const char *ov = json_string_value(json_object_get(c.in, "_method"));

		/* Static strings: the field itself is freed before the page is answered. */
		if (ov && !strcmp(ov, "PATCH"))
			method = "PATCH";
		else if (ov && !strcmp(ov, "PUT"))
			method = "PUT";
		else if (ov && !strcmp(ov, "DELETE"))
			method = "DELETE";
	}
	status = route_find(mode, method, sub, &c, &rt, allow, sizeof(allow));
	if (status == 404 && base && *base)
		status = route_find(mode, method, path, &c, &rt, allow, sizeof(allow));
	if (status != 0) {
		if (status == 405)
			resp_header(r, "Allow", allow);
		status = fail_status(&c, status);
		goto answer;
	}
	c.db = db_pool_get();
	got_db = true;
	{
		const char *auth = req_header(r, "authorization");
		const char *bearer = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
		const char *tok = cookie(r, SESSION_COOKIE);

		c.session_token = tok;
		if (bearer != NULL || tok != NULL) {
			switch (session_load(&c, tok, bearer, &c.p)) {
			case LK_FOUND: break;
			case LK_NOTFOUND: c.p = NULL; break;
			case LK_TEMPFAIL: status = api_unavailable(&c); goto answer;
			}
			if (bearer != NULL && c.p == NULL) {
				status = fail_status(&c, 401);
				goto answer;
			}
		}
	}
	if ((rt->flags & R_ORIGIN) && cross_site(r)) {
		status = fail_status(&c, 403);
		goto answer;
	}
	if (!(rt->flags & R_PUBLIC)) {
		if (c.p == NULL) {
			status = fail_status(&c, 401);
			goto answer;
		}
		if (c.p->must_change_password && !(rt->flags & R_GATE_OK)) {
			status = api_fail(&c, 403, "must_change_password", NULL);
			goto answer;
		}
		if (!role_allowed(rt, c.p)) {
			status = fail_status(&c, 403);
			goto answer;
		}
		/* Every state change of a cookie session carries the session's CSRF token,
		 * as a header (API) or a form field (pages). Bearer tokens need none. */
		if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 && c.p->token_id == 0) {
			const char *t = req_header(r, "x-csrf-token");

			if (t == NULL)
				t = json_string_value(json_object_get(c.in, "csrf_token"));
			if (t == NULL || c.p->csrf_token[0] == '\0' || !str_eq_ct(t, c.p->csrf_token)) {
				status = api_fail(&c, 403, "csrf", NULL);
				goto answer;
			}
		}
	}
	if (mode == MODE_HTML) {
		json_object_del(c.in, "csrf_token");
		json_object_del(c.in, "_method");
	}
	status = rt->fn(&c);
answer:
	if (c.set_cookie[0] != '\0')
		resp_header(r, "Set-Cookie", c.set_cookie);
	if (c.raw_type != NULL && status >= 200 && status < 300) {
		r->status = status;
		r->content_type = c.raw_type;
		if (c.raw_disposition)
			resp_header(r, "Content-Disposition", c.raw_disposition);
		buf_add(&r->body_out, c.raw.data ? c.raw.data : "", c.raw.len);
		if (c.raw_stream != NULL) {
			/* The transport sends body_out (what the handler put in raw) first, then the stream. */
			r->stream = c.raw_stream;
			r->stream_free = c.raw_stream_free;
			r->stream_arg = c.raw_stream_arg;
			c.raw_stream_free = NULL;
		}
	} else if (mode == MODE_API) {
		if (status == 201 && c.location)
			resp_header(r, "Location", c.location);
		send_json(r, status, c.out);
	} else {
		page_answer(r, &c, rt, base, method, status);
	}
done:
	if (c.raw_stream_free != NULL && c.raw_stream_arg != NULL)
		c.raw_stream_free(c.raw_stream_arg);     /* a stream the answer did not carry */
	if (got_db)
		db_pool_put(&c.db);
	json_decref(c.in);
	json_decref(c.query);
	json_decref(c.out);
	buf_free(&c.raw);
}
