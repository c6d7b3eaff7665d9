/* api/forwards.c: forward rules of an account (SPEC §3) for admins and for the user's own, as JSON and pages. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/ref.h"
#include "core/i18n.h"
#include "core/util.h"

/* SPEC §3: at most 300 destination addresses per account, counted over all its rules. */
#define FWD_MAX_ADDRESSES 300
/* A keyword is matched against one decoded header line; longer would never match. */
#define FWD_KEYWORD_MAX 255

/* One row per rule with its addresses sorted; `all` rules first in address order, then
 * from and subject rules by keyword, so the list reads the same on every visit. */
#define FWD_RULE_COLS \
	"SELECT r.id, r.condition, r.keyword, " \
	" COALESCE(json_agg(fa.address ORDER BY fa.address) FILTER (WHERE fa.address IS NOT NULL), '[]')::text " \
	"FROM forward_rules r LEFT JOIN forward_addresses fa ON fa.rule_id = r.id "
#define FWD_RULE_ORDER \
	" GROUP BY r.id ORDER BY CASE r.condition WHEN 'all' THEN 0 WHEN 'from' THEN 1 ELSE 2 END, " \
	" CASE WHEN r.condition = 'all' THEN min(fa.address) ELSE r.keyword END, r.id"

static const struct db_stmt st_list = {
	"fwd_list", FWD_RULE_COLS "WHERE r.account_id = $1::bigint" FWD_RULE_ORDER, 1
};

static const struct db_stmt st_rules_by_ids = {
	"fwd_rules_by_ids",
	FWD_RULE_COLS "WHERE r.account_id = $1::bigint AND r.id IN "
	"(SELECT jsonb_array_elements_text($2::jsonb)::bigint)" FWD_RULE_ORDER, 2
};

static const struct db_stmt st_receive = {
	"fwd_receive", "SELECT receive FROM accounts WHERE id = $1::bigint", 1
};

/* Serialises every change of forwards: the cap is counted and the loop check walks other
 * accounts' rules, so two concurrent additions must not both pass on a stale picture. */
static const struct db_stmt st_lock = {
	"fwd_lock", "SELECT pg_advisory_xact_lock(hashtext('yubin:forwards'))", 0
};

static const struct db_stmt st_count = {
	"fwd_count",
	"SELECT count(*) FROM forward_addresses fa JOIN forward_rules r ON r.id = fa.rule_id "
	"WHERE r.account_id = $1::bigint", 1
};

static const struct db_stmt st_all_dups = {
	"fwd_all_dups",
	"SELECT fa.address FROM forward_rules r JOIN forward_addresses fa ON fa.rule_id = r.id "
	"WHERE r.account_id = $1::bigint AND r.condition = 'all' "
	" AND fa.address IN (SELECT jsonb_array_elements_text($2::jsonb)) ORDER BY fa.address", 2
};

/*
 * SPEC §3/§10: would the account's rules plus the new destinations $2 let mail come back
 * to account $1? Walks local accounts from $1: each destination resolves through the
 * domain or a domain alias, then an account, an alias or the catch-all. A rule of any
 * condition counts (the headers a from/subject rule matched travel with the forward).
 * `first` tells the start from a return to it; UNION stops at accounts seen before.
 */
static const struct db_stmt st_loop = {
	"fwd_loop",
	"WITH RECURSIVE reach(id, first) AS ("
	" SELECT $1::bigint, true"
	" UNION"
	" SELECT t.id, false FROM reach"
	" CROSS JOIN LATERAL ("
	"  SELECT fa.address AS x FROM forward_rules r JOIN forward_addresses fa ON fa.rule_id = r.id"
	"  WHERE r.account_id = reach.id"
	"  UNION ALL"
	"  SELECT n.x FROM jsonb_array_elements_text($2::jsonb) AS n(x) WHERE reach.id = $1::bigint"
	" ) a"
	" CROSS JOIN LATERAL ("
	"  SELECT COALESCE("
	"   (SELECT ac.id FROM accounts ac WHERE ac.domain_id = d.id AND ac.name = lower(substring(a.x from '^(.*)@'))),"
	"   (SELECT al.account_id FROM aliases al WHERE al.domain_id = d.id AND al.name = lower(substring(a.x from '^(.*)@'))),"
	"   d.catchall_account_id) AS id"
	"  FROM domains d"
	"  WHERE d.id = COALESCE("
	"   (SELECT dd.id FROM domains dd WHERE dd.name = lower(substring(a.x from '@([^@]*)$'))),"
	"   (SELECT da.domain_id FROM domain_aliases da WHERE da.name = lower(substring(a.x from '@([^@]*)$'))))"
	" ) t"
	" WHERE t.id IS NOT NULL"
	") SELECT EXISTS (SELECT 1 FROM reach WHERE id = $1::bigint AND NOT first)", 2
};

