/* api/accounts.c: a domain's mail accounts (SPEC §2): list, create, show, change, delete, bulk delete, empty mailbox. */
#include <string.h>
#include <strings.h>

#include "api/account_view.h"
#include "api/accounts.h"
#include "api/ref.h"
#include "api/session.h"
#include "cgi/routes.h"
#include "core/clock.h"
#include "core/i18n.h"
#include "core/log.h"
#include "core/password.h"
#include "core/util.h"

/* The list's filter over `a`/`d`: $2 part of the name (any case), $3 the status, $4 now. */
#define LIST_FILTER \
	"a.domain_id = $1::bigint AND strpos(a.name, lower($2::text)) > 0 AND ($3::text = '' " \
	" OR ($3::text = 'compromised' AND a.compromised) " \
	" OR ($3::text = 'locked' AND " ACCT_LOCKED_SQL("$4") ") " \
	" OR ($3::text = 'send_locked' AND " ACCT_SEND_LOCKED_SQL("$4") ") " \
	" OR ($3::text = 'over_quota' AND " ACCT_OVER_QUOTA_SQL ") " \
	" OR ($3::text = 'normal' AND NOT a.compromised AND NOT " ACCT_LOCKED_SQL("$4") \
	"     AND NOT " ACCT_SEND_LOCKED_SQL("$4") " AND NOT " ACCT_OVER_QUOTA_SQL "))"

/* One statement answers the page and the total: the total, and beside it the page's rows
 * read in name order along (domain_id, name), so a 10,000-account domain pages at once.
 * The page is cut from bare ids first (an array, in a CTE read once); the account objects
 * are then made for those ids only, each side table read once for the whole page
 * (ACCT_PAGE_FROM). A page past the end still answers one row carrying the total (and NULL
 * columns). The panel's connections use generic plans (core/db.c), so this is planned once. */
#define LIST_PAGE(from_where) \
	" LEFT JOIN LATERAL (WITH pg AS MATERIALIZED (SELECT ARRAY(SELECT a.id FROM " from_where \
	"   ORDER BY a.name LIMIT $5::int OFFSET $6::bigint) AS ids) " \
	"  SELECT " ACCT_PAGE_COLS("$4") " FROM " ACCT_PAGE_FROM("(SELECT pg.ids FROM pg)::bigint[]", "$4") \
	"  ORDER BY a.name) p ON true"

/* Without a filter the total is the domain's count (sql/0008_account_counts.sql), read in
 * the same snapshot as the page; `nrows` says how many delta rows it summed. */
static const struct db_stmt st_list_all = {
	"accounts_list_all",
	"SELECT t.total, p.*, t.nrows FROM "
	" (SELECT coalesce(sum(c.n), 0) AS total, count(*) AS nrows FROM account_counts c "
	"  WHERE c.domain_id = $1::bigint) t "
	LIST_PAGE("accounts a WHERE a.domain_id = $1::bigint AND $2::text = '' AND $3::text = ''"), 6
};

/* With a name part or a status the filtered rows are counted. */
static const struct db_stmt st_list = {
	"accounts_list",
	"SELECT t.total, p.* FROM "
	" (SELECT count(*) AS total FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE " LIST_FILTER ") t "
	LIST_PAGE("accounts a JOIN domains d ON d.id = a.domain_id WHERE " LIST_FILTER), 6
};

/* Folds a domain's count rows into one. Only committed rows are deleted (and each by one
 * fold only: a second fold waits, then skips them), so the sum stays exact beside open
 * imports and other folds. Its own short transaction (autocommit). */
static const struct db_stmt st_counts_fold = {
	"accounts_counts_fold",
	"WITH gone AS (DELETE FROM account_counts WHERE domain_id = $1::bigint RETURNING n) "
	"INSERT INTO account_counts (domain_id, n) SELECT $1::bigint, sum(n) FROM gone HAVING count(*) > 1", 1
};

/* How many count rows a domain may gather before a list folds them. */
#define COUNTS_FOLD_AT 64

static const struct db_stmt st_name_taken = {
	"accounts_name_taken", "SELECT 1 FROM local_names WHERE domain_id = $1::bigint AND name = $2", 2
};

