/* api/domains.c: the hosted domains (superadmin creates and deletes them; admins see their own). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/ref.h"
#include "cgi/routes.h"
#include "core/domain.h"
#include "core/util.h"

/* Default quota of a new domain when none is given (the schema's default). */
#define DOMAINS_DEFAULT_QUOTA_MB 1024

static const struct db_stmt st_list = {
	"domains_list",
	"SELECT d.name, d.default_quota_mb, (SELECT coalesce(sum(c.n), 0) FROM account_counts c WHERE c.domain_id = d.id), "
	" to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	"FROM domains d WHERE $1::boolean OR d.name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
	"ORDER BY d.name", 2
};

static const struct db_stmt st_one = {
	"domains_one",
	"SELECT d.name, d.default_quota_mb, (SELECT coalesce(sum(c.n), 0) FROM account_counts c WHERE c.domain_id = d.id), "
	" to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	"FROM domains d WHERE d.id = $1::bigint", 1
};

/* Each account's mailbox goes in the background, as when it is deleted alone. */
static const struct db_stmt st_delete_jobs = {
	"domains_delete_jobs",
	"INSERT INTO jobs (kind, domain, account, account_id, actor, params) "
	"SELECT 'delete_account', d.name, a.name, a.id, $2, "
	" jsonb_build_object('address', a.name || '@' || d.name, 'domain_deleted', true) "
	"FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.id = $1::bigint", 2
};

static const struct db_stmt st_delete = {
	"domains_delete", "DELETE FROM domains WHERE id = $1::bigint", 1
};

/* api_audit with details handed over (api_audit only borrows them). */
static enum db_status
audit(struct api_ctx *c, const char *domain, const char *action, const char *target, json_t *details)
{
	enum db_status s = api_audit(c, domain, action, target, details);

	json_decref(details);
	return s;
}

static json_t *
domain_json(const struct db_res *r, int row)
{
	return json_pack("{s:s, s:I, s:I, s:s}", "name", db_val(r, row, 0),
	    "default_quota_mb", (json_int_t)db_i64(r, row, 1),
	    "account_count", (json_int_t)db_i64(r, row, 2), "created_at", db_val(r, row, 3));
}

/* The domains the caller may see: every one for the superadmin, their own for the
 * others. NULL on a database fault. */
static json_t *
list_items(struct api_ctx *c)
{
	json_t *scope = json_array(), *items = NULL;
	struct db_res *r = NULL;
	char *js = NULL;
	size_t i;
	int k;

	for (i = 0; i < c->p->ndomains; i++)
		json_array_append_new(scope, json_string(c->p->domains[i]));
	js = json_dumps(scope, JSON_COMPACT);
	if (js != NULL && db_runv(c->db, &st_list, &r,
	    c->p->role == ROLE_SUPERADMIN ? "true" : "false", js) == DB_OK) {
		items = json_array();
		for (k = 0; k < db_rows(r); k++)
			json_array_append_new(items, domain_json(r, k));
	}
	free(js);
	json_decref(scope);
	db_res_free(&r);
	return items;
}

/* GET /domains */
static int
domains_list(struct api_ctx *c)
{
	json_t *items = list_items(c);

	if (items == NULL)
		return api_unavailable(c);
	return api_ok(c, 200, json_pack("{s:o}", "items", items));
}

/* A refused form keeps the list beside it. */
static int
fail_page(struct api_ctx *c, int status)
{
	json_t *items;

	if (c->html && (items = list_items(c)) != NULL)
		json_object_set_new(c->out, "items", items);
	return status;
}

static int
load_one(struct api_ctx *c, const struct domain_ref *dom, json_t **out)
{
	struct db_res *r = NULL;

	*out = NULL;
	if (db_runv(c->db, &st_one, &r, dom->id_s) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) == 1)
		*out = domain_json(r, 0);
	db_res_free(&r);
	return *out ? 0 : api_fail(c, 404, "not_found", NULL);
}

