/* api/csv_import.c: one CSV job (SPEC §7): read the file, check every row with the single-account
 * rules, collect every error, hash passwords on every core, write all rows in one transaction. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/csv_job.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/csv.h"
#include "core/i18n.h"
#include "core/log.h"
#include "core/password.h"
#include "core/rules.h"
#include "core/util.h"

#define COMMENT_MAX 255          /* characters, SPEC §2 */

static const struct db_stmt st_domain = {
	"csvimp_domain", "SELECT id, default_quota_mb FROM domains WHERE name = $1", 1
};

/* Bulk create: taken names (accounts and aliases share them, SPEC §10) and which are system. */
static const struct db_stmt st_taken = {
	"csvimp_taken",
	"SELECT l.name, coalesce(a.is_system, false) FROM local_names l "
	"LEFT JOIN accounts a ON a.domain_id = l.domain_id AND a.name = l.name "
	"WHERE l.domain_id = $1::bigint AND l.name IN (SELECT jsonb_array_elements_text($2::jsonb))", 2
};

/* Bulk edit: the accounts the file names. Not locked: the hashing takes minutes for a big
 * file, and a locked account would hold up maild's usage updates that long. */
static const struct db_stmt st_existing = {
	"csvimp_existing",
	"SELECT a.id, a.name, a.password_hash FROM accounts a "
	"WHERE a.domain_id = $1::bigint AND a.name IN (SELECT jsonb_array_elements_text($2::jsonb))", 2
};

static const struct db_stmt st_insert = {
	"csvimp_insert",
	"INSERT INTO accounts (domain_id, name, password_hash, quota_mb, comment) "
	"SELECT $1::bigint, x.n, x.h, x.q, x.c FROM jsonb_to_recordset($2::jsonb) AS x(n text, h text, q int, c text)", 2
};

/* A batch of changes, as PATCH does (api/accounts.c st_update): a new password set by an
 * admin ends the compromised mark and the temporary/forced state and signs the account's
 * sessions out. Audited per account actually changed; an account deleted since the check
 * is not in `u` and counts as skipped. Answers how many were changed. */
static const struct db_stmt st_edit = {
	"csvimp_edit",
	"WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) "
	"           AS x(id bigint, n text, h text, q int, c text, s boolean, r boolean, f jsonb)), "
	"u AS (UPDATE accounts a SET "
	" password_hash = coalesce(x.h, a.password_hash), "
	" quota_mb = coalesce(x.q, a.quota_mb), "
	" comment = coalesce(x.c, a.comment), "
	" spam_tag = coalesce(x.s, a.spam_tag), "
	" receive = coalesce(x.r, a.receive), "
	" must_change_password = CASE WHEN x.h IS NULL THEN a.must_change_password ELSE false END, "
	" temp_password = CASE WHEN x.h IS NULL THEN a.temp_password ELSE false END, "
	" compromised = CASE WHEN x.h IS NULL THEN a.compromised ELSE false END, "
	" compromised_at = CASE WHEN x.h IS NULL THEN a.compromised_at ELSE NULL END, "
	" password_changed_at = CASE WHEN x.h IS NULL THEN a.password_changed_at ELSE $2::timestamptz END, "
	" updated_at = $2::timestamptz "
	" FROM x WHERE a.id = x.id RETURNING a.id), "
	"s AS (DELETE FROM sessions WHERE account_id IN "
	"      (SELECT x.id FROM x JOIN u ON u.id = x.id WHERE x.h IS NOT NULL) RETURNING 1), "
	"l AS (INSERT INTO audit_log (at, domain, actor, actor_role, action, target, remote_addr, details) "
	"      SELECT $2::timestamptz, $3, $4, $5, 'account_update', x.n || '@' || $3, $6, "
	"      jsonb_build_object('fields', x.f, 'csv_job', $7::bigint) FROM x JOIN u ON u.id = x.id RETURNING 1) "
	"SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM s), (SELECT count(*) FROM l)", 7
};

/* One audit entry per account, as the single-account form writes (api_audit). */
static const struct db_stmt st_audit = {
	"csvimp_audit",
	"INSERT INTO audit_log (at, domain, actor, actor_role, action, target, remote_addr, details) "
	"SELECT $1::timestamptz, $2, $3, $4, $5, x.n || '@' || $2, $6, x.d || jsonb_build_object('csv_job', $7::bigint) "
	"FROM jsonb_to_recordset($8::jsonb) AS x(n text, d jsonb)", 8
};

