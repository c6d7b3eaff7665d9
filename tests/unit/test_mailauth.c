/* tests/unit/test_mailauth.c: maild/mailauth.c against real PostgreSQL: lock, statuses, aliases, audit, faults. */
#include "maild/mailauth.h"
#include "tests/unit/check.h"
#include "tests/unit/mailtest_db.h"

#include <stdlib.h>

#include "core/clock.h"
#include "core/domain.h"
#include "core/lockout.h"
#include "core/password.h"

static const char *const PW = "Right#Passw0rd-x";

static const struct db_stmt st_account = {
	"t_ma_account",
	"INSERT INTO accounts (domain_id, name, password_hash, quota_mb) VALUES ($1::bigint, $2, $3, 100) RETURNING id", 3
};
static const struct db_stmt st_alias = {
	"t_ma_alias",
	"INSERT INTO aliases (domain_id, name, account_id) VALUES ($1::bigint, $2, $3::bigint)", 3
};
static const struct db_stmt st_set = {
	"t_ma_set",
	"UPDATE accounts SET compromised = $2::boolean, temp_password = $3::boolean, "
	"send_locked_at = CASE WHEN $4::int < 0 THEN NULL ELSE now() - make_interval(hours => $4::int) END "
	"WHERE id = $1::bigint", 4
};
static const struct db_stmt st_failures = {
	"t_ma_failures", "SELECT coalesce((SELECT failures FROM auth_failures WHERE login = $1), 0)", 1
};
static const struct db_stmt st_audit_count = {
	"t_ma_audit",
	"SELECT count(*) FROM audit_log WHERE actor = $1 AND action = $2 AND details->>'reason' = $3 "
	"AND domain = 'example.test' AND remote_addr = '192.0.2.7'", 3
};

static int64_t
one_i64(struct db *db, const struct db_stmt *st, const char *a, const char *b, const char *c)
{
	struct db_res *r = NULL;
	const char *params[3] = { a, b, c };
	int64_t v = -1;

	if (db_run(db, st, &r, params) == DB_OK && db_rows(r) == 1)
		v = db_i64(r, 0, 0);
	db_res_free(&r);
	return v;
}

static void
set_status(struct db *db, const char *id, bool comp, bool temp, int send_locked_hours_ago)
{
	char h[16];

	bsnprintf(h, sizeof(h), "%d", send_locked_hours_ago);
	CHECK(db_runv(db, &st_set, NULL, id, comp ? "true" : "false", temp ? "true" : "false", h) == DB_OK,
	    "update status");
}

static enum mailauth_result
try(struct db *db, const struct config *cfg, const char *login, const char *pw, struct mailauth_user *u)
{
	return mailauth_check(db, cfg, "pop3", "192.0.2.7", login, pw, u);
}

