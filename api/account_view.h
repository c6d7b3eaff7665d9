/* api/account_view.h: the account object of CONTRACT.md and the SQL of its status, shared by the account list,
 * the account page, /me/account and the support console, so each shows the same thing. */
#ifndef YUBIN_API_ACCOUNT_VIEW_H
#define YUBIN_API_ACCOUNT_VIEW_H

#include <jansson.h>
#include <stdbool.h>

#include "api/api.h"
#include "api/ref.h"
#include "core/db.h"

/*
 * The select list of one account, over `accounts a` joined to `domains d`, with the
 * statement parameter NOW (e.g. "$2") holding clock_now_str(). Columns, in order
 * (ACCT_COL_*): name, domain, quota_mb, usage_bytes, comment, spam_tag, spam_sort, receive,
 * autoreply active, forward_count, alias_count, compromised, locked, send_locked,
 * over_quota, must_change_password, is_system, id, locked_until, send_locked_at,
 * compromised_at (times RFC 3339 UTC or NULL).
 *
 * locked      = auth_failures.locked_until > now for the address (CONTRACT "Failed authentications")
 * send_locked = send_locked_at > now - 24 h (SPEC §6: it lifts 24 h after it was set)
 * over_quota  = usage_bytes > quota_mb * 1,048,576 (at quota is still accepted)
 * autoreply   = text set and now inside its optional dates, both ends included (as
 *               api/autoreply.c answers `active`)
 */
#define ACCT_VIEW_COLS(now) \
	"a.name, d.name, a.quota_mb, a.usage_bytes, a.comment, a.spam_tag, a.spam_sort, a.receive, " \
	"EXISTS (SELECT 1 FROM autoreplies ar WHERE ar.account_id = a.id AND " ACCT_AUTOREPLY_ON_SQL(now) "), " \
	"(SELECT count(*) FROM forward_rules fr JOIN forward_addresses fa ON fa.rule_id = fr.id " \
	"  WHERE fr.account_id = a.id), " \
	"(SELECT count(*) FROM aliases al WHERE al.account_id = a.id), " \
	"a.compromised, " \
	ACCT_LOCKED_SQL(now) ", " \
	ACCT_SEND_LOCKED_SQL(now) ", " \
	ACCT_OVER_QUOTA_SQL ", " \
	"a.must_change_password, a.is_system, a.id, " \
	ACCT_TIME_SQL("(SELECT af.locked_until FROM auth_failures af WHERE af.login = a.name || '@' || d.name " \
	"  AND af.locked_until > " now "::timestamptz)") ", " \
	ACCT_TIME_SQL("a.send_locked_at") ", " ACCT_TIME_SQL("a.compromised_at")

/*
 * The same columns for a page of accounts, set-based: ACCT_PAGE_FROM(ids, now) is the FROM
 * part over the array expression IDS (the page's account ids), and ACCT_PAGE_COLS(now) the
 * select list over it. Each side table is read once for the whole page (`= ANY(ids)`, an
 * index scan or one pass over a small table; OFFSET 0 keeps a subquery from being pulled
 * up into a per-row rescan) instead of once per account: the per-row
 * subqueries above rescanned small tables 250 times for a 50-row page, a third of the
 * list's time in PostgreSQL. Keep the two lists in step (ACCT_COL_*).
 */
#define ACCT_PAGE_FROM(ids, now) \
	"accounts a JOIN domains d ON d.id = a.domain_id " \
	"LEFT JOIN (SELECT ar.account_id FROM autoreplies ar WHERE ar.account_id = ANY(" ids ") " \
	"  AND " ACCT_AUTOREPLY_ON_SQL(now) " OFFSET 0) arx ON arx.account_id = a.id " \
	"LEFT JOIN (SELECT fr.account_id, count(*) AS n FROM forward_rules fr " \
	"  JOIN forward_addresses fa ON fa.rule_id = fr.id WHERE fr.account_id = ANY(" ids ") " \
	"  GROUP BY fr.account_id) fwx ON fwx.account_id = a.id " \
	"LEFT JOIN (SELECT al.account_id, count(*) AS n FROM aliases al WHERE al.account_id = ANY(" ids ") " \
	"  GROUP BY al.account_id) alx ON alx.account_id = a.id " \
	"LEFT JOIN (SELECT af.login, af.locked_until FROM auth_failures af " \
	"  WHERE af.locked_until > " now "::timestamptz AND af.login = ANY(ARRAY(" \
	"   SELECT a2.name || '@' || d2.name FROM accounts a2 JOIN domains d2 ON d2.id = a2.domain_id " \
	"   WHERE a2.id = ANY(" ids "))) OFFSET 0) afx ON afx.login = a.name || '@' || d.name " \
	"WHERE a.id = ANY(" ids ")"
