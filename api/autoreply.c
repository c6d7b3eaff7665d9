/* api/autoreply.c: the autoresponder of an account (SPEC §4): text, optional dates, for admins and the user. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/ref.h"
#include "core/clock.h"
#include "core/util.h"

static const struct db_stmt st_get = {
	"ar_get",
	"SELECT body, "
	" to_char(start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	" to_char(end_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	"FROM autoreplies WHERE account_id = $1::bigint", 1
};

static const struct db_stmt st_put = {
	"ar_put",
	"INSERT INTO autoreplies (account_id, body, start_at, end_at, updated_at) "
	"VALUES ($1::bigint, $2, $3::timestamptz, $4::timestamptz, $5::timestamptz) "
	"ON CONFLICT (account_id) DO UPDATE SET body = EXCLUDED.body, start_at = EXCLUDED.start_at, "
	" end_at = EXCLUDED.end_at, updated_at = EXCLUDED.updated_at", 5
};

static const struct db_stmt st_del = {
	"ar_del", "DELETE FROM autoreplies WHERE account_id = $1::bigint", 1
};

/* api_audit borrows its details; this one takes them (a fresh json_pack) and lets go. */
static enum db_status
audit(struct api_ctx *c, const char *domain, const char *action, const char *target, json_t *details)
{
	enum db_status s = api_audit(c, domain, action, target, details);

	json_decref(details);
	return s;
}

/* SPEC §4 "active": text set and now inside the optional dates (both ends included). */
static bool
is_active(const char *text, const char *start, const char *end)
{
	time_t now = clock_now(), t;

	if (text == NULL || text[0] == '\0')
		return false;
	if (start != NULL && clock_parse(start, &t) == 0 && now < t)
		return false;
	if (end != NULL && clock_parse(end, &t) == 0 && now > t)
		return false;
	return true;
}

/* {text, start_at, end_at, active}; dates are RFC 3339 UTC or null. */
static json_t *
reply_json(const char *text, const char *start, const char *end)
{
	return json_pack("{s:s, s:o, s:o, s:b}", "text", text ? text : "",
	    "start_at", start ? json_string(start) : json_null(),
	    "end_at", end ? json_string(end) : json_null(),
	    "active", is_active(text, start, end));
}

static const char *
page_url(struct api_ctx *c, const struct acct_ref *a)
{
	if (c->p->role == ROLE_USER)
		return "/mail/autoreply";
	return arena_printf(c->arena, "/admin/domains/%s/accounts/%s/autoreply", a->dom.name, a->name);
}

/* For the page: where the forms post, the account, and the dates as <input type=date> wants them. */
static void
add_page(struct api_ctx *c, const struct acct_ref *a, json_t *obj)
{
	const char *keys[2] = { "start_at", "end_at" }, *dkeys[2] = { "start_date", "end_date" };
	int i;

	json_object_set_new(obj, "page_url", json_string(page_url(c, a)));
	json_object_set_new(obj, "account_url", json_string(c->p->role == ROLE_USER ? "/mail/account" :
	    arena_printf(c->arena, "/admin/domains/%s/accounts/%s", a->dom.name, a->name)));
	json_object_set_new(obj, "address", json_string(a->address));
	for (i = 0; i < 2; i++) {
		/* A failed post shows what was typed; otherwise the stored day. */
		const char *v = api_in_str(c, keys[i]);

		if (v == NULL)
			v = json_string_value(json_object_get(obj, keys[i]));
		json_object_set_new(obj, dkeys[i], json_string(v ? arena_strndup(c->arena, v, strnlen(v, 10)) : ""));
	}
	if (api_in_str(c, "text") != NULL)
		json_object_set_new(obj, "form_text", json_string(api_in_str(c, "text")));
	else
		json_object_set_new(obj, "form_text", json_string(json_string_value(json_object_get(obj, "text"))
		    ? json_string_value(json_object_get(obj, "text")) : ""));
}

/* The stored reply, or the unset one. 0, or -1 on a database fault. */
static int
load(struct api_ctx *c, const struct acct_ref *a, json_t **out_r)
{
	struct db_res *r = NULL;

	if (db_runv(c->db, &st_get, &r, a->id_s) != DB_OK)
		return -1;
	/* Unset is not an error: the page shows an empty form, the API the same shape. */
	if (db_rows(r) == 0)
		*out_r = reply_json("", NULL, NULL);
	else
		*out_r = reply_json(db_val(r, 0, 0), db_null(r, 0, 1) ? NULL : db_val(r, 0, 1),
		    db_null(r, 0, 2) ? NULL : db_val(r, 0, 2));
	db_res_free(&r);
	return 0;
}

static int
autoreply_get(struct api_ctx *c)
{
	struct acct_ref a;
	json_t *out = NULL;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	if (load(c, &a, &out) != 0)
		return api_unavailable(c);
	if (c->html)
		add_page(c, &a, out);
	return api_ok(c, 200, out);
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * A date field: missing, null or "" is no date (NULL in *out_r). "YYYY-MM-DD" is a whole
 * day in UTC (CONTRACT: times are UTC): a start from its first second, an end to its last,
 * so "until 2026-12-31" still replies on the 31st. Otherwise RFC 3339. false when malformed.
 */
static bool
read_date(struct api_ctx *c, const char *field, bool end, time_t *t_r, bool *set_r)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	json_t *v = json_object_get(c->in, field);
	const char *s;
	int y, m, d;

	*set_r = false;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (s[0] == '\0')
		return true;
	if (clock_parse(s, t_r) != 0)
		return false;
	/* clock_parse lets timegm roll 02-31 into March; a calendar day must exist. */
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || d > mdays[m - 1] + (m == 2 && leap(y) ? 1 : 0))
		return false;
	if (end && strlen(s) == 10)
		*t_r += 86399;
	*set_r = true;
	return true;
}