int
main(void)
{
	struct mailtest_db t;
	struct config cfg;
	struct db *db, *dead;
	struct db_res *r = NULL;
	struct mailauth_user u;
	char hash[PW_HASH_MAX], dom_id[24], acct_id[24], clockfile[] = "/tmp/ma-clock-XXXXXX";
	int64_t did;
	int i, fd;
	FILE *f;

	config_defaults(&cfg);
	CHECK(pw_init(64, 1, 1) == 0, "pw_init");
	mailtest_db_create(&t, "mailauth");
	db = db_open(t.conninfo);
	CHECK(domain_add(db, "example.test", 100, &did) == DB_OK, "domain_add");
	bsnprintf(dom_id, sizeof(dom_id), "%lld", (long long)did);
	CHECK(pw_hash(PW, hash) == 0, "pw_hash");
	CHECK(db_runv(db, &st_account, &r, dom_id, "alice", hash) == DB_OK && db_rows(r) == 1, "account");
	bstrcpy(acct_id, sizeof(acct_id), db_val(r, 0, 0));
	db_res_free(&r);
	CHECK(db_runv(db, &st_alias, NULL, dom_id, "ally", acct_id) == DB_OK, "alias");

	/* The right password, any case of the address. */
	CHECK(try(db, &cfg, "Alice@Example.TEST", PW, &u) == MA_OK, "sign-in");
	CHECK_STR(u.address, "alice@example.test");
	CHECK_STR(u.name, "alice");
	CHECK_STR(u.domain, "example.test");
	CHECK(u.account_id == strtoll(acct_id, NULL, 10), "account id");
	CHECK(!u.send_locked && !u.compromised, "status");

	/* A wrong password counts; a success resets the count. */
	CHECK(try(db, &cfg, "alice@example.test", "Wrong#Passw0rd-x", &u) == MA_BAD, "wrong password");
	CHECK(one_i64(db, &st_failures, "alice@example.test", NULL, NULL) == 1, "counted");
	CHECK(one_i64(db, &st_audit_count, "alice@example.test", "pop3_login_failed", "bad_password") == 1,
	    "failure audited");
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_OK, "sign-in again");
	CHECK(one_i64(db, &st_failures, "alice@example.test", NULL, NULL) == 0, "reset");

	/* Aliases receive mail but never sign in (SPEC §10), even with the right password. */
	CHECK(try(db, &cfg, "ally@example.test", PW, &u) == MA_BAD, "alias refused");
	CHECK(one_i64(db, &st_failures, "ally@example.test", NULL, NULL) == 1, "alias counted");
	/* Unknown logins are counted under their own string too. */
	CHECK(try(db, &cfg, "nobody@example.test", PW, &u) == MA_BAD, "unknown");
	CHECK(one_i64(db, &st_failures, "nobody@example.test", NULL, NULL) == 1, "unknown counted");
	CHECK(try(db, &cfg, "no-at-sign", PW, &u) == MA_BAD, "not an address");

	/* The 10th failure in a row locks; then even the right password is refused, and the
	 * attempts during the lock do not count. */
	for (i = 0; i < 10; i++)
		CHECK(try(db, &cfg, "alice@example.test", "Wrong#Passw0rd-x", &u) == MA_BAD, "failure %d", i);
	CHECK(lockout_check(db, "alice@example.test") == LK_FOUND, "locked");
	CHECK(one_i64(db, &st_audit_count, "alice@example.test", "pop3_login_failed", "bad_password_locked") == 1,
	    "locking failure audited");
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_LOCKED, "locked: right password refused");
	CHECK(try(db, &cfg, "alice@example.test", "Wrong#Passw0rd-x", &u) == MA_LOCKED, "locked: wrong");
	CHECK(one_i64(db, &st_failures, "alice@example.test", NULL, NULL) == 10, "not counted while locked");
	CHECK(one_i64(db, &st_audit_count, "alice@example.test", "pop3_login_refused", "locked") == 2,
	    "locked refusals audited");
	/* Another login is not affected by alice's lock. */
	CHECK(try(db, &cfg, "postmaster@example.test", PW, &u) == MA_BAD, "other login");
	CHECK(lockout_check(db, "postmaster@example.test") == LK_NOTFOUND, "other not locked");

	/* The lock runs out after lock_minutes (30), by the test clock. */
	fd = mkstemp(clockfile);
	CHECK(fd >= 0, "clock file");
	f = fdopen(fd, "w");
	fprintf(f, "%d\n", 31 * 60);
	fclose(f);
	setenv("YUBIN_TEST_CLOCK_FILE", clockfile, 1);
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_OK, "lock expired");
	unsetenv("YUBIN_TEST_CLOCK_FILE");
	unlink(clockfile);

	/* Support's unlock ends a lock at once. */
	for (i = 0; i < 10; i++)
		(void)try(db, &cfg, "alice@example.test", "Wrong#Passw0rd-x", &u);
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_LOCKED, "locked again");
	CHECK(lockout_reset(db, "alice@example.test") == 0, "unlock");
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_OK, "after unlock");

	/* Compromised: the current password signs in nowhere; a wrong one still counts. */
	set_status(db, acct_id, true, false, -1);
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_REFUSED, "compromised");
	CHECK(one_i64(db, &st_failures, "alice@example.test", NULL, NULL) == 0, "refusal not counted");
	CHECK(one_i64(db, &st_audit_count, "alice@example.test", "pop3_login_refused", "compromised") == 1,
	    "compromised audited");
	CHECK(try(db, &cfg, "alice@example.test", "Wrong#Passw0rd-x", &u) == MA_BAD, "compromised, wrong pw");
	/* A temporary password signs in only to the panel (SPEC §6). */
	set_status(db, acct_id, false, true, -1);
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_REFUSED, "temporary password");
	CHECK(one_i64(db, &st_audit_count, "alice@example.test", "pop3_login_refused", "temp_password") == 1,
	    "temp audited");

	/* Send lock: set less than 24 h ago; lifted 24 h after. */
	set_status(db, acct_id, false, false, 1);
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_OK && u.send_locked, "send locked");
	set_status(db, acct_id, false, false, 25);
	CHECK(try(db, &cfg, "alice@example.test", PW, &u) == MA_OK && !u.send_locked, "send lock over");

	/* A database fault is a temporary failure, never "wrong password". */
	dead = db_open("host=127.0.0.1 port=1 user=postgres dbname=none connect_timeout=2");
	CHECK(try(dead, &cfg, "alice@example.test", PW, &u) == MA_TEMPFAIL, "db down");
	db_close(&dead);

	db_close(&db);
	mailtest_db_drop(&t);
	return check_done();
}