#define ACCT_PAGE_COLS(now) \
	"a.name, d.name, a.quota_mb, a.usage_bytes, a.comment, a.spam_tag, a.spam_sort, a.receive, " \
	"arx.account_id IS NOT NULL, coalesce(fwx.n, 0), coalesce(alx.n, 0), " \
	"a.compromised, afx.login IS NOT NULL, " \
	ACCT_SEND_LOCKED_SQL(now) ", " \
	ACCT_OVER_QUOTA_SQL ", " \
	"a.must_change_password, a.is_system, a.id, " \
	ACCT_TIME_SQL("afx.locked_until") ", " \
	ACCT_TIME_SQL("a.send_locked_at") ", " ACCT_TIME_SQL("a.compromised_at")

/* An autoreply in force over `ar`: text set, now inside its optional dates (ends included). */
#define ACCT_AUTOREPLY_ON_SQL(now) \
	"ar.body <> '' AND (ar.start_at IS NULL OR ar.start_at <= " now "::timestamptz) " \
	"AND (ar.end_at IS NULL OR ar.end_at >= " now "::timestamptz)"
/* A timestamptz as RFC 3339 UTC text (NULL stays NULL). */
#define ACCT_TIME_SQL(expr) "to_char(" expr " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define ACCT_VIEW_NCOLS 21

/* The three computed statuses as SQL booleans over `a` and `d` (also for WHERE clauses). */
#define ACCT_LOCKED_SQL(now) \
	"EXISTS (SELECT 1 FROM auth_failures af WHERE af.login = a.name || '@' || d.name " \
	"  AND af.locked_until > " now "::timestamptz)"
#define ACCT_SEND_LOCKED_SQL(now) \
	"coalesce(a.send_locked_at > " now "::timestamptz - interval '24 hours', false)"
#define ACCT_OVER_QUOTA_SQL "(a.usage_bytes > a.quota_mb::bigint * 1048576)"

enum {
	ACCT_COL_NAME, ACCT_COL_DOMAIN, ACCT_COL_QUOTA, ACCT_COL_USAGE, ACCT_COL_COMMENT,
	ACCT_COL_SPAM_TAG, ACCT_COL_SPAM_SORT, ACCT_COL_RECEIVE, ACCT_COL_AUTOREPLY,
	ACCT_COL_FORWARDS, ACCT_COL_ALIASES, ACCT_COL_COMPROMISED, ACCT_COL_LOCKED,
	ACCT_COL_SEND_LOCKED, ACCT_COL_OVER_QUOTA, ACCT_COL_MUST_CHANGE, ACCT_COL_SYSTEM,
	ACCT_COL_ID, ACCT_COL_LOCKED_UNTIL, ACCT_COL_SEND_LOCKED_AT, ACCT_COL_COMPROMISED_AT,
};

/* The CONTRACT account object from row `row` of a result whose columns from `col0` on are
 * ACCT_VIEW_COLS. With `page_lang` set ("ja"/"en", for HTML answers) it also carries
 * "labels": [{key, text, bad}] for the template (status_* catalog keys and their text in
 * that language, 強制変更済 included; `bad` = shown in red), "times" {locked_until,
 * send_locked_at, compromised_at} and "domain"; with NULL the shape is exactly CONTRACT's.
 * NULL when out of memory. */
json_t *acct_view_json(const struct db_res *r, int row, int col0, const char *page_lang);

/* Load the account of `ref` as that object (page extras when c->html). 0 with *out set; else an HTTP status with the
 * error already in c->out (404 when it vanished meanwhile, 503 on a database fault). */
int acct_view_load(struct api_ctx *c, const struct acct_ref *ref, json_t **out);

/* The status filter of the account list: "" (any), compromised, locked, send_locked,
 * over_quota or normal; false for anything else. */
bool acct_view_status_ok(const char *status);

/* For a failed form: c->out.field_errors = {field: [message, …]} from the error details, so
 * a page shows every broken rule next to its field (the template's `err` holds only the
 * first). Does nothing for API answers or when c->out carries no details. */
void acct_view_field_errors(struct api_ctx *c);

#endif
