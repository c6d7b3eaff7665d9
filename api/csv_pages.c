/* api/csv_pages.c: the CSV pages of a domain (SPEC §7): downloads, the upload form, the
 * server-rendered confirmation before an import, and the job page (progress, final report).
 * The imports and the job object are api/csv.c's and api/jobs.c's, reached through their
 * route rows, so these pages add no second way of doing the work. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/ref.h"
#include "core/csv.h"
#include "core/i18n.h"
#include "core/util.h"

/* The tables of api/csv.c and api/jobs.c (cgi/routes.h declares them for the router too). */
extern const struct api_route api_routes_csv[] __attribute__((weak));
extern const struct api_route api_routes_jobs[] __attribute__((weak));

/* Names shown on the confirmation page before the import starts. */
#define CSV_PAGES_PREVIEW 10
/* Seconds between reloads of a running job's page (without JavaScript). */
#define CSV_PAGES_REFRESH 1

static const struct db_stmt st_job_extra = {
	"csv_pages_job_extra",
	"SELECT domain, kind, params, result, state, done, total, errors FROM jobs WHERE id = $1::bigint", 1
};

static api_handler
row_fn(const struct api_route *table, const char *method, const char *path)
{
	const struct api_route *r;

	for (r = table; r != NULL && r->method != NULL; r++)
		if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
			return r->fn;
	return NULL;
}

/* 422 with one detail whose message comes from our catalog (csv_err_<code>). */
static int
fail_page(struct api_ctx *c, const char *field, const char *code)
{
	char key[96];
	const char *msg;

	if (!bsnprintf(key, sizeof(key), "csvpage_err_%s", code))
		return api_unavailable(c);
	msg = i18n_get(c->lang, key);
	if (strcmp(msg, key) == 0)
		msg = i18n_get(c->lang, "csvpage_err_unreadable");
	return api_ok(c, 422, json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:s}]}}", "error", "code", "invalid",
	    "message", msg, "details", "field", field, "code", code, "message", msg));
}

/* mode field: "create" or "edit"; NULL otherwise. */
static const char *
read_mode(struct api_ctx *c)
{
	const char *m = api_in_str(c, "mode");

	if (m == NULL)
		m = json_string_value(json_object_get(c->query, "mode"));
	if (m != NULL && (strcmp(m, "create") == 0 || strcmp(m, "edit") == 0))
		return m;
	return NULL;
}

/* The upload form's choices again after a refusal. */
static int
with_form(struct api_ctx *c, int status, const char *mode)
{
	if (json_is_object(c->out)) {
		json_object_set_new(c->out, "mode_edit", json_boolean(mode && strcmp(mode, "edit") == 0));
		json_object_set_new(c->out, "dry_run", json_boolean(api_in_bool(c, "dry_run") == 1));
	}
	return status;
}

/* GET /domains/{d}/csv: downloads and the upload form. */
static int
csv_page(struct api_ctx *c)
{
	struct domain_ref dom;
	const char *mode = read_mode(c);
	int status;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	return api_ok(c, 200, json_pack("{s:s, s:b, s:b}", "domain", dom.name, "mode_edit",
	    mode != NULL && strcmp(mode, "edit") == 0, "dry_run", 0));
}

/* POST /domains/{d}/csv/confirm (multipart: file, mode, dry_run): reads the file as the
 * job will (encoding, records) and shows what is about to happen; nothing is written. The
 * confirmation form carries the file on, as UTF-8 text, to POST /domains/{d}/csv/run. */
