/* api/api.h: what every handler sees — the caller (principal), the decoded input, the result —
 * and the route rows each resource file contributes. api/ never sees HTTP. */
#ifndef YUBIN_API_API_H
#define YUBIN_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/db.h"
#include "core/rules.h"

enum role {
	ROLE_SUPERADMIN,
	ROLE_DOMAIN_ADMIN,
	ROLE_SUPPORT,
	ROLE_USER,
};

struct principal {
	enum role role;
	int64_t admin_id;          /* admins.id (0 for users and tokens without creator) */
	int64_t account_id;        /* accounts.id for role user */
	int64_t token_id;          /* api_tokens.id when signed in by Bearer token */
	char login[330];           /* admin login, or the user's full address */
	char user_name[65];        /* role user: local part */
	char user_domain[256];     /* role user: domain */
	const char **domains;      /* domain_admin/support (and user): the domains in scope */
	size_t ndomains;
	bool must_change_password;
	bool temp_password;
	char session_hash[65];     /* the session row (cookie sessions) */
	char csrf_token[65];
};

#define API_MAX_PARAMS 6

struct api_ctx {
	struct arena *arena;
	struct db *db;
	const struct config *cfg;
	struct principal *p;       /* NULL on public routes */
	const char *lang;          /* "ja" or "en" */
	const char *remote_addr;
	const char *origin;        /* Origin header or NULL */
	const char *host;          /* Host header or NULL */
	const char *session_token; /* the session cookie's value or NULL (the TOTP step reads
	                            * its pending session, which c->p never is) */
	bool html;                 /* answering a page: handlers may add data for the template */
	bool tls;
	struct { const char *name, *value; } params[API_MAX_PARAMS];
	int nparams;
	json_t *in;                /* decoded JSON or form body: always an object */
	json_t *query;             /* query string: always an object of strings */
	const char *body;          /* raw body, for CSV uploads */
	size_t body_len;
	const char *content_type;
	json_t *out;               /* the result object, or the error object */
	/* Side effects the transport carries out: */
	char set_cookie[512];
	const char *location;      /* Location of a 201 */
	const char *raw_type;      /* when set, `raw` is the body (CSV, XML, profiles) */
	const char *raw_disposition;
	struct buf raw;
	/* A streamed raw body (an export too big to build in memory): with raw_type set and a
	 * 2xx answer, the transport sends the headers, then calls raw_stream(raw_stream_arg,
	 * out) with an empty `out` and sends what it appended, until it answers 0 (the end;
	 * `out` may hold a last part) or -1 (a fault: the body stops short, over HTTP the
	 * connection is cut). 1 = more to come. raw_stream_free(raw_stream_arg) runs once in
	 * every case, also when the client went away or the answer is not 2xx. Both run after
	 * the handler returned, perhaps in another thread: they must not use c->arena or
	 * c->db; a stream that reads the database takes a connection with db_pool_get for
	 * each part and puts it back before it returns, so a slow client holds none. */
	int (*raw_stream)(void *arg, struct buf *out);
	void (*raw_stream_free)(void *arg);
	void *raw_stream_arg;
};

typedef int (*api_handler)(struct api_ctx *c);

/* Route flags. The router enforces authentication, CSRF, the must-change gate and the
 * coarse role; handlers check scope over the domain/account they touch. */
enum {
	R_PUBLIC   = 1 << 0,   /* no session needed */
	R_ORIGIN   = 1 << 1,   /* refuse a cross-site Origin (login forms) */
	R_ADMIN    = 1 << 2,   /* superadmin, domain_admin, support */
	R_USER     = 1 << 3,   /* role user */
	R_SUPER    = 1 << 4,   /* superadmin only */
	R_NOSUPPORT = 1 << 5,  /* not for support (domain admins and superadmin) */
	R_GATE_OK  = 1 << 6,   /* allowed while must_change_password */
	R_HTML     = 1 << 7,   /* page-only route (forms, confirmations): not under /api/v1 */
	R_API      = 1 << 8,   /* API-only route */
	R_RENDER   = 1 << 9,   /* a successful form POST renders `page` instead of a 303: results
	                        * shown once (a temporary password, recovery codes, a QR code) */
};

struct api_route {
	const char *method;      /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;        /* API path under /api/v1 with {name} segments */
	api_handler fn;
	int flags;
	const char *page;        /* template for an HTML answer (GET, or a failed form POST) */
	const char *redirect;    /* after a successful form POST: path with {param}s and
	                          * {out.field}s; "?done=KEY" shows a completion message */
};

/* Parameter of the matched path ({d}, {name}, …), URL-decoded; NULL when absent. */
const char *api_param(const struct api_ctx *c, const char *name);
/* A string field of the input, NULL when missing or not a string. */
const char *api_in_str(const struct api_ctx *c, const char *name);
/* Boolean field: JSON true/false, or form values "1"/"0"/"on"/"true"/"false"/"yes"/"no";
 * returns -1 when missing or "" (unchanged), -2 when malformed. */
int api_in_bool(const struct api_ctx *c, const char *name);
/* Integer field: JSON integer or a decimal string; 1 set, 0 missing/empty, -1 malformed. */
int api_in_int(const struct api_ctx *c, const char *name, int64_t *out);

/* Build the error object of CONTRACT.md ("error": {code, message, details}) and return
 * status. errs may be NULL. Messages follow c->lang. */
int api_fail(struct api_ctx *c, int status, const char *code, const struct rule_errs *errs);
/* Shorthand for one detail. */
int api_fail1(struct api_ctx *c, int status, const char *code, const char *field, const char *fcode);
/* 503 for a database fault (DB_TEMPFAIL or DB_ERROR), never a rejection. */
int api_unavailable(struct api_ctx *c);
/* Set c->out (stealing the reference) and return status. */
int api_ok(struct api_ctx *c, int status, json_t *out);

/* Scope: may the caller act on this domain at all? (superadmin: any; others: listed). */
bool api_in_scope(const struct api_ctx *c, const char *domain);

/* Audit one action in the caller's name, inside the caller's transaction if any. */
enum db_status api_audit(struct api_ctx *c, const char *domain, const char *action,
                         const char *target, json_t *details);

const char *role_name(enum role r);
/* -1 when unknown. */
int role_parse(const char *s);

/* {login, role, domains, must_change_password} (CONTRACT). */
json_t *api_principal_json(const struct principal *p);

/* Route tables: each resource file exports one, declared in cgi/routes.h. */

#endif
