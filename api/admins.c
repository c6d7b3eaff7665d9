/* api/admins.c: admin logins — superadmins, domain admins and support staff with their domains (superadmin only). */
#include <stdlib.h>
#include <string.h>

#include "api/account_view.h"
#include "api/api.h"
#include "api/session.h"
#include "cgi/routes.h"
#include "core/clock.h"
#include "core/password.h"
#include "core/util.h"

/* An admin login: what yubinctl and the schema accept, kept to characters that need no
 * quoting anywhere (a name or a mail address as the login). */
#define ADMINS_LOGIN_MAX 64

#define ADMIN_COLS \
	"a.id, a.login, a.role, coalesce((SELECT jsonb_agg(d.name ORDER BY d.name) FROM admin_domains ad " \
	" JOIN domains d ON d.id = ad.domain_id WHERE ad.admin_id = a.id), '[]'::jsonb)::text, " \
	"a.must_change_password, a.totp_enabled, " \
	"to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const struct db_stmt st_list = {
	"admins_list", "SELECT " ADMIN_COLS " FROM admins a ORDER BY a.login", 0
};

static const struct db_stmt st_one = {
	"admins_one", "SELECT " ADMIN_COLS " FROM admins a WHERE a.login = $1", 1
};

static const struct db_stmt st_insert = {
	"admins_insert",
	"INSERT INTO admins (login, password_hash, role) VALUES ($1, $2, $3) RETURNING id", 3
};

static const struct db_stmt st_update = {
	"admins_update",
	"UPDATE admins SET role = coalesce($2, role), password_hash = coalesce($3, password_hash), "
	"updated_at = $4::timestamptz WHERE id = $1::bigint", 4
};

static const struct db_stmt st_count_domains = {
	"admins_count_domains",
	"SELECT count(*) FROM domains WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))", 1
};

static const struct db_stmt st_clear_domains = {
	"admins_clear_domains", "DELETE FROM admin_domains WHERE admin_id = $1::bigint", 1
};

static const struct db_stmt st_set_domains = {
	"admins_set_domains",
	"INSERT INTO admin_domains (admin_id, domain_id) SELECT $1::bigint, d.id FROM domains d "
	"WHERE d.name IN (SELECT jsonb_array_elements_text($2::jsonb)) ON CONFLICT DO NOTHING", 2
};

static const struct db_stmt st_delete = {
	"admins_delete", "DELETE FROM admins WHERE id = $1::bigint", 1
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
admin_json(const struct db_res *r, int row)
{
	json_t *doms = json_loads(db_val(r, row, 3), 0, NULL);

	return json_pack("{s:s, s:s, s:o, s:b, s:b, s:s}", "login", db_val(r, row, 1),
	    "role", db_val(r, row, 2), "domains", doms ? doms : json_array(),
	    "must_change_password", db_bool(r, row, 4), "totp_enabled", db_bool(r, row, 5),
	    "created_at", db_val(r, row, 6));
}

static bool
login_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > ADMINS_LOGIN_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ((ch == '.' || ch == '-' || ch == '_' || ch == '@') && i > 0)))
			return false;
	}
	return true;
}

/*
 * The `domains` field: a JSON array of names, or (forms) one string of names separated by
 * commas or spaces. Answers a JSON array of lower-case names (new reference) and sets
 * *given when the field was there; NULL with an error added when malformed.
 */
static json_t *
read_domains(struct api_ctx *c, bool *given, struct rule_errs *errs)
{
	json_t *v = json_object_get(c->in, "domains"), *out = json_array(), *e;
	size_t i;

	*given = false;
	if (v == NULL || json_is_null(v) || (c->html && json_is_string(v) && json_string_length(v) == 0))
		return out;
	*given = true;
	if (json_is_string(v)) {
		char *copy = arena_strdup(c->arena, json_string_value(v)), *tok, *save = NULL;

		for (tok = copy ? strtok_r(copy, ", \t\r\n", &save) : NULL; tok; tok = strtok_r(NULL, ", \t\r\n", &save))
			json_array_append_new(out, json_string(tok));
		v = out;
		out = json_array();
	} else if (json_is_array(v)) {
		json_incref(v);
	} else {
		rule_add(errs, "domains", "invalid", NULL);
		json_decref(out);
		return NULL;
	}
	json_array_foreach(v, i, e) {
		char low[256];
		size_t k;
		json_t *x;
		bool dup = false;

		if (!json_is_string(e) || !rule_domain_name(json_string_value(e)) ||
		    !rule_lower(json_string_value(e), low, sizeof(low))) {
			rule_add(errs, "domains", "invalid", NULL);
			json_decref(v);
			json_decref(out);
			return NULL;
		}
		json_array_foreach(out, k, x)
			dup = dup || strcmp(json_string_value(x), low) == 0;
		if (!dup)
			json_array_append_new(out, json_string(low));
	}
	json_decref(v);
	return out;
}