static const struct db_stmt st_insert = {
	"accounts_insert",
	"INSERT INTO accounts (domain_id, name, password_hash, quota_mb, comment) "
	"VALUES ($1::bigint, $2, $3, $4::int, $5) RETURNING id", 5
};

static const struct db_stmt st_hash = {
	"accounts_hash", "SELECT password_hash FROM accounts WHERE id = $1::bigint", 1
};

/* A password set by an admin ends the compromised mark and the temporary/forced state
 * (SPEC §6: only a new password set by an admin, or a temporary one, reopens it). */
static const struct db_stmt st_update = {
	"accounts_update",
	"UPDATE accounts SET "
	" password_hash = coalesce($2::text, password_hash), "
	" quota_mb = coalesce($3::int, quota_mb), "
	" comment = coalesce($4::text, comment), "
	" spam_tag = coalesce($5::boolean, spam_tag), "
	" spam_sort = coalesce($6::boolean, spam_sort), "
	" receive = coalesce($7::boolean, receive), "
	" must_change_password = CASE WHEN $2::text IS NULL THEN must_change_password ELSE false END, "
	" temp_password = CASE WHEN $2::text IS NULL THEN temp_password ELSE false END, "
	" compromised = CASE WHEN $2::text IS NULL THEN compromised ELSE false END, "
	" compromised_at = CASE WHEN $2::text IS NULL THEN compromised_at ELSE NULL END, "
	" password_changed_at = CASE WHEN $2::text IS NULL THEN password_changed_at ELSE $8::timestamptz END, "
	" updated_at = $8::timestamptz "
	"WHERE id = $1::bigint", 8
};

/* Locks the named accounts for the delete and tells which exist and which are system. */
static const struct db_stmt st_lock_names = {
	"accounts_lock_names",
	"SELECT a.name, a.is_system FROM accounts a "
	"WHERE a.domain_id = $1::bigint AND a.name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
	"ORDER BY a.name FOR UPDATE", 2
};

/* The mail goes in the background: maild removes each mailbox by account_id, so a new
 * account of the same name (free as soon as this commits) never sees the old mail. */
static const struct db_stmt st_delete_jobs = {
	"accounts_delete_jobs",
	"INSERT INTO jobs (kind, domain, account, account_id, actor, params) "
	"SELECT 'delete_account', d.name, a.name, a.id, $3, jsonb_build_object('address', a.name || '@' || d.name) "
	"FROM accounts a JOIN domains d ON d.id = a.domain_id "
	"WHERE a.domain_id = $1::bigint AND a.name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
	"AND NOT a.is_system", 3
};

static const struct db_stmt st_delete = {
	"accounts_delete",
	"DELETE FROM accounts WHERE domain_id = $1::bigint "
	"AND name IN (SELECT jsonb_array_elements_text($2::jsonb)) AND NOT is_system", 2
};

/* What goes with the accounts (SPEC §10): their aliases, and the catch-all when it points at
 * one of them; locked, so the audit names exactly what the cascade removes. */
static const struct db_stmt st_delete_aliases = {
	"accounts_delete_aliases",
	"SELECT al.name || '@' || d.name, a.name || '@' || d.name FROM aliases al "
	"JOIN accounts a ON a.id = al.account_id JOIN domains d ON d.id = a.domain_id "
	"WHERE a.domain_id = $1::bigint AND a.name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
	"AND NOT a.is_system ORDER BY al.name FOR UPDATE OF al", 2
};

static const struct db_stmt st_delete_catchall = {
	"accounts_delete_catchall",
	"SELECT a.name FROM domains d JOIN accounts a ON a.id = d.catchall_account_id "
	"WHERE d.id = $1::bigint AND a.name IN (SELECT jsonb_array_elements_text($2::jsonb)) "
	"AND NOT a.is_system FOR UPDATE OF d", 2
};

static const struct db_stmt st_purge_job = {
	"accounts_purge_job",
	"INSERT INTO jobs (kind, domain, account, account_id, actor, params) "
	"VALUES ('purge_mail', $1, $2, $3::bigint, $4, jsonb_build_object('address', $2 || '@' || $1)) "
	"RETURNING id, kind, state", 4
};

/* api_audit with details handed over (api_audit only borrows them). */
static enum db_status
audit(struct api_ctx *c, const char *domain, const char *action, const char *target, json_t *details)
{
	enum db_status s = api_audit(c, domain, action, target, details);

	json_decref(details);
	return s;
}