/* Only spaces and line breaks: a reply nobody could read, so not "set" (SPEC §4). */
static bool
blank(const char *s)
{
	for (; s != NULL && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

/* Browsers send CRLF from a textarea; one line break counts once against the width. */
static char *
normalise_newlines(struct api_ctx *c, const char *s)
{
	char *o = arena_alloc(c->arena, strlen(s) + 1), *p = o;

	if (o == NULL)
		return NULL;
	for (; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		*p++ = *s == '\r' ? '\n' : *s;
	}
	*p = '\0';
	return o;
}

static int
fail_page(struct api_ctx *c, const struct acct_ref *a, int status)
{
	if (c->html && json_is_object(c->out)) {
		json_t *cur = NULL;

		if (load(c, a, &cur) != 0)
			return api_unavailable(c);
		json_object_update_missing(c->out, cur);
		json_decref(cur);
		add_page(c, a, c->out);
	}
	return status;
}

static int
autoreply_put(struct api_ctx *c)
{
	struct acct_ref a;
	struct rule_errs errs = { .n = 0 };
	const char *raw = api_in_str(c, "text");
	char *text = NULL, now[32], sbuf[32], ebuf[32];
	time_t st = 0, et = 0;
	bool sset, eset;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	if (raw == NULL || blank(raw)) {
		/* CONTRACT: clearing is DELETE; an empty PUT is refused. */
		rule_add(&errs, "text", "empty", NULL);
	} else if ((text = normalise_newlines(c, raw)) == NULL) {
		return api_unavailable(c);
	} else {
		(void)rule_autoreply_text(text, "text", &errs);
	}
	if (!read_date(c, "start_at", false, &st, &sset))
		rule_add(&errs, "start_at", "bad_date", NULL);
	if (!read_date(c, "end_at", true, &et, &eset))
		rule_add(&errs, "end_at", "bad_date", NULL);
	else if (sset && eset && et < st)
		rule_add(&errs, "end_at", "bad_date", NULL);
	if (errs.n > 0)
		return fail_page(c, &a, api_fail(c, 422, "invalid", &errs));
	clock_now_str(now, sizeof(now));
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	if (db_runv(c->db, &st_put, NULL, a.id_s, text, sset ? clock_rfc3339(st, sbuf, sizeof(sbuf)) : NULL,
	    eset ? clock_rfc3339(et, ebuf, sizeof(ebuf)) : NULL, now) != DB_OK ||
	    db_notify_domain(c->db, a.dom.name) != DB_OK ||
	    /* Support reads the audit log but never the text (SPEC §1): only the dates go in. */
	    audit(c, a.dom.name, "autoreply_set", a.address, json_pack("{s:o, s:o}",
	    "start_at", sset ? json_string(sbuf) : json_null(), "end_at", eset ? json_string(ebuf) : json_null())) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		return api_unavailable(c);
	}
	return api_ok(c, 200, reply_json(text, sset ? sbuf : NULL, eset ? ebuf : NULL));
}

/* SPEC §2: deleting the autoresponder needs no confirmation; deleting none is fine too. */
static int
autoreply_delete(struct api_ctx *c)
{
	struct acct_ref a;
	struct db_res *r = NULL;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	if (db_runv(c->db, &st_del, &r, a.id_s) != DB_OK ||
	    (db_affected(r) > 0 && (db_notify_domain(c->db, a.dom.name) != DB_OK ||
	    audit(c, a.dom.name, "autoreply_delete", a.address, NULL) != DB_OK)) ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		db_res_free(&r);
		return api_unavailable(c);
	}
	db_res_free(&r);
	return api_ok(c, 204, NULL);
}

/*
 * GET answers the unset reply as {text: "", start_at: null, end_at: null, active: false}
 * (200, not 404: every account has exactly one, possibly empty). PUT replaces text and
 * both dates (missing, null or "" = no date); 422 details: text empty/too_long/bad_char
 * (with `char`), start_at/end_at bad_date (also an end before the start). DELETE 204,
 * also when none was set. Support is refused by the router: it never reads the text.
 */
#define AR_ADMIN (R_ADMIN | R_NOSUPPORT)
#define AR_ADMIN_PATH "/domains/{d}/accounts/{name}/autoreply"

const struct api_route api_routes_autoreply[] = {
	{ "GET", AR_ADMIN_PATH, autoreply_get, AR_ADMIN, "autoreply/edit.html", NULL },
	{ "PUT", AR_ADMIN_PATH, autoreply_put, AR_ADMIN, "autoreply/edit.html", AR_ADMIN_PATH "?done=autoreply_saved" },
	{ "DELETE", AR_ADMIN_PATH, autoreply_delete, AR_ADMIN, "autoreply/edit.html", AR_ADMIN_PATH "?done=autoreply_deleted" },
	{ "GET", "/me/autoreply", autoreply_get, R_USER, "autoreply/edit.html", NULL },
	{ "PUT", "/me/autoreply", autoreply_put, R_USER, "autoreply/edit.html", "/autoreply?done=autoreply_saved" },
	{ "DELETE", "/me/autoreply", autoreply_delete, R_USER, "autoreply/edit.html", "/autoreply?done=autoreply_deleted" },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
