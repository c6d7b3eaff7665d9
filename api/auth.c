/* api/auth.c: sign-in for both panels, logout, /me and the caller's own password change. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/session.h"
#include "api/totp.h"
#include "core/clock.h"
#include "core/lockout.h"
#include "core/password.h"
#include "core/util.h"

static const struct db_stmt st_admin_by_login = {
	"auth_admin_by_login",
	"SELECT id, password_hash, totp_enabled FROM admins WHERE login = $1", 1
};

static const struct db_stmt st_account_by_addr = {
	"auth_account_by_addr",
	"SELECT a.id, a.password_hash, a.compromised, a.temp_password "
	"FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = $1 AND a.name = $2", 2
};

static const struct db_stmt st_admin_hash = {
	"auth_admin_hash", "SELECT password_hash FROM admins WHERE id = $1", 1
};

static const struct db_stmt st_account_hash = {
	"auth_account_hash", "SELECT password_hash FROM accounts WHERE id = $1", 1
};

static const struct db_stmt st_admin_setpw = {
	"auth_admin_setpw",
	"UPDATE admins SET password_hash = $2, must_change_password = false, updated_at = now() WHERE id = $1", 2
};

/* Replacing a temporary password also ends a compromised mark (SPEC §6). */
static const struct db_stmt st_account_setpw = {
	"auth_account_setpw",
	"UPDATE accounts SET password_hash = $2, must_change_password = false, temp_password = false, "
	" compromised = false, compromised_at = NULL, password_changed_at = now(), updated_at = now() "
	"WHERE id = $1", 2
};

json_t *
api_principal_json(const struct principal *p)
{
	json_t *doms = json_array();
	size_t i;

	for (i = 0; i < p->ndomains; i++)
		json_array_append_new(doms, json_string(p->domains[i]));
	return json_pack("{s:s, s:s, s:o, s:b}", "login", p->login, "role", role_name(p->role),
	    "domains", doms, "must_change_password", p->must_change_password);
}

/* Common tail of both logins once the credentials were checked. */
static int
finish_login(struct api_ctx *c, int64_t admin_id, int64_t account_id)
{
	char token[65], csrf[65];
	struct principal *p = NULL;
	int status;

	if (session_create(c, admin_id, account_id, token, csrf) != 0)
		return api_unavailable(c);
	if (session_load(c, token, NULL, &p) != LK_FOUND) {
		status = api_unavailable(c);
		goto out;
	}
	c->p = p;
	(void)api_audit(c, account_id ? p->user_domain : NULL, "login", p->login, NULL);
	status = api_ok(c, 200, json_pack("{s:s, s:o}", "csrf_token", csrf, "principal",
	    api_principal_json(p)));
out:
	explicit_bzero(token, sizeof(token));
	return status;
}

/* Steps shared by both sign-ins, before the password is checked: the lock of the login
 * string, which exists or not (CONTRACT), then the throttle per address. 0 = go on. */
static int
precheck(struct api_ctx *c, const char *login)
{
	switch (lockout_check(c->db, login)) {
	case LK_FOUND: return api_fail(c, 423, "locked", NULL);
	case LK_TEMPFAIL: return api_unavailable(c);
	case LK_NOTFOUND: break;
	}
	switch (throttle_check(c->db, c->remote_addr ? c->remote_addr : "", c->cfg->ip_fail_per_minute)) {
	case LK_FOUND: return api_fail(c, 429, "throttled", NULL);
	case LK_TEMPFAIL: return api_unavailable(c);
	case LK_NOTFOUND: break;
	}
	return 0;
}

static int
failed(struct api_ctx *c, const char *login)
{
	if (lockout_fail(c->db, login, c->cfg->lock_threshold, c->cfg->lock_minutes) != 0 ||
	    throttle_fail(c->db, c->remote_addr ? c->remote_addr : "") != 0)
		return api_unavailable(c);
	return api_fail(c, 401, "unauthenticated", NULL);
}

static int
read_credentials(struct api_ctx *c, char *login, size_t loginsz, const char **pw_r)
{
	const char *u = api_in_str(c, "username"), *pw = api_in_str(c, "password");

	if (u == NULL || pw == NULL)
		return api_fail(c, 400, "malformed", NULL);
	/* Before authentication only small inputs (STYLE.md §8). */
	if (strlen(u) >= loginsz || strlen(pw) > 1024 || !rule_lower(u, login, loginsz))
		return api_fail(c, 401, "unauthenticated", NULL);
	*pw_r = pw;
	return 0;
}

int
api_admin_login(struct api_ctx *c)
{
	char login[330];
	const char *pw;
	struct db_res *r = NULL;
	int status, ok;

	if ((status = read_credentials(c, login, sizeof(login), &pw)) != 0)
		return status;
	if ((status = precheck(c, login)) != 0)
		return status;
	if (db_runv(c->db, &st_admin_by_login, &r, login) != DB_OK)
		return api_unavailable(c);
	ok = pw_verify(pw, db_rows(r) == 1 ? db_val(r, 0, 1) : NULL);
	if (ok < 0) {
		status = api_unavailable(c);
	} else if (ok == 0) {
		status = failed(c, login);
	} else if (db_bool(r, 0, 2)) {
		/* Two-factor login: the count is reset only once the code is right too. */
		status = totp_login_begin(c, db_i64(r, 0, 0));
	} else if (lockout_reset(c->db, login) != 0) {
		status = api_unavailable(c);
	} else {
		status = finish_login(c, db_i64(r, 0, 0), 0);
	}
	db_res_free(&r);
	return status;
}