/* Characters, not bytes: the comment is free text (SPEC §2, at most 255). */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* A query-string number: 1 with *out, 0 absent or empty, -1 malformed or out of range. */
static int
query_int(struct api_ctx *c, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *s = json_string_value(json_object_get(c->query, name));

	if (s == NULL || *s == '\0')
		return 0;
	return parse_i64(s, min, max, out) ? 1 : -1;
}

static const char *
query_str(struct api_ctx *c, const char *name)
{
	const char *s = json_string_value(json_object_get(c->query, name));

	return s ? s : "";
}

static json_t *
status_filters(const char *lang, const char *current)
{
	static const char *const names[] = { "normal", "compromised", "locked", "send_locked", "over_quota" };
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char key[48];

		bsnprintf(key, sizeof(key), "status_%s", names[i]);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b}", "value", names[i], "key", key,
		    "text", i18n_get(lang, key), "selected", strcmp(current, names[i]) == 0));
	}
	return a;
}

/* "q=…&status=…&per_page=…" for the pages' links, percent-encoded. */
static const char *
link_query(struct api_ctx *c, const char *q, const char *st, int64_t per_page)
{
	struct buf b;
	const char *p, *res;

	buf_init(&b);
	buf_adds(&b, "q=");
	for (p = q; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '-' || ch == '_')
			buf_addc(&b, (char)ch);
		else
			buf_printf(&b, "%%%02X", ch);
	}
	/* The status is one of a fixed set of words (checked above). */
	buf_printf(&b, "&status=%s&per_page=%lld", st, (long long)per_page);
	res = arena_strdup(c->arena, b.data ? b.data : "");
	buf_free(&b);
	return res ? res : "";
}

/* GET /domains/{d}/accounts?q=&status=&page=&per_page= */
static int
accounts_list(struct api_ctx *c)
{
	struct domain_ref dom;
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	json_t *items = NULL, *out;
	int64_t page = 1, per_page = ACCOUNTS_PER_PAGE, total;
	const char *q = query_str(c, "q"), *st = query_str(c, "status");
	char now[32], lim[24], off[24];
	int status, i;
	bool filtered;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if (query_int(c, "page", 1, 1000000000, &page) < 0)
		rule_add(&errs, "page", "invalid", NULL);
	if (query_int(c, "per_page", 1, INT64_MAX, &per_page) < 0)
		rule_add(&errs, "per_page", "invalid", NULL);
	if (!acct_view_status_ok(st))
		rule_add(&errs, "status", "invalid", NULL);
	if (strlen(q) > 320)
		rule_add(&errs, "q", "too_long", NULL);
	if (errs.n > 0)
		return api_fail(c, 422, "invalid", &errs);
	if (per_page > ACCOUNTS_PER_PAGE_MAX)
		per_page = ACCOUNTS_PER_PAGE_MAX;
	bsnprintf(lim, sizeof(lim), "%lld", (long long)per_page);
	bsnprintf(off, sizeof(off), "%lld", (long long)((page - 1) * per_page));
	filtered = q[0] != '\0' || st[0] != '\0';
	if (db_runv(c->db, filtered ? &st_list : &st_list_all, &r, dom.id_s, q, st,
	    clock_now_str(now, sizeof(now)), lim, off) != DB_OK)
		return api_unavailable(c);
	if (!filtered && db_rows(r) > 0 && db_i64(r, 0, 1 + ACCT_VIEW_NCOLS) > COUNTS_FOLD_AT &&
	    !db_in_tx(c->db) && db_runv(c->db, &st_counts_fold, NULL, dom.id_s) != DB_OK)
		log_warnx("accounts: folding the counts of %s: %s", dom.name, db_errmsg(c->db));
	items = json_array();
	total = db_rows(r) > 0 ? db_i64(r, 0, 0) : 0;
	for (i = 0; i < db_rows(r); i++) {
		json_t *o;

		if (db_null(r, i, 1))
			continue;
		if ((o = acct_view_json(r, i, 1, c->html ? c->lang : NULL)) == NULL) {
			status = api_unavailable(c);
			goto out;
		}
		json_array_append_new(items, o);
	}
	out = json_pack("{s:O, s:I}", "items", items, "total", (json_int_t)total);
	if (out != NULL && c->html) {
		int64_t pages = total == 0 ? 1 : (total + per_page - 1) / per_page;

		json_object_set_new(out, "domain", json_string(dom.name));
		json_object_set_new(out, "q", json_string(q));
		json_object_set_new(out, "status", json_string(st));
		json_object_set_new(out, "filters", status_filters(c->lang, st));
		json_object_set_new(out, "link_query", json_string(link_query(c, q, st, per_page)));
		json_object_set_new(out, "page", json_integer(page));
		json_object_set_new(out, "per_page", json_integer(per_page));
		json_object_set_new(out, "pages", json_integer(pages));
		if (page > 1)
			json_object_set_new(out, "prev_page", json_integer(page - 1));
		if (page < pages)
			json_object_set_new(out, "next_page", json_integer(page + 1));
		json_object_set_new(out, "can_write", json_boolean(c->p->role != ROLE_SUPPORT));
	}
	status = out ? api_ok(c, 200, out) : api_unavailable(c);
out:
	json_decref(items);
	db_res_free(&r);
	return status;
}

