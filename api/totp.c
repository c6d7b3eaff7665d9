/* api/totp.c: optional two-factor sign-in for admin logins (TOTP, RFC 6238, through liboath):
 * enrolment with a QR code (libqrencode, drawn as SVG), recovery codes, the login step, disabling. */
#include "api/totp.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/session.h"
#include "core/clock.h"
#include "core/i18n.h"
#include "core/lockout.h"
#include "core/password.h"
#include "core/util.h"

/* RFC 6238 §4 and §5.2: 30-second steps, one step of clock drift either way. */
#define TOTP_STEP 30
#define TOTP_WINDOW 1
#define TOTP_DIGITS 6
#define TOTP_SECRET_BYTES 20          /* 160 bits, RFC 4226 §4 recommends it */
#define RECOVERY_CODES 10
#define PENDING_MINUTES 10            /* a half-signed-in session waits this long for its code */

static const struct db_stmt st_state = {
	"totp_state",
	"SELECT a.totp_enabled, a.totp_secret IS NOT NULL, "
	" (SELECT count(*) FROM admin_recovery_codes r WHERE r.admin_id = a.id AND r.used_at IS NULL), "
	" a.totp_secret, a.totp_last_step, a.password_hash "
	"FROM admins a WHERE a.id = $1::bigint", 1
};

static const struct db_stmt st_set_secret = {
	"totp_set_secret",
	"UPDATE admins SET totp_secret = $2, updated_at = now() WHERE id = $1::bigint AND NOT totp_enabled", 2
};

static const struct db_stmt st_enable = {
	"totp_enable",
	"UPDATE admins SET totp_enabled = true, totp_last_step = $2::bigint, updated_at = now() "
	"WHERE id = $1::bigint AND NOT totp_enabled AND totp_secret = $3", 3
};

static const struct db_stmt st_disable = {
	"totp_disable",
	"UPDATE admins SET totp_enabled = false, totp_secret = NULL, totp_last_step = 0, updated_at = now() "
	"WHERE id = $1::bigint", 1
};

static const struct db_stmt st_codes_clear = {
	"totp_codes_clear", "DELETE FROM admin_recovery_codes WHERE admin_id = $1::bigint", 1
};

static const struct db_stmt st_code_add = {
	"totp_code_add", "INSERT INTO admin_recovery_codes (admin_id, code_hash) VALUES ($1::bigint, $2)", 2
};

static const struct db_stmt st_code_use = {
	"totp_code_use",
	"UPDATE admin_recovery_codes SET used_at = $3::timestamptz "
	"WHERE admin_id = $1::bigint AND code_hash = $2 AND used_at IS NULL", 3
};

/* The step only moves forward, so a code seen once is never accepted again (RFC 6238 §5.2). */
static const struct db_stmt st_step = {
	"totp_step",
	"UPDATE admins SET totp_last_step = $2::bigint WHERE id = $1::bigint AND totp_last_step < $2::bigint", 2
};

static const struct db_stmt st_pending_mark = {
	"totp_pending_mark",
	"UPDATE sessions SET totp_pending = true, "
	" expires_at = least(expires_at, $2::timestamptz + make_interval(mins => $3::int)) "
	"WHERE token_hash = $1", 3
};

static const struct db_stmt st_pending = {
	"totp_pending",
	"SELECT a.id, a.login, a.totp_secret, a.totp_last_step FROM sessions s JOIN admins a ON a.id = s.admin_id "
	"WHERE s.token_hash = $1 AND s.totp_pending AND s.expires_at > $2::timestamptz "
	" AND a.totp_enabled AND a.totp_secret IS NOT NULL", 2
};

static const struct db_stmt st_admin_id = {
	"totp_admin_id", "SELECT id FROM admins WHERE login = lower($1)", 1
};

static const struct db_stmt st_session_drop = {
	"totp_session_drop", "DELETE FROM sessions WHERE token_hash = $1", 1
};

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_init_rc = -1;

static void
oath_setup(void)
{
	oath_init_rc = oath_init();
}

static bool
oath_ready(void)
{
	return pthread_once(&oath_once, oath_setup) == 0 && oath_init_rc == OATH_OK;
}

