/* api/csv_export.c: the account export of a domain (SPEC §7), streamed page by page, and the two sample files. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/account_view.h"
#include "api/api.h"
#include "api/ref.h"
#include "cgi/routes.h"
#include "core/clock.h"
#include "core/csv.h"
#include "core/log.h"
#include "core/util.h"

/* Rows per database round trip and per streamed part: memory holds one page, whatever the
 * size of the domain. */
#define EXPORT_PAGE 500
#define EXPORT_PAGE_S "500"

/*
 * One page of the export in name order, after the last name sent (keyset: each page is one
 * index range scan of (domain_id, name), however deep into the domain). Columns:
 * name, comment, usage in MB rounded up (CONTRACT usage_mb), spam subject tag, any forward,
 * autoresponder active now (as the account object's `autoreply`), receive, quota.
 */
/* A page of the export: its ids in name order first, then each side table read once for
 * the page (as the account list does, api/account_view.h ACCT_PAGE_FROM): per-row EXISTS
 * subqueries rescanned the small forward and autoreply tables 1,000 times a 500-row page. */
#define EXPORT_IDS "(SELECT pg.ids FROM pg)::bigint[]"
static const struct db_stmt st_page = {
	"csv_export_page",
	"WITH pg AS MATERIALIZED (SELECT ARRAY(SELECT a.id FROM accounts a "
	"  WHERE a.domain_id = $1::bigint AND a.name > $2 ORDER BY a.name LIMIT " EXPORT_PAGE_S ") AS ids) "
	"SELECT a.name, a.comment, (a.usage_bytes + 1048575) / 1048576, a.spam_tag, "
	"  fwx.account_id IS NOT NULL, arx.account_id IS NOT NULL, a.receive, a.quota_mb "
	"FROM accounts a "
	"LEFT JOIN (SELECT DISTINCT fr.account_id FROM forward_rules fr JOIN forward_addresses fa "
	"  ON fa.rule_id = fr.id WHERE fr.account_id = ANY(" EXPORT_IDS ")) fwx ON fwx.account_id = a.id "
	"LEFT JOIN (SELECT ar.account_id FROM autoreplies ar WHERE ar.account_id = ANY(" EXPORT_IDS ") "
	"  AND " ACCT_AUTOREPLY_ON_SQL("$3") " OFFSET 0) arx ON arx.account_id = a.id "
	"WHERE a.id = ANY(" EXPORT_IDS ") ORDER BY a.name", 3
};

static const char *const export_cols[] = {
	"mail_account", "mail_password", "comment", "amount_of_mail_box", "spam", "forward", "auto",
	"pop", "mail_capacity",
};

struct export_state {
	struct db *db;            /* a pooled connection, held only while a page is read */
	char domain_id[24];
	char after[80];           /* the last name sent (names are at most 64 bytes) */
	char now[40];
	bool cp932;
	bool started;
	size_t rows;
	struct buf utf8;          /* CP932: one page as UTF-8, before conversion */
};

static void
export_free(void *arg)
{
	struct export_state *st = arg;

	db_pool_put(&st->db);
	buf_free(&st->utf8);
	free(st);
}

/* Appends one record: to `out`, or for CP932 to the page's UTF-8 text (see flush). */
static bool
put_record(struct export_state *st, struct buf *out, const char *const *cells, size_t n)
{
	struct buf *b = st->cp932 ? &st->utf8 : out;
	size_t i;

	for (i = 0; i < n; i++)
		if (!csv_put_str(b, cells[i], i == 0))
			return false;
	return csv_end_record(b);
}

/* CP932: the page's records converted in one go (a page ends with a record, so no
 * character is cut). */
static bool
flush(struct export_state *st, struct buf *out)
{
	bool ok = true;

	if (st->cp932 && st->utf8.len > 0)
		ok = csv_to_cp932(st->utf8.data, st->utf8.len, out);
	buf_reset(&st->utf8);
	return ok && !st->utf8.oom;
}

/* The stream (api.h raw_stream): the header first, then a page of rows per call. */
static int
export_next(void *arg, struct buf *out)
{
	struct export_state *st = arg;
	struct db_res *r = NULL;
	int i, n;

	if (!st->started) {
		st->started = true;
		/* Excel reads UTF-8 only with a BOM; Shift_JIS has none. */
		if (!st->cp932 && !buf_add(out, CSV_BOM, 3))
			return -1;
		return put_record(st, out, export_cols, sizeof(export_cols) / sizeof(export_cols[0])) &&
		    flush(st, out) ? 1 : -1;
	}
	/* The connection goes back to the pool between pages: a slow download holds none. */
	st->db = db_pool_get();
	if (db_runv(st->db, &st_page, &r, st->domain_id, st->after, st->now) != DB_OK) {
		log_warnx("csv export of domain %s: page after \"%s\" failed", st->domain_id, st->after);
		db_pool_put(&st->db);
		return -1;
	}
	db_pool_put(&st->db);
	n = db_rows(r);
	for (i = 0; i < n; i++) {
		const char *cells[9] = {
			db_val(r, i, 0), "", db_val(r, i, 1), db_val(r, i, 2),
			db_bool(r, i, 3) ? "1" : "0", db_bool(r, i, 4) ? "1" : "0",
			db_bool(r, i, 5) ? "1" : "0", db_bool(r, i, 6) ? "1" : "0", db_val(r, i, 7),
		};

		if (!put_record(st, out, cells, 9)) {
			db_res_free(&r);
			return -1;
		}
	}
	if (n > 0 && !bsnprintf(st->after, sizeof(st->after), "%s", db_val(r, n - 1, 0))) {
		db_res_free(&r);
		return -1;
	}
	st->rows += (size_t)n;
	db_res_free(&r);
	if (!flush(st, out))
		return -1;
	return n < EXPORT_PAGE ? 0 : 1;
}