/* quota_mb of the input: 1 set, 0 absent/empty, -1 not a whole number of MB ≥ 1 (added to errs). */
static int
read_quota(struct api_ctx *c, int64_t *q, struct rule_errs *errs)
{
	int rc = api_in_int(c, "quota_mb", q);

	if (rc < 0 || (rc == 1 && (*q < 1 || *q > 2147483647))) {
		rule_add(errs, "quota_mb", "bad_quota", NULL);
		return -1;
	}
	return rc;
}

static void
check_comment(const char *comment, struct rule_errs *errs)
{
	if (comment != NULL && utf8_chars(comment) > 255)
		rule_add(errs, "comment", "too_long", NULL);
}

/* POST /domains/{d}/accounts {name, password, quota_mb, comment} */
static int
accounts_create(struct api_ctx *c)
{
	struct domain_ref dom;
	struct acct_ref ref;
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	const char *name = api_in_str(c, "name"), *pw = api_in_str(c, "password");
	const char *comment = api_in_str(c, "comment");
	char low[64], hash[PW_HASH_MAX], quota_s[24];
	int64_t quota = 0;
	json_t *acct = NULL;
	enum db_status s;
	int status;

	hash[0] = '\0';
	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if (name == NULL || *name == '\0')
		rule_add(&errs, "name", "required", NULL);
	else
		rule_account_name(name, "name", &errs);
	if (pw == NULL || *pw == '\0')
		rule_add(&errs, "password", "required", NULL);
	else
		rule_password(pw, name, dom.name, NULL, "password", &errs);
	if (read_quota(c, &quota, &errs) == 0)
		quota = dom.default_quota_mb;
	check_comment(comment, &errs);
	if (errs.n > 0) {
		status = api_fail(c, 422, "invalid", &errs);
		acct_view_field_errors(c);
		return status;
	}
	/* Names are case-insensitive and stored lower-case (SPEC §2). */
	if (!rule_lower(name, low, sizeof(low)))
		return api_fail1(c, 422, "invalid", "name", "bad_length");
	/* A taken name (account or alias) answers before the Argon2 work; the insert below
	 * still catches a race through the unique key of local_names. */
	if (db_runv(c->db, &st_name_taken, &r, dom.id_s, low) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) > 0) {
		status = api_fail1(c, 409, "exists", "name", "exists");
		goto out;
	}
	db_res_free(&r);
	if (pw_hash(pw, hash) != 0) {
		status = api_unavailable(c);
		goto out;
	}
	bsnprintf(quota_s, sizeof(quota_s), "%lld", (long long)quota);
	if (db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	s = db_runv(c->db, &st_insert, &r, dom.id_s, low, hash, quota_s, comment ? comment : "");
	if (s == DB_CONFLICT) {
		db_rollback(c->db);
		status = api_fail1(c, 409, "exists", "name", "exists");
		goto out;
	}
	memset(&ref, 0, sizeof(ref));
	ref.dom = dom;
	if (s == DB_OK) {
		ref.id = db_i64(r, 0, 0);
		bstrcpy(ref.id_s, sizeof(ref.id_s), db_val(r, 0, 0));
		ref.name = low;
		ref.address = arena_printf(c->arena, "%s@%s", low, dom.name);
	}
	if (s != DB_OK || db_notify_domain(c->db, dom.name) != DB_OK ||
	    audit(c, dom.name, "account_create", ref.address, json_pack("{s:I}", "quota_mb",
	    (json_int_t)quota)) != DB_OK || db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	if ((status = acct_view_load(c, &ref, &acct)) != 0)
		goto out;
	if (!c->html)
		c->location = arena_printf(c->arena, "/api/v1/domains/%s/accounts/%s", dom.name, low);
	status = api_ok(c, 201, acct);
out:
	explicit_bzero(hash, sizeof(hash));
	db_res_free(&r);
	return status;
}

/* What the account page shows beside the account object: which forms the caller gets,
 * the receive-off warning of SPEC §3, the purge job just started. 0 or -1 (db fault). */
static int
page_extras(struct api_ctx *c, const struct acct_ref *ref, json_t *acct)
{
	const char *job = json_string_value(json_object_get(c->query, "job"));
	int64_t id;

	json_object_set_new(acct, "can_write", json_boolean(c->p->role != ROLE_SUPPORT));
	json_object_set_new(acct, "can_support", json_boolean(c->p->role != ROLE_USER));
	if (job != NULL && parse_i64(job, 1, INT64_MAX, &id))
		json_object_set_new(acct, "job_id", json_integer(id));
	return accounts_receive_warning(c, ref, acct);
}

/* GET /domains/{d}/accounts/{name}, GET /me/account */
static int
accounts_get(struct api_ctx *c)
{
	struct acct_ref ref;
	json_t *acct;
	int status;

	if ((status = api_account_ref(c, &ref)) != 0)
		return status;
	if ((status = acct_view_load(c, &ref, &acct)) != 0)
		return status;
	if (c->html && page_extras(c, &ref, acct) != 0) {
		json_decref(acct);
		return api_unavailable(c);
	}
	return api_ok(c, 200, acct);
}

/* A refused change: 422 with every error; a page shows the account again around the form
 * with each error next to its field. */
static int
fail_page(struct api_ctx *c, const struct acct_ref *ref, const struct rule_errs *errs)
{
	json_t *acct = NULL, *err;
	int status = api_fail(c, 422, "invalid", errs);

	if (!c->html)
		return status;
	acct_view_field_errors(c);
	/* The account is shown as it is; a database fault here only costs the page its data
	 * (acct_view_load answers such a fault into c->out, so the error is kept aside). */
	err = json_incref(c->out);
	if (acct_view_load(c, ref, &acct) == 0 && page_extras(c, ref, acct) == 0)
		json_object_update_missing(err, acct);
	json_decref(acct);
	api_ok(c, status, err);
	return status;
}

/* A string field as PATCH reads it: NULL unchanged. In a form an empty field means
 * unchanged (SPEC §2); in JSON a string is always a value. *bad set when not a string. */
static const char *
patch_str(struct api_ctx *c, const char *name, bool *bad)
{
	json_t *v = json_object_get(c->in, name);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	if (c->html && json_string_length(v) == 0)
		return NULL;
	return json_string_value(v);
}

/* PATCH /domains/{d}/accounts/{name}, PATCH /me/account: any of password, quota_mb,
 * comment (clear_comment empties it), spam_tag, spam_sort, receive. */
static int
accounts_patch(struct api_ctx *c)
{
	static const char *const toggles[] = { "spam_tag", "spam_sort", "receive" };
	struct acct_ref ref;
	struct rule_errs errs = { .n = 0 };
	struct db_res *r = NULL;
	const char *pw, *comment, *tog[3] = { NULL, NULL, NULL };
	char hash[PW_HASH_MAX], quota_s[24], now[32];
	int64_t quota = 0;
	int qrc, clear, status = 500, ok;
	bool bad_pw = false, bad_comment = false, user = c->p->role == ROLE_USER;
	json_t *fields = NULL, *acct = NULL;
	size_t i;

	hash[0] = '\0';
	if ((status = api_account_ref(c, &ref)) != 0)
		return status;
	pw = patch_str(c, "password", &bad_pw);
	comment = patch_str(c, "comment", &bad_comment);
	clear = api_in_bool(c, "clear_comment");
	qrc = read_quota(c, &quota, &errs);
	/* A user changes only their own spam and receive switches (SPEC §1); anything else
	 * named in the request is refused as a whole, before any rule is looked at. */
	if (user && (pw != NULL || bad_pw || comment != NULL || bad_comment || clear == 1 || qrc != 0))
		return api_fail(c, 403, "forbidden", NULL);
	fields = json_array();
	for (i = 0; i < 3; i++) {
		int b = api_in_bool(c, toggles[i]);

		if (b == -2)
			rule_add(&errs, toggles[i], "invalid", NULL);
		else if (b >= 0) {
			tog[i] = b ? "true" : "false";
			json_array_append_new(fields, json_string(toggles[i]));
		}
	}
	if (bad_pw)
		rule_add(&errs, "password", "invalid", NULL);
	if (bad_comment || clear == -2)
		rule_add(&errs, "comment", "invalid", NULL);
	if (pw != NULL)
		rule_password(pw, ref.name, ref.dom.name, NULL, "password", &errs);
	if (clear == 1)
		comment = "";
	check_comment(comment, &errs);
	if (errs.n == 0 && pw != NULL) {
		/* SPEC §2: a new password must differ from the current one — for a compromised
		 * account above all, whose old password someone else holds. */
		if (db_runv(c->db, &st_hash, &r, ref.id_s) != DB_OK || db_rows(r) != 1) {
			status = api_unavailable(c);
			goto out;
		}
		ok = pw_verify(pw, db_val(r, 0, 0));
		if (ok < 0) {
			status = api_unavailable(c);
			goto out;
		}
		if (ok == 1)
			rule_add(&errs, "password", "same_as_current", NULL);
	}
	if (errs.n > 0) {
		status = fail_page(c, &ref, &errs);
		goto out;
	}
	if (pw != NULL) {
		json_array_append_new(fields, json_string("password"));
		if (pw_hash(pw, hash) != 0) {
			status = api_unavailable(c);
			goto out;
		}
	}
	if (qrc == 1) {
		json_array_append_new(fields, json_string("quota_mb"));
		bsnprintf(quota_s, sizeof(quota_s), "%lld", (long long)quota);
	}
	if (comment != NULL)
		json_array_append_new(fields, json_string("comment"));
	if (json_array_size(fields) > 0) {
		if (db_begin(c->db) != DB_OK ||
		    db_runv(c->db, &st_update, NULL, ref.id_s, pw ? hash : NULL, qrc == 1 ? quota_s : NULL,
		    comment, tog[0], tog[1], tog[2], clock_now_str(now, sizeof(now))) != DB_OK ||
		    (pw != NULL && session_drop_account(c->db, ref.id) != 0) ||
		    db_notify_domain(c->db, ref.dom.name) != DB_OK ||
		    audit(c, ref.dom.name, "account_update", ref.address,
		    json_pack("{s:O}", "fields", fields)) != DB_OK ||
		    db_commit(c->db) != DB_OK) {
			db_rollback(c->db);
			status = api_unavailable(c);
			goto out;
		}
	}
	if ((status = acct_view_load(c, &ref, &acct)) != 0)
		goto out;
	status = api_ok(c, 200, acct);
out:
	explicit_bzero(hash, sizeof(hash));
	json_decref(fields);
	db_res_free(&r);
	return status;
}

int
accounts_read_names(struct api_ctx *c, json_t *src, const char ***names_r, size_t *n_r)
{
	json_t *v = json_object_get(src, "names"), *seen = NULL, *e;
	const char **names;
	size_t i, n = 0;
	int status = 0;

	*names_r = NULL;
	*n_r = 0;
	if (json_is_string(v) && json_string_length(v) > 0) {
		/* One checkbox ticked in a form arrives as a plain field. */
		v = json_pack("[O]", v);
	} else if (json_is_array(v) && json_array_size(v) > 0 && json_array_size(v) <= ACCOUNTS_BULK_MAX) {
		json_incref(v);
	} else {
		return api_fail1(c, 422, "invalid", "names", json_is_array(v) && json_array_size(v) > 0 ?
		    "too_many" : "required");
	}
	names = v ? arena_alloc(c->arena, json_array_size(v) * sizeof(*names)) : NULL;
	seen = json_object();
	if (names == NULL || seen == NULL) {
		status = api_unavailable(c);
		goto out;
	}
	json_array_foreach(v, i, e) {
		char low[64];
		const char *s = json_string_value(e);

		if (s == NULL || !rule_account_name(s, "names", NULL) || !rule_lower(s, low, sizeof(low))) {
			status = api_fail1(c, 422, "invalid", "names", "invalid");
			goto out;
		}
		if (json_object_get(seen, low) != NULL)
			continue;
		json_object_set_new(seen, low, json_true());
		names[n++] = arena_strdup(c->arena, low);
	}
	*names_r = names;
	*n_r = n;
out:
	json_decref(seen);
	json_decref(v);
	return status;
}

/* Delete the named accounts of one domain in one transaction: every one exists and none is
 * a system account, or nothing is deleted (SPEC §2). 204, or the error answered. */
static int
delete_names(struct api_ctx *c, const struct domain_ref *dom, const char **names, size_t n)
{
	json_t *arr = json_array();
	struct db_res *r = NULL;
	char *js = NULL;
	size_t i;
	int status = 500, k;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(names[i]));
	js = json_dumps(arr, JSON_COMPACT);
	if (js == NULL || db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_runv(c->db, &st_lock_names, &r, dom->id_s, js) != DB_OK)
		goto fail;
	for (k = 0; k < db_rows(r); k++)
		if (db_bool(r, k, 1)) {
			db_rollback(c->db);
			status = api_fail1(c, 422, "invalid", "name", "system_account");
			goto out;
		}
	if ((size_t)db_rows(r) != n) {
		db_rollback(c->db);
		status = api_fail1(c, 404, "not_found", "names", "not_found");
		goto out;
	}
	db_res_free(&r);
	if (db_runv(c->db, &st_delete_aliases, &r, dom->id_s, js) != DB_OK)
		goto fail;
	for (k = 0; k < db_rows(r); k++)
		if (audit(c, dom->name, "alias_delete", db_val(r, k, 0), json_pack("{s:s, s:s}",
		    "account", db_val(r, k, 1), "reason", "account_delete")) != DB_OK)
			goto fail;
	db_res_free(&r);
	if (db_runv(c->db, &st_delete_catchall, &r, dom->id_s, js) != DB_OK)
		goto fail;
	if (db_rows(r) > 0 && audit(c, dom->name, "catchall_off", "", json_pack("{s:s, s:s}",
	    "from", db_val(r, 0, 0), "reason", "account_delete")) != DB_OK)
		goto fail;
	if (db_runv(c->db, &st_delete_jobs, NULL, dom->id_s, js, c->p->login) != DB_OK ||
	    db_runv(c->db, &st_delete, NULL, dom->id_s, js) != DB_OK ||
	    db_notify_domain(c->db, dom->name) != DB_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if (audit(c, dom->name, "account_delete", arena_printf(c->arena, "%s@%s", names[i],
		    dom->name), n > 1 ? json_pack("{s:b}", "bulk", 1) : NULL) != DB_OK)
			goto fail;
	if (db_commit(c->db) != DB_OK)
		goto fail;
	status = api_ok(c, 204, NULL);
	goto out;
fail:
	db_rollback(c->db);
	status = api_unavailable(c);
out:
	free(js);
	json_decref(arr);
	db_res_free(&r);
	return status;
}

/* DELETE /domains/{d}/accounts/{name} */
static int
accounts_delete(struct api_ctx *c)
{
	struct acct_ref ref;
	const char *names[1];
	int status;

	if ((status = api_account_ref(c, &ref)) != 0)
		return status;
	if (ref.is_system)
		return api_fail1(c, 422, "invalid", "name", "system_account");
	names[0] = ref.name;
	return delete_names(c, &ref.dom, names, 1);
}

/* POST /domains/{d}/accounts/delete {names:[…]} */
static int
accounts_bulk_delete(struct api_ctx *c)
{
	struct domain_ref dom;
	const char **names;
	size_t n, i;
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if ((status = accounts_read_names(c, c->in, &names, &n)) != 0)
		return status;
	/* postmaster is refused before anything is looked up: the whole request fails. */
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "postmaster") == 0)
			return api_fail1(c, 422, "invalid", "names", "system_account");
	return delete_names(c, &dom, names, n);
}