static int
csv_confirm(struct api_ctx *c)
{
	struct domain_ref dom;
	const char *mode = read_mode(c), *code = NULL;
	char *text = NULL;
	size_t tlen = 0, rows = 0;
	enum csv_charset cs = CSV_UTF8;
	struct csv_reader *rd;
	struct csv_record rec;
	json_t *preview, *conf;
	bool header = true;
	int status, rc;

	if ((status = api_domain_ref(c, &dom)) != 0)
		return status;
	if (mode == NULL)
		return with_form(c, fail_page(c, "mode", "mode"), mode);
	/* Without a part named `file` the body is the whole multipart message. */
	if (c->body == NULL || c->body_len == 0 || (c->content_type != NULL &&
	    strncasecmp(c->content_type, "multipart/", 10) == 0 && c->body_len >= 2 &&
	    c->body[0] == '-' && c->body[1] == '-'))
		return with_form(c, fail_page(c, "file", "missing"), mode);
	if (csv_decode(c->body, c->body_len, &text, &tlen, &cs, &code) != 0)
		return with_form(c, strcmp(code, "oom") == 0 ? api_unavailable(c) : fail_page(c, "file", code), mode);
	rd = csv_open(text, tlen);
	if (rd == NULL) {
		free(text);
		return api_unavailable(c);
	}
	preview = json_array();
	while ((rc = csv_next(rd, &rec)) == 1) {
		size_t i;
		bool empty = true;

		for (i = 0; i < rec.ncells; i++)
			empty = empty && rec.len[i] == 0;
		if (empty)
			continue;
		if (header) {
			header = false;
			continue;
		}
		if (++rows <= CSV_PAGES_PREVIEW)
			json_array_append_new(preview, json_string(rec.cell[0]));
	}
	if (rc < 0) {
		const char *ec = csv_err_code(rd);
		size_t line = csv_err_line(rd);

		csv_free(&rd);
		free(text);
		json_decref(preview);
		if (strcmp(ec, "oom") == 0)
			return api_unavailable(c);
		status = with_form(c, fail_page(c, "file", ec), mode);
		json_object_set_new(c->out, "bad_line", json_integer((json_int_t)line));
		return status;
	}
	csv_free(&rd);
	conf = json_pack("{s:s, s:s, s:b, s:b, s:b, s:I, s:o, s:b, s:s, s:b}", "domain", dom.name,
	    "mode", mode, "is_create", strcmp(mode, "create") == 0, "is_edit", strcmp(mode, "edit") == 0,
	    "dry_run", api_in_bool(c, "dry_run") == 1, "rows", (json_int_t)rows, "preview", preview,
	    "more", rows > CSV_PAGES_PREVIEW, "charset", cs == CSV_CP932 ? "Shift_JIS (CP932)" :
	    cs == CSV_UTF8_BOM ? "UTF-8 (BOM)" : "UTF-8", "no_rows", rows == 0);
	if (conf == NULL || json_object_set_new(conf, "text", json_stringn(text, tlen)) != 0 ||
	    json_object_get(conf, "text") == NULL) {
		json_decref(conf);
		free(text);
		return api_unavailable(c);
	}
	free(text);
	return api_ok(c, 200, json_pack("{s:o}", "confirm", conf));
}

/* POST /domains/{d}/csv/run (multipart: file, mode, dry_run): the confirmed upload, handed
 * to the import of the API (POST /domains/{d}/csv/create|edit); its job page follows. */
static int
csv_run(struct api_ctx *c)
{
	const char *mode = read_mode(c);
	json_t *job;
	api_handler fn;
	int status, dry = api_in_bool(c, "dry_run");

	if (mode == NULL)
		return with_form(c, fail_page(c, "mode", "mode"), mode);
	fn = row_fn(api_routes_csv, "POST", strcmp(mode, "create") == 0 ? "/domains/{d}/csv/create" :
	    "/domains/{d}/csv/edit");
	if (fn == NULL)
		return with_form(c, api_unavailable(c), mode);
	json_object_set_new(c->query, "dry_run", json_string(dry == 1 ? "1" : "0"));
	json_object_del(c->in, "mode");
	status = fn(c);
	if (status != 202)
		return with_form(c, status, mode);
	job = json_object_get(json_object_get(c->out, "job"), "id");
	if (!json_is_integer(job))
		return api_unavailable(c);
	c->location = arena_printf(c->arena, "/admin/jobs/%lld", (long long)json_integer_value(job));
	return status;
}

/* The job object when api/jobs.c is not linked in: the same fields from the row. */
static int
job_from_row(struct api_ctx *c, const char *id_s, struct db_res *r)
{
	json_error_t e;
	json_t *errors = json_loads(db_val(r, 0, 7), 0, &e);
	int64_t id = 0;

	(void)parse_i64(id_s, 1, INT64_MAX, &id);
	if (!api_in_scope(c, db_val(r, 0, 0))) {
		json_decref(errors);
		return api_fail(c, 403, "forbidden", NULL);
	}
	return api_ok(c, 200, json_pack("{s:I, s:s, s:s, s:I, s:I, s:o}", "id", (json_int_t)id, "kind",
	    db_val(r, 0, 1), "state", db_val(r, 0, 4), "done", (json_int_t)db_i64(r, 0, 5), "total",
	    (json_int_t)db_i64(r, 0, 6), "errors", errors ? errors : json_array()));
}