static const char *
id_str(struct api_ctx *c, int64_t id)
{
	return arena_printf(c->arena, "%lld", (long long)id);
}

/* Our own field codes carry module texts "totp_err_<code>" (the shared catalogue has none). */
static void
own_messages(struct api_ctx *c)
{
	json_t *details = json_object_get(json_object_get(c->out, "error"), "details"), *d;
	size_t i;

	json_array_foreach(details, i, d) {
		const char *code = json_string_value(json_object_get(d, "code"));
		char key[64];

		if (code != NULL && bsnprintf(key, sizeof(key), "totp_err_%s", code)) {
			const char *m = i18n_get(c->lang, key);

			if (strcmp(m, key) != 0)
				json_object_set_new(d, "message", json_string(m));
		}
	}
}

/*
 * Check a 6-digit code against a base32 secret at clock_now(). 1 with *step_r = the
 * matching time step, 0 no match (or a step not after last_step: a replay), -1 fault.
 */
static int
totp_check(const char *secret_b32, int64_t last_step, const char *code, int64_t *step_r)
{
	char *bin = NULL;
	size_t binlen = 0, i;
	int pos = 0, rc, ret = 0;
	uint64_t counter = 0;

	if (!oath_ready())
		return -1;
	if (code == NULL || strlen(code) != TOTP_DIGITS)
		return 0;
	for (i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	if (oath_base32_decode(secret_b32, strlen(secret_b32), &bin, &binlen) != OATH_OK)
		return -1;
	rc = oath_totp_validate3(bin, binlen, clock_now(), TOTP_STEP, 0, TOTP_WINDOW, &pos, &counter, code);
	if (rc >= 0 && (int64_t)counter > last_step) {
		*step_r = (int64_t)counter;
		ret = 1;
	}
	sodium_memzero(bin, binlen);
	free(bin);
	return ret;
}

/* A recovery code as typed, normalised (lower case, no dashes or spaces), then hashed. */
static bool
recovery_hash(const char *code, char out[65])
{
	char norm[32];
	size_t n = 0;

	for (; code != NULL && *code; code++) {
		char ch = *code;

		if (ch == '-' || ch == ' ')
			continue;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (n + 1 >= sizeof(norm))
			return false;
		norm[n++] = ch;
	}
	norm[n] = '\0';
	if (n < 8)
		return false;
	sha256_hex(norm, out);
	sodium_memzero(norm, sizeof(norm));
	return true;
}

/* New recovery codes replace the old ones: each "xxxxx-xxxxx" from a 32-letter alphabet
 * without look-alikes (50 bits); only their SHA-256 is kept. Inside the caller's
 * transaction. The codes are returned as a JSON array, or NULL on a fault. */
static json_t *
recovery_codes_new(struct api_ctx *c, int64_t admin_id)
{
	static const char alpha[] = "abcdefghjkmnpqrstuvwxyz23456789";
	json_t *codes = json_array();
	int i;

	if (db_runv(c->db, &st_codes_clear, NULL, id_str(c, admin_id)) != DB_OK)
		goto fail;
	for (i = 0; i < RECOVERY_CODES; i++) {
		unsigned char raw[10];
		char code[12], h[65];
		int k, o = 0;

		randombytes_buf(raw, sizeof(raw));
		for (k = 0; k < 10; k++) {
			if (k == 5)
				code[o++] = '-';
			code[o++] = alpha[raw[k] % (sizeof(alpha) - 1)];
		}
		code[o] = '\0';
		if (!recovery_hash(code, h) ||
		    db_runv(c->db, &st_code_add, NULL, id_str(c, admin_id), h) != DB_OK)
			goto fail;
		json_array_append_new(codes, json_string(code));
	}
	return codes;
fail:
	json_decref(codes);
	return NULL;
}

/* The otpauth:// URI authenticator apps read from the QR code (Key Uri Format). */
static const char *
otpauth_uri(struct api_ctx *c, const char *login, const char *secret)
{
	struct buf b;
	const char *p;
	char *res;

	buf_init(&b);
	buf_adds(&b, "otpauth://totp/yubin:");
	for (p = login; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '-' || ch == '_')
			buf_addc(&b, (char)ch);
		else
			buf_printf(&b, "%%%02X", ch);
	}
	buf_printf(&b, "?secret=%s&issuer=yubin&algorithm=SHA1&digits=%d&period=%d", secret, TOTP_DIGITS,
	    TOTP_STEP);
	res = b.oom ? NULL : arena_strdup(c->arena, b.data);
	buf_free(&b);
	return res;
}

