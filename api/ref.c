/* api/ref.c: {d} and {name} to rows, scope checked before existence. */
#include "api/ref.h"

#include <string.h>
#include <strings.h>

#include "core/util.h"

static const struct db_stmt st_domain = {
	"ref_domain", "SELECT id, name, default_quota_mb FROM domains WHERE name = $1", 1
};

static const struct db_stmt st_account = {
	"ref_account",
	"SELECT a.id, a.name, a.is_system FROM accounts a WHERE a.domain_id = $1::bigint AND a.name = $2", 2
};

static int
load_domain(struct api_ctx *c, const char *name, struct domain_ref *ref)
{
	struct db_res *r = NULL;
	char low[256];
	int status = 0;

	if (name == NULL || !rule_lower(name, low, sizeof(low)))
		return api_fail(c, 404, "not_found", NULL);
	if (c->p->role != ROLE_USER && !api_in_scope(c, low))
		return api_fail(c, 403, "forbidden", NULL);
	if (db_runv(c->db, &st_domain, &r, low) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1) {
		status = api_fail(c, c->p->role == ROLE_SUPERADMIN ? 404 : 403,
		    c->p->role == ROLE_SUPERADMIN ? "not_found" : "forbidden", NULL);
		goto out;
	}
	ref->id = db_i64(r, 0, 0);
	bstrcpy(ref->id_s, sizeof(ref->id_s), db_val(r, 0, 0));
	ref->name = arena_strdup(c->arena, db_val(r, 0, 1));
	ref->default_quota_mb = db_i64(r, 0, 2);
out:
	db_res_free(&r);
	return status;
}

int
api_domain_ref(struct api_ctx *c, struct domain_ref *ref)
{
	return load_domain(c, api_param(c, "d"), ref);
}

int
api_account_ref(struct api_ctx *c, struct acct_ref *ref)
{
	struct db_res *r = NULL;
	const char *d = api_param(c, "d"), *n = api_param(c, "name");
	char low[128];
	int status;

	memset(ref, 0, sizeof(*ref));
	if (c->p->role == ROLE_USER) {
		/* A user reaches only their own account, whatever the path says. */
		if ((d != NULL && strcasecmp(d, c->p->user_domain) != 0) ||
		    (n != NULL && strcasecmp(n, c->p->user_name) != 0))
			return api_fail(c, 403, "forbidden", NULL);
		d = c->p->user_domain;
		n = c->p->user_name;
	}
	if ((status = load_domain(c, d, &ref->dom)) != 0)
		return status;
	if (n == NULL || !rule_lower(n, low, sizeof(low)))
		return api_fail(c, 404, "not_found", NULL);
	if (db_runv(c->db, &st_account, &r, ref->dom.id_s, low) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1) {
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	ref->id = db_i64(r, 0, 0);
	bstrcpy(ref->id_s, sizeof(ref->id_s), db_val(r, 0, 0));
	ref->name = arena_strdup(c->arena, db_val(r, 0, 1));
	ref->is_system = db_bool(r, 0, 2);
	ref->address = arena_printf(c->arena, "%s@%s", ref->name, ref->dom.name);
	status = 0;
out:
	db_res_free(&r);
	return status;
}