static const struct db_stmt st_ins_rule = {
	"fwd_ins_rule",
	"INSERT INTO forward_rules (account_id, condition, keyword) VALUES ($1::bigint, $2, $3) RETURNING id", 3
};

static const struct db_stmt st_ins_addrs = {
	"fwd_ins_addrs",
	"INSERT INTO forward_addresses (rule_id, address) "
	"SELECT $1::bigint, jsonb_array_elements_text($2::jsonb)", 2
};

static const struct db_stmt st_rule_owner = {
	"fwd_rule_owner", "SELECT account_id FROM forward_rules WHERE id = $1::bigint", 1
};

static const struct db_stmt st_del = {
	"fwd_del",
	"DELETE FROM forward_rules WHERE id = $1::bigint AND account_id = $2::bigint RETURNING condition", 2
};

/* api_audit borrows its details; this one takes them (a fresh json_pack) and lets go. */
static enum db_status
audit(struct api_ctx *c, const char *domain, const char *action, const char *target, json_t *details)
{
	enum db_status s = api_audit(c, domain, action, target, details);

	json_decref(details);
	return s;
}

/* Rows of st_list / st_rules_by_ids as [{id, condition, keyword, addresses}]; pages also
 * get each condition's label in the reader's language. */
static json_t *
rules_json(const struct api_ctx *c, const struct db_res *r)
{
	json_t *items = json_array();
	int i;

	for (i = 0; items != NULL && i < db_rows(r); i++) {
		json_t *addrs = json_loads(db_val(r, i, 3), 0, NULL);

		if (!json_is_array(addrs)) {
			json_decref(addrs);
			addrs = json_array();
		}
		json_t *it = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)db_i64(r, i, 0),
		    "condition", db_val(r, i, 1), "keyword", db_val(r, i, 2), "addresses", addrs);
		char key[40];

		if (it != NULL && c->html && bsnprintf(key, sizeof(key), "forwards_cond_%s", db_val(r, i, 1)))
			json_object_set_new(it, "condition_label", json_string(i18n_get(c->lang, key)));
		json_array_append_new(items, it);
	}
	return items;
}

static bool
has_all_rule(json_t *items)
{
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it) {
		if (strcmp(json_string_value(json_object_get(it, "condition")), "all") == 0)
			return true;
	}
	return false;
}

/* Where the pages of this account live, so templates need not know which side they are on. */
static const char *
page_url(struct api_ctx *c, const struct acct_ref *a)
{
	if (c->p->role == ROLE_USER)
		return "/mail/forwards";
	return arena_printf(c->arena, "/admin/domains/%s/accounts/%s/forwards", a->dom.name, a->name);
}

static const char *
account_url(struct api_ctx *c, const struct acct_ref *a)
{
	if (c->p->role == ROLE_USER)
		return "/mail/account";
	return arena_printf(c->arena, "/admin/domains/%s/accounts/%s", a->dom.name, a->name);
}

/* The account's rules, receive flag and the §3 warning into obj. 0, or -1 on a database fault. */
static int
add_list(struct api_ctx *c, const struct acct_ref *a, json_t *obj)
{
	struct db_res *r = NULL;
	json_t *items;
	bool receive, warn;

	if (db_runv(c->db, &st_list, &r, a->id_s) != DB_OK)
		return -1;
	items = rules_json(c, r);
	db_res_free(&r);
	if (db_runv(c->db, &st_receive, &r, a->id_s) != DB_OK || db_rows(r) != 1) {
		db_res_free(&r);
		json_decref(items);
		return -1;
	}
	receive = db_bool(r, 0, 0);
	db_res_free(&r);
	/* SPEC §3: with receive off, mail no rule matches is discarded. */
	warn = !receive && !has_all_rule(items);
	json_object_set_new(obj, "items", items);
	json_object_set_new(obj, "receive", json_boolean(receive));
	json_object_set_new(obj, "warning", json_boolean(warn));
	json_object_set_new(obj, "warning_message", warn ? json_string(i18n_get(c->lang, "receive_off_warning")) : json_null());
	return 0;
}