/* POST /domains {name, default_quota_mb}: with its postmaster (core/domain.c). */
static int
domains_create(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct domain_ref dom;
	const char *name = api_in_str(c, "name");
	char low[256];
	int64_t quota = DOMAINS_DEFAULT_QUOTA_MB;
	int qrc = api_in_int(c, "default_quota_mb", &quota);
	enum db_status s;
	json_t *out;
	int status;

	if (name == NULL || *name == '\0')
		rule_add(&errs, "name", "required", NULL);
	else if (!rule_domain_name(name) || !rule_lower(name, low, sizeof(low)))
		rule_add(&errs, "name", "invalid", NULL);
	if (qrc < 0 || (qrc == 1 && (quota < 1 || quota > 2147483647)))
		rule_add(&errs, "default_quota_mb", "bad_quota", NULL);
	if (qrc == 0)
		quota = DOMAINS_DEFAULT_QUOTA_MB;
	if (errs.n > 0)
		return fail_page(c, api_fail(c, 422, "invalid", &errs));
	memset(&dom, 0, sizeof(dom));
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	s = domain_add(c->db, low, quota, &dom.id);
	if (s == DB_CONFLICT) {
		db_rollback(c->db);
		return fail_page(c, api_fail1(c, 409, "exists", "name", "exists"));
	}
	if (s != DB_OK || audit(c, low, "domain_create", low, json_pack("{s:I}", "default_quota_mb",
	    (json_int_t)quota)) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		return api_unavailable(c);
	}
	bsnprintf(dom.id_s, sizeof(dom.id_s), "%lld", (long long)dom.id);
	if ((status = load_one(c, &dom, &out)) != 0)
		return status;
	if (!c->html)
		c->location = arena_printf(c->arena, "/api/v1/domains/%s", low);
	return api_ok(c, 201, out);
}

/* GET /domains/{d}: the domain; as a page, its accounts. */
static int
domains_get(struct api_ctx *c)
{
	struct domain_ref dom;
	json_t *out;
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if (c->html) {
		c->location = arena_printf(c->arena, "/admin/domains/%s/accounts", dom.name);
		return api_ok(c, 303, NULL);
	}
	if ((status = load_one(c, &dom, &out)) != 0)
		return status;
	return api_ok(c, 200, out);
}

/* GET /domains/{d}/delete: the confirmation page. */
static int
domains_delete_confirm(struct api_ctx *c)
{
	struct domain_ref dom;
	json_t *out;
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if ((status = load_one(c, &dom, &out)) != 0)
		return status;
	return api_ok(c, 200, out);
}

/* DELETE /domains/{d}: the domain with every account, alias and setting; the mailboxes
 * are emptied by maild from the jobs queued here (SPEC §2 "deleting an account"). */
static int
domains_delete(struct api_ctx *c)
{
	struct domain_ref dom;
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if (db_begin(c->db) != DB_OK ||
	    db_runv(c->db, &st_delete_jobs, NULL, dom.id_s, c->p->login) != DB_OK ||
	    db_runv(c->db, &st_delete, NULL, dom.id_s) != DB_OK ||
	    db_notify_domain(c->db, dom.name) != DB_OK ||
	    api_audit(c, dom.name, "domain_delete", dom.name, NULL) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		return api_unavailable(c);
	}
	return api_ok(c, 204, NULL);
}

const struct api_route api_routes_domains[] = {
	{ "GET", "/domains", domains_list, R_ADMIN, "admin/domains.html", NULL },
	{ "POST", "/domains", domains_create, R_ADMIN | R_SUPER, "admin/domains.html",
	  "/domains?done=domains_created" },
	{ "GET", "/domains/{d}", domains_get, R_ADMIN, NULL, NULL },
	{ "DELETE", "/domains/{d}", domains_delete, R_ADMIN | R_SUPER, "admin/domain_delete.html",
	  "/domains?done=domains_deleted" },
	{ "GET", "/domains/{d}/delete", domains_delete_confirm, R_ADMIN | R_SUPER | R_HTML,
	  "admin/domain_delete.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
