/* api/jobs.c: GET /jobs/{id}: a background job's state, progress and errors (CSV imports, purge_mail,
 * delete_account, mail_copy), to the callers whose scope covers it and no one else. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "cgi/routes.h"
#include "core/util.h"

#define TS(col) "coalesce(to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"

static const struct db_stmt st_job = {
	"jobs_get",
	"SELECT id, kind, state, coalesce(domain, ''), coalesce(account, ''), coalesce(account_id, 0), "
	" done, total, errors::text, coalesce(result::text, ''), " TS("created_at") ", " TS("finished_at") ", "
	" coalesce(params->'dry_run' = 'true'::jsonb, false) "
	"FROM jobs WHERE id = $1::bigint", 1
};

/* Admins see the jobs of their domains; a user sees the jobs of their own account. */
static bool
visible(const struct api_ctx *c, const struct db_res *r)
{
	const char *domain = db_val(r, 0, 3);

	if (c->p->role == ROLE_USER)
		return db_i64(r, 0, 5) == c->p->account_id && c->p->account_id != 0 &&
		    strcasecmp(domain, c->p->user_domain) == 0;
	if (c->p->role == ROLE_SUPERADMIN)
		return true;
	return domain[0] != '\0' && api_in_scope(c, domain);
}

/* GET /jobs/{id}, GET /me/jobs/{id} */
static int
jobs_get(struct api_ctx *c)
{
	const char *ids = api_param(c, "id");
	struct db_res *r = NULL;
	json_error_t jerr;
	json_t *out, *errors, *result;
	int64_t id;
	int status;

	if (ids == NULL || !parse_i64(ids, 1, INT64_MAX, &id))
		return api_fail(c, 404, "not_found", NULL);
	if (db_runv(c->db, &st_job, &r, ids) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1 || !visible(c, r)) {
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	errors = json_loads(db_val(r, 0, 8), 0, &jerr);
	if (!json_is_array(errors)) {
		json_decref(errors);
		errors = json_array();
	}
	out = json_pack("{s:I, s:s, s:s, s:I, s:I, s:o, s:s, s:s}",
	    "id", (json_int_t)db_i64(r, 0, 0), "kind", db_val(r, 0, 1), "state", db_val(r, 0, 2),
	    "done", (json_int_t)db_i64(r, 0, 6), "total", (json_int_t)db_i64(r, 0, 7), "errors", errors,
	    "domain", db_val(r, 0, 3), "created_at", db_val(r, 0, 10));
	if (out == NULL) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_val(r, 0, 11)[0] != '\0')
		json_object_set_new(out, "finished_at", json_string(db_val(r, 0, 11)));
	if (db_val(r, 0, 4)[0] != '\0')
		json_object_set_new(out, "account", json_string(db_val(r, 0, 4)));
	if (!strncmp(db_val(r, 0, 1), "csv_", 4)) {
		json_object_set_new(out, "dry_run", json_boolean(db_bool(r, 0, 12)));
		/* CSV extras at the top: created, updated, unchanged, skipped. */
		result = json_loads(db_val(r, 0, 9), 0, &jerr);
		if (json_is_object(result)) {
			static const char *const keys[] = { "created", "updated", "unchanged", "skipped", "charset" };
			size_t i;

			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				json_t *v = json_object_get(result, keys[i]);

				if (v != NULL)
					json_object_set(out, keys[i], v);
			}
		}
		json_decref(result);
	} else if (db_val(r, 0, 9)[0] != '\0') {
		result = json_loads(db_val(r, 0, 9), 0, &jerr);
		if (json_is_object(result))
			json_object_set_new(out, "result", result);
		else
			json_decref(result);
	}
	if (c->html) {
		int64_t total = db_i64(r, 0, 7), done = db_i64(r, 0, 6);

		json_object_set_new(out, "percent", json_integer(total > 0 ? (done * 100) / total : 0));
		json_object_set_new(out, "finished", json_boolean(!strcmp(db_val(r, 0, 2), "done") ||
		    !strcmp(db_val(r, 0, 2), "failed")));
	}
	status = api_ok(c, 200, out);
out:
	db_res_free(&r);
	return status;
}

const struct api_route api_routes_jobs[] = {
	/* JSON only: the page /admin/jobs/{id} is api/csv_pages.c's, built on jobs_get. */
	{ "GET", "/jobs/{id}", jobs_get, R_ADMIN | R_USER | R_API, NULL, NULL },
	{ "GET", "/me/jobs/{id}", jobs_get, R_USER | R_API, NULL, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
