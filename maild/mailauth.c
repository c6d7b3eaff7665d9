/* maild/mailauth.c: one sign-in check for SMTP AUTH and POP3: lock, Argon2id, SPEC §6 statuses, audit. */
#include "maild/mailauth.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/lockout.h"
#include "core/log.h"
#include "core/password.h"
#include "core/util.h"

/* Only the account's own address signs in (SPEC §10: aliases and domain aliases receive
 * but never authenticate), so the lookup is by the real domain name and account name. */
static const struct db_stmt st_account = {
	"mailauth_account",
	"SELECT a.id, a.password_hash, a.compromised, a.temp_password, "
	" (a.send_locked_at IS NOT NULL AND a.send_locked_at > $3::timestamptz - interval '24 hours') "
	"FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = $1 AND a.name = $2", 3
};

static const struct db_stmt st_audit = {
	"mailauth_audit",
	"INSERT INTO audit_log (at, domain, actor, actor_role, action, target, remote_addr, details) "
	"VALUES ($1, $2, $3, 'user', $4, $3, $5, $6::jsonb)", 6
};

/* The longest address we accept: local part (64) + '@' + domain (253), with room. */
#define MA_LOGIN_MAX 330
/* Before authentication only small inputs (STYLE.md §8); a longer password is wrong anyway
 * since the policy of SPEC §2 caps it at 128. */
#define MA_PASSWORD_MAX 1024

/* An audit row about `login`; only for an account that exists, so a stranger cannot fill a
 * domain's log with names of his choosing. Failing to write it is logged, not fatal. */
void
mailauth_audit(struct db *db, const char *domain, const char *login, const char *proto, const char *what,
      const char *reason, const char *remote_addr)
{
	char now[32], action[64];
	char *js = NULL;
	json_t *d;

	if (!bsnprintf(action, sizeof(action), "%s_%s", proto, what))
		return;
	d = json_pack("{s:s, s:s}", "reason", reason, "protocol", proto);
	if (d != NULL)
		js = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if (db_runv(db, &st_audit, NULL, clock_now_str(now, sizeof(now)), domain, login, action,
	    remote_addr ? remote_addr : "", js) != DB_OK)
		log_warnx("mailauth: audit row for %s not written: %s", action, db_errmsg(db));
	free(js);
}

/* Lower-case copy and split at the last '@'. False when the login cannot be an address. */
static bool
split_login(const char *login, char *lower, size_t lowersz, char *name, size_t namesz,
            char *domain, size_t domainsz)
{
	size_t i, n = strlen(login);
	const char *at;

	if (n == 0 || n >= lowersz)
		return false;
	for (i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)login[i]);
	at = strrchr(lower, '@');
	if (at == NULL || at == lower || at[1] == '\0' || (size_t)(at - lower) >= namesz)
		return false;
	memcpy(name, lower, (size_t)(at - lower));
	name[at - lower] = '\0';
	return bstrcpy(domain, domainsz, at + 1);
}

enum mailauth_result
mailauth_check(struct db *db, const struct config *cfg, const char *proto,
               const char *remote_addr, const char *login, const char *password,
               struct mailauth_user *u)
{
	char lower[MA_LOGIN_MAX], name[65], domain[256], now[32];
	struct db_res *r = NULL;
	enum mailauth_result res = MA_TEMPFAIL;
	bool known = false, addr_ok;
	int ok;

	memset(u, 0, sizeof(*u));
	addr_ok = split_login(login, lower, sizeof(lower), name, sizeof(name), domain, sizeof(domain));
	if (!addr_ok) {
		/* Not an address at all: no row can match, and nothing worth counting under a
		 * string no account can have; the same Argon2 work is still spent. */
		(void)pw_verify(password, NULL);
		return MA_BAD;
	}

	/* CONTRACT: while locked even the right password is refused, and the attempt neither
	 * counts nor extends the lock. */
	switch (lockout_check(db, lower)) {
	case LK_FOUND:
		if (db_runv(db, &st_account, &r, domain, name, clock_now_str(now, sizeof(now))) == DB_OK &&
		    db_rows(r) == 1)
			mailauth_audit(db, domain, lower, proto, "login_refused", "locked", remote_addr);
		res = MA_LOCKED;
		goto out;
	case LK_TEMPFAIL:
		goto out;
	case LK_NOTFOUND:
		break;
	}

	if (db_runv(db, &st_account, &r, domain, name, clock_now_str(now, sizeof(now))) != DB_OK)
		goto out;
	known = db_rows(r) == 1;
	/* An unknown login costs what a known one does (CONTRACT "Failed authentications"). */
	if (strlen(password) > MA_PASSWORD_MAX) {
		(void)pw_verify("", NULL);
		ok = 0;
	} else {
		ok = pw_verify(password, known ? db_val(r, 0, 1) : NULL);
	}
	if (ok < 0)
		goto out;
	if (ok == 0 || !known) {
		if (lockout_fail(db, lower, cfg->lock_threshold, cfg->lock_minutes) != 0)
			goto out;
		if (known) {
			bool now_locked = lockout_check(db, lower) == LK_FOUND;

			mailauth_audit(db, domain, lower, proto, "login_failed",
			    now_locked ? "bad_password_locked" : "bad_password", remote_addr);
		}
		res = MA_BAD;
		goto out;
	}

	/* The right password of an account whose status forbids mail sign-in (SPEC §6): a
	 * compromised account's password signs in nowhere, a temporary password only to the
	 * panel. Neither counts as a failure: the password was right. */
	if (db_bool(r, 0, 2) || db_bool(r, 0, 3)) {
		mailauth_audit(db, domain, lower, proto, "login_refused",
		    db_bool(r, 0, 3) ? "temp_password" : "compromised", remote_addr);
		res = MA_REFUSED;
		goto out;
	}
	if (lockout_reset(db, lower) != 0)
		goto out;

	u->account_id = db_i64(r, 0, 0);
	(void)bstrcpy(u->name, sizeof(u->name), name);
	(void)bstrcpy(u->domain, sizeof(u->domain), domain);
	(void)bstrcpy(u->address, sizeof(u->address), lower);
	u->send_locked = db_bool(r, 0, 4);
	u->compromised = db_bool(r, 0, 2);
	res = MA_OK;
out:
	if (res == MA_TEMPFAIL)
		log_warnx("mailauth: %s sign-in: database fault: %s", proto, db_errmsg(db));
	db_res_free(&r);
	return res;
}
