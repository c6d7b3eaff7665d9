/* api/csv.c: CSV bulk create and bulk edit uploads (SPEC §7): the file is queued as a job and
 * answered 202 at once; the panel's runner (api/csv_runner.c) checks and imports it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/csv_job.h"
#include "api/ref.h"
#include "cgi/routes.h"
#include "core/csv.h"
#include "core/util.h"

static const struct db_stmt st_insert = {
	"csv_job_insert",
	"INSERT INTO jobs (kind, domain, actor, params, input) "
	"VALUES ($1, $2, $3, $4::jsonb, decode($5, 'hex')) RETURNING id, kind, state, done, total", 5
};

static const struct db_stmt st_wake = {
	"csv_job_wake", "SELECT pg_notify('" CSV_JOB_CHANNEL "', $1)", 1
};

static bool
truthy(const char *s)
{
	return s != NULL && (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "on") ||
	    !strcasecmp(s, "yes"));
}

/* The uploaded file: a CSV body, or the multipart part named `file` (cgi/app.c puts its
 * bytes in c->body). 0 with *p and *len, or 422 answered. */
static int
upload(struct api_ctx *c, const char **p, size_t *len)
{
	const char *ct = c->content_type ? c->content_type : "";

	*p = c->body;
	*len = c->body_len;
	if (strncasecmp(ct, "application/json", 16) == 0 ||
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return api_fail1(c, 422, "invalid", "file", "required");
	/* A multipart body without a `file` part is left as it came: it starts with its
	 * delimiter, which a file part's contents (after the part's headers) never do. */
	if (strncasecmp(ct, "multipart/form-data", 19) == 0 && *len >= 2 && (*p)[0] == '-' && (*p)[1] == '-' &&
	    c->body_len > 0 && strstr(ct, "boundary=") != NULL) {
		const char *b = strstr(ct, "boundary=") + 9;
		size_t bl = strcspn(b, "; ");

		if (b[0] == '"') {
			b++;
			bl = strcspn(b, "\"");
		}
		if (*len >= bl + 2 && strncmp(*p + 2, b, bl) == 0)
			return api_fail1(c, 422, "invalid", "file", "required");
	}
	if (*len == 0)
		return api_fail1(c, 422, "invalid", "file", "required");
	if (*len > CSV_MAX_BYTES)
		return api_fail1(c, 422, "invalid", "file", "too_large");
	return 0;
}

static char *
hex(const char *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = malloc(len * 2 + 1);
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[(unsigned char)p[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)p[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

/* POST /domains/{d}/csv/create, /domains/{d}/csv/edit [?dry_run=1]: 202 {job}. */
static int
csv_upload(struct api_ctx *c, const char *kind)
{
	struct domain_ref dom;
	struct db_res *r = NULL;
	const char *file;
	size_t flen;
	char *hx = NULL, *ps = NULL;
	json_t *params = NULL, *job;
	bool dry;
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if ((status = upload(c, &file, &flen)) != 0)
		return status;
	dry = truthy(json_string_value(json_object_get(c->query, "dry_run"))) ||
	    truthy(json_string_value(json_object_get(c->in, "dry_run")));
	params = json_pack("{s:s, s:b, s:s, s:s}", "lang", c->lang, "dry_run", dry,
	    "actor_role", role_name(c->p->role), "remote_addr", c->remote_addr ? c->remote_addr : "");
	ps = params ? json_dumps(params, JSON_COMPACT) : NULL;
	hx = hex(file, flen);
	if (ps == NULL || hx == NULL) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_begin(c->db) != DB_OK ||
	    db_runv(c->db, &st_insert, &r, kind, dom.name, c->p->login, ps, hx) != DB_OK ||
	    db_runv(c->db, &st_wake, NULL, db_val(r, 0, 0)) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	job = json_pack("{s:{s:I, s:s, s:s, s:I, s:I, s:[], s:b}}", "job", "id", (json_int_t)db_i64(r, 0, 0),
	    "kind", db_val(r, 0, 1), "state", db_val(r, 0, 2), "done", (json_int_t)db_i64(r, 0, 3),
	    "total", (json_int_t)db_i64(r, 0, 4), "errors", "dry_run", dry);
	if (c->html)
		c->location = arena_printf(c->arena, "/admin/jobs/%s", db_val(r, 0, 0));
	status = job ? api_ok(c, 202, job) : api_unavailable(c);
out:
	if (hx != NULL) {
		explicit_bzero(hx, strlen(hx));
		free(hx);
	}
	free(ps);
	json_decref(params);
	db_res_free(&r);
	return status;
}

static int
csv_create(struct api_ctx *c)
{
	return csv_upload(c, "csv_create");
}

static int
csv_edit(struct api_ctx *c)
{
	return csv_upload(c, "csv_edit");
}

const struct api_route api_routes_csv[] = {
	{ "POST", "/domains/{d}/csv/create", csv_create, R_ADMIN | R_NOSUPPORT, "admin/csv.html", NULL },
	{ "POST", "/domains/{d}/csv/edit", csv_edit, R_ADMIN | R_NOSUPPORT, "admin/csv.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