/* Extra keys for the pages: where the forms post, the account, the form's choices. */
static void
add_page(struct api_ctx *c, const struct acct_ref *a, json_t *obj)
{
	const char *cond = api_in_str(c, "condition");
	json_t *v = json_object_get(c->in, "addresses");
	struct buf b;

	if (cond == NULL || (strcmp(cond, "from") != 0 && strcmp(cond, "subject") != 0))
		cond = "all";
	json_object_set_new(obj, "page_url", json_string(page_url(c, a)));
	json_object_set_new(obj, "account_url", json_string(account_url(c, a)));
	json_object_set_new(obj, "address", json_string(a->address));
	json_object_set_new(obj, "cond_all", json_boolean(strcmp(cond, "all") == 0));
	json_object_set_new(obj, "cond_from", json_boolean(strcmp(cond, "from") == 0));
	json_object_set_new(obj, "cond_subject", json_boolean(strcmp(cond, "subject") == 0));
	/* The textarea shows back what was sent, however it was sent. */
	buf_init(&b);
	if (json_is_string(v)) {
		buf_adds(&b, json_string_value(v));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e) {
			if (json_is_string(e))
				buf_printf(&b, "%s%s", b.len ? "\n" : "", json_string_value(e));
		}
	}
	json_object_set_new(obj, "addresses_text", json_string(b.data ? b.data : ""));
	buf_free(&b);
}

static int
api_forwards_list(struct api_ctx *c)
{
	struct acct_ref a;
	json_t *out;
	int status;

	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	out = json_object();
	if (add_list(c, &a, out) != 0) {
		json_decref(out);
		return api_unavailable(c);
	}
	if (c->html)
		add_page(c, &a, out);
	return api_ok(c, 200, out);
}

/* Cut s[0..n) of spaces, tabs and CRs at both ends. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '\r')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

struct addr_in {
	json_t *list;                       /* unique, lower-case, in the order given */
	const char *bad[RULE_ERR_MAX];      /* the address each error in errs concerns, or NULL */
	size_t given;                       /* addresses sent, duplicates included */
};