/* The job's end, in the import transaction: the rows and the done state commit together,
 * so a job is never imported twice. The file (it holds passwords) goes with it. */
static const struct db_stmt st_done = {
	"csvimp_done",
	"UPDATE jobs SET state = 'done', done = $3::int, total = $4::int, errors = '[]', "
	" result = $5::jsonb, finished_at = now(), heartbeat_at = now(), input = NULL "
	"WHERE id = $1::bigint AND worker = $2 AND state = 'running'", 5
};

enum col {
	C_NONE,       /* an empty header cell: its cells must be empty */
	C_NAME,
	C_PASSWORD,
	C_QUOTA,
	C_COMMENT,
	C_SPAM,       /* edit: spam subject tag 0/1 (export's `spam`) */
	C_POP,        /* edit: receive 0/1 (export's `pop`) */
	C_INFO,       /* edit: export's read-only columns, ignored */
	C_NCOLS,
};

static const struct {
	const char *name;
	enum col col;
	bool create, edit;
} columns[] = {
	{ "mail_account", C_NAME, true, true },
	{ "password", C_PASSWORD, true, true },
	{ "mail_password", C_PASSWORD, true, true },   /* the export's name for it */
	{ "mail_capacity", C_QUOTA, true, true },
	{ "comment", C_COMMENT, true, true },
	{ "spam", C_SPAM, false, true },
	{ "pop", C_POP, false, true },
	{ "amount_of_mail_box", C_INFO, false, true },
	{ "forward", C_INFO, false, true },
	{ "auto", C_INFO, false, true },
};

enum row_state { RS_PENDING, RS_OK, RS_SAME, RS_FAIL };

struct row {
	size_t line;
	const char *name;          /* lower-case; NULL when the cell broke a rule */
	const char *password;      /* NULL: empty cell */
	const char *comment;       /* NULL: empty cell (edit: unchanged) */
	int64_t quota;             /* 0: empty cell */
	signed char spam, pop;     /* -1: empty cell */
	int64_t id;                /* edit: the account; 0 when it does not exist (skipped) */
	const char *cur_hash;      /* edit: its current hash */
	atomic_int state;
	char hash[PW_HASH_MAX];
};

struct err {
	size_t line;               /* 0: the whole file */
	size_t seq;                /* keeps errors of one line in the order found */
	int colpos;                /* header position, -1 none */
	const char *column;        /* header name, NULL none */
	const char *field;         /* the rule's field, for its wording */
	const char *code;
	char arg[64];
};

struct imp {
	struct csv_job *j;
	struct arena *ar;
	char *text;
	size_t text_len;
	enum csv_charset cs;
	enum col col[CSV_MAX_CELLS];
	const char *colname[CSV_MAX_CELLS];
	size_t ncols;
	struct row *rows;
	size_t nrows, caprows;
	json_t *seen;              /* name -> row index */
	struct err *errs;
	size_t nerrs, caperrs;
	bool errs_full;
	bool forced;               /* the next error is the file's own: past the cap too */
	char domain_id[24];
	int64_t default_quota;
	size_t created, updated, unchanged, skipped;
};

static const char *
charset_name(enum csv_charset cs)
{
	switch (cs) {
	case CSV_UTF8: return "utf-8";
	case CSV_UTF8_BOM: return "utf-8-bom";
	case CSV_CP932: return "shift_jis";
	}
	return "?";
}

/* Adds one error. Past CSV_MAX_ERRORS only the file's own errors (reader, encoding) still
 * go in, so a file that ends in a format error says so however many rows broke rules. */
static void
err_add(struct imp *x, size_t line, int colpos, const char *field, const char *code, const char *arg)
{
	struct err *e;
	bool file_level = x->forced;

	if (x->errs_full && !file_level)
		return;
	if (x->nerrs >= CSV_MAX_ERRORS && !file_level) {
		x->errs_full = true;
		return;
	}
	if (x->nerrs == x->caperrs) {
		size_t cap = x->caperrs ? x->caperrs * 2 : 64;
		struct err *n = realloc(x->errs, cap * sizeof(*n));

		if (n == NULL) {
			x->errs_full = true;
			return;
		}
		x->errs = n;
		x->caperrs = cap;
	}
	e = &x->errs[x->nerrs];
	memset(e, 0, sizeof(*e));
	e->line = line;
	e->seq = x->nerrs++;
	e->colpos = colpos;
	e->column = colpos >= 0 ? x->colname[colpos] : NULL;
	e->field = field;
	e->code = code;
	if (arg != NULL)
		(void)bstrcpy(e->arg, sizeof(e->arg), arg);   /* a cut detail only shortens the message */
}

