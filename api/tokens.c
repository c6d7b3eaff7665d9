/* api/tokens.c: API tokens (Bearer) scoped to a role and domains, never above their creator's rights. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cgi/routes.h"
#include "core/clock.h"
#include "core/util.h"

#define TOKENS_LABEL_MAX 200
#define TOKENS_DOMAINS_MAX 256

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define TOKEN_COLS \
	"t.id, t.label, t.role, coalesce((SELECT jsonb_agg(d.name ORDER BY d.name) FROM api_token_domains td " \
	" JOIN domains d ON d.id = td.domain_id WHERE td.token_id = t.id), '[]'::jsonb)::text, " \
	TS("t.expires_at") ", " TS("t.created_at") ", " TS("t.last_used_at") ", coalesce(a.login, '')"

/* The superadmin sees every token; the others their own. */
static const struct db_stmt st_list = {
	"tokens_list",
	"SELECT " TOKEN_COLS " FROM api_tokens t LEFT JOIN admins a ON a.id = t.creator_id "
	"WHERE $1::boolean OR t.creator_id = $2::bigint ORDER BY t.id", 2
};

static const struct db_stmt st_domain_ids = {
	"tokens_domain_ids",
	"SELECT count(*) FROM domains WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))", 1
};

static const struct db_stmt st_insert = {
	"tokens_insert",
	"INSERT INTO api_tokens (token_hash, label, role, creator_id, expires_at) "
	"VALUES ($1, $2, $3, $4::bigint, $5::timestamptz) RETURNING id, " TS("expires_at"), 5
};

static const struct db_stmt st_set_domains = {
	"tokens_set_domains",
	"INSERT INTO api_token_domains (token_id, domain_id) SELECT $1::bigint, d.id FROM domains d "
	"WHERE d.name IN (SELECT jsonb_array_elements_text($2::jsonb))", 2
};

static const struct db_stmt st_delete = {
	"tokens_delete",
	"DELETE FROM api_tokens WHERE id = $1::bigint AND ($2::boolean OR creator_id = $3::bigint) RETURNING label", 3
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
opt(const struct db_res *r, int row, int col)
{
	return db_null(r, row, col) ? json_null() : json_string(db_val(r, row, col));
}

static json_t *
token_json(const struct db_res *r, int row)
{
	json_t *doms = json_loads(db_val(r, row, 3), 0, NULL);

	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:o, s:s}", "id", (json_int_t)db_i64(r, row, 0),
	    "label", db_val(r, row, 1), "role", db_val(r, row, 2), "domains", doms ? doms : json_array(),
	    "expires_at", opt(r, row, 4), "created_at", db_val(r, row, 5), "last_used_at", opt(r, row, 6),
	    "creator", db_val(r, row, 7));
}

/* The tokens the caller sees; NULL on a database fault. */
static json_t *
list_items(struct api_ctx *c)
{
	struct db_res *r = NULL;
	char id[24];
	json_t *items;
	int k;

	bsnprintf(id, sizeof(id), "%lld", (long long)c->p->admin_id);
	if (db_runv(c->db, &st_list, &r, c->p->role == ROLE_SUPERADMIN ? "true" : "false", id) != DB_OK)
		return NULL;
	items = json_array();
	for (k = 0; k < db_rows(r); k++)
		json_array_append_new(items, token_json(r, k));
	db_res_free(&r);
	return items;
}

/* For pages: the list and the caller's domains (offered in the form) into obj. */
static void
page_data(struct api_ctx *c, json_t *obj)
{
	json_t *mine = json_array(), *items = list_items(c);
	size_t i;

	for (i = 0; i < c->p->ndomains; i++)
		json_array_append_new(mine, json_string(c->p->domains[i]));
	json_object_set_new(obj, "my_domains", mine);
	if (items != NULL)
		json_object_set_new(obj, "items", items);
}