/* POST /domains/{d}/accounts/{name}/purge-mail, POST /me/purge-mail: a job for maild that
 * empties every folder and keeps the account (SPEC §2). 202 {job}. */
static int
accounts_purge(struct api_ctx *c)
{
	struct acct_ref ref;
	struct db_res *r = NULL;
	json_t *job;
	int status;

	if ((status = api_account_ref(c, &ref)) != 0)
		return status;
	if (db_begin(c->db) != DB_OK ||
	    db_runv(c->db, &st_purge_job, &r, ref.dom.name, ref.name, ref.id_s, c->p->login) != DB_OK ||
	    db_notify_domain(c->db, ref.dom.name) != DB_OK ||
	    audit(c, ref.dom.name, "purge_mail", ref.address, json_pack("{s:I}", "job",
	    (json_int_t)db_i64(r, 0, 0))) != DB_OK ||
	    db_commit(c->db) != DB_OK) {
		db_rollback(c->db);
		status = api_unavailable(c);
		goto out;
	}
	job = json_pack("{s:{s:I, s:s, s:s}}", "job", "id", (json_int_t)db_i64(r, 0, 0),
	    "kind", db_val(r, 0, 1), "state", db_val(r, 0, 2));
	if (c->html)
		c->location = arena_printf(c->arena, "%s?done=purge_started&job=%s",
		    c->p->role == ROLE_USER ? "/mail/account" :
		    arena_printf(c->arena, "/admin/domains/%s/accounts/%s", ref.dom.name, ref.name),
		    db_val(r, 0, 0));
	status = api_ok(c, 202, job);
out:
	db_res_free(&r);
	return status;
}

