/* api/audit.c: a domain's audit log, newest first: who did what, when, from where (SPEC §1: admins and support read it). */
#include <string.h>

#include "api/api.h"
#include "api/ref.h"
#include "cgi/routes.h"
#include "core/i18n.h"
#include "core/util.h"

#define AUDIT_PER_PAGE 50
#define AUDIT_PER_PAGE_MAX 500

/* The count and the page in one statement, as the account list does. */
static const struct db_stmt st_page = {
	"audit_page",
	"SELECT t.total, p.* FROM (SELECT count(*) AS total FROM audit_log WHERE domain = $1) t "
	"LEFT JOIN LATERAL (SELECT to_char(l.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"  l.actor, l.action, l.target, l.remote_addr, l.actor_role FROM audit_log l WHERE l.domain = $1 "
	"  ORDER BY l.at DESC, l.id DESC LIMIT $2::int OFFSET $3::bigint) p ON true", 3
};

/* The page's words for an action code (i18n key audit_action_<code>); the code itself when
 * the catalog has none, so a code written by a newer part of the system still shows. */
static const char *
action_label(struct api_ctx *c, const char *action)
{
	char key[96];
	const char *m;

	if (!bsnprintf(key, sizeof(key), "audit_action_%s", action))
		return action;
	m = i18n_get(c->lang, key);
	return m == NULL || strcmp(m, key) == 0 ? action : m;
}

static int
query_int(struct api_ctx *c, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *s = json_string_value(json_object_get(c->query, name));

	if (s == NULL || *s == '\0')
		return 0;
	return parse_i64(s, min, max, out) ? 1 : -1;
}

/* GET /domains/{d}/audit?page=&per_page= */
static int
audit_list(struct api_ctx *c)
{
	struct domain_ref dom;
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	int64_t page = 1, per_page = AUDIT_PER_PAGE, total;
	char lim[24], off[24];
	json_t *items, *out;
	int status, i;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if (query_int(c, "page", 1, 1000000000, &page) < 0)
		rule_add(&errs, "page", "invalid", NULL);
	if (query_int(c, "per_page", 1, INT64_MAX, &per_page) < 0)
		rule_add(&errs, "per_page", "invalid", NULL);
	if (errs.n > 0)
		return api_fail(c, 422, "invalid", &errs);
	if (per_page > AUDIT_PER_PAGE_MAX)
		per_page = AUDIT_PER_PAGE_MAX;
	bsnprintf(lim, sizeof(lim), "%lld", (long long)per_page);
	bsnprintf(off, sizeof(off), "%lld", (long long)((page - 1) * per_page));
	if (db_runv(c->db, &st_page, &r, dom.name, lim, off) != DB_OK)
		return api_unavailable(c);
	items = json_array();
	total = db_rows(r) > 0 ? db_i64(r, 0, 0) : 0;
	for (i = 0; i < db_rows(r); i++) {
		json_t *o;

		if (db_null(r, i, 1))
			continue;
		o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "at", db_val(r, i, 1), "actor", db_val(r, i, 2),
		    "action", db_val(r, i, 3), "target", db_val(r, i, 4), "remote_addr", db_val(r, i, 5));
		if (o != NULL && c->html) {
			json_object_set_new(o, "actor_role", json_string(db_val(r, i, 6)));
			json_object_set_new(o, "action_label", json_string(action_label(c, db_val(r, i, 3))));
		}
		json_array_append_new(items, o);
	}
	out = json_pack("{s:o, s:I}", "items", items, "total", (json_int_t)total);
	if (out != NULL && c->html) {
		int64_t pages = total == 0 ? 1 : (total + per_page - 1) / per_page;

		json_object_set_new(out, "domain", json_string(dom.name));
		json_object_set_new(out, "page", json_integer(page));
		json_object_set_new(out, "pages", json_integer(pages));
		json_object_set_new(out, "per_page", json_integer(per_page));
		if (page > 1)
			json_object_set_new(out, "prev_page", json_integer(page - 1));
		if (page < pages)
			json_object_set_new(out, "next_page", json_integer(page + 1));
	}
	db_res_free(&r);
	return out ? api_ok(c, 200, out) : api_unavailable(c);
}

const struct api_route api_routes_audit[] = {
	{ "GET", "/domains/{d}/audit", audit_list, R_ADMIN, "admin/audit.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