/* Every listed domain exists: 1, 0 (added to errs), -1 database fault. */
static int
domains_exist(struct api_ctx *c, json_t *doms, const char *js, struct rule_errs *errs)
{
	struct db_res *r = NULL;
	int rc = 1;

	if (json_array_size(doms) == 0)
		return 1;
	if (db_runv(c->db, &st_count_domains, &r, js) != DB_OK)
		return -1;
	if ((size_t)db_i64(r, 0, 0) != json_array_size(doms)) {
		rule_add(errs, "domains", "not_found", NULL);
		rc = 0;
	}
	db_res_free(&r);
	return rc;
}

/* Every admin; NULL on a database fault. */
static json_t *
list_items(struct api_ctx *c)
{
	struct db_res *r = NULL;
	json_t *items;
	int k;

	if (db_runv(c->db, &st_list, &r) != DB_OK)
		return NULL;
	items = json_array();
	for (k = 0; k < db_rows(r); k++)
		json_array_append_new(items, admin_json(r, k));
	db_res_free(&r);
	return items;
}

/* GET /admins */
static int
admins_list(struct api_ctx *c)
{
	json_t *items = list_items(c);

	if (items == NULL)
		return api_unavailable(c);
	return api_ok(c, 200, json_pack("{s:o}", "items", items));
}

/* A refused form: every error next to its field, the list beside it. */
static int
fail_page(struct api_ctx *c, int status, bool with_list)
{
	json_t *items;

	if (!c->html)
		return status;
	acct_view_field_errors(c);
	if (with_list && (items = list_items(c)) != NULL)
		json_object_set_new(c->out, "items", items);
	return status;
}

/* The admin of path parameter {login}: 0 with *r holding its row, or 404/503 answered. */
static int
load(struct api_ctx *c, const char *login, struct db_res **r)
{
	char low[ADMINS_LOGIN_MAX + 1];

	*r = NULL;
	if (login == NULL || !rule_lower(login, low, sizeof(low)))
		return api_fail(c, 404, "not_found", NULL);
	if (db_runv(c->db, &st_one, r, low) != DB_OK)
		return api_unavailable(c);
	if (db_rows(*r) != 1) {
		db_res_free(r);
		return api_fail(c, 404, "not_found", NULL);
	}
	return 0;
}

static int
answer_one(struct api_ctx *c, const char *login, int status)
{
	struct db_res *r = NULL;
	json_t *o;
	int rc;

	if ((rc = load(c, login, &r)) != 0)
		return rc;
	o = admin_json(r, 0);
	db_res_free(&r);
	return o ? api_ok(c, status, o) : api_unavailable(c);
}

/* GET /admins/{login} */
static int
admins_get(struct api_ctx *c)
{
	return answer_one(c, api_param(c, "login"), 200);
}