/* A file-level error: no line, no column. */
static void
err_file(struct imp *x, const char *code, const char *arg)
{
	x->forced = true;
	err_add(x, 0, -1, NULL, code, arg);
	x->forced = false;
}

/* The reader's format error, where it stopped. */
static void
err_reader(struct imp *x, const struct csv_reader *rd)
{
	x->forced = true;
	err_add(x, csv_err_line(rd), -1, NULL, csv_err_code(rd), NULL);
	x->forced = false;
}

static int
err_cmp(const void *a, const void *b)
{
	const struct err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->colpos != y->colpos)
		return x->colpos < y->colpos ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The message of one error in the job's language: the module's own text for CSV codes
 * (templates/i18n/LANG/csvimport.json, "{}" standing for the detail), else the rule's. */
static void
err_message(const char *lang, const struct err *e, char *out, size_t outsz)
{
	char key[64];
	const char *m, *mark;

	if (bsnprintf(key, sizeof(key), "csv_err_%s", e->code) &&
	    strcmp((m = i18n_get(lang, key)), key) != 0) {
		mark = strstr(m, "{}");
		if (mark == NULL)
			(void)bstrcpy(out, outsz, m);
		else
			(void)bsnprintf(out, outsz, "%.*s%s%s", (int)(mark - m), m, e->arg, mark + 2);
		return;
	}
	{
		struct rule_err re;

		memset(&re, 0, sizeof(re));
		re.field = e->field ? e->field : "";
		re.code = e->code;
		(void)bstrcpy(re.arg, sizeof(re.arg), e->arg);
		(void)rule_err_text(&re, lang, out, outsz);
	}
}

