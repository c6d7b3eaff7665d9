/* api/aliases.c: SPEC §10 in the panel: an account's aliases, the domain's catch-all, domain aliases. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/ref.h"
#include "cgi/routes.h"
#include "core/util.h"

/* Catch-all page: a drop-down of the domain's accounts up to this many, a text field beyond
 * (a page with ten thousand <option>s helps nobody). */
#define ALIASES_SELECT_MAX 1000

static const struct db_stmt st_list = {
	"aliases_list", "SELECT name FROM aliases WHERE account_id = $1::bigint ORDER BY name", 1
};

/* Serialises alias creation per account, so the count below cannot be raced past the limit;
 * NO KEY UPDATE leaves foreign-key checks of other tables (forwards) unblocked. */
static const struct db_stmt st_lock_account = {
	"aliases_lock_account", "SELECT id FROM accounts WHERE id = $1::bigint FOR NO KEY UPDATE", 1
};

static const struct db_stmt st_count = {
	"aliases_count", "SELECT count(*) FROM aliases WHERE account_id = $1::bigint", 1
};

/* local_names (filled by trigger) makes an account or alias of the same name a 23505. */
static const struct db_stmt st_insert = {
	"aliases_insert",
	"INSERT INTO aliases (domain_id, name, account_id) VALUES ($1::bigint, $2, $3::bigint)", 3
};

static const struct db_stmt st_delete = {
	"aliases_delete",
	"DELETE FROM aliases WHERE account_id = $1::bigint AND name = $2 RETURNING name", 2
};

static const struct db_stmt st_exists = {
	"aliases_exists", "SELECT name FROM aliases WHERE account_id = $1::bigint AND name = $2", 2
};

static const struct db_stmt st_catchall_get = {
	"aliases_catchall_get",
	"SELECT a.name FROM domains d JOIN accounts a ON a.id = d.catchall_account_id WHERE d.id = $1::bigint", 1
};

/* One statement, so an account in another domain (or none) simply matches no row. */
static const struct db_stmt st_catchall_set = {
	"aliases_catchall_set",
	"UPDATE domains d SET catchall_account_id = a.id FROM accounts a "
	"WHERE d.id = $1::bigint AND a.domain_id = d.id AND a.name = $2 RETURNING a.name", 2
};

static const struct db_stmt st_catchall_off = {
	"aliases_catchall_off", "UPDATE domains SET catchall_account_id = NULL WHERE id = $1::bigint", 1
};

static const struct db_stmt st_catchall_old = {
	"aliases_catchall_old",
	"SELECT a.name FROM domains d JOIN accounts a ON a.id = d.catchall_account_id "
	"WHERE d.id = $1::bigint FOR UPDATE OF d", 1
};

static const struct db_stmt st_domain_accounts = {
	"aliases_domain_accounts",
	"SELECT name FROM accounts WHERE domain_id = $1::bigint ORDER BY name LIMIT $2::bigint", 2
};

static const struct db_stmt st_dalias_list = {
	"aliases_dalias_list", "SELECT name FROM domain_aliases WHERE domain_id = $1::bigint ORDER BY name", 1
};

/* A domain's name is reserved against domain aliases by trigger (23505), and the primary
 * key keeps two domains from claiming one alias. */
static const struct db_stmt st_dalias_insert = {
	"aliases_dalias_insert", "INSERT INTO domain_aliases (name, domain_id) VALUES ($1, $2::bigint)", 2
};

static const struct db_stmt st_dalias_delete = {
	"aliases_dalias_delete",
	"DELETE FROM domain_aliases WHERE domain_id = $1::bigint AND name = $2 RETURNING name", 2
};

/* {items:[{name, address}]} of an account's aliases; NULL on a database fault. */
static json_t *
alias_items(struct api_ctx *c, const struct acct_ref *a)
{
	struct db_res *r = NULL;
	json_t *items;
	int i;

	if (db_runv(c->db, &st_list, &r, a->id_s) != DB_OK)
		return NULL;
	items = json_array();
	for (i = 0; i < db_rows(r); i++)
		json_array_append_new(items, json_pack("{s:s, s:s++}", "name", db_val(r, i, 0),
		    "address", db_val(r, i, 0), "@", a->dom.name));
	db_res_free(&r);
	return items;
}