/* The QR code of `text` as an SVG image in a data: URL (the CSP allows img-src data:),
 * one square path per dark module and a quiet zone of 4 modules. NULL on a fault. */
static const char *
qr_data_url(struct api_ctx *c, const char *text)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	struct buf svg;
	char *b64 = NULL;
	const char *res = NULL;
	size_t b64len;
	int x, y, w;

	if (q == NULL)
		return NULL;
	w = q->width;
	buf_init(&svg);
	buf_printf(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	    "height=\"%d\" shape-rendering=\"crispEdges\"><rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>"
	    "<path fill=\"#000\" d=\"", w + 8, w + 8, (w + 8) * 6, (w + 8) * 6);
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				buf_printf(&svg, "M%d %dh1v1h-1z", x + 4, y + 4);
	buf_adds(&svg, "\"/></svg>");
	QRcode_free(q);
	if (svg.oom)
		goto out;
	b64len = sodium_base64_encoded_len(svg.len, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(b64len);
	if (b64 == NULL)
		goto out;
	sodium_bin2base64(b64, b64len, (const unsigned char *)svg.data, svg.len, sodium_base64_VARIANT_ORIGINAL);
	res = arena_printf(c->arena, "data:image/svg+xml;base64,%s", b64);
out:
	free(b64);
	buf_free(&svg);
	return res;
}

/* The enrolment data a page shows: secret, URI, QR. NULL on a fault. */
static json_t *
setup_json(struct api_ctx *c, const char *secret)
{
	const char *uri = otpauth_uri(c, c->p->login, secret);
	const char *qr = uri ? qr_data_url(c, uri) : NULL;

	if (qr == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:s}", "secret", secret, "otpauth_uri", uri, "qr", qr);
}

/* GET /me/totp: {enabled, pending, recovery_codes_left}. */
static int
totp_status(struct api_ctx *c)
{
	struct db_res *r = NULL;
	int status;

	if (c->p->admin_id == 0 || c->p->token_id != 0)
		return api_fail(c, 403, "forbidden", NULL);
	if (db_runv(c->db, &st_state, &r, id_str(c, c->p->admin_id)) != DB_OK || db_rows(r) != 1) {
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 200, json_pack("{s:b, s:b, s:I, s:b}", "enabled", db_bool(r, 0, 0),
	    "pending", !db_bool(r, 0, 0) && db_bool(r, 0, 1),
	    "recovery_codes_left", (json_int_t)db_i64(r, 0, 2), "show_status", 1));
out:
	db_res_free(&r);
	return status;
}

/* POST /me/totp/setup: a new secret (replacing an unconfirmed one); 409 while enabled. */
static int
totp_setup(struct api_ctx *c)
{
	unsigned char raw[TOTP_SECRET_BYTES];
	char *b32 = NULL;
	size_t b32len = 0;
	struct db_res *r = NULL;
	json_t *out;
	int status = 500;

	if (c->p->admin_id == 0 || c->p->token_id != 0)
		return api_fail(c, 403, "forbidden", NULL);
	if (!oath_ready())
		return api_unavailable(c);
	randombytes_buf(raw, sizeof(raw));
	if (oath_base32_encode((const char *)raw, sizeof(raw), &b32, &b32len) != OATH_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_runv(c->db, &st_set_secret, &r, id_str(c, c->p->admin_id), b32) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_affected(r) != 1) {
		status = api_fail(c, 409, "exists", NULL);
		goto out;
	}
	out = setup_json(c, b32);
	status = out ? api_ok(c, 200, out) : api_unavailable(c);
out:
	sodium_memzero(raw, sizeof(raw));
	if (b32 != NULL) {
		sodium_memzero(b32, b32len);
		free(b32);
	}
	db_res_free(&r);
	return status;
}

/* POST /me/totp/confirm {code}: the first right code turns TOTP on and answers the
 * recovery codes, shown this once. */