/* Sorted by line and column, as JSON for the job row. */
static json_t *
errors_json(struct imp *x)
{
	json_t *a = json_array();
	size_t i;

	if (a == NULL)
		return NULL;
	qsort(x->errs, x->nerrs, sizeof(*x->errs), err_cmp);
	for (i = 0; i < x->nerrs; i++) {
		const struct err *e = &x->errs[i];
		char msg[512];

		err_message(x->j->lang, e, msg, sizeof(msg));
		json_array_append_new(a, json_pack("{s:o, s:o, s:s, s:s}",
		    "line", e->line ? json_integer((json_int_t)e->line) : json_null(),
		    "column", e->column ? json_string(e->column) : json_null(),
		    "code", e->code, "message", msg));
	}
	if (x->errs_full) {
		struct err e;
		char msg[512];

		memset(&e, 0, sizeof(e));
		e.code = "too_many_errors";
		bsnprintf(e.arg, sizeof(e.arg), "%u", CSV_MAX_ERRORS);
		err_message(x->j->lang, &e, msg, sizeof(msg));
		json_array_append_new(a, json_pack("{s:n, s:n, s:s, s:s}", "line", "column",
		    "code", e.code, "message", msg));
	}
	return a;
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

/* The header line: every column known for this kind, each once, the required ones there. */
static void
read_header(struct imp *x, const struct csv_record *rec)
{
	bool have[C_NCOLS];
	const char *first[C_NCOLS];
	size_t i, k;

	memset(have, 0, sizeof(have));
	memset(first, 0, sizeof(first));
	x->ncols = rec->ncells;
	for (i = 0; i < rec->ncells; i++) {
		const char *s = rec->cell[i];
		size_t len = rec->len[i];
		char low[64];

		trim(&s, &len);
		x->colname[i] = arena_strndup(x->ar, s, len);
		x->col[i] = C_NONE;
		if (x->colname[i] == NULL) {
			err_file(x, "oom", NULL);
			return;
		}
		if (len == 0)
			continue;
		if (!rule_lower(x->colname[i], low, sizeof(low))) {
			err_add(x, rec->line, (int)i, NULL, "unknown_column", x->colname[i]);
			continue;
		}
		for (k = 0; k < sizeof(columns) / sizeof(columns[0]); k++)
			if (strcmp(columns[k].name, low) == 0 && (x->j->edit ? columns[k].edit : columns[k].create))
				break;
		if (k == sizeof(columns) / sizeof(columns[0])) {
			err_add(x, rec->line, (int)i, NULL, "unknown_column", x->colname[i]);
			continue;
		}
		x->col[i] = columns[k].col;
		x->colname[i] = columns[k].name;
		if (have[columns[k].col] && columns[k].col != C_INFO) {
			err_add(x, rec->line, (int)i, NULL, "duplicate_column", columns[k].name);
			x->col[i] = C_NONE;
			continue;
		}
		have[columns[k].col] = true;
	}
	if (!have[C_NAME])
		err_add(x, rec->line, -1, NULL, "missing_column", "mail_account");
	if (!x->j->edit && !have[C_PASSWORD])
		err_add(x, rec->line, -1, NULL, "missing_column", "password");
	/* A missing column's error names it, though it has no position in the file. */
	for (i = 0; i < x->nerrs; i++)
		if (!strcmp(x->errs[i].code, "missing_column"))
			x->errs[i].column = !strcmp(x->errs[i].arg, "password") ? "password" : "mail_account";
}

static void
rule_errs_add(struct imp *x, size_t line, int colpos, const char *field, const struct rule_errs *re)
{
	size_t i;

	for (i = 0; i < re->n; i++)
		err_add(x, line, colpos, field, re->e[i].code, re->e[i].arg);
}

static struct row *
new_row(struct imp *x)
{
	struct row *r;

	if (x->nrows == x->caprows) {
		size_t cap = x->caprows ? x->caprows * 2 : 256;
		struct row *n = realloc(x->rows, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		x->rows = n;
		x->caprows = cap;
	}
	r = &x->rows[x->nrows++];
	memset(r, 0, sizeof(*r));
	r->spam = r->pop = -1;
	atomic_init(&r->state, RS_PENDING);
	return r;
}

/* One data record: every rule of the single-account form (api/accounts.c), every broken one
 * reported. Names are checked against the database afterwards (check_names). */
static void
read_row(struct imp *x, const struct csv_record *rec)
{
	struct row *r = new_row(x);
	const char *raw_name = NULL;
	int name_pos = -1;
	size_t i;

	if (r == NULL) {
		err_file(x, "oom", NULL);
		return;
	}
	r->line = rec->line;
	for (i = 0; i < rec->ncells; i++) {
		const char *s = rec->cell[i];
		size_t len = rec->len[i];
		int pos = (int)i;
		struct rule_errs re = { .n = 0 };

		if (i >= x->ncols) {
			if (len > 0) {
				err_add(x, rec->line, -1, NULL, "extra_cells", NULL);
				break;
			}
			continue;
		}
		switch (x->col[i]) {
		case C_NONE:
			if (len > 0)
				err_add(x, rec->line, -1, NULL, "extra_cells", NULL);
			break;
		case C_INFO:
			break;
		case C_NAME:
			trim(&s, &len);
			name_pos = pos;
			if (len == 0) {
				err_add(x, rec->line, pos, "mail_account", "required", NULL);
				break;
			}
			raw_name = arena_strndup(x->ar, s, len);
			if (raw_name == NULL) {
				err_file(x, "oom", NULL);
				return;
			}
			if (!rule_account_name(raw_name, "mail_account", &re)) {
				rule_errs_add(x, rec->line, pos, "mail_account", &re);
				break;
			}
			{
				char low[64];

				if (!rule_lower(raw_name, low, sizeof(low)) ||
				    (r->name = arena_strdup(x->ar, low)) == NULL) {
					err_file(x, "oom", NULL);
					return;
				}
			}
			break;
		case C_PASSWORD:
			if (len > 0 && (r->password = arena_strndup(x->ar, s, len)) == NULL) {
				err_file(x, "oom", NULL);
				return;
			}
			break;
		case C_QUOTA:
			trim(&s, &len);
			if (len > 0) {
				char q[24];

				if (len >= sizeof(q) || !bsnprintf(q, sizeof(q), "%.*s", (int)len, s) ||
				    !parse_i64(q, 1, 2147483647, &r->quota) || q[0] == '+' || q[0] == '-')
					err_add(x, rec->line, pos, "mail_capacity", "bad_quota", NULL);
			}
			break;
		case C_COMMENT:
			if (len > 0) {
				if (csv_utf8_chars(s, len) > COMMENT_MAX)
					err_add(x, rec->line, pos, "comment", "too_long", NULL);
				else if ((r->comment = arena_strndup(x->ar, s, len)) == NULL) {
					err_file(x, "oom", NULL);
					return;
				}
			}
			break;
		case C_SPAM:
		case C_POP:
			trim(&s, &len);
			if (len == 0)
				break;
			if (len != 1 || (s[0] != '0' && s[0] != '1')) {
				err_add(x, rec->line, pos, x->colname[i], "bad_flag", NULL);
				break;
			}
			if (x->col[i] == C_SPAM)
				r->spam = (signed char)(s[0] - '0');
			else
				r->pop = (signed char)(s[0] - '0');
			break;
		case C_NCOLS:
			break;
		}
	}
	/* A row shorter than the header: its missing cells are empty. */
	if (name_pos < 0) {
		for (i = 0; i < x->ncols; i++)
			if (x->col[i] == C_NAME)
				err_add(x, rec->line, (int)i, "mail_account", "required", NULL);
	}
	if (!x->j->edit && r->password == NULL) {
		for (i = 0; i < x->ncols; i++)
			if (x->col[i] == C_PASSWORD)
				err_add(x, rec->line, (int)i, "password", "required", NULL);
	}
	if (r->password != NULL) {
		struct rule_errs re = { .n = 0 };
		int pw_pos = -1;

		for (i = 0; i < x->ncols; i++)
			if (x->col[i] == C_PASSWORD)
				pw_pos = (int)i;
		/* With a broken name the password is still checked, against the name as written. */
		if (!rule_password(r->password, r->name ? r->name : raw_name, x->j->domain, NULL,
		    "password", &re))
			rule_errs_add(x, rec->line, pw_pos, "password", &re);
	}
	if (r->name != NULL) {
		json_t *prev = json_object_get(x->seen, r->name);

		if (prev != NULL) {
			char arg[24];

			bsnprintf(arg, sizeof(arg), "%zu", x->rows[json_integer_value(prev)].line);
			err_add(x, rec->line, name_pos, "mail_account", "duplicate", arg);
			r->name = NULL;    /* the first row stands for the name */
		} else {
			json_object_set_new(x->seen, r->name, json_integer((json_int_t)(x->nrows - 1)));
		}
	}
}

static bool
all_empty(const struct csv_record *rec)
{
	size_t i;

	for (i = 0; i < rec->ncells; i++) {
		const char *s = rec->cell[i];
		size_t len = rec->len[i];

		trim(&s, &len);
		if (len > 0)
			return false;
	}
	return true;
}

/* The whole file into rows and errors. */
static void
parse(struct imp *x)
{
	struct csv_reader *rd;
	struct csv_record rec;
	const char *code = NULL;
	int rc;

	if (csv_decode(x->j->input, x->j->input_len, &x->text, &x->text_len, &x->cs, &code) != 0) {
		err_file(x, code, NULL);
		return;
	}
	if ((rd = csv_open(x->text, x->text_len)) == NULL) {
		err_file(x, "oom", NULL);
		return;
	}
	/* The header: the first record that is not empty lines. */
	while ((rc = csv_next(rd, &rec)) == 1 && all_empty(&rec))
		;
	if (rc == 0) {
		err_file(x, "empty", x->j->edit ? "mail_account,password,mail_capacity" :
		    "mail_account,password,mail_capacity,comment");
	} else if (rc < 0) {
		err_reader(x, rd);
	} else {
		read_header(x, &rec);
		while ((rc = csv_next(rd, &rec)) == 1) {
			if (!all_empty(&rec))
				read_row(x, &rec);
		}
		if (rc < 0)
			err_reader(x, rd);
	}
	csv_free(&rd);
}

/* The names of the file's valid rows, as a JSON array text (free()). */
static char *
names_json(struct imp *x)
{
	json_t *a = json_array();
	char *s;
	size_t i;

	for (i = 0; i < x->nrows; i++)
		if (x->rows[i].name != NULL)
			json_array_append_new(a, json_string(x->rows[i].name));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static struct row *
row_of(struct imp *x, const char *name)
{
	json_t *v = json_object_get(x->seen, name);

	return v ? &x->rows[json_integer_value(v)] : NULL;
}

static int
name_pos(struct imp *x)
{
	size_t i;

	for (i = 0; i < x->ncols; i++)
		if (x->col[i] == C_NAME)
			return (int)i;
	return -1;
}

/* Create: a taken name rejects the file (system_account for postmaster). Edit: the accounts
 * found are noted; the others are skipped. 0, or -1 on a database fault. */
static int
check_names(struct imp *x)
{
	struct db_res *r = NULL;
	char *names = names_json(x);
	int i, rc = -1, pos = name_pos(x);

	if (names == NULL)
		return -1;
	if (db_runv(x->j->db, x->j->edit ? &st_existing : &st_taken, &r, x->domain_id, names) != DB_OK)
		goto out;
	for (i = 0; i < db_rows(r); i++) {
		struct row *row = row_of(x, db_val(r, i, x->j->edit ? 1 : 0));

		if (row == NULL)
			continue;
		if (x->j->edit) {
			row->id = db_i64(r, i, 0);
			if ((row->cur_hash = arena_strdup(x->ar, db_val(r, i, 2))) == NULL)
				goto out;
		} else {
			err_add(x, row->line, pos, "mail_account", db_bool(r, i, 1) ? "system_account" : "exists", NULL);
		}
	}
	rc = 0;
out:
	free(names);
	db_res_free(&r);
	return rc;
}

/* The hashing pool: nproc threads take rows in order; the import thread writes the rows
 * hashed so far in batches while they work. For an edit the current password is checked
 * first (SPEC §2: a new password must differ from it). */
struct pool {
	struct row *rows;
	size_t n;
	bool edit, hash;
	atomic_size_t next, finished;
	atomic_bool *stop;
};

static bool
row_needs_hash(const struct pool *p, const struct row *r)
{
	return r->password != NULL && r->name != NULL && (!p->edit || r->id != 0);
}

static void *
pool_main(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;
		struct row *r;
		int st = RS_OK;

		if (atomic_load(p->stop))
			break;
		i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		r = &p->rows[i];
		if (row_needs_hash(p, r)) {
			if (p->edit && r->cur_hash != NULL) {
				int v = pw_verify(r->password, r->cur_hash);

				st = v == 1 ? RS_SAME : v < 0 ? RS_FAIL : RS_OK;
			}
			if (st == RS_OK && p->hash && pw_hash(r->password, r->hash) != 0)
				st = RS_FAIL;
		}
		atomic_store(&r->state, st);
		atomic_fetch_add(&p->finished, 1);
	}
	return NULL;
}

int
csv_job_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static json_t *
fields_json(const struct row *r)
{
	json_t *f = json_array();

	if (r->password)
		json_array_append_new(f, json_string("password"));
	if (r->quota)
		json_array_append_new(f, json_string("quota_mb"));
	if (r->comment)
		json_array_append_new(f, json_string("comment"));
	if (r->spam >= 0)
		json_array_append_new(f, json_string("spam_tag"));
	if (r->pop >= 0)
		json_array_append_new(f, json_string("receive"));
	return f;
}

/* Rows [a, b) into the open import transaction. 0, or -1 (DB_CONFLICT in *conflict_r). */
static int
write_batch(struct imp *x, size_t a, size_t b, bool *conflict_r)
{
	json_t *rows = json_array(), *audit = json_array();
	char *rs = NULL, *as = NULL, now[32];
	enum db_status s = DB_OK;
	size_t i;
	int rc = -1;

	if (rows == NULL || audit == NULL)
		goto out;
	for (i = a; i < b; i++) {
		const struct row *r = &x->rows[i];

		if (r->name == NULL)
			continue;
		if (!x->j->edit) {
			int64_t q = r->quota ? r->quota : x->default_quota;

			json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:s}", "n", r->name, "h", r->hash,
			    "q", (json_int_t)q, "c", r->comment ? r->comment : ""));
			json_array_append_new(audit, json_pack("{s:s, s:{s:I}}", "n", r->name, "d", "quota_mb",
			    (json_int_t)q));
			x->created++;
		} else if (r->id == 0) {
			x->skipped++;
		} else if (!r->password && !r->quota && !r->comment && r->spam < 0 && r->pop < 0) {
			x->unchanged++;
		} else {
			json_array_append_new(rows, json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
			    "id", (json_int_t)r->id, "n", r->name,
			    "h", r->password ? json_string(r->hash) : json_null(),
			    "q", r->quota ? json_integer((json_int_t)r->quota) : json_null(),
			    "c", r->comment ? json_string(r->comment) : json_null(),
			    "s", r->spam >= 0 ? json_boolean(r->spam) : json_null(),
			    "r", r->pop >= 0 ? json_boolean(r->pop) : json_null(), "f", fields_json(r)));
		}
	}
	if (json_array_size(rows) == 0) {
		rc = 0;
		goto out;
	}
	rs = json_dumps(rows, JSON_COMPACT);
	as = json_dumps(audit, JSON_COMPACT);
	if (rs == NULL || as == NULL)
		goto out;
	clock_now_str(now, sizeof(now));
	if (x->j->edit) {
		struct db_res *r = NULL;

		s = db_runv(x->j->db, &st_edit, &r, rs, now, x->j->domain, x->j->actor, x->j->actor_role,
		    x->j->remote_addr, x->j->id_s);
		if (s == DB_OK) {
			size_t changed = (size_t)db_i64(r, 0, 0);

			x->updated += changed;
			x->skipped += json_array_size(rows) - changed;
		}
		db_res_free(&r);
	} else if ((s = db_runv(x->j->db, &st_insert, NULL, x->domain_id, rs)) == DB_OK) {
		s = db_runv(x->j->db, &st_audit, NULL, now, x->j->domain, x->j->actor, x->j->actor_role,
		    "account_create", x->j->remote_addr, x->j->id_s, as);
	}
	*conflict_r = s == DB_CONFLICT;
	rc = s == DB_OK ? 0 : -1;