int
api_mail_login(struct api_ctx *c)
{
	char login[330], *at;
	const char *pw;
	struct db_res *r = NULL;
	int status, ok;
	bool usable;

	if ((status = read_credentials(c, login, sizeof(login), &pw)) != 0)
		return status;
	if ((status = precheck(c, login)) != 0)
		return status;
	at = strrchr(login, '@');
	if (at != NULL) {
		*at = '\0';
		if (db_runv(c->db, &st_account_by_addr, &r, at + 1, login) != DB_OK)
			return api_unavailable(c);
		*at = '@';
	}
	/* A compromised account's current password signs in nowhere; only a temporary
	 * password set by support reopens it (SPEC §6). */
	usable = db_rows(r) == 1 && (!db_bool(r, 0, 2) || db_bool(r, 0, 3));
	ok = pw_verify(pw, db_rows(r) == 1 ? db_val(r, 0, 1) : NULL);
	if (ok < 0) {
		status = api_unavailable(c);
	} else if (ok == 0 || !usable) {
		status = ok == 0 ? failed(c, login) : api_fail(c, 401, "unauthenticated", NULL);
	} else if (lockout_reset(c->db, login) != 0) {
		status = api_unavailable(c);
	} else {
		status = finish_login(c, 0, db_i64(r, 0, 0));
	}
	db_res_free(&r);
	return status;
}

int
api_logout(struct api_ctx *c)
{
	if (session_destroy(c) != 0)
		return api_unavailable(c);
	return api_ok(c, 204, NULL);
}

int
api_me(struct api_ctx *c)
{
	return api_ok(c, 200, api_principal_json(c->p));
}

int
api_me_password(struct api_ctx *c)
{
	const char *cur = api_in_str(c, "current_password");
	const char *np = api_in_str(c, "new_password");
	const char *np2 = api_in_str(c, "new_password_confirm");
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	char id[24], hash[PW_HASH_MAX];
	const char *name, *domain;
	bool user = c->p->role == ROLE_USER;
	int status = 500, ok;

	/* CONTRACT: 204 / 422 — a field left out is a broken rule like any other. */
	if (cur == NULL)
		rule_add(&errs, "current_password", "required", NULL);
	if (np == NULL)
		rule_add(&errs, "new_password", "required", NULL);
	if (np2 == NULL)
		rule_add(&errs, "new_password_confirm", "required", NULL);
	if (errs.n > 0)
		return api_fail(c, 422, "invalid", &errs);
	bsnprintf(id, sizeof(id), "%lld", (long long)(user ? c->p->account_id : c->p->admin_id));
	if (db_runv(c->db, user ? &st_account_hash : &st_admin_hash, &r, id) != DB_OK || db_rows(r) != 1) {
		status = api_unavailable(c);
		goto out;
	}
	ok = pw_verify(cur, db_val(r, 0, 0));
	if (ok < 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (ok == 0) {
		/* A wrong current password counts as a failed authentication (CONTRACT). */
		if (lockout_fail(c->db, c->p->login, c->cfg->lock_threshold, c->cfg->lock_minutes) != 0) {
			status = api_unavailable(c);
			goto out;
		}
		rule_add(&errs, "current_password", "wrong_password", NULL);
	}
	name = user ? c->p->user_name : c->p->login;
	domain = user ? c->p->user_domain : NULL;
	rule_password(np, name, domain, ok == 1 ? cur : NULL, "new_password", &errs);
	if (strcmp(np, np2) != 0)
		rule_add(&errs, "new_password_confirm", "mismatch", NULL);
	if (errs.n > 0) {
		status = api_fail(c, 422, "invalid", &errs);
		goto out;
	}
	if (pw_hash(np, hash) != 0 || db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_runv(c->db, user ? &st_account_setpw : &st_admin_setpw, NULL, id, hash) != DB_OK ||
	    (user && db_notify_domain(c->db, c->p->user_domain) != DB_OK) ||
	    api_audit(c, user ? c->p->user_domain : NULL, "password_change", c->p->login, NULL) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 204, NULL);
out:
	explicit_bzero(hash, sizeof(hash));
	db_res_free(&r);
	return status;
}

const struct api_route api_routes_auth[] = {
	{ "POST", "/admin/login", api_admin_login, R_PUBLIC | R_ORIGIN, "login.html", "/admin/" },
	{ "POST", "/mail/login", api_mail_login, R_PUBLIC | R_ORIGIN, "login.html", "/mail/" },
	{ "POST", "/logout", api_logout, R_ADMIN | R_USER | R_GATE_OK, NULL, "/" },
	/* The page header's form on the mail side posts /mail/logout, which maps to /me/logout. */
	{ "POST", "/me/logout", api_logout, R_USER | R_GATE_OK | R_HTML, NULL, "/mail/login" },
	{ "GET", "/me", api_me, R_ADMIN | R_USER | R_GATE_OK | R_API, NULL, NULL },
	{ "POST", "/me/password", api_me_password, R_ADMIN | R_USER | R_GATE_OK, "password.html", "/?done=password_changed" },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