/* GET /tokens */
static int
tokens_list(struct api_ctx *c)
{
	json_t *items = list_items(c), *out;

	if (items == NULL)
		return api_unavailable(c);
	out = json_pack("{s:o}", "items", items);
	if (out != NULL && c->html)
		page_data(c, out);
	return out ? api_ok(c, 200, out) : api_unavailable(c);
}

/* Rank of a role by rights: a token's role may equal its creator's or lie below it. */
static int
rank(int role)
{
	switch (role) {
	case ROLE_SUPERADMIN: return 0;
	case ROLE_DOMAIN_ADMIN: return 1;
	case ROLE_SUPPORT: return 2;
	default: return 3;
	}
}

/* The domains field: array, or a string of names separated by commas or spaces (forms).
 * Lower-cased, each once; NULL with an error added when malformed. */
static json_t *
read_domains(struct api_ctx *c, struct rule_errs *errs)
{
	json_t *v = json_object_get(c->in, "domains"), *src, *out = json_array(), *e;
	size_t i;

	if (v == NULL || json_is_null(v))
		return out;
	if (json_is_string(v)) {
		char *copy = arena_strdup(c->arena, json_string_value(v)), *tok, *save = NULL;

		src = json_array();
		for (tok = copy ? strtok_r(copy, ", \t\r\n", &save) : NULL; tok; tok = strtok_r(NULL, ", \t\r\n", &save))
			json_array_append_new(src, json_string(tok));
	} else if (json_is_array(v) && json_array_size(v) <= TOKENS_DOMAINS_MAX) {
		src = json_incref(v);
	} else {
		rule_add(errs, "domains", "invalid", NULL);
		json_decref(out);
		return NULL;
	}
	json_array_foreach(src, i, e) {
		char low[256];
		size_t k;
		json_t *x;
		bool dup = false;

		if (!json_is_string(e) || !rule_domain_name(json_string_value(e)) ||
		    !rule_lower(json_string_value(e), low, sizeof(low))) {
			rule_add(errs, "domains", "invalid", NULL);
			json_decref(src);
			json_decref(out);
			return NULL;
		}
		json_array_foreach(out, k, x)
			dup = dup || strcmp(json_string_value(x), low) == 0;
		if (!dup)
			json_array_append_new(out, json_string(low));
	}
	json_decref(src);
	return out;
}

/* POST /tokens {label, role, domains, expires_at}: 201 {id, token, …}, the token shown this
 * once; only its SHA-256 is stored (api/session.c looks it up by that). */