static int
totp_confirm(struct api_ctx *c)
{
	const char *code = api_in_str(c, "code");
	struct db_res *r = NULL;
	json_t *codes = NULL;
	char *secret = NULL;
	int64_t step = 0;
	int status = 500, ok;

	if (c->p->admin_id == 0 || c->p->token_id != 0)
		return api_fail(c, 403, "forbidden", NULL);
	if (db_runv(c->db, &st_state, &r, id_str(c, c->p->admin_id)) != DB_OK || db_rows(r) != 1) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_bool(r, 0, 0)) {
		status = api_fail(c, 409, "exists", NULL);
		goto out;
	}
	if (!db_bool(r, 0, 1)) {
		status = api_fail1(c, 422, "invalid", "code", "no_setup");
		own_messages(c);
		goto out;
	}
	secret = arena_strdup(c->arena, db_val(r, 0, 3));
	if (code == NULL || *code == '\0') {
		status = api_fail1(c, 422, "invalid", "code", "required");
	} else if ((ok = totp_check(secret, 0, code, &step)) < 0) {
		status = api_unavailable(c);
		goto out;
	} else if (ok == 0) {
		status = api_fail1(c, 422, "invalid", "code", "wrong_code");
	} else {
		status = 0;
	}
	if (status != 0) {
		json_t *s;

		own_messages(c);
		/* The page shows the same QR code again beside the error. */
		if (c->html && (s = setup_json(c, secret)) != NULL)
			json_object_update_new(c->out, s);
		goto out;
	}
	db_res_free(&r);
	if (db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	/* The step of the enrolment code is not kept: that code proved the app, not a sign-in,
	 * so the first sign-in may use it (the replay rule guards sign-ins). */
	if (db_runv(c->db, &st_enable, &r, id_str(c, c->p->admin_id), "0", secret) != DB_OK ||
	    db_affected(r) != 1 || (codes = recovery_codes_new(c, c->p->admin_id)) == NULL ||
	    api_audit(c, NULL, "totp_enable", c->p->login, NULL) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		json_decref(codes);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 200, json_pack("{s:b, s:o}", "enabled", 1, "recovery_codes", codes));
out:
	if (secret != NULL)
		sodium_memzero(secret, strlen(secret));
	db_res_free(&r);
	return status;
}

/* The caller's own password, re-entered: 1 right, 0 wrong (counted, error added), -1 fault. */
static int
own_password(struct api_ctx *c, const char *hash, struct rule_errs *errs)
{
	const char *pw = api_in_str(c, "password");
	int ok;

	if (pw == NULL || *pw == '\0') {
		rule_add(errs, "password", "required", NULL);
		return 0;
	}
	ok = strlen(pw) > 1024 ? 0 : pw_verify(pw, hash);
	if (ok == 0) {
		if (lockout_fail(c->db, c->p->login, c->cfg->lock_threshold, c->cfg->lock_minutes) != 0)
			return -1;
		rule_add(errs, "password", "wrong_password", NULL);
	}
	return ok;
}