out:
	if (rs != NULL) {
		explicit_bzero(rs, strlen(rs));
		free(rs);
	}
	free(as);
	json_decref(rows);
	json_decref(audit);
	return rc;
}

/* Hash (or, dry run, only check) every row on every core, writing batches as they are
 * ready. CSV_DONE when every row is written (or checked), CSV_FAILED with errors added. */
static enum csv_outcome
hash_and_write(struct imp *x)
{
	struct pool p;
	pthread_t th[64];
	int nth = csv_job_threads(), started = 0, i;
	size_t written = 0, ready = 0, k;
	bool bad = false, conflict = false, db_fault = false, lost = false;
	enum csv_outcome o = CSV_DONE;

	memset(&p, 0, sizeof(p));
	p.rows = x->rows;
	p.n = x->nrows;
	p.edit = x->j->edit;
	p.hash = !x->j->dry_run;
	p.stop = x->j->stop;
	atomic_init(&p.next, 0);
	atomic_init(&p.finished, 0);
	for (i = 0; i < nth; i++) {
		if (pthread_create(&th[started], NULL, pool_main, &p) != 0)
			break;
		started++;
	}
	if (started == 0)
		(void)pool_main(&p);    /* no thread to be had: this one does the work */
	log_info("csv: job %s: %zu rows, %d hashing threads", x->j->id_s, x->nrows, started);
	for (;;) {
		size_t fin = atomic_load(&p.finished);
		bool all = fin >= p.n;

		while (ready < p.n && atomic_load(&x->rows[ready].state) != RS_PENDING) {
			if (atomic_load(&x->rows[ready].state) != RS_OK)
				bad = true;
			ready++;
		}
		/* New accounts go in while hashing goes on: uncommitted, they hold only their
		 * names. Changed accounts are written at the end: an UPDATE locks its row until
		 * commit, and maild updates usage on delivery. */
		while (!x->j->dry_run && !bad && !db_fault && ready > written &&
		    (x->j->edit ? all : (ready - written >= CSV_JOB_BATCH || all))) {
			size_t to = ready - written > CSV_JOB_BATCH ? written + CSV_JOB_BATCH : ready;

			if (write_batch(x, written, to, &conflict) != 0)
				db_fault = true;
			written = to;
		}
		x->j->done = (int64_t)fin;
		if (csv_job_progress(x->j, all) != 0 && !lost)
			lost = true;
		if (all || lost || db_fault || atomic_load(x->j->stop))
			break;
		sleep_ms(50);
	}
	if (lost || db_fault) {
		/* Nothing more to do with this job here: let the pool run out quickly. */
		atomic_store(&p.next, p.n);
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (lost)
		return CSV_LOST;
	if (db_fault) {
		if (!conflict)
			return CSV_REQUEUE;
		/* A name was taken while the file was checked: find which, outside the failed
		 * transaction, and report them as on a fresh check. */
		db_rollback(x->j->db);
		if (check_names(x) != 0)
			return CSV_REQUEUE;
		if (x->nerrs == 0)
			err_file(x, "exists", NULL);
		return CSV_FAILED;
	}
	if (atomic_load(&p.finished) < p.n)
		return CSV_REQUEUE;     /* stopped */
	for (k = 0; k < p.n; k++) {
		int st = atomic_load(&x->rows[k].state);
		int pos = -1;

		if (st == RS_OK)
			continue;
		for (i = 0; i < (int)x->ncols; i++)
			if (x->col[i] == C_PASSWORD)
				pos = i;
		if (st == RS_SAME)
			err_add(x, x->rows[k].line, pos, "password", "same_as_current", NULL);
		else
			err_file(x, "oom", NULL);
		o = CSV_FAILED;
	}
	return o;
}

static json_t *
result_json(struct imp *x)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:b}",
	    "created", (json_int_t)x->created, "updated", (json_int_t)x->updated,
	    "unchanged", (json_int_t)x->unchanged, "skipped", (json_int_t)x->skipped,
	    "rows", (json_int_t)x->nrows, "charset", charset_name(x->cs), "dry_run", x->j->dry_run);
}