#define ACCT "/domains/{d}/accounts/{name}"

const struct api_route api_routes_accounts[] = {
	{ "GET", "/domains/{d}/accounts", accounts_list, R_ADMIN, "admin/accounts.html", NULL },
	{ "POST", "/domains/{d}/accounts", accounts_create, R_ADMIN | R_NOSUPPORT, "admin/account_new.html",
	  "/domains/{d}/accounts/{out.name}?done=created" },
	{ "GET", "/domains/{d}/new-account", accounts_new_form, R_ADMIN | R_NOSUPPORT | R_HTML,
	  "admin/account_new.html", NULL },
	{ "POST", "/domains/{d}/accounts/delete", accounts_bulk_delete, R_ADMIN | R_NOSUPPORT,
	  "admin/accounts_delete.html", "/domains/{d}/accounts?done=accounts_bulk_deleted" },
	{ "GET", "/domains/{d}/delete-accounts", accounts_bulk_confirm, R_ADMIN | R_NOSUPPORT | R_HTML,
	  "admin/accounts_delete.html", NULL },
	{ "GET", ACCT, accounts_get, R_ADMIN, "admin/account.html", NULL },
	{ "PATCH", ACCT, accounts_patch, R_ADMIN | R_NOSUPPORT, "admin/account.html", ACCT "?done=saved" },
	{ "DELETE", ACCT, accounts_delete, R_ADMIN | R_NOSUPPORT, "admin/account_delete.html",
	  "/domains/{d}/accounts?done=deleted" },
	{ "GET", ACCT "/delete", accounts_delete_confirm, R_ADMIN | R_NOSUPPORT | R_HTML,
	  "admin/account_delete.html", NULL },
	{ "POST", ACCT "/purge-mail", accounts_purge, R_ADMIN | R_NOSUPPORT, "admin/account_purge.html", NULL },
	{ "GET", ACCT "/purge-mail", accounts_purge_confirm, R_ADMIN | R_NOSUPPORT | R_HTML,
	  "admin/account_purge.html", NULL },
	{ "GET", ACCT "/toggle", accounts_toggle_confirm, R_ADMIN | R_NOSUPPORT | R_HTML,
	  "admin/account_toggle.html", NULL },
	/* The user's own account: the same handlers through api_account_ref. */
	{ "GET", "/me/account", accounts_get, R_USER, "mail/account.html", NULL },
	{ "PATCH", "/me/account", accounts_patch, R_USER, "mail/account.html", "/account?done=saved" },
	{ "POST", "/me/purge-mail", accounts_purge, R_USER, "mail/account.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
