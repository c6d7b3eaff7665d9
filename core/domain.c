/* core/domain.c: a domain never exists without its postmaster (SPEC §2). */
#include "core/domain.h"

#include <stdbool.h>
#include <string.h>

#include "core/password.h"
#include "core/util.h"

static const struct db_stmt st_insert = {
	"domain_insert",
	"INSERT INTO domains (name, default_quota_mb) VALUES ($1, $2::int) RETURNING id", 2
};

static const struct db_stmt st_postmaster = {
	"domain_postmaster",
	"INSERT INTO accounts (domain_id, name, password_hash, quota_mb, is_system) "
	"VALUES ($1::bigint, 'postmaster', $2, $3::int, true)", 3
};

enum db_status
domain_add(struct db *db, const char *name, int64_t quota_mb, int64_t *id_r)
{
	struct db_res *r = NULL;
	char q[24], pw[17], hash[PW_HASH_MAX];
	bool own_tx = !db_in_tx(db);
	enum db_status s;

	bsnprintf(q, sizeof(q), "%lld", (long long)quota_mb);
	pw_random(pw);
	if (pw_hash(pw, hash) != 0)
		return DB_TEMPFAIL;
	explicit_bzero(pw, sizeof(pw));
	if (own_tx && (s = db_begin(db)) != DB_OK)
		return s;
	if ((s = db_runv(db, &st_insert, &r, name, q)) != DB_OK)
		goto out;
	*id_r = db_i64(r, 0, 0);
	if ((s = db_runv(db, &st_postmaster, NULL, db_val(r, 0, 0), hash, q)) != DB_OK)
		goto out;
	s = db_notify_domain(db, name);
out:
	db_res_free(&r);
	if (own_tx) {
		if (s == DB_OK)
			s = db_commit(db);
		else
			db_rollback(db);
	}
	return s;
}