/* What the account's alias pages show besides the list, also above a failed form. */
static void
page_extras(struct api_ctx *c, const struct acct_ref *a, json_t *items)
{
	json_t *acct;

	if (!c->html || c->out == NULL)
		return;
	acct = json_pack("{s:s, s:s, s:s, s:b}", "name", a->name, "address", a->address,
	    "domain", a->dom.name, "system", a->is_system);
	json_object_set_new(c->out, "account", acct);
	json_object_set_new(c->out, "limit", json_integer(c->cfg->aliases_per_account));
	if (items != NULL) {
		json_object_set_new(c->out, "count", json_integer((json_int_t)json_array_size(items)));
		if (json_object_get(c->out, "items") == NULL)
			json_object_set(c->out, "items", items);
	}
}

/* The local part an {alias} segment or a body names: "x" or "x@<this domain>", lower-cased.
 * NULL when it names another domain or cannot be a name at all. */
static const char *
local_part(struct api_ctx *c, const char *s, const char *domain)
{
	const char *at;
	char low[128];

	if (s == NULL)
		return NULL;
	at = strchr(s, '@');
	if (at != NULL) {
		if (strcasecmp(at + 1, domain) != 0 || (size_t)(at - s) >= sizeof(low))
			return NULL;
		s = arena_strndup(c->arena, s, (size_t)(at - s));
		if (s == NULL)
			return NULL;
	}
	if (!rule_lower(s, low, sizeof(low)))
		return NULL;
	return arena_strdup(c->arena, low);
}

static int
aliases_list(struct api_ctx *c)
{
	struct acct_ref a;
	json_t *items;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	if ((items = alias_items(c, &a)) == NULL)
		return api_unavailable(c);
	status = api_ok(c, 200, json_pack("{s:O}", "items", items));
	page_extras(c, &a, items);
	json_decref(items);
	return status;
}