/* A count of the job's result object ({created|updated|unchanged|skipped: N}); -1 when absent. */
static json_int_t
result_count(json_t *result, const char *key)
{
	json_t *v = json_object_get(result, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* A job parameter that says yes: true, a non-zero number, "1". */
static bool
flag(json_t *v)
{
	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0) ||
	    (json_is_string(v) && strcmp(json_string_value(v), "1") == 0);
}

/* GET /jobs/{id} as a page: the job object of GET /api/v1/jobs/{id}, a progress bar that
 * reloads while the job runs, and the final report. */
static int
csv_job(struct api_ctx *c)
{
	const char *id_s = api_param(c, "id"), *state, *domain, *kind;
	struct db_res *r = NULL;
	json_t *out, *params = NULL, *result = NULL;
	json_error_t e;
	json_int_t done, total, n;
	api_handler fn = row_fn(api_routes_jobs, "GET", "/jobs/{id}");
	int64_t id;
	int status;

	if (id_s == NULL || !parse_i64(id_s, 1, INT64_MAX, &id))
		return api_fail(c, 404, "not_found", NULL);
	if (db_runv(c->db, &st_job_extra, &r, id_s) != DB_OK)
		return api_unavailable(c);
	if (db_rows(r) != 1 || db_null(r, 0, 0)) {
		db_res_free(&r);
		return api_fail(c, 404, "not_found", NULL);
	}
	/* Scope first, as everywhere: another domain's job is 403 whether or not it exists. */
	if (!api_in_scope(c, db_val(r, 0, 0))) {
		db_res_free(&r);
		return api_fail(c, 403, "forbidden", NULL);
	}
	status = fn != NULL ? fn(c) : job_from_row(c, id_s, r);
	if (status != 200 || !json_is_object(c->out)) {
		db_res_free(&r);
		return status;
	}
	out = c->out;
	domain = arena_strdup(c->arena, db_val(r, 0, 0));
	kind = json_string_value(json_object_get(out, "kind"));
	if (kind == NULL)
		kind = arena_strdup(c->arena, db_val(r, 0, 1));
	params = json_loads(db_val(r, 0, 2), 0, &e);
	if (!db_null(r, 0, 3))
		result = json_loads(db_val(r, 0, 3), 0, &e);
	db_res_free(&r);
	state = json_string_value(json_object_get(out, "state"));
	if (state == NULL)
		state = "queued";
	done = json_integer_value(json_object_get(out, "done"));
	total = json_integer_value(json_object_get(out, "total"));
	json_object_set_new(out, "dry_run", json_boolean(flag(json_object_get(params, "dry_run")) ||
	    flag(json_object_get(result, "dry_run"))));
	json_object_set_new(out, "domain", json_string(domain));
	json_object_set_new(out, "is_create", json_boolean(strcmp(kind, "csv_create") == 0));
	json_object_set_new(out, "is_edit", json_boolean(strcmp(kind, "csv_edit") == 0));
	json_object_set_new(out, "is_queued", json_boolean(strcmp(state, "queued") == 0));
	json_object_set_new(out, "is_running", json_boolean(strcmp(state, "running") == 0));
	json_object_set_new(out, "is_done", json_boolean(strcmp(state, "done") == 0));
	json_object_set_new(out, "is_failed", json_boolean(strcmp(state, "failed") == 0));
	json_object_set_new(out, "percent", json_integer(total > 0 ? (done * 100) / total : 0));
	json_object_set_new(out, "error_count", json_integer((json_int_t)json_array_size(
	    json_object_get(out, "errors"))));
	if (!strcmp(state, "queued") || !strcmp(state, "running")) {
		json_object_set_new(out, "active", json_true());
		json_object_set_new(out, "page_refresh", json_integer(CSV_PAGES_REFRESH));
		json_object_set_new(out, "page_script", json_string("csv_job.js"));
	}
	/* The report: what the worker counted, else the rows it went through. */
	n = result_count(result, strcmp(kind, "csv_edit") == 0 ? "updated" : "created");
	json_object_set_new(out, "changed", json_integer(n >= 0 ? n : done));
	if ((n = result_count(result, "skipped")) > 0)
		json_object_set_new(out, "skipped", json_integer(n));
	if ((n = result_count(result, "unchanged")) > 0)
		json_object_set_new(out, "unchanged", json_integer(n));
	json_decref(params);
	json_decref(result);
	/* The domain's navigation on the page, as on the domain's other pages. */
	if (c->nparams < API_MAX_PARAMS) {
		c->params[c->nparams].name = "d";
		c->params[c->nparams].value = domain;
		c->nparams++;
	}
	return 200;
}

const struct api_route api_routes_extra3[] = {
	{ "GET", "/domains/{d}/csv", csv_page, R_ADMIN | R_NOSUPPORT | R_HTML, "admin/csv.html", NULL },
	{ "POST", "/domains/{d}/csv/confirm", csv_confirm, R_ADMIN | R_NOSUPPORT | R_HTML | R_RENDER,
	  "admin/csv_confirm.html", NULL },
	{ "POST", "/domains/{d}/csv/run", csv_run, R_ADMIN | R_NOSUPPORT | R_HTML, "admin/csv.html", NULL },
	{ "GET", "/jobs/{id}", csv_job, R_ADMIN | R_NOSUPPORT | R_HTML, "admin/csv_job.html", NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
