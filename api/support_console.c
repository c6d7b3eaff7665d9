/* api/support_console.c: the support console (SPEC §1, §6): accounts of the caller's domains found by
 * address, with only what support may see — status, lock reason and times — and the action forms. */
#include <string.h>

#include "api/api.h"
#include "api/ref.h"
#include "cgi/routes.h"
#include "core/clock.h"
#include "core/i18n.h"
#include "core/util.h"

#define CONSOLE_MAX 100        /* rows one search shows; the search narrows, it does not page */

#define T3339(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/*
 * Columns: name, domain, compromised, locked, send_locked, over_quota, must_change_password,
 * temp_password, failures, locked_until, locked_at, last_failure, send_locked_at,
 * send_lock_lifts, compromised_at. Nothing else: never forwards, autoreplies or mail.
 * The statuses read as api/account_view.h defines them (lock: auth_failures of the
 * address; send lock: the 24 h after it was set; over quota: above, not at, the quota).
 */
#define CONSOLE_COLS(now) \
	"a.name, d.name, a.compromised, coalesce(af.locked_until > " now "::timestamptz, false), " \
	"coalesce(a.send_locked_at > " now "::timestamptz - interval '24 hours', false), " \
	"(a.usage_bytes > a.quota_mb::bigint * 1048576), a.must_change_password, a.temp_password, " \
	"coalesce(af.failures, 0), " \
	T3339("CASE WHEN af.locked_until > " now "::timestamptz THEN af.locked_until END") ", " \
	T3339("CASE WHEN af.locked_until > " now "::timestamptz THEN af.locked_at END") ", " \
	T3339("af.last_failure") ", " T3339("a.send_locked_at") ", " \
	T3339("a.send_locked_at + interval '24 hours'") ", " T3339("a.compromised_at") " " \
	"FROM accounts a JOIN domains d ON d.id = a.domain_id " \
	"LEFT JOIN auth_failures af ON af.login = a.name || '@' || d.name "

enum {
	C_NAME, C_DOMAIN, C_COMPROMISED, C_LOCKED, C_SEND_LOCKED, C_OVER_QUOTA, C_MUST_CHANGE,
	C_TEMP, C_FAILURES, C_LOCKED_UNTIL, C_LOCKED_AT, C_LAST_FAILURE, C_SEND_LOCKED_AT,
	C_SEND_LIFTS, C_COMPROMISED_AT,
};

/* $1: '*' (every domain) or the caller's domains joined by ','; $2: the search text ("" =
 * the accounts that need attention); $3: now. */
static const struct db_stmt st_search = {
	"console_search",
	"SELECT " CONSOLE_COLS("$3")
	"WHERE ($1 = '*' OR d.name = ANY (string_to_array($1, ','))) AND "
	" CASE WHEN $2 = '' THEN a.compromised OR a.must_change_password OR af.locked_until > $3::timestamptz "
	"   OR a.send_locked_at > $3::timestamptz - interval '24 hours' "
	" ELSE strpos(a.name || '@' || d.name, lower($2)) > 0 END "
	"ORDER BY d.name, a.name LIMIT 101", 3
};

static const struct db_stmt st_one = {
	"console_one", "SELECT " CONSOLE_COLS("$2") "WHERE a.id = $1::bigint", 2
};

static json_t *
opt_time(const struct db_res *r, int row, int col)
{
	return db_null(r, row, col) ? json_null() : json_string(db_val(r, row, col));
}

static void
label(struct api_ctx *c, json_t *labels, const char *key, bool bad)
{
	json_array_append_new(labels, json_pack("{s:s, s:s, s:b}", "key", key, "text",
	    i18n_get(c->lang, key), "bad", bad));
}

/* One row as the console shows it: status (CONTRACT's codes), labels in the manual's
 * words (SPEC §6), the lock reason and its times. */
static json_t *
row_json(struct api_ctx *c, const struct db_res *r, int i)
{
	static const struct { int col; const char *code; } st[] = {
		{ C_COMPROMISED, "compromised" }, { C_LOCKED, "locked" },
		{ C_SEND_LOCKED, "send_locked" }, { C_OVER_QUOTA, "over_quota" },
	};
	json_t *status = json_array(), *labels = json_array(), *o;
	size_t k;

	for (k = 0; k < sizeof(st) / sizeof(st[0]); k++)
		if (db_bool(r, i, st[k].col)) {
			json_array_append_new(status, json_string(st[k].code));
			label(c, labels, arena_printf(c->arena, "status_%s", st[k].code), true);
		}
	if (db_bool(r, i, C_MUST_CHANGE))
		label(c, labels, "status_must_change_password", true);
	if (json_array_size(labels) == 0)
		label(c, labels, "status_normal", false);
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:I}",
	    "name", db_val(r, i, C_NAME), "domain", db_val(r, i, C_DOMAIN),
	    "address", arena_printf(c->arena, "%s@%s", db_val(r, i, C_NAME), db_val(r, i, C_DOMAIN)),
	    "status", status, "labels", labels,
	    "compromised", db_bool(r, i, C_COMPROMISED), "locked", db_bool(r, i, C_LOCKED),
	    "send_locked", db_bool(r, i, C_SEND_LOCKED), "over_quota", db_bool(r, i, C_OVER_QUOTA),
	    "must_change_password", db_bool(r, i, C_MUST_CHANGE),
	    "temp_password", db_bool(r, i, C_TEMP), "failures", (json_int_t)db_i64(r, i, C_FAILURES));
	if (o != NULL)
		json_object_set_new(o, "times", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
		    "locked_until", opt_time(r, i, C_LOCKED_UNTIL), "locked_at", opt_time(r, i, C_LOCKED_AT),
		    "last_failure", opt_time(r, i, C_LAST_FAILURE),
		    "send_locked_at", db_bool(r, i, C_SEND_LOCKED) ? opt_time(r, i, C_SEND_LOCKED_AT) : json_null(),
		    "send_lock_lifts", db_bool(r, i, C_SEND_LOCKED) ? opt_time(r, i, C_SEND_LIFTS) : json_null(),
		    "compromised_at", db_bool(r, i, C_COMPROMISED) ? opt_time(r, i, C_COMPROMISED_AT) : json_null()));
	return o;
}

