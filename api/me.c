/* api/me.c: the user's own panel beyond GET/PATCH /me/account: the confirmation pages of SPEC §2
 * (spam tag, spam sort, receive, delete mail data) and the mail data copy request (SPEC §8). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/i18n.h"
#include "core/lockout.h"
#include "core/password.h"
#include "core/util.h"

static const struct db_stmt st_flags = {
	"me_flags",
	"SELECT spam_tag, spam_sort, receive, "
	" (SELECT count(*) FROM forward_rules f WHERE f.account_id = a.id AND f.condition = 'all'), "
	" (usage_bytes + 1048575) / 1048576 "
	"FROM accounts a WHERE id = $1::bigint", 1
};

static const struct db_stmt st_hash = {
	"me_hash", "SELECT password_hash FROM accounts WHERE id = $1::bigint", 1
};

/* Every request is its own job (a second one may carry a corrected source password); maild
 * runs an account's copies one after the other and mail_copy_seen keeps them from
 * duplicating messages (SPEC §8). */
static const struct db_stmt st_copy_insert = {
	"me_copy_insert",
	"INSERT INTO jobs (kind, domain, account, account_id, actor, params) "
	"VALUES ('mail_copy', $1, $2, $3::bigint, $4, $5::jsonb) "
	"RETURNING id, kind, state", 5
};

