/* api/account_view.c: one account row to the CONTRACT account object, and the single-account load. */
#include "api/account_view.h"

#include <string.h>

#include "core/clock.h"
#include "core/i18n.h"
#include "core/util.h"

static const struct db_stmt st_one = {
	"acct_view_one",
	"SELECT " ACCT_VIEW_COLS("$2") " FROM accounts a JOIN domains d ON d.id = a.domain_id "
	"WHERE a.id = $1::bigint", 2
};

bool
acct_view_status_ok(const char *s)
{
	return s != NULL && (!strcmp(s, "") || !strcmp(s, "compromised") || !strcmp(s, "locked") ||
	    !strcmp(s, "send_locked") || !strcmp(s, "over_quota") || !strcmp(s, "normal"));
}

static json_t *
opt_str(const struct db_res *r, int row, int col)
{
	return db_null(r, row, col) ? json_null() : json_string(db_val(r, row, col));
}

static void
add_label(json_t *labels, const char *lang, const char *key, bool bad)
{
	json_array_append_new(labels, json_pack("{s:s, s:s, s:b}", "key", key, "text",
	    i18n_get(lang, key), "bad", bad));
}

json_t *
acct_view_json(const struct db_res *r, int row, int c0, const char *lang)
{
	static const struct { int col; const char *name; } statuses[] = {
		{ ACCT_COL_COMPROMISED, "compromised" },
		{ ACCT_COL_LOCKED, "locked" },
		{ ACCT_COL_SEND_LOCKED, "send_locked" },
		{ ACCT_COL_OVER_QUOTA, "over_quota" },
	};
	json_t *o, *status = json_array();
	int64_t usage = db_i64(r, row, c0 + ACCT_COL_USAGE);
	const char *name = db_val(r, row, c0 + ACCT_COL_NAME), *dom = db_val(r, row, c0 + ACCT_COL_DOMAIN);
	char addr[330];
	size_t i;

	/* Names are at most 64 and domains 253 characters (schema), so this always fits. */
	if (status == NULL || !bsnprintf(addr, sizeof(addr), "%s@%s", name, dom)) {
		json_decref(status);
		return NULL;
	}
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (db_bool(r, row, c0 + statuses[i].col))
			json_array_append_new(status, json_string(statuses[i].name));
	/* usage_mb: the mailbox's bytes in MB of 1,048,576, rounded up (CONTRACT). */
	o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:b, s:b, s:b, s:b, s:I, s:I, s:o, s:b, s:b}",
	    "name", name, "address", addr,
	    "quota_mb", (json_int_t)db_i64(r, row, c0 + ACCT_COL_QUOTA),
	    "usage_mb", (json_int_t)((usage + 1048575) / 1048576),
	    "comment", db_val(r, row, c0 + ACCT_COL_COMMENT),
	    "spam_tag", db_bool(r, row, c0 + ACCT_COL_SPAM_TAG),
	    "spam_sort", db_bool(r, row, c0 + ACCT_COL_SPAM_SORT),
	    "receive", db_bool(r, row, c0 + ACCT_COL_RECEIVE),
	    "autoreply", db_bool(r, row, c0 + ACCT_COL_AUTOREPLY),
	    "forward_count", (json_int_t)db_i64(r, row, c0 + ACCT_COL_FORWARDS),
	    "alias_count", (json_int_t)db_i64(r, row, c0 + ACCT_COL_ALIASES),
	    "status", status,
	    "must_change_password", db_bool(r, row, c0 + ACCT_COL_MUST_CHANGE),
	    "system", db_bool(r, row, c0 + ACCT_COL_SYSTEM));
	if (o == NULL || lang == NULL)
		return o;
	{
		/* What the pages show: the manual's labels (SPEC §6), abnormal ones in red. */
		json_t *labels = json_array(), *st;
		size_t k;

		json_array_foreach(json_object_get(o, "status"), k, st) {
			char key[48];

			if (bsnprintf(key, sizeof(key), "status_%s", json_string_value(st)))
				add_label(labels, lang, key, true);
		}
		if (db_bool(r, row, c0 + ACCT_COL_MUST_CHANGE))
			add_label(labels, lang, "status_must_change_password", true);
		if (json_array_size(labels) == 0)
			add_label(labels, lang, "status_normal", false);
		json_object_set_new(o, "labels", labels);
		json_object_set_new(o, "times", json_pack("{s:o, s:o, s:o}",
		    "locked_until", opt_str(r, row, c0 + ACCT_COL_LOCKED_UNTIL),
		    "send_locked_at", opt_str(r, row, c0 + ACCT_COL_SEND_LOCKED_AT),
		    "compromised_at", opt_str(r, row, c0 + ACCT_COL_COMPROMISED_AT)));
		json_object_set_new(o, "domain", json_string(dom));
	}
	return o;
}

int
acct_view_load(struct api_ctx *c, const struct acct_ref *ref, json_t **out)
{
	struct db_res *r = NULL;
	char now[32];
	int status = 0;

	*out = NULL;
	if (db_runv(c->db, &st_one, &r, ref->id_s, clock_now_str(now, sizeof(now))) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1) {
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	*out = acct_view_json(r, 0, 0, c->html ? c->lang : NULL);
	if (*out == NULL)
		status = api_unavailable(c);
out:
	db_res_free(&r);
	return status;
}

void
acct_view_field_errors(struct api_ctx *c)
{
	json_t *details = json_object_get(json_object_get(c->out, "error"), "details"), *by, *d;
	size_t i;

	if (!c->html || !json_is_array(details) || (by = json_object()) == NULL)
		return;
	json_array_foreach(details, i, d) {
		const char *f = json_string_value(json_object_get(d, "field"));
		json_t *list;

		if (f == NULL)
			continue;
		if ((list = json_object_get(by, f)) == NULL) {
			list = json_array();
			json_object_set_new(by, f, list);
		}
		json_array_append(list, json_object_get(d, "message"));
	}
	json_object_set_new(c->out, "field_errors", by);
}