static int
tokens_create(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	const char *label = api_in_str(c, "label"), *role_s = api_in_str(c, "role");
	const char *exp = api_in_str(c, "expires_at");
	char token[65], hash[65], creator[24], exp_s[32], *js = NULL;
	json_t *doms = NULL, *e, *out;
	time_t exp_t = 0;
	int role = -1, status = 500;
	size_t i;

	token[0] = '\0';
	if (label != NULL && strlen(label) > TOKENS_LABEL_MAX)
		rule_add(&errs, "label", "too_long", NULL);
	if (role_s == NULL || *role_s == '\0')
		rule_add(&errs, "role", "required", NULL);
	else if ((role = role_parse(role_s)) < 0 || role == ROLE_USER)
		rule_add(&errs, "role", "invalid", NULL);
	if (exp != NULL && *exp != '\0' && (clock_parse(exp, &exp_t) != 0 || exp_t <= clock_now()))
		rule_add(&errs, "expires_at", "bad_date", NULL);
	doms = read_domains(c, &errs);
	if (errs.n > 0) {
		status = api_fail(c, 422, "invalid", &errs);
		goto out;
	}
	/* Never above the creator: not a higher role, not a domain outside the creator's. */
	if (rank(role) < rank((int)c->p->role)) {
		status = api_fail1(c, 403, "forbidden", "role", "forbidden");
		goto out;
	}
	json_array_foreach(doms, i, e)
		if (!api_in_scope(c, json_string_value(e))) {
			status = api_fail1(c, 403, "forbidden", "domains", "forbidden");
			goto out;
		}
	if (role == ROLE_SUPERADMIN) {
		json_array_clear(doms);
	} else if (json_array_size(doms) == 0) {
		/* An admin's token covers the admin's own domains unless told fewer. */
		for (i = 0; i < c->p->ndomains; i++)
			json_array_append_new(doms, json_string(c->p->domains[i]));
		if (json_array_size(doms) == 0) {
			status = api_fail1(c, 422, "invalid", "domains", "required");
			goto out;
		}
	}
	if ((js = json_dumps(doms, JSON_COMPACT)) == NULL ||
	    db_runv(c->db, &st_domain_ids, &r, js) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if ((size_t)db_i64(r, 0, 0) != json_array_size(doms)) {
		status = api_fail1(c, 422, "invalid", "domains", "not_found");
		goto out;
	}
	db_res_free(&r);
	if (!random_hex(token, sizeof(token), 32)) {
		status = api_unavailable(c);
		goto out;
	}
	sha256_hex(token, hash);
	bsnprintf(creator, sizeof(creator), "%lld", (long long)c->p->admin_id);
	if (exp_t != 0)
		clock_rfc3339(exp_t, exp_s, sizeof(exp_s));
	if (db_begin(c->db) != DB_OK ||
	    db_runv(c->db, &st_insert, &r, hash, label ? label : "", role_s,
	    c->p->admin_id ? creator : NULL, exp_t ? exp_s : NULL) != DB_OK ||
	    db_runv(c->db, &st_set_domains, NULL, db_val(r, 0, 0), js) != DB_OK ||
	    audit(c, NULL, "token_create", db_val(r, 0, 0), json_pack("{s:s, s:O}", "role", role_s,
	    "domains", doms)) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	out = json_pack("{s:I, s:s, s:s, s:s, s:O, s:o}", "id", (json_int_t)db_i64(r, 0, 0), "token", token,
	    "label", label ? label : "", "role", role_s, "domains", doms, "expires_at", opt(r, 0, 1));
	status = out ? api_ok(c, 201, out) : api_unavailable(c);
out:
	explicit_bzero(token, sizeof(token));
	free(js);
	json_decref(doms);
	db_res_free(&r);
	/* A refused form is shown again with the list (the row renders its page on success
	 * and failure alike). */
	if (c->html && status >= 400 && status != 503)
		page_data(c, c->out);
	return status;
}

/* DELETE /tokens/{id}: one's own, or any for the superadmin. */
static int
tokens_delete(struct api_ctx *c)
{
	struct db_res *r = NULL;
	const char *id = api_param(c, "id");
	char creator[24];
	int64_t n;
	int status;

	if (id == NULL || !parse_i64(id, 1, INT64_MAX, &n))
		return api_fail(c, 404, "not_found", NULL);
	bsnprintf(creator, sizeof(creator), "%lld", (long long)c->p->admin_id);
	if (db_begin(c->db) != DB_OK ||
	    db_runv(c->db, &st_delete, &r, id, c->p->role == ROLE_SUPERADMIN ? "true" : "false", creator) != DB_OK) {
		db_rollback(c->db);
		return api_unavailable(c);
	}
	if (db_rows(r) != 1) {
		db_rollback(c->db);
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	if (api_audit(c, NULL, "token_delete", id, NULL) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 204, NULL);
out:
	db_res_free(&r);
	return status;
}

const struct api_route api_routes_tokens[] = {
	{ "GET", "/tokens", tokens_list, R_ADMIN, "admin/tokens.html", NULL },
	{ "POST", "/tokens", tokens_create, R_ADMIN | R_RENDER, "admin/tokens.html", NULL },
	{ "DELETE", "/tokens/{id}", tokens_delete, R_ADMIN, NULL, "/tokens?done=tokens_deleted" },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