/* Dry run: what an import would do, counted without writing. */
static void
count_dry(struct imp *x)
{
	size_t i;

	for (i = 0; i < x->nrows; i++) {
		const struct row *r = &x->rows[i];

		if (!x->j->edit)
			x->created++;
		else if (r->id == 0)
			x->skipped++;
		else if (!r->password && !r->quota && !r->comment && r->spam < 0 && r->pop < 0)
			x->unchanged++;
		else
			x->updated++;
	}
}

static enum csv_outcome
commit(struct imp *x)
{
	struct db_res *r = NULL;
	char done[24], total[24], *res = NULL;
	json_t *rj = result_json(x);
	enum csv_outcome o = CSV_REQUEUE;

	bsnprintf(done, sizeof(done), "%zu", x->nrows);
	bsnprintf(total, sizeof(total), "%zu", x->nrows);
	res = rj ? json_dumps(rj, JSON_COMPACT) : NULL;
	if (res == NULL)
		goto out;
	if (db_notify_domain(x->j->db, x->j->domain) != DB_OK ||
	    db_runv(x->j->db, &st_done, &r, x->j->id_s, x->j->worker, done, total, res) != DB_OK)
		goto out;
	if (db_affected(r) != 1) {
		o = CSV_LOST;
		goto out;
	}
	if (db_commit(x->j->db) != DB_OK)
		goto out;
	x->j->done = x->j->total = (int64_t)x->nrows;
	o = CSV_DONE;
out:
	if (o != CSV_DONE)
		db_rollback(x->j->db);
	json_decref(x->j->result);
	x->j->result = rj;
	free(res);
	db_res_free(&r);
	return o;
}