/* POST /admins {login, role, domains, password} */
static int
admins_create(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	const char *login = api_in_str(c, "login"), *role = api_in_str(c, "role");
	const char *pw = api_in_str(c, "password");
	char low[ADMINS_LOGIN_MAX + 1], hash[PW_HASH_MAX], *js = NULL;
	json_t *doms;
	bool given;
	enum db_status s;
	int status = 500;

	hash[0] = '\0';
	if (login == NULL || *login == '\0')
		rule_add(&errs, "login", "required", NULL);
	else if (!login_ok(login))
		rule_add(&errs, "login", "invalid", NULL);
	if (role == NULL || *role == '\0')
		rule_add(&errs, "role", "required", NULL);
	else if (role_parse(role) < 0 || role_parse(role) == ROLE_USER)
		rule_add(&errs, "role", "invalid", NULL);
	if (pw == NULL || *pw == '\0')
		rule_add(&errs, "password", "required", NULL);
	else
		rule_password(pw, login, NULL, NULL, "password", &errs);
	doms = read_domains(c, &given, &errs);
	/* A superadmin has every domain; a list given for one is not kept. */
	if (doms != NULL && role != NULL && role_parse(role) == ROLE_SUPERADMIN)
		json_array_clear(doms);
	js = doms ? json_dumps(doms, JSON_COMPACT) : NULL;
	if (js != NULL && domains_exist(c, doms, js, &errs) < 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (errs.n > 0) {
		status = fail_page(c, api_fail(c, 422, "invalid", &errs), true);
		goto out;
	}
	if (js == NULL || !rule_lower(login, low, sizeof(low)) || pw_hash(pw, hash) != 0 ||
	    db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	s = db_runv(c->db, &st_insert, &r, low, hash, role);
	if (s == DB_CONFLICT) {
		db_rollback(c->db);
		status = fail_page(c, api_fail1(c, 409, "exists", "login", "exists"), true);
		goto out;
	}
	if (s != DB_OK || db_runv(c->db, &st_set_domains, NULL, db_val(r, 0, 0), js) != DB_OK ||
	    audit(c, NULL, "admin_create", low, json_pack("{s:s, s:O}", "role", role, "domains", doms)) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	status = answer_one(c, low, 201);
out:
	explicit_bzero(hash, sizeof(hash));
	free(js);
	json_decref(doms);
	db_res_free(&r);
	return status;
}

/* PATCH /admins/{login}: any of role, domains, password (empty form fields unchanged). */
static int
admins_patch(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	const char *role = api_in_str(c, "role"), *pw = api_in_str(c, "password");
	char hash[PW_HASH_MAX], now[32], id[24], login[ADMINS_LOGIN_MAX + 1], *js = NULL;
	json_t *doms = NULL;
	bool given, self;
	int status, new_role;

	hash[0] = '\0';
	if ((status = load(c, api_param(c, "login"), &r)) != 0)
		return status;
	bstrcpy(id, sizeof(id), db_val(r, 0, 0));
	bstrcpy(login, sizeof(login), db_val(r, 0, 1));
	new_role = role_parse(db_val(r, 0, 2));
	self = c->p->admin_id != 0 && db_i64(r, 0, 0) == c->p->admin_id;
	if (role != NULL && *role == '\0')
		role = NULL;
	if (pw != NULL && *pw == '\0' && c->html)
		pw = NULL;
	if (role != NULL) {
		new_role = role_parse(role);
		if (new_role < 0 || new_role == ROLE_USER)
			rule_add(&errs, "role", "invalid", NULL);
		else if (self && new_role != ROLE_SUPERADMIN)
			/* Demoting oneself could leave nobody able to manage admins. */
			rule_add(&errs, "role", "invalid", NULL);
	}
	if (pw != NULL)
		rule_password(pw, login, NULL, NULL, "password", &errs);
	doms = read_domains(c, &given, &errs);
	if (doms != NULL && new_role == ROLE_SUPERADMIN) {
		json_array_clear(doms);
		given = true;
	}
	js = doms ? json_dumps(doms, JSON_COMPACT) : NULL;
	if (js != NULL && domains_exist(c, doms, js, &errs) < 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (errs.n > 0) {
		status = fail_page(c, api_fail(c, 422, "invalid", &errs), false);
		goto out;
	}
	if (js == NULL || (pw != NULL && pw_hash(pw, hash) != 0) || db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_runv(c->db, &st_update, NULL, id, role, pw ? hash : NULL, clock_now_str(now, sizeof(now))) != DB_OK ||
	    (given && (db_runv(c->db, &st_clear_domains, NULL, id) != DB_OK ||
	    db_runv(c->db, &st_set_domains, NULL, id, js) != DB_OK)) ||
	    /* A new password ends the sessions opened with the old one. */
	    (pw != NULL && !self && session_drop_admin(c->db, db_i64(r, 0, 0)) != 0) ||
	    audit(c, NULL, "admin_update", login, json_pack("{s:b, s:b, s:b}", "role", role != NULL,
	    "domains", given, "password", pw != NULL)) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	status = answer_one(c, login, 200);
out:
	explicit_bzero(hash, sizeof(hash));
	free(js);
	json_decref(doms);
	db_res_free(&r);
	return status;
}

/* DELETE /admins/{login}: never one's own login. */
static int
admins_delete(struct api_ctx *c)
{
	struct db_res *r = NULL;
	int status;

	if ((status = load(c, api_param(c, "login"), &r)) != 0)
		return status;
	if (c->p->admin_id != 0 && db_i64(r, 0, 0) == c->p->admin_id) {
		status = api_fail1(c, 422, "invalid", "login", "invalid");
		goto out;
	}
	if (db_begin(c->db) != DB_OK || db_runv(c->db, &st_delete, NULL, db_val(r, 0, 0)) != DB_OK ||
	    api_audit(c, NULL, "admin_delete", db_val(r, 0, 1), NULL) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 204, NULL);
out:
	db_res_free(&r);
	return status;
}

const struct api_route api_routes_admins[] = {
	{ "GET", "/admins", admins_list, R_ADMIN | R_SUPER, "admin/admins.html", NULL },
	{ "POST", "/admins", admins_create, R_ADMIN | R_SUPER, "admin/admins.html", "/admins?done=admins_created" },
	{ "GET", "/admins/{login}", admins_get, R_ADMIN | R_SUPER, "admin/admin.html", NULL },
	{ "PATCH", "/admins/{login}", admins_patch, R_ADMIN | R_SUPER, "admin/admin.html",
	  "/admins/{login}?done=saved" },
	{ "DELETE", "/admins/{login}", admins_delete, R_ADMIN | R_SUPER, "admin/admin_delete.html",
	  "/admins?done=admins_deleted" },
	{ "GET", "/admins/{login}/delete", admins_get, R_ADMIN | R_SUPER | R_HTML, "admin/admin_delete.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