/* One line of input: validated, lower-cased, kept once. */
static void
take_address(struct api_ctx *c, const char *s, size_t n, struct addr_in *in, struct rule_errs *errs)
{
	char *addr;
	size_t i, before = errs->n;
	json_t *e;

	trim(&s, &n);
	if (n == 0)
		return;
	in->given++;
	if ((addr = arena_strndup(c->arena, s, n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		if (addr[i] >= 'A' && addr[i] <= 'Z')
			addr[i] = (char)(addr[i] - 'A' + 'a');
	if (!rule_forward_address(addr, "addresses", errs)) {
		if (before < RULE_ERR_MAX && errs->n > before)
			in->bad[before] = addr;
		return;
	}
	json_array_foreach(in->list, i, e) {
		if (strcmp(json_string_value(e), addr) == 0)
			return;
	}
	json_array_append_new(in->list, json_string(addr));
}

/* A string splits on line breaks (a textarea); an array takes each element (repeated
 * fields or JSON), each of which may again hold lines. */
static void
take_value(struct api_ctx *c, const char *s, struct addr_in *in, struct rule_errs *errs)
{
	const char *nl;

	while ((nl = strchr(s, '\n')) != NULL) {
		take_address(c, s, (size_t)(nl - s), in, errs);
		s = nl + 1;
	}
	take_address(c, s, strlen(s), in, errs);
}

static void
read_addresses(struct api_ctx *c, struct addr_in *in, struct rule_errs *errs)
{
	json_t *v = json_object_get(c->in, "addresses"), *e;
	size_t i;

	if (json_is_string(v)) {
		take_value(c, json_string_value(v), in, errs);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (json_is_string(e))
				take_value(c, json_string_value(e), in, errs);
			else
				rule_add(errs, "addresses", "bad_address", NULL);
		}
	} else if (v != NULL && !json_is_null(v)) {
		rule_add(errs, "addresses", "bad_address", NULL);
	}
	if (in->given == 0 && errs->n == 0)
		rule_add(errs, "addresses", "required", NULL);
}

/* SPEC §3: keywords may hold spaces, symbols and Japanese; a control character could not
 * be typed into a header, and a line break would never match one. */
static void
check_keyword(const char *kw, struct rule_errs *errs)
{
	const unsigned char *u;
	size_t chars = 0;

	if (kw == NULL || kw[0] == '\0') {
		rule_add(errs, "keyword", "required", NULL);
		return;
	}
	for (u = (const unsigned char *)kw; *u; u++) {
		if ((*u & 0xC0) != 0x80)
			chars++;
		if (*u < 0x20 || *u == 0x7F) {
			rule_add(errs, "keyword", "bad_char", NULL);
			return;
		}
	}
	if (chars > FWD_KEYWORD_MAX)
		rule_add(errs, "keyword", "too_long", NULL);
}

/* api_fail, then each address error names its address (value, and in the message). */
static int
fail_addresses(struct api_ctx *c, int status, const char *code, const struct rule_errs *errs,
               const struct addr_in *in)
{
	json_t *details, *d;
	size_t i;

	api_fail(c, status, code, errs);
	details = json_object_get(json_object_get(c->out, "error"), "details");
	json_array_foreach(details, i, d) {
		const char *msg = json_string_value(json_object_get(d, "message"));

		if (i >= RULE_ERR_MAX || in->bad[i] == NULL || msg == NULL)
			continue;
		json_object_set_new(d, "value", json_string(in->bad[i]));
		json_object_set_new(d, "message", json_string(arena_printf(c->arena,
		    strcmp(c->lang, "ja") == 0 ? "「%s」: %s" : "\"%s\": %s", in->bad[i], msg)));
	}
	return status;
}

/* A failed form post shows the page again: the list goes next to the error. */
static int
fail_page(struct api_ctx *c, const struct acct_ref *a, int status)
{
	if (c->html && json_is_object(c->out)) {
		if (add_list(c, a, c->out) != 0)
			return api_unavailable(c);
		add_page(c, a, c->out);
	}
	return status;
}

/* Insert one rule with its addresses; its id appended to ids. */
static enum db_status
insert_rule(struct api_ctx *c, const struct acct_ref *a, const char *cond, const char *kw,
            json_t *addrs, json_t *ids)
{
	struct db_res *r = NULL;
	enum db_status s;
	char *js = NULL;

	if ((s = db_runv(c->db, &st_ins_rule, &r, a->id_s, cond, kw)) != DB_OK)
		goto out;
	if ((js = json_dumps(addrs, JSON_COMPACT)) == NULL) {
		s = DB_ERROR;
		goto out;
	}
	if ((s = db_runv(c->db, &st_ins_addrs, NULL, db_val(r, 0, 0), js)) != DB_OK)
		goto out;
	json_array_append_new(ids, json_string(db_val(r, 0, 0)));
out:
	free(js);
	db_res_free(&r);
	return s;
}

static int
api_forwards_create(struct api_ctx *c)
{
	struct acct_ref a;
	struct rule_errs errs = { .n = 0 };
	struct addr_in in;
	struct db_res *r = NULL;
	const char *cond = api_in_str(c, "condition"), *kw = api_in_str(c, "keyword");
	json_t *ids = NULL, *items = NULL, *out;
	char *addrs_js = NULL, *ids_js = NULL;
	size_t i;
	int status;

	memset(&in, 0, sizeof(in));
	if ((status = api_account_ref(c, &a)) != 0)
		return status;
	in.list = json_array();
	ids = json_array();
	if (cond == NULL || cond[0] == '\0')
		rule_add(&errs, "condition", "required", NULL);
	else if (strcmp(cond, "all") != 0 && strcmp(cond, "from") != 0 && strcmp(cond, "subject") != 0)
		rule_add(&errs, "condition", "bad_condition", NULL);
	/* An `all` rule forwards everything: a keyword would mean nothing, so none is kept. */
	if (cond != NULL && strcmp(cond, "all") == 0)
		kw = "";
	else if (cond != NULL && (strcmp(cond, "from") == 0 || strcmp(cond, "subject") == 0))
		check_keyword(kw, &errs);
	read_addresses(c, &in, &errs);
	if (json_array_size(in.list) > FWD_MAX_ADDRESSES)
		rule_add(&errs, "addresses", "too_many", NULL);
	if (errs.n > 0) {
		status = fail_page(c, &a, fail_addresses(c, 422, "invalid", &errs, &in));
		goto out;
	}
	if ((addrs_js = json_dumps(in.list, JSON_COMPACT)) == NULL || db_begin(c->db) != DB_OK) {
		status = api_unavailable(c);
		goto out;
	}
	if (db_runv(c->db, &st_lock, NULL) != DB_OK || db_runv(c->db, &st_count, &r, a.id_s) != DB_OK)
		goto fault;
	if (db_i64(r, 0, 0) + (int64_t)json_array_size(in.list) > FWD_MAX_ADDRESSES) {
		db_rollback(c->db);
		status = fail_page(c, &a, api_fail1(c, 422, "invalid", "addresses", "too_many"));
		goto out;
	}
	db_res_free(&r);
	if (db_runv(c->db, &st_loop, &r, a.id_s, addrs_js) != DB_OK)
		goto fault;
	if (db_bool(r, 0, 0)) {
		db_rollback(c->db);
		status = fail_page(c, &a, api_fail1(c, 422, "invalid", "addresses", "loop"));
		goto out;
	}
	db_res_free(&r);
	/* The same address twice as `all` would deliver every message twice. */
	if (strcmp(cond, "all") == 0) {
		if (db_runv(c->db, &st_all_dups, &r, a.id_s, addrs_js) != DB_OK)
			goto fault;
		if (db_rows(r) > 0) {
			memset(&in.bad, 0, sizeof(in.bad));
			errs.n = 0;
			for (i = 0; i < (size_t)db_rows(r) && i < RULE_ERR_MAX; i++) {
				in.bad[i] = arena_strdup(c->arena, db_val(r, (int)i, 0));
				rule_add(&errs, "addresses", "exists", NULL);
			}
			db_rollback(c->db);
			status = fail_page(c, &a, fail_addresses(c, 409, "exists", &errs, &in));
			goto out;
		}
		db_res_free(&r);
		/* SPEC §3: `all` with several addresses is one rule per address. */
		for (i = 0; i < json_array_size(in.list); i++) {
			json_t *one = json_pack("[O]", json_array_get(in.list, i));
			enum db_status s = insert_rule(c, &a, "all", "", one, ids);

			json_decref(one);
			if (s != DB_OK)
				goto fault;
		}
	} else if (insert_rule(c, &a, cond, kw, in.list, ids) != DB_OK) {
		goto fault;
	}
	if ((ids_js = json_dumps(ids, JSON_COMPACT)) == NULL ||
	    db_runv(c->db, &st_rules_by_ids, &r, a.id_s, ids_js) != DB_OK)
		goto fault;
	items = rules_json(c, r);
	/* Support reads the audit log but never forward destinations (SPEC §1): none here. */
	if (db_notify_domain(c->db, a.dom.name) != DB_OK ||
	    audit(c, a.dom.name, "forward_add", a.address, json_pack("{s:s, s:I, s:I}", "condition", cond,
	    "rules", (json_int_t)json_array_size(ids), "addresses", (json_int_t)json_array_size(in.list))) != DB_OK ||
	    db_commit(c->db) != DB_OK)
		goto fault;
	/* The created rule; `items` lists every rule made (several for `all`). */
	out = json_array_size(items) == 1 ? json_deep_copy(json_array_get(items, 0)) : json_object();
	json_object_set(out, "items", items);
	status = api_ok(c, 201, out);
	goto out;
fault:
	db_rollback(c->db);
	status = api_unavailable(c);
out:
	free(addrs_js);
	free(ids_js);
	db_res_free(&r);
	json_decref(in.list);
	json_decref(ids);
	json_decref(items);
	return status;
}

/* The rule {id} of the account in a: 0 found (row in *r_out), else the status answered.
 * A rule of another account is 403 for a user (out of their scope, CONTRACT order) and
 * 404 for an admin, whose path named a different account. */
static int
rule_of(struct api_ctx *c, const struct acct_ref *a, const char **id_r)
{
	const char *id = api_param(c, "id");
	struct db_res *r = NULL;
	int64_t n;
	int status = 0;

	if (id == NULL || !parse_i64(id, 1, INT64_MAX, &n))
		return api_fail(c, 404, "not_found", NULL);
	*id_r = arena_printf(c->arena, "%lld", (long long)n);
	if (db_runv(c->db, &st_rule_owner, &r, *id_r) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1)
		status = api_fail(c, 404, "not_found", NULL);
	else if (db_i64(r, 0, 0) != a->id)
		status = c->p->role == ROLE_USER ? api_fail(c, 403, "forbidden", NULL) : api_fail(c, 404, "not_found", NULL);
	db_res_free(&r);
	return status;
}

static int
api_forwards_delete(struct api_ctx *c)
{
	struct acct_ref a;
	struct db_res *r = NULL;
	const char *id;
	int status;

	if ((status = api_account_ref(c, &a)) != 0 || (status = rule_of(c, &a, &id)) != 0)
		return status;
	if (db_begin(c->db) != DB_OK)
		return api_unavailable(c);
	/* SPEC §3: a from/subject rule goes with all its addresses (ON DELETE CASCADE). */
	if (db_runv(c->db, &st_lock, NULL) != DB_OK || db_runv(c->db, &st_del, &r, id, a.id_s) != DB_OK)
		goto fault;
	if (db_rows(r) != 1) {
		db_rollback(c->db);
		status = api_fail(c, 404, "not_found", NULL);
		goto out;
	}
	if (db_notify_domain(c->db, a.dom.name) != DB_OK ||
	    audit(c, a.dom.name, "forward_delete", a.address, json_pack("{s:s, s:s}", "rule", id,
	    "condition", db_val(r, 0, 0))) != DB_OK ||
	    db_commit(c->db) != DB_OK)
		goto fault;
	status = api_ok(c, 204, NULL);
	goto out;
fault:
	db_rollback(c->db);
	status = api_unavailable(c);
out:
	db_res_free(&r);
	return status;
}

/* Page only: "delete this forward?" with the rule shown (SPEC §2 asks for a confirmation). */
static int
forwards_confirm_delete(struct api_ctx *c)
{
	struct acct_ref a;
	struct db_res *r = NULL;
	const char *id;
	json_t *items, *out;
	char ids[32];
	int status;

	if ((status = api_account_ref(c, &a)) != 0 || (status = rule_of(c, &a, &id)) != 0)
		return status;
	if (!bsnprintf(ids, sizeof(ids), "[%s]", id) || db_runv(c->db, &st_rules_by_ids, &r, a.id_s, ids) != DB_OK)
		return api_unavailable(c);
	items = rules_json(c, r);
	db_res_free(&r);
	if (json_array_size(items) != 1) {
		json_decref(items);
		return api_fail(c, 404, "not_found", NULL);
	}
	out = json_pack("{s:O}", "rule", json_array_get(items, 0));
	json_decref(items);
	add_page(c, &a, out);
	return api_ok(c, 200, out);
}

/*
 * Shapes beyond CONTRACT's table:
 *   GET   {items:[{id, condition, keyword, addresses}], receive, warning (bool),
 *          warning_message (text or null)}: warning = receive off and no `all` rule.
 *   POST  201 {id, condition, keyword, addresses, items:[…]}: the rule made, and `items`
 *          every rule made (an `all` with n addresses makes n; then the top-level fields
 *          are absent when n > 1). Addresses are stored lower-case, duplicates merged.
 *          422 details {field: addresses, code, value: the address, message naming it};
 *          409 exists when an `all` destination is there already.
 *   DELETE 204; a rule of another account: 404 for admins, 403 for a user.
 * Support is refused by the router (R_NOSUPPORT): it never sees destinations (SPEC §1).
 */
#define FWD_ADMIN (R_ADMIN | R_NOSUPPORT)
#define FWD_ADMIN_PATH "/domains/{d}/accounts/{name}/forwards"

const struct api_route api_routes_forwards[] = {
	{ "GET", FWD_ADMIN_PATH, api_forwards_list, FWD_ADMIN, "forwards/list.html", NULL },
	{ "POST", FWD_ADMIN_PATH, api_forwards_create, FWD_ADMIN, "forwards/list.html",
	  FWD_ADMIN_PATH "?done=forwards_added" },
	{ "DELETE", FWD_ADMIN_PATH "/{id}", api_forwards_delete, FWD_ADMIN, "forwards/delete.html",
	  FWD_ADMIN_PATH "?done=forwards_deleted" },
	{ "GET", FWD_ADMIN_PATH "/{id}/delete", forwards_confirm_delete, FWD_ADMIN | R_HTML,
	  "forwards/delete.html", NULL },
	{ "GET", "/me/forwards", api_forwards_list, R_USER, "forwards/list.html", NULL },
	{ "POST", "/me/forwards", api_forwards_create, R_USER, "forwards/list.html", "/forwards?done=forwards_added" },
	{ "DELETE", "/me/forwards/{id}", api_forwards_delete, R_USER, "forwards/delete.html",
	  "/forwards?done=forwards_deleted" },
	{ "GET", "/me/forwards/{id}/delete", forwards_confirm_delete, R_USER | R_HTML, "forwards/delete.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