/* The caller's domains as the statement's $1. */
static const char *
scope_param(struct api_ctx *c)
{
	struct buf b;
	const char *res;
	size_t i;

	if (c->p->role == ROLE_SUPERADMIN)
		return "*";
	buf_init(&b);
	buf_adds(&b, "");
	for (i = 0; i < c->p->ndomains; i++)
		buf_printf(&b, "%s%s", i ? "," : "", c->p->domains[i]);
	res = b.oom ? NULL : arena_strdup(c->arena, b.data);
	buf_free(&b);
	return res;
}

/* GET /support?q=: accounts whose address contains q (case-insensitive) in the caller's
 * domains; without q, those that need attention (locked, compromised, send locked, must
 * change their password). {items, more}. */
static int
console_search(struct api_ctx *c)
{
	const char *q = json_string_value(json_object_get(c->query, "q"));
	const char *scope = scope_param(c);
	struct db_res *r = NULL;
	char now[32];
	json_t *items;
	int i, n;

	if (q == NULL)
		q = "";
	if (strlen(q) > 320)
		return api_fail1(c, 422, "invalid", "q", "too_long");
	if (scope == NULL)
		return api_unavailable(c);
	if (db_runv(c->db, &st_search, &r, scope, q, clock_now_str(now, sizeof(now))) != DB_OK)
		return api_unavailable(c);
	items = json_array();
	n = db_rows(r) > CONSOLE_MAX ? CONSOLE_MAX : db_rows(r);
	for (i = 0; i < n; i++)
		json_array_append_new(items, row_json(c, r, i));
	i = api_ok(c, 200, json_pack("{s:o, s:b, s:s, s:b}", "items", items, "more", db_rows(r) > CONSOLE_MAX,
	    "q", q, "searched", *q != '\0'));
	db_res_free(&r);
	return i;
}

/* The account of {d}/{name} as the console shows it (scope first: 403 before 404). */
static int
load_one(struct api_ctx *c, json_t **out)
{
	struct acct_ref ref;
	struct db_res *r = NULL;
	char now[32];
	int status;

	*out = NULL;
	if ((status = api_account_ref(c, &ref)) != 0)
		return status;
	if (db_runv(c->db, &st_one, &r, ref.id_s, clock_now_str(now, sizeof(now))) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1)
		status = api_fail(c, 404, "not_found", NULL);
	else if ((*out = row_json(c, r, 0)) == NULL)
		status = api_unavailable(c);
	db_res_free(&r);
	return status;
}

/* GET /support/{d}/{name}: one account with the action forms. */
static int
console_account(struct api_ctx *c)
{
	json_t *o;
	int status;

	if ((status = load_one(c, &o)) != 0)
		return status;
	json_object_set_new(o, "return_to", json_string(arena_printf(c->arena, "/admin/support/%s/%s",
	    json_string_value(json_object_get(o, "domain")), json_string_value(json_object_get(o, "name")))));
	return api_ok(c, 200, o);
}

/* GET /support/{d}/{name}/compromised and …/temporary-password (pages): the confirmation
 * before the action (both end the owner's use of the current password). */
static int
console_confirm(struct api_ctx *c, bool compromise)
{
	json_t *o;
	int status;

	if ((status = load_one(c, &o)) != 0)
		return status;
	json_object_set_new(o, "confirm_compromised", json_boolean(compromise));
	json_object_set_new(o, "confirm_temp_password", json_boolean(!compromise));
	json_object_set_new(o, "return_to", json_string(arena_printf(c->arena, "/admin/support/%s/%s",
	    json_string_value(json_object_get(o, "domain")), json_string_value(json_object_get(o, "name")))));
	return api_ok(c, 200, o);
}

static int
confirm_compromised(struct api_ctx *c)
{
	return console_confirm(c, true);
}

static int
confirm_temp_password(struct api_ctx *c)
{
	return console_confirm(c, false);
}

const struct api_route api_routes_extra1[] = {
	{ "GET", "/support", console_search, R_ADMIN, "admin/support.html", NULL },
	{ "GET", "/support/{d}/{name}", console_account, R_ADMIN, "admin/support_account.html", NULL },
	{ "GET", "/support/{d}/{name}/compromised", confirm_compromised, R_ADMIN | R_HTML,
	  "admin/support_confirm.html", NULL },
	{ "GET", "/support/{d}/{name}/temporary-password", confirm_temp_password, R_ADMIN | R_HTML,
	  "admin/support_confirm.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