/* POST /me/totp/disable {password}: TOTP off, recovery codes gone. */
static int
totp_disable(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	int status = 500, ok;

	if (c->p->admin_id == 0 || c->p->token_id != 0)
		return api_fail(c, 403, "forbidden", NULL);
	if (db_runv(c->db, &st_state, &r, id_str(c, c->p->admin_id)) != DB_OK || db_rows(r) != 1) {
		status = api_unavailable(c);
		goto out;
	}
	if ((ok = own_password(c, db_val(r, 0, 5), &errs)) < 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (ok == 0) {
		status = api_fail(c, 422, "invalid", &errs);
		goto out;
	}
	db_res_free(&r);
	if (db_begin(c->db) != DB_OK || db_runv(c->db, &st_disable, NULL, id_str(c, c->p->admin_id)) != DB_OK ||
	    db_runv(c->db, &st_codes_clear, NULL, id_str(c, c->p->admin_id)) != DB_OK ||
	    api_audit(c, NULL, "totp_disable", c->p->login, NULL) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 200, json_pack("{s:b}", "enabled", 0));
out:
	db_res_free(&r);
	return status;
}

/* POST /me/totp/recovery-codes {password}: a new set replaces the old, shown once. */
static int
totp_new_codes(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	json_t *codes = NULL;
	int status = 500, ok;

	if (c->p->admin_id == 0 || c->p->token_id != 0)
		return api_fail(c, 403, "forbidden", NULL);
	if (db_runv(c->db, &st_state, &r, id_str(c, c->p->admin_id)) != DB_OK || db_rows(r) != 1) {
		status = api_unavailable(c);
		goto out;
	}
	if (!db_bool(r, 0, 0)) {
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	if ((ok = own_password(c, db_val(r, 0, 5), &errs)) < 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (ok == 0) {
		status = api_fail(c, 422, "invalid", &errs);
		goto out;
	}
	if (db_begin(c->db) != DB_OK || (codes = recovery_codes_new(c, c->p->admin_id)) == NULL ||
	    api_audit(c, NULL, "totp_recovery_codes", c->p->login, NULL) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		json_decref(codes);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 200, json_pack("{s:b, s:o}", "enabled", 1, "recovery_codes", codes));
out:
	db_res_free(&r);
	return status;
}

int
totp_login_begin(struct api_ctx *c, int64_t admin_id)
{
	char token[65], csrf[65], hash[65], now[32], mins[16];

	/* One transaction: a session that exists is pending from its first moment. */
	bsnprintf(mins, sizeof(mins), "%d", PENDING_MINUTES);
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	if (session_create(c, admin_id, 0, token, csrf) != 0) {
		db_rollback(c->db);
		c->set_cookie[0] = '\0';
		return api_unavailable(c);
	}
	sha256_hex(token, hash);
	explicit_bzero(token, sizeof(token));
	explicit_bzero(csrf, sizeof(csrf));
	if (db_runv(c->db, &st_pending_mark, NULL, hash, clock_now_str(now, sizeof(now)), mins) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		c->set_cookie[0] = '\0';
		return api_unavailable(c);
	}
	c->location = "/admin/login/totp";
	return api_ok(c, 200, json_pack("{s:b}", "totp_required", 1));
}

/* GET /admin/login/totp (page): the code form of a pending sign-in. */
static int
login_totp_form(struct api_ctx *c)
{
	return api_ok(c, 200, json_object());
}

/* POST /admin/login/totp {code}: the second factor of a pending session, a TOTP code or one
 * recovery code. A wrong code is a failed authentication of the login (CONTRACT's lock
 * counts it); the right one replaces the pending session by a full one. */
static int
login_totp(struct api_ctx *c)
{
	const char *code = api_in_str(c, "code");
	struct db_res *r = NULL;
	char hash[65], now[32], token[65], csrf[65], rh[65];
	const char *login, *aid, *ra = c->remote_addr ? c->remote_addr : "";
	struct principal *p = NULL;
	int64_t step = 0, admin_id;
	int status = 500, ok = 0;
	bool by_recovery = false;

	if (c->session_token == NULL || *c->session_token == '\0')
		return api_fail(c, 401, "unauthenticated", NULL);
	sha256_hex(c->session_token, hash);
	if (db_runv(c->db, &st_pending, &r, hash, clock_now_str(now, sizeof(now))) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1) {
		status = api_fail(c, 401, "unauthenticated", NULL);
		goto out;
	}
	admin_id = db_i64(r, 0, 0);
	aid = id_str(c, admin_id);
	login = arena_strdup(c->arena, db_val(r, 0, 1));
	switch (lockout_check(c->db, login)) {
	case LK_FOUND: status = api_fail(c, 423, "locked", NULL); goto out;
	case LK_TEMPFAIL: status = api_unavailable(c); goto out;
	case LK_NOTFOUND: break;
	}
	switch (throttle_check(c->db, ra, c->cfg->ip_fail_per_minute)) {
	case LK_FOUND: status = api_fail(c, 429, "throttled", NULL); goto out;
	case LK_TEMPFAIL: status = api_unavailable(c); goto out;
	case LK_NOTFOUND: break;
	}
	if (code != NULL && strlen(code) == TOTP_DIGITS) {
		ok = totp_check(db_val(r, 0, 2), db_i64(r, 0, 3), code, &step);
		if (ok == 1) {
			struct db_res *u = NULL;

			/* Two requests racing with the same code: only one moves the step. */
			if (db_runv(c->db, &st_step, &u, aid, id_str(c, step)) != DB_OK)
				ok = -1;
			else if (db_affected(u) != 1)
				ok = 0;
			db_res_free(&u);
		}
	} else if (code != NULL && strlen(code) < 32 && recovery_hash(code, rh)) {
		struct db_res *u = NULL;

		if (db_runv(c->db, &st_code_use, &u, aid, rh, now) != DB_OK)
			ok = -1;
		else
			ok = db_affected(u) == 1;
		by_recovery = ok == 1;
		db_res_free(&u);
	}
	if (ok < 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (ok == 0) {
		if (lockout_fail(c->db, login, c->cfg->lock_threshold, c->cfg->lock_minutes) != 0 ||
		    throttle_fail(c->db, ra) != 0) {
			status = api_unavailable(c);
			goto out;
		}
		status = api_fail1(c, 401, "unauthenticated", "code", "wrong_code");
		own_messages(c);
		goto out;
	}
	/* A fresh session, so the pending token never becomes a signed-in one. */
	if (lockout_reset(c->db, login) != 0 || db_runv(c->db, &st_session_drop, NULL, hash) != DB_OK ||
	    session_create(c, admin_id, 0, token, csrf) != 0) {
		status = api_unavailable(c);
		goto out;
	}
	if (session_load(c, token, NULL, &p) != LK_FOUND) {
		status = api_unavailable(c);
		goto out;
	}
	c->p = p;
	{
		/* api_audit borrows the details. */
		json_t *det = json_pack("{s:s}", "second_factor", by_recovery ? "recovery_code" : "totp");

		(void)api_audit(c, NULL, "login", p->login, det);
		json_decref(det);
	}
	status = api_ok(c, 200, json_pack("{s:s, s:o}", "csrf_token", csrf, "principal", api_principal_json(p)));
out:
	explicit_bzero(token, sizeof(token));
	db_res_free(&r);
	return status;
}

/* DELETE /admins/{login}/totp (superadmin): an admin who lost both the app and the recovery
 * codes signs in with the password alone again and may enrol anew. 204. */
static int
totp_reset(struct api_ctx *c)
{
	const char *login = api_param(c, "login");
	struct db_res *r = NULL;
	const char *aid;
	int status;

	if (login == NULL || strlen(login) > 320 || db_runv(c->db, &st_admin_id, &r, login) != DB_OK)
		return login == NULL || strlen(login) > 320 ? api_fail(c, 404, "not_found", NULL) : api_unavailable(c);
	if (db_rows(r) != 1) {
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	aid = arena_strdup(c->arena, db_val(r, 0, 0));
	if (db_begin(c->db) != DB_OK || db_runv(c->db, &st_disable, NULL, aid) != DB_OK ||
	    db_runv(c->db, &st_codes_clear, NULL, aid) != DB_OK ||
	    api_audit(c, NULL, "totp_reset", login, NULL) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 204, NULL);
out:
	db_res_free(&r);
	return status;
}

const struct api_route api_routes_totp[] = {
	{ "GET", "/admin/login/totp", login_totp_form, R_PUBLIC | R_HTML, "admin/login_totp.html", NULL },
	{ "POST", "/admin/login/totp", login_totp, R_PUBLIC | R_ORIGIN, "admin/login_totp.html", "/admin/" },
	{ "GET", "/me/totp", totp_status, R_ADMIN, "admin/totp.html", NULL },
	{ "POST", "/me/totp/setup", totp_setup, R_ADMIN | R_RENDER, "admin/totp.html", NULL },
	{ "POST", "/me/totp/confirm", totp_confirm, R_ADMIN | R_RENDER, "admin/totp.html", NULL },
	{ "POST", "/me/totp/recovery-codes", totp_new_codes, R_ADMIN | R_RENDER, "admin/totp.html", NULL },
	{ "POST", "/me/totp/disable", totp_disable, R_ADMIN, "admin/totp.html", "/me/totp?done=totp_disabled" },
	{ "DELETE", "/admins/{login}/totp", totp_reset, R_ADMIN | R_SUPER | R_API, NULL, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