enum csv_outcome
csv_job_run(struct csv_job *j)
{
	struct imp x;
	struct db_res *r = NULL;
	enum csv_outcome o = CSV_REQUEUE;

	memset(&x, 0, sizeof(x));
	x.j = j;
	x.ar = arena_new("csv_import");
	x.seen = json_object();
	if (x.ar == NULL || x.seen == NULL)
		goto out;
	if (db_begin(j->db) != DB_OK)
		goto out;
	if (db_runv(j->db, &st_domain, &r, j->domain) != DB_OK)
		goto out;
	if (db_rows(r) != 1) {
		err_file(&x, "no_domain", j->domain);
	} else {
		bstrcpy(x.domain_id, sizeof(x.domain_id), db_val(r, 0, 0));
		x.default_quota = db_i64(r, 0, 1);
		parse(&x);
		j->total = (int64_t)x.nrows;
		j->done = 0;
		(void)csv_job_progress(j, true);
		if (x.nrows > 0 && check_names(&x) != 0)
			goto out;
		if (x.nerrs == 0 && x.nrows == 0 && x.ncols > 0)
			err_file(&x, "no_rows", NULL);
	}
	if (x.nerrs == 0 && !x.errs_full) {
		o = hash_and_write(&x);
		if (o == CSV_DONE && j->dry_run) {
			count_dry(&x);
			j->result = result_json(&x);
			j->done = j->total;
			db_rollback(j->db);
		} else if (o == CSV_DONE) {
			o = commit(&x);
		}
	} else {
		o = CSV_FAILED;
	}
	if (o == CSV_FAILED) {
		j->errors = errors_json(&x);
		if (j->result == NULL) {
			x.created = x.updated = x.unchanged = x.skipped = 0;
			j->result = result_json(&x);
		}
	}
out:
	db_rollback(j->db);
	db_res_free(&r);
	if (x.text != NULL) {
		explicit_bzero(x.text, x.text_len);
		free(x.text);
	}
	if (x.rows != NULL) {
		explicit_bzero(x.rows, x.caprows * sizeof(*x.rows));
		free(x.rows);
	}
	free(x.errs);
	json_decref(x.seen);
	arena_free(&x.ar);
	return o;
}