static int
aliases_create(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct acct_ref a;
	struct db_res *r = NULL;
	const char *in = api_in_str(c, "name"), *address;
	char low[64];
	json_t *items = NULL, *details;
	enum db_status s;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	if (!rule_account_name(in, "name", &errs)) {
		status = api_fail(c, 422, "invalid", &errs);
		goto fail;
	}
	if (!rule_lower(in, low, sizeof(low))) {
		status = api_fail1(c, 422, "invalid", "name", "bad_length");
		goto fail;
	}
	if (db_begin(c->db) != DB_OK)
		goto unavailable;
	if (db_runv(c->db, &st_lock_account, &r, a.id_s) != DB_OK)
		goto unavailable;
	if (db_rows(r) != 1) {
		/* Deleted since api_account_ref looked. */
		db_rollback(c->db);
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	db_res_free(&r);
	if (db_runv(c->db, &st_count, &r, a.id_s) != DB_OK)
		goto unavailable;
	if (db_i64(r, 0, 0) >= c->cfg->aliases_per_account) {
		db_rollback(c->db);
		status = api_fail1(c, 422, "invalid", "name", "too_many");
		goto fail;
	}
	s = db_runv(c->db, &st_insert, NULL, a.dom.id_s, low, a.id_s);
	if (s == DB_CONFLICT) {
		db_rollback(c->db);
		status = api_fail1(c, 409, "exists", "name", "exists");
		goto fail;
	}
	if (s != DB_OK)
		goto unavailable;
	address = arena_printf(c->arena, "%s@%s", low, a.dom.name);
	details = json_pack("{s:s}", "account", a.address);
	s = api_audit(c, a.dom.name, "alias_create", address, details);
	json_decref(details);
	if (s != DB_OK || db_notify_domain(c->db, a.dom.name) != DB_OK || db_commit(c->db) != DB_OK)
		goto unavailable;
	if (!c->html)
		c->location = arena_printf(c->arena, "/api/v1/domains/%s/accounts/%s/aliases/%s",
		    a.dom.name, a.name, low);
	status = api_ok(c, 201, json_pack("{s:s, s:s}", "name", low, "address", address));
	goto out;
unavailable:
	db_rollback(c->db);
	status = api_unavailable(c);
	goto out;
fail:
	/* A failed form shows the list again with the error next to the field. */
	if (c->html && (items = alias_items(c, &a)) != NULL)
		page_extras(c, &a, items);
out:
	json_decref(items);
	db_res_free(&r);
	return status;
}

/* The confirmation page before a delete (SPEC §2: server-rendered, works without JavaScript). */
static int
aliases_confirm(struct api_ctx *c)
{
	struct acct_ref a;
	struct db_res *r = NULL;
	const char *name;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	name = local_part(c, api_param(c, "alias"), a.dom.name);
	if (name == NULL)
		return api_fail(c, 404, "not_found", NULL);
	if (db_runv(c->db, &st_exists, &r, a.id_s, name) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1)
		status = api_fail(c, 404, "not_found", NULL);
	else
		status = api_ok(c, 200, json_pack("{s:s, s:s++}", "name", name, "address", name, "@",
		    a.dom.name));
	db_res_free(&r);
	if (status == 200)
		page_extras(c, &a, NULL);
	return status;
}

static int
aliases_delete(struct api_ctx *c)
{
	struct acct_ref a;
	struct db_res *r = NULL;
	const char *name, *address;
	json_t *details;
	enum db_status s;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	name = local_part(c, api_param(c, "alias"), a.dom.name);
	if (name == NULL)
		return api_fail(c, 404, "not_found", NULL);
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	if (db_runv(c->db, &st_delete, &r, a.id_s, name) != DB_OK)
		goto unavailable;
	if (db_rows(r) != 1) {
		db_rollback(c->db);
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	address = arena_printf(c->arena, "%s@%s", name, a.dom.name);
	details = json_pack("{s:s}", "account", a.address);
	s = api_audit(c, a.dom.name, "alias_delete", address, details);
	json_decref(details);
	if (s != DB_OK || db_notify_domain(c->db, a.dom.name) != DB_OK || db_commit(c->db) != DB_OK)
		goto unavailable;
	status = api_ok(c, 204, NULL);
	goto out;
unavailable:
	db_rollback(c->db);
	status = api_unavailable(c);
out:
	db_res_free(&r);
	return status;
}

/* GET /me/aliases: the signed-in user's own, read only. */
static int
me_aliases(struct api_ctx *c)
{
	struct acct_ref a;
	json_t *items;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	if ((items = alias_items(c, &a)) == NULL)
		return api_unavailable(c);
	status = api_ok(c, 200, json_pack("{s:o}", "items", items));
	if (c->html)
		json_object_set_new(c->out, "address", json_string(a.address));
	return status;
}

/* The catch-all page's choice of accounts, the current one marked. */
static int
catchall_extras(struct api_ctx *c, const struct domain_ref *d, const char *current)
{
	struct db_res *r = NULL;
	json_t *list;
	char lim[24];
	int i, n;

	if (!c->html || c->out == NULL)
		return 0;
	json_object_set_new(c->out, "domain", json_string(d->name));
	if (json_object_get(c->out, "error") != NULL) {
		/* Above a failed form the page still tells what is in force. */
		if (db_runv(c->db, &st_catchall_get, &r, d->id_s) != DB_OK)
			return -1;
		if (db_rows(r) == 1) {
			current = arena_strdup(c->arena, db_val(r, 0, 0));
			json_object_set_new(c->out, "account", json_string(current));
		}
		db_res_free(&r);
	}
	if (!bsnprintf(lim, sizeof(lim), "%d", ALIASES_SELECT_MAX + 1) ||
	    db_runv(c->db, &st_domain_accounts, &r, d->id_s, lim) != DB_OK)
		return -1;
	n = db_rows(r);
	list = json_array();
	for (i = 0; i < n && i < ALIASES_SELECT_MAX; i++)
		json_array_append_new(list, json_pack("{s:s, s:b}", "name", db_val(r, i, 0), "selected",
		    current != NULL && strcmp(current, db_val(r, i, 0)) == 0));
	json_object_set_new(c->out, n > ALIASES_SELECT_MAX ? "many_accounts" : "accounts",
	    n > ALIASES_SELECT_MAX ? json_true() : list);
	if (n > ALIASES_SELECT_MAX)
		json_decref(list);
	db_res_free(&r);
	return 0;
}

static int
catchall_get(struct api_ctx *c)
{
	struct domain_ref d;
	struct db_res *r = NULL;
	const char *cur = NULL;
	int status;

	if ((status = api_domain_ref(c, &d)) != 0)
		return status;
	if (db_runv(c->db, &st_catchall_get, &r, d.id_s) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) == 1)
		cur = arena_strdup(c->arena, db_val(r, 0, 0));
	db_res_free(&r);
	status = api_ok(c, 200, json_pack("{s:s?}", "account", cur));
	if (catchall_extras(c, &d, cur) != 0)
		return api_unavailable(c);
	return status;
}

static int
catchall_put(struct api_ctx *c)
{
	struct domain_ref d;
	struct db_res *r = NULL;
	const char *in = api_in_str(c, "account"), *name, *old = NULL;
	json_t *details;
	enum db_status s;
	int status;

	if ((status = api_domain_ref(c, &d)) != 0)
		return status;
	if (in == NULL || *in == '\0') {
		status = api_fail1(c, 422, "invalid", "account", "required");
		goto fail;
	}
	name = local_part(c, in, d.name);
	if (name == NULL) {
		status = api_fail1(c, 422, "invalid", "account", "not_found");
		goto fail;
	}
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	if (db_runv(c->db, &st_catchall_old, &r, d.id_s) != DB_OK)
		goto unavailable;
	if (db_rows(r) == 1)
		old = arena_strdup(c->arena, db_val(r, 0, 0));
	db_res_free(&r);
	/* 23503: the account went away between the UPDATE's snapshot and its key check. */
	if ((s = db_runv(c->db, &st_catchall_set, &r, d.id_s, name)) != DB_OK && s != DB_FKEY)
		goto unavailable;
	if (s == DB_FKEY || db_rows(r) != 1) {
		db_rollback(c->db);
		status = api_fail1(c, 422, "invalid", "account", "not_found");
		goto fail;
	}
	details = json_pack("{s:s?, s:s}", "from", old, "to", name);
	s = api_audit(c, d.name, "catchall_set", arena_printf(c->arena, "%s@%s", name, d.name), details);
	json_decref(details);
	if (s != DB_OK || db_notify_domain(c->db, d.name) != DB_OK || db_commit(c->db) != DB_OK)
		goto unavailable;
	status = api_ok(c, 200, json_pack("{s:s}", "account", name));
	goto out;
unavailable:
	db_rollback(c->db);
	status = api_unavailable(c);
	goto out;
fail:
	if (catchall_extras(c, &d, NULL) != 0)
		status = api_unavailable(c);
out:
	db_res_free(&r);
	return status;
}

static int
catchall_delete(struct api_ctx *c)
{
	struct domain_ref d;
	struct db_res *r = NULL;
	json_t *details;
	enum db_status s;
	int status;

	if ((status = api_domain_ref(c, &d)) != 0)
		return status;
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	if (db_runv(c->db, &st_catchall_old, &r, d.id_s) != DB_OK)
		goto unavailable;
	/* Switching off what is off already changes nothing: no audit, no NOTIFY. */
	if (db_rows(r) == 1) {
		if (db_runv(c->db, &st_catchall_off, NULL, d.id_s) != DB_OK)
			goto unavailable;
		details = json_pack("{s:s}", "from", db_val(r, 0, 0));
		s = api_audit(c, d.name, "catchall_off", "", details);
		json_decref(details);
		if (s != DB_OK || db_notify_domain(c->db, d.name) != DB_OK)
			goto unavailable;
	}
	if (db_commit(c->db) != DB_OK)
		goto unavailable;
	status = api_ok(c, 204, NULL);
	goto out;
unavailable:
	db_rollback(c->db);
	status = api_unavailable(c);
out:
	db_res_free(&r);
	return status;
}

/* {items:[{name}]} of the domain's domain aliases; NULL on a database fault. */
static json_t *
dalias_items(struct api_ctx *c, const struct domain_ref *d)
{
	struct db_res *r = NULL;
	json_t *items;
	int i;

	if (db_runv(c->db, &st_dalias_list, &r, d->id_s) != DB_OK)
		return NULL;
	items = json_array();
	for (i = 0; i < db_rows(r); i++)
		json_array_append_new(items, json_pack("{s:s}", "name", db_val(r, i, 0)));
	db_res_free(&r);
	return items;
}

static void
dalias_extras(struct api_ctx *c, const struct domain_ref *d, json_t *items)
{
	if (!c->html || c->out == NULL)
		return;
	json_object_set_new(c->out, "domain", json_string(d->name));
	if (items != NULL && json_object_get(c->out, "items") == NULL)
		json_object_set(c->out, "items", items);
}

static int
dalias_list(struct api_ctx *c)
{
	struct domain_ref d;
	json_t *items;
	int status;

	if ((status = api_domain_ref(c, &d)) != 0)
		return status;
	if ((items = dalias_items(c, &d)) == NULL)
		return api_unavailable(c);
	status = api_ok(c, 200, json_pack("{s:o}", "items", items));
	dalias_extras(c, &d, NULL);
	return status;
}

static int
dalias_create(struct api_ctx *c)
{
	struct domain_ref d;
	const char *in = api_in_str(c, "name");
	char low[256];
	json_t *items = NULL, *details;
	enum db_status s;
	int status;

	if ((status = api_domain_ref(c, &d)) != 0)
		return status;
	if (in == NULL || *in == '\0') {
		status = api_fail1(c, 422, "invalid", "name", "required");
		goto fail;
	}
	if (!rule_lower(in, low, sizeof(low)) || !rule_domain_name(low)) {
		status = api_fail1(c, 422, "invalid", "name", "invalid");
		goto fail;
	}
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	s = db_runv(c->db, &st_dalias_insert, NULL, low, d.id_s);
	if (s == DB_CONFLICT) {
		db_rollback(c->db);
		status = api_fail1(c, 409, "exists", "name", "exists");
		goto fail;
	}
	details = json_pack("{s:s}", "domain", d.name);
	if (s == DB_OK)
		s = api_audit(c, d.name, "domain_alias_create", low, details);
	json_decref(details);
	/* maild may hold the alias domain as unknown: tell both names. */
	if (s != DB_OK || db_notify_domain(c->db, d.name) != DB_OK || db_notify_domain(c->db, low) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		return api_unavailable(c);
	}
	if (!c->html)
		c->location = arena_printf(c->arena, "/api/v1/domains/%s/domain-aliases/%s", d.name, low);
	return api_ok(c, 201, json_pack("{s:s, s:s}", "name", low, "domain", d.name));
fail:
	if (c->html && (items = dalias_items(c, &d)) != NULL)
		dalias_extras(c, &d, items);
	json_decref(items);
	return status;
}

static int
dalias_delete(struct api_ctx *c)
{
	struct domain_ref d;
	struct db_res *r = NULL;
	const char *in = api_param(c, "alias");
	char low[256];
	json_t *details;
	enum db_status s;
	int status;

	if ((status = api_domain_ref(c, &d)) != 0)
		return status;
	if (in == NULL || !rule_lower(in, low, sizeof(low)))
		return api_fail(c, 404, "not_found", NULL);
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	if (db_runv(c->db, &st_dalias_delete, &r, d.id_s, low) != DB_OK)
		goto unavailable;
	if (db_rows(r) != 1) {
		db_rollback(c->db);
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	details = json_pack("{s:s}", "domain", d.name);
	s = api_audit(c, d.name, "domain_alias_delete", low, details);
	json_decref(details);
	if (s != DB_OK || db_notify_domain(c->db, d.name) != DB_OK || db_notify_domain(c->db, low) != DB_OK ||
	    db_commit(c->db) != DB_OK)
		goto unavailable;
	status = api_ok(c, 204, NULL);
	goto out;
unavailable:
	db_rollback(c->db);
	status = api_unavailable(c);
out:
	db_res_free(&r);
	return status;
}

#define ACCT_ALIASES "/domains/{d}/accounts/{name}/aliases"

const struct api_route api_routes_aliases[] = {
	{ "GET", ACCT_ALIASES, aliases_list, R_ADMIN, "admin/aliases.html", NULL },
	{ "POST", ACCT_ALIASES, aliases_create, R_ADMIN | R_NOSUPPORT, "admin/aliases.html",
	  ACCT_ALIASES "?done=aliases_added" },
	{ "GET", ACCT_ALIASES "/{alias}/delete", aliases_confirm, R_ADMIN | R_NOSUPPORT | R_HTML,
	  "admin/aliases_delete.html", NULL },
	{ "GET", ACCT_ALIASES "/{alias}", aliases_confirm, R_ADMIN | R_NOSUPPORT | R_HTML,
	  "admin/aliases_delete.html", NULL },
	{ "DELETE", ACCT_ALIASES "/{alias}", aliases_delete, R_ADMIN | R_NOSUPPORT, NULL,
	  ACCT_ALIASES "?done=aliases_deleted" },
	{ "GET", "/me/aliases", me_aliases, R_USER, "mail/aliases.html", NULL },
	{ "GET", "/domains/{d}/catch-all", catchall_get, R_ADMIN, "admin/aliases_catchall.html", NULL },
	{ "PUT", "/domains/{d}/catch-all", catchall_put, R_ADMIN | R_NOSUPPORT, "admin/aliases_catchall.html",
	  "/domains/{d}/catch-all?done=aliases_catchall_saved" },
	{ "DELETE", "/domains/{d}/catch-all", catchall_delete, R_ADMIN | R_NOSUPPORT, NULL,
	  "/domains/{d}/catch-all?done=aliases_catchall_off" },
	{ "GET", "/domains/{d}/domain-aliases", dalias_list, R_ADMIN, "admin/aliases_domain.html", NULL },
	{ "POST", "/domains/{d}/domain-aliases", dalias_create, R_ADMIN | R_SUPER, "admin/aliases_domain.html",
	  "/domains/{d}/domain-aliases?done=aliases_domain_added" },
	{ "DELETE", "/domains/{d}/domain-aliases/{alias}", dalias_delete, R_ADMIN | R_SUPER, NULL,
	  "/domains/{d}/domain-aliases?done=aliases_domain_deleted" },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
