/* api/support.c: the support actions of SPEC §6 (unlock, release send lock, mark compromised, temporary password),
 * for support staff and admins alike, each audited and announced to maild. */
#include <string.h>

#include "api/api.h"
#include "api/ref.h"
#include "api/session.h"
#include "cgi/routes.h"
#include "core/clock.h"
#include "core/lockout.h"
#include "core/password.h"
#include "core/util.h"

/* The counts go too: a release that left them would lock again at the next message. */
static const struct db_stmt st_release = {
	"support_release",
	"UPDATE accounts SET send_locked_at = NULL, updated_at = $2::timestamptz WHERE id = $1::bigint", 2
};

static const struct db_stmt st_release_counts = {
	"support_release_counts", "DELETE FROM send_counts WHERE account_id = $1::bigint", 1
};

static const struct db_stmt st_compromised = {
	"support_compromised",
	"UPDATE accounts SET compromised = true, compromised_at = $2::timestamptz, updated_at = $2::timestamptz "
	"WHERE id = $1::bigint", 2
};

/* A temporary password signs in only to the panel, to set a new one (SPEC §6); the
 * compromised mark stays until the owner has replaced it. */
static const struct db_stmt st_temp = {
	"support_temp_password",
	"UPDATE accounts SET password_hash = $2, temp_password = true, must_change_password = true, "
	" password_changed_at = $3::timestamptz, updated_at = $3::timestamptz WHERE id = $1::bigint", 3
};

/* After a form POST, go back where the form asked (the support console, the account
 * page) when that is a page of this panel: a path under /admin/, nothing else. */
static void
return_to(struct api_ctx *c, const struct acct_ref *ref, const char *done)
{
	const char *to = api_in_str(c, "return_to");

	if (!c->html)
		return;
	if (to != NULL && strncmp(to, "/admin/", 7) == 0 && strstr(to, "//") == NULL &&
	    strchr(to, '\\') == NULL && strcspn(to, "\r\n") == strlen(to))
		c->location = arena_printf(c->arena, "%s%sdone=%s", to, strchr(to, '?') ? "&" : "?", done);
	else
		c->location = arena_printf(c->arena, "/admin/domains/%s/accounts/%s?done=%s",
		    ref->dom.name, ref->name, done);
}

/* The common frame: resolve the account, run `step` in a transaction with NOTIFY and the
 * audit row, answer 204. */
static int
act(struct api_ctx *c, const char *action, const char *done,
    int (*step)(struct api_ctx *c, const struct acct_ref *ref))
{
	struct acct_ref ref;
	int status;

	if ((status = api_account_ref(c, &ref)) != 0)
		return status;
	if (db_begin(c->db) != DB_OK || step(c, &ref) != 0 ||
	    db_notify_domain(c->db, ref.dom.name) != DB_OK ||
	    api_audit(c, ref.dom.name, action, ref.address, NULL) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		return api_unavailable(c);
	}
	return_to(c, &ref, done);
	return api_ok(c, 204, NULL);
}

static int
do_unlock(struct api_ctx *c, const struct acct_ref *ref)
{
	return lockout_reset(c->db, ref->address);
}

static int
do_release(struct api_ctx *c, const struct acct_ref *ref)
{
	char now[32];

	if (db_runv(c->db, &st_release, NULL, ref->id_s, clock_now_str(now, sizeof(now))) != DB_OK ||
	    db_runv(c->db, &st_release_counts, NULL, ref->id_s) != DB_OK)
		return -1;
	return 0;
}

/* The current password signs in nowhere from now on; open sessions end at once. */
static int
do_compromised(struct api_ctx *c, const struct acct_ref *ref)
{
	char now[32];

	if (db_runv(c->db, &st_compromised, NULL, ref->id_s, clock_now_str(now, sizeof(now))) != DB_OK)
		return -1;
	return session_drop_account(c->db, ref->id);
}

/* POST …/accounts/{name}/unlock: the failed-authentication lock of the address. */
static int
support_unlock(struct api_ctx *c)
{
	return act(c, "account_unlock", "accounts_unlocked", do_unlock);
}

/* POST …/accounts/{name}/release-send-lock */
static int
support_release(struct api_ctx *c)
{
	return act(c, "account_release_send_lock", "accounts_send_lock_released", do_release);
}

/* POST …/accounts/{name}/compromised */
static int
support_compromised(struct api_ctx *c)
{
	return act(c, "account_compromised", "accounts_marked_compromised", do_compromised);
}

/* POST …/accounts/{name}/temporary-password: {password}, shown this once. */
static int
support_temp_password(struct api_ctx *c)
{
	struct acct_ref ref;
	char pw[17], hash[PW_HASH_MAX], now[32];
	json_t *out;
	int status;

	if ((status = api_account_ref(c, &ref)) != 0)
		return status;
	pw_random(pw);
	if (pw_hash(pw, hash) != 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_begin(c->db) != DB_OK ||
	    db_runv(c->db, &st_temp, NULL, ref.id_s, hash, clock_now_str(now, sizeof(now))) != DB_OK ||
	    session_drop_account(c->db, ref.id) != 0 ||
	    lockout_reset(c->db, ref.address) != 0 ||
	    db_notify_domain(c->db, ref.dom.name) != DB_OK ||
	    api_audit(c, ref.dom.name, "account_temporary_password", ref.address, NULL) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	out = json_pack("{s:s}", "password", pw);
	if (out != NULL && c->html) {
		const char *to = api_in_str(c, "return_to");

		json_object_set_new(out, "address", json_string(ref.address));
		json_object_set_new(out, "domain", json_string(ref.dom.name));
		json_object_set_new(out, "name", json_string(ref.name));
		if (to != NULL && strncmp(to, "/admin/", 7) == 0 && strstr(to, "//") == NULL)
			json_object_set_new(out, "return_to", json_string(to));
	}
	status = out ? api_ok(c, 200, out) : api_unavailable(c);
out:
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(hash, sizeof(hash));
	return status;
}

#define ACCT "/domains/{d}/accounts/{name}"

const struct api_route api_routes_support[] = {
	{ "POST", ACCT "/unlock", support_unlock, R_ADMIN, NULL, NULL },
	{ "POST", ACCT "/release-send-lock", support_release, R_ADMIN, NULL, NULL },
	{ "POST", ACCT "/compromised", support_compromised, R_ADMIN, NULL, NULL },
	{ "POST", ACCT "/temporary-password", support_temp_password, R_ADMIN | R_RENDER,
	  "admin/temp_password.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