/* ?charset=: shift_jis (and its other names) gives CP932; empty or utf-8 gives UTF-8. */
static int
parse_charset(const struct api_ctx *c, bool *cp932)
{
	const char *cs = json_string_value(json_object_get(c->query, "charset"));

	*cp932 = false;
	if (cs == NULL || *cs == '\0' || !strcasecmp(cs, "utf-8") || !strcasecmp(cs, "utf8"))
		return 0;
	if (!strcasecmp(cs, "shift_jis") || !strcasecmp(cs, "shift-jis") || !strcasecmp(cs, "sjis") ||
	    !strcasecmp(cs, "cp932") || !strcasecmp(cs, "windows-31j")) {
		*cp932 = true;
		return 0;
	}
	return -1;
}

/* GET /domains/{d}/accounts.csv[?charset=shift_jis] */
static int
export_accounts(struct api_ctx *c)
{
	struct domain_ref dom;
	struct export_state *st;
	bool cp932;
	int status;

	/* Scope first: a domain outside it is 403 whether or not it exists. */
	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if (parse_charset(c, &cp932) != 0)
		return api_fail1(c, 422, "invalid", "charset", "invalid");
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return api_unavailable(c);
	buf_init(&st->utf8);
	st->cp932 = cp932;
	if (!bsnprintf(st->domain_id, sizeof(st->domain_id), "%s", dom.id_s) ||
	    clock_now_str(st->now, sizeof(st->now)) == NULL) {
		free(st);
		return api_unavailable(c);
	}
	/* The stream runs after this returns, with connections of its own (c->db is gone by then). */
	c->raw_stream = export_next;
	c->raw_stream_free = export_free;
	c->raw_stream_arg = st;
	c->raw_type = cp932 ? "text/csv; charset=Shift_JIS" : "text/csv; charset=utf-8";
	/* Domain names are letters, digits, '-' and '.' (core/domain.c). */
	c->raw_disposition = arena_printf(c->arena, "attachment; filename=\"%s-accounts.csv\"", dom.name);
	return 200;
}

/* The samples: a header and two rows that pass every rule of SPEC §2, UTF-8 with a BOM and
 * CRLF like the export (or CP932 with ?charset=shift_jis). */
static const char *const sample_create[][4] = {
	{ "mail_account", "password", "mail_capacity", "comment" },
	{ "yamada", "Haru#Kaze-2026a", "1024", "\xE5\x96\xB6\xE6\xA5\xAD\xE9\x83\xA8 \xE5\xB1\xB1\xE7\x94\xB0" }, /* 営業部 山田 */
	{ "info", "Natsu.Umi-2026b", "2048", "Sales, Tokyo" },
};
static const char *const sample_edit[][3] = {
	{ "mail_account", "password", "mail_capacity" },
	{ "yamada", "Aki#Sora-2026c", "" },      /* new password, quota unchanged */
	{ "info", "", "4096" },                     /* password unchanged, new quota */
};

static int
sample_answer(struct api_ctx *c, const char *const *cells, size_t ncols, size_t nrows,
              const char *filename)
{
	struct buf utf8;
	bool cp932;
	size_t i, j;

	if (parse_charset(c, &cp932) != 0)
		return api_fail1(c, 422, "invalid", "charset", "invalid");
	buf_init(&utf8);
	if (!cp932)
		(void)buf_add(&utf8, CSV_BOM, 3);
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < ncols; j++)
			(void)csv_put_str(&utf8, cells[i * ncols + j], j == 0);
		(void)csv_end_record(&utf8);
	}
	if (utf8.oom || (cp932 ? !csv_to_cp932(utf8.data, utf8.len, &c->raw) :
	    !buf_add(&c->raw, utf8.data, utf8.len))) {
		buf_free(&utf8);
		return api_unavailable(c);
	}
	buf_free(&utf8);
	c->raw_type = cp932 ? "text/csv; charset=Shift_JIS" : "text/csv; charset=utf-8";
	c->raw_disposition = arena_printf(c->arena, "attachment; filename=\"%s\"", filename);
	return 200;
}

/* GET /samples/mail-accounts-sample.csv */
static int
sample_accounts(struct api_ctx *c)
{
	return sample_answer(c, &sample_create[0][0], 4, sizeof(sample_create) / sizeof(sample_create[0]),
	    "mail-accounts-sample.csv");
}

/* GET /samples/mail-password-sample.csv */
static int
sample_password(struct api_ctx *c)
{
	return sample_answer(c, &sample_edit[0][0], 3, sizeof(sample_edit) / sizeof(sample_edit[0]),
	    "mail-password-sample.csv");
}

/* SPEC §1: CSV import, bulk edit and export are for superadmin and domain admins. The
 * same rows serve /api/v1/… and the /admin/… download links of the CSV page. */
const struct api_route api_routes_extra2[] = {
	{ "GET", "/domains/{d}/accounts.csv", export_accounts, R_ADMIN | R_NOSUPPORT, NULL, NULL },
	{ "GET", "/samples/mail-accounts-sample.csv", sample_accounts, R_ADMIN | R_NOSUPPORT, NULL, NULL },
	{ "GET", "/samples/mail-password-sample.csv", sample_password, R_ADMIN | R_NOSUPPORT, NULL, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