static const struct db_stmt st_copy_list = {
	"me_copy_list",
	"SELECT id, state, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	" coalesce(to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
	" done, total, params->>'source_host', errors::text "
	"FROM jobs WHERE kind = 'mail_copy' AND account_id = $1::bigint ORDER BY id DESC LIMIT 10", 1
};

static char *
account_id(struct api_ctx *c)
{
	return arena_printf(c->arena, "%lld", (long long)c->p->account_id);
}

/* Replace the generic message of our own rule codes (the shared catalogue has none for
 * them) with the module's i18n text "mail_err_<code>". */
static void
own_messages(struct api_ctx *c)
{
	json_t *details = json_object_get(json_object_get(c->out, "error"), "details"), *d;
	size_t i;

	json_array_foreach(details, i, d) {
		const char *code = json_string_value(json_object_get(d, "code"));
		char key[64];

		if (code != NULL && bsnprintf(key, sizeof(key), "mail_err_%s", code)) {
			const char *m = i18n_get(c->lang, key);

			if (strcmp(m, key) != 0)
				json_object_set_new(d, "message", json_string(m));
		}
	}
}

/* GET /me/account/confirm/{field}?value=1|0: the confirmation page before switching spam
 * tag, spam sort or receive (SPEC §2); its form PATCHes /me/account. */
static int
toggle_confirm(struct api_ctx *c)
{
	const char *field = api_param(c, "field");
	const char *v = json_string_value(json_object_get(c->query, "value"));
	struct db_res *r = NULL;
	bool on, cur;
	int col, status;

	if (field == NULL || v == NULL)
		return api_fail(c, 404, "not_found", NULL);
	if (!strcmp(field, "spam_tag"))
		col = 0;
	else if (!strcmp(field, "spam_sort"))
		col = 1;
	else if (!strcmp(field, "receive"))
		col = 2;
	else
		return api_fail(c, 404, "not_found", NULL);
	if (!strcmp(v, "1") || !strcmp(v, "on"))
		on = true;
	else if (!strcmp(v, "0") || !strcmp(v, "off"))
		on = false;
	else
		return api_fail1(c, 400, "malformed", "value", "invalid");
	if (db_runv(c->db, &st_flags, &r, account_id(c)) != DB_OK || db_rows(r) != 1) {
		status = api_unavailable(c);
		goto out;
	}
	cur = db_bool(r, 0, col);
	status = api_ok(c, 200, json_pack("{s:s, s:b, s:b, s:s, s:b, s:b, s:b, s:b, s:b}",
	    "field", field, "value", on, "current", cur, "value_s", on ? "1" : "0",
	    "is_spam_tag", col == 0, "is_spam_sort", col == 1, "is_receive", col == 2,
	    /* SPEC §5: spam sort hides spam from POP3 clients; SPEC §3: receive off without an
	     * `all` forward discards mail that no rule matches. */
	    "pop3_note", col == 1 && on,
	    "no_all_forward_warning", col == 2 && !on && db_i64(r, 0, 3) == 0));
out:
	db_res_free(&r);
	return status;
}

/* GET /me/purge-mail (page): the confirmation before emptying every folder (SPEC §2); its
 * form POSTs /me/purge-mail. */
static int
purge_confirm(struct api_ctx *c)
{
	struct db_res *r = NULL;
	int status;

	if (db_runv(c->db, &st_flags, &r, account_id(c)) != DB_OK || db_rows(r) != 1) {
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 200, json_pack("{s:s, s:I}", "address", c->p->login,
	    "usage_mb", (json_int_t)db_i64(r, 0, 4)));
out:
	db_res_free(&r);
	return status;
}

static bool
ipv4_literal(const char *s)
{
	int parts = 0;

	while (*s) {
		int64_t v = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		parts++;
		if (*s == '.')
			s++;
		else if (*s != '\0')
			return false;
	}
	return parts == 4;
}

/* A last label of digits only is no host name (RFC 3696 §2): "999.1.1.1" is a bad address. */
static bool
numeric_tld(const char *host)
{
	const char *dot = strrchr(host, '.'), *p;

	for (p = dot ? dot + 1 : host; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* The fields of a mail data copy request, checked (SPEC §8). */
struct copy_req {
	char host[256];
	int64_t port;          /* 0 = the default IMAP port (maild's choice) */
	const char *login;
	const char *source_password;
	const char *notify;
};

static void
check_copy_fields(struct api_ctx *c, struct copy_req *q, struct rule_errs *errs)
{
	const char *host = api_in_str(c, "source_host"), *login = api_in_str(c, "source_login");
	const char *colon;
	char low[300];

	memset(q, 0, sizeof(*q));
	if (host == NULL || *host == '\0') {
		rule_add(errs, "source_host", "required", NULL);
	} else if (!rule_lower(host, low, sizeof(low))) {
		rule_add(errs, "source_host", "bad_host", NULL);
	} else {
		/* host or host:port; a name of LDH labels with a dot, or an IPv4 literal. */
		colon = strchr(low, ':');
		if (colon != NULL) {
			if (!parse_i64(colon + 1, 1, 65535, &q->port))
				q->port = -1;
			low[colon - low] = '\0';
		}
		if (q->port < 0 || strlen(low) >= sizeof(q->host) ||
		    !(ipv4_literal(low) || (rule_domain_name(low) && !numeric_tld(low))))
			rule_add(errs, "source_host", "bad_host", NULL);
		else
			bstrcpy(q->host, sizeof(q->host), low);
	}
	q->login = login != NULL && *login != '\0' ? login : c->p->login;
	if (strlen(q->login) > 320 || strpbrk(q->login, " \t\r\n\"\\") != NULL)
		rule_add(errs, "source_login", "bad_char", NULL);
	q->notify = api_in_str(c, "notify_address");
	if (q->notify == NULL || *q->notify == '\0')
		rule_add(errs, "notify_address", "required", NULL);
	else
		(void)rule_forward_address(q->notify, "notify_address", errs);
}

/* POST /me/mail-copy/confirm (page): the request checked, then the confirmation page, where
 * the two passwords are entered and the copy starts (SPEC §2, §8). The passwords are asked
 * only there so no page ever carries one back. */
static int
copy_confirm(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct copy_req q;
	int status;

	check_copy_fields(c, &q, &errs);
	if (errs.n > 0) {
		status = api_fail(c, 422, "invalid", &errs);
		own_messages(c);
		return status;
	}
	/* Normalised values go back into the form the confirmation page posts. */
	json_object_set_new(c->in, "source_host", json_string(q.port > 0 ?
	    arena_printf(c->arena, "%s:%lld", q.host, (long long)q.port) : q.host));
	json_object_set_new(c->in, "source_login", json_string(q.login));
	return api_ok(c, 200, json_pack("{s:b, s:s, s:s, s:s}", "confirm", 1, "source_host",
	    json_string_value(json_object_get(c->in, "source_host")), "source_login", q.login,
	    "notify_address", q.notify));
}

/* POST /me/mail-copy: own password re-entered (a wrong one counts as a failed
 * authentication), the request checked, one mail_copy job queued for maild. */
static int
copy_start(struct api_ctx *c)
{
	struct rule_errs errs = { .n = 0 };
	struct copy_req q;
	const char *pw = api_in_str(c, "password");
	struct db_res *r = NULL;
	json_t *params = NULL, *details = NULL, *job;
	char *js = NULL;
	int status = 500, ok = 0;

	check_copy_fields(c, &q, &errs);
	q.source_password = api_in_str(c, "source_password");
	if (q.source_password == NULL || *q.source_password == '\0')
		rule_add(&errs, "source_password", "required", NULL);
	else if (strlen(q.source_password) > 1024 || strpbrk(q.source_password, "\r\n") != NULL)
		rule_add(&errs, "source_password", "bad_char", NULL);
	if (pw == NULL || *pw == '\0') {
		rule_add(&errs, "password", "required", NULL);
	} else if (strlen(pw) > 1024) {
		ok = 0;
	} else {
		if (db_runv(c->db, &st_hash, &r, account_id(c)) != DB_OK || db_rows(r) != 1) {
			status = api_unavailable(c);
			goto out;
		}
		ok = pw_verify(pw, db_val(r, 0, 0));
		db_res_free(&r);
		if (ok < 0) {
			status = api_unavailable(c);
			goto out;
		}
	}
	if (pw != NULL && *pw != '\0' && ok == 0) {
		/* CONTRACT: wrong_password counts as a failed authentication of this login. */
		if (lockout_fail(c->db, c->p->login, c->cfg->lock_threshold, c->cfg->lock_minutes) != 0) {
			status = api_unavailable(c);
			goto out;
		}
		rule_add(&errs, "password", "wrong_password", NULL);
	}
	if (errs.n > 0) {
		status = api_fail(c, 422, "invalid", &errs);
		own_messages(c);
		goto out;
	}
	/* maild's copy job reads these; the source password is its to wipe once used. */
	params = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s}", "source_host", q.host,
	    "source_port", q.port > 0 ? json_integer(q.port) : json_null(), "source_login", q.login,
	    "source_password", q.source_password, "notify_address", q.notify, "lang", c->lang);
	js = params ? json_dumps(params, JSON_COMPACT) : NULL;
	if (js == NULL || db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_runv(c->db, &st_copy_insert, &r, c->p->user_domain, c->p->user_name, account_id(c),
	    c->p->login, js) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	if (db_rows(r) != 1) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	job = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)db_i64(r, 0, 0), "kind", db_val(r, 0, 1),
	    "state", db_val(r, 0, 2));
	details = json_pack("{s:s, s:s, s:s}", "source_host", q.host, "source_login", q.login,
	    "notify_address", q.notify);
	if (api_audit(c, c->p->user_domain, "mail_copy_request", c->p->login, details) != DB_OK ||
	    db_notify_domain(c->db, c->p->user_domain) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		json_decref(job);
		status = api_unavailable(c);
		goto out;
	}
	status = api_ok(c, 202, json_pack("{s:o}", "job", job));
out:
	if (js != NULL) {
		explicit_bzero(js, strlen(js));
		free(js);
	}
	json_decref(params);
	json_decref(details);
	db_res_free(&r);
	return status;
}

