/* core/lockout.c: lock after N failures in a row for a period; the clock is clock_now() so tests
 * can move it. Logins are compared lower-cased (addresses and admin logins are stored so). */
#include "core/lockout.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/util.h"

static const struct db_stmt st_check = {
	"lockout_check",
	"SELECT 1 FROM auth_failures WHERE login = lower($1) AND locked_until > $2::timestamptz", 2
};

/* A lock that has run out starts the count again; one that is running is left as it is. */
static const struct db_stmt st_fail = {
	"lockout_fail",
	"INSERT INTO auth_failures AS f (login, failures, last_failure) VALUES (lower($1), 1, $2::timestamptz) "
	"ON CONFLICT (login) DO UPDATE SET "
	" failures = CASE WHEN f.locked_until > $2::timestamptz THEN f.failures "
	"                 WHEN f.locked_until IS NOT NULL THEN 1 ELSE f.failures + 1 END, "
	" locked_until = CASE WHEN f.locked_until > $2::timestamptz THEN f.locked_until ELSE NULL END, "
	" locked_at = CASE WHEN f.locked_until > $2::timestamptz THEN f.locked_at ELSE NULL END, "
	" last_failure = $2::timestamptz "
	"RETURNING failures, locked_until IS NOT NULL", 2
};

static const struct db_stmt st_lock = {
	"lockout_lock",
	"UPDATE auth_failures SET locked_until = $2::timestamptz + make_interval(mins => $3::int), "
	"locked_at = $2::timestamptz WHERE login = lower($1)", 3
};

static const struct db_stmt st_reset = {
	"lockout_reset", "DELETE FROM auth_failures WHERE login = lower($1)", 1
};

static const struct db_stmt st_tcheck = {
	"throttle_check",
	"SELECT coalesce(sum(count), 0) FROM ip_failures WHERE remote_addr = $1 "
	"AND minute > $2::timestamptz - interval '60 seconds'", 2
};

/* Buckets of one second: a sliding minute, and old rows swept by the same statement's
 * neighbour below. */
static const struct db_stmt st_tfail = {
	"throttle_fail",
	"INSERT INTO ip_failures AS f (remote_addr, minute, count) "
	"VALUES ($1, date_trunc('second', $2::timestamptz), 1) "
	"ON CONFLICT (remote_addr, minute) DO UPDATE SET count = f.count + 1", 2
};

static const struct db_stmt st_tsweep = {
	"throttle_sweep",
	"DELETE FROM ip_failures WHERE minute < $1::timestamptz - interval '5 minutes'", 1
};

enum lookup
lockout_check(struct db *db, const char *login)
{
	struct db_res *r = NULL;
	char now[32];
	enum lookup lk;

	if (db_runv(db, &st_check, &r, login, clock_now_str(now, sizeof(now))) != DB_OK)
		return LK_TEMPFAIL;
	lk = db_rows(r) > 0 ? LK_FOUND : LK_NOTFOUND;
	db_res_free(&r);
	return lk;
}

int
lockout_fail(struct db *db, const char *login, int64_t threshold, int64_t minutes)
{
	struct db_res *r = NULL;
	char now[32], mins[24];
	int rc = -1;

	clock_now_str(now, sizeof(now));
	if (db_runv(db, &st_fail, &r, login, now) != DB_OK)
		goto out;
	if (db_rows(r) == 1 && !db_bool(r, 0, 1) && db_i64(r, 0, 0) >= threshold) {
		bsnprintf(mins, sizeof(mins), "%lld", (long long)minutes);
		if (db_runv(db, &st_lock, NULL, login, now, mins) != DB_OK)
			goto out;
	}
	rc = 0;
out:
	db_res_free(&r);
	return rc;
}

int
lockout_reset(struct db *db, const char *login)
{
	return db_runv(db, &st_reset, NULL, login) == DB_OK ? 0 : -1;
}

enum lookup
throttle_check(struct db *db, const char *remote_addr, int64_t limit)
{
	struct db_res *r = NULL;
	char now[32];
	enum lookup lk;

	if (db_runv(db, &st_tcheck, &r, remote_addr, clock_now_str(now, sizeof(now))) != DB_OK)
		return LK_TEMPFAIL;
	lk = db_i64(r, 0, 0) >= limit ? LK_FOUND : LK_NOTFOUND;
	db_res_free(&r);
	return lk;
}

int
throttle_fail(struct db *db, const char *remote_addr)
{
	char now[32];

	clock_now_str(now, sizeof(now));
	if (db_runv(db, &st_tfail, NULL, remote_addr, now) != DB_OK)
		return -1;
	(void)db_runv(db, &st_tsweep, NULL, now);
	return 0;
}