/* GET /me/mail-copy: the user's recent copy requests (never their parameters' secrets);
 * the page adds the request form. */
static int
copy_list(struct api_ctx *c)
{
	struct db_res *r = NULL;
	json_t *items;
	int i, status;

	if (db_runv(c->db, &st_copy_list, &r, account_id(c)) != DB_OK)
		return api_unavailable(c);
	items = json_array();
	for (i = 0; i < db_rows(r); i++) {
		const char *st = db_val(r, i, 1);
		json_t *errors = json_loads(db_val(r, i, 7), 0, NULL);
		json_t *it = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o}", "id",
		    (json_int_t)db_i64(r, i, 0), "kind", "mail_copy", "state", st, "created_at",
		    db_val(r, i, 2), "finished_at", db_val(r, i, 3), "done", (json_int_t)db_i64(r, i, 4),
		    "total", (json_int_t)db_i64(r, i, 5), "source_host", db_val(r, i, 6),
		    "errors", errors ? errors : json_array());

		if (c->html && it != NULL) {
			json_object_set_new(it, "is_queued", json_boolean(!strcmp(st, "queued")));
			json_object_set_new(it, "is_running", json_boolean(!strcmp(st, "running")));
			json_object_set_new(it, "is_done", json_boolean(!strcmp(st, "done")));
			json_object_set_new(it, "is_failed", json_boolean(!strcmp(st, "failed")));
		}
		json_array_append_new(items, it);
	}
	status = api_ok(c, 200, json_pack("{s:o, s:s}", "items", items, "address", c->p->login));
	db_res_free(&r);
	return status;
}

const struct api_route api_routes_me[] = {
	{ "GET", "/me/account/confirm/{field}", toggle_confirm, R_USER | R_HTML, "mail/account_confirm.html", NULL },
	{ "GET", "/me/purge-mail", purge_confirm, R_USER | R_HTML, "mail/purge_confirm.html", NULL },
	{ "GET", "/me/mail-copy", copy_list, R_USER, "mail/mail_copy.html", NULL },
	{ "POST", "/me/mail-copy/confirm", copy_confirm, R_USER | R_HTML | R_RENDER, "mail/mail_copy.html", NULL },
	{ "POST", "/me/mail-copy", copy_start, R_USER, "mail/mail_copy.html", "/mail/mail-copy?done=mail_copy_started" },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
