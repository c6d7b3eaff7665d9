/* tests/unit/test_tmpl.c: core/tmpl (syntax, escaping, sections, partials, limits) and core/i18n. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/i18n.h"
#include "core/tmpl.h"
#include "tests/unit/check.h"

#ifndef YUBIN_SOURCE_DIR
#error "YUBIN_SOURCE_DIR (the repository root) must be defined"
#endif

/* Rendering rows: template, data (JSON text), expected output; want NULL means render fails. */
static const struct {
	const char *src, *data, *want;
} renders[] = {
	/* escaping: all five, ' as &#x27;; raw only through {{&}} */
	{ "{{v}}", "{\"v\":\"&<>\\\"'\"}", "&amp;&lt;&gt;&quot;&#x27;" },
	{ "{{& v}}", "{\"v\":\"<b>&'\"}", "<b>&'" },
	{ "{{&v}}|{{ v }}", "{\"v\":\"<i>\"}", "<i>|&lt;i&gt;" },
	{ "a{{v}}b", "{\"v\":\"\"}", "ab" },
	/* text is kept exactly, single braces included */
	{ "  line 1\n\n\t{ x } }} {\n", "{}", "  line 1\n\n\t{ x } }} {\n" },
	{ "", "{}", "" },
	/* scalars */
	{ "{{i}} {{n}} {{r}} {{s}} {{t}} [{{f}}] [{{z}}] [{{o}}] [{{a}}] [{{missing}}]",
	  "{\"i\":42,\"n\":-7,\"r\":0.5,\"s\":\"x\",\"t\":true,\"f\":false,\"z\":null,"
	  "\"o\":{\"k\":1},\"a\":[1]}",
	  "42 -7 0.5 x true [] [] [] [] []" },
	{ "{{r}}", "{\"r\":0.1}", "0.1" },
	{ "{{r}}", "{\"r\":1e300}", "1e+300" },
	/* sections over arrays, objects, booleans and the false family */
	{ "{{#l}}[{{.}}]{{/l}}", "{\"l\":[1,\"a<\",true]}", "[1][a&lt;][true]" },
	{ "{{#l.0}}<ul>{{#l}}[{{.}}]{{/l}}</ul>{{/l.0}}{{^e.0}}none{{/e.0}}{{l.1}}{{l.9}}{{l.x}}",
	  "{\"l\":[\"a\",\"b\"],\"e\":[]}", "<ul>[a][b]</ul>noneb" },
	{ "{{#l}}<{{name}}>{{/l}}", "{\"l\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", "<a><b>" },
	{ "{{#u}}{{name}}@{{dom}}{{/u}}", "{\"u\":{\"name\":\"taro\",\"dom\":\"ex.jp\"}}",
	  "taro@ex.jp" },
	{ "{{#t}}yes{{/t}}{{#f}}no{{/f}}", "{\"t\":true,\"f\":false}", "yes" },
	{ "{{#s}}[{{.}}]{{/s}}", "{\"s\":\"str\"}", "[str]" },
	{ "{{#n}}[{{.}}]{{/n}}", "{\"n\":3}", "[3]" },
	{ "{{#a}}x{{/a}}{{#b}}x{{/b}}{{#c}}x{{/c}}{{#d}}x{{/d}}{{#e}}x{{/e}}{{#g}}x{{/g}}{{#zz}}x{{/zz}}",
	  "{\"a\":false,\"b\":null,\"c\":[],\"d\":\"\",\"e\":0,\"g\":0.0}", "" },
	{ "{{#o}}x{{/o}}", "{\"o\":{}}", "x" },
	/* inverted */
	{ "{{^a}}A{{/a}}{{^b}}B{{/b}}{{^c}}C{{/c}}{{^d}}D{{/d}}{{^e}}E{{/e}}{{^zz}}Z{{/zz}}",
	  "{\"a\":false,\"b\":null,\"c\":[],\"d\":\"\",\"e\":0}", "ABCDEZ" },
	{ "{{^l}}none{{/l}}{{^t}}no{{/t}}", "{\"l\":[1],\"t\":true}", "" },
	/* the context stack: inner first, outer names still visible */
	{ "{{#items}}{{name}}@{{domain}};{{/items}}",
	  "{\"domain\":\"ex.jp\",\"items\":[{\"name\":\"a\"},{\"name\":\"b\",\"domain\":\"b.jp\"}]}",
	  "a@ex.jp;b@b.jp;" },
	{ "{{#a}}{{#b}}{{x}}{{y}}{{z}}{{/b}}{{/a}}",
	  "{\"x\":1,\"a\":{\"y\":2,\"b\":{\"z\":3}}}", "123" },
	{ "{{#l}}{{#l}}{{.}}{{/l}}|{{/l}}", "{\"l\":[1,2]}", "12|12|" },
	/* dotted names */
	{ "{{a.b.c}}|{{a.b}}|{{a.x.c}}|{{s.len}}", "{\"a\":{\"b\":{\"c\":\"deep\"}},\"s\":\"x\"}",
	  "deep|||" },
	{ "{{#a.b}}{{c}}{{/a.b}}", "{\"a\":{\"b\":{\"c\":\"in\"}}}", "in" },
	/* mustache: once "b" is found in the inner context, .c is not searched for outside */
	{ "{{#a}}[{{b.c}}]{{/a}}", "{\"a\":{\"b\":{}},\"b\":{\"c\":\"ERROR\"}}", "[]" },
	{ "{{t.login_title}}", "{\"t\":{\"login_title\":\"Sign in\"}}", "Sign in" },
	/* comments and partials without a set */
	{ "a{{! a comment with {{ inside }}b", "{}", "ab" },
	{ "[{{> partials/header}}]", "{}", "[]" },
	/* not an object at the root */
	{ "{{.}}|{{x}}", "\"root<\"", "root&lt;|" },
	/* too much work: sections nested over the same list */
	{ "{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}",
	  "{\"l\":[1,2,3,4,5,6,7,8,9,10]}", NULL },
};

/* Syntax rows: template and a piece the error message must contain. */
static const struct {
	const char *src, *want;
} syntax_errors[] = {
	{ "{{#a}}x", "line 1: {{#a}} is never closed" },
	{ "x\n\n{{^a}}\ny", "line 3: {{^a}} is never closed" },
	{ "{{#a}}\n{{/b}}", "line 2: {{/b}} where {{#a}} from line 1 should close" },
	{ "ok\n{{/a}}", "line 2: {{/a}} closes nothing" },
	{ "{{#a}}{{#b}}{{/a}}{{/b}}", "{{/a}} where {{#b}}" },
	{ "x {{name", "line 1: \"{{\" without \"}}\"" },
	{ "{{}}", "empty tag" },
	{ "{{ }}", "empty tag" },
	{ "{{&}}", "empty tag" },
	{ "{{{raw}}}", "write {{& name}}" },
	{ "{{=<% %>=}}", "delimiters" },
	{ "{{a..b}}", "bad name" },
	{ "{{.a}}", "bad name" },
	{ "{{a.}}", "bad name" },
	{ "{{a b}}", "bad name" },
	{ "{{#a<}}{{/a<}}", "bad name" },
	{ "{{> ../etc/passwd}}", "bad partial name" },
	{ "{{> /abs}}", "bad partial name" },
	{ "{{> a//b}}", "bad partial name" },
	{ "{{> a/./b}}", "bad partial name" },
};

static void
test_renders(void)
{
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(renders) / sizeof(renders[0]); i++) {
		json_error_t je;
		json_t *data = json_loads(renders[i].data, JSON_DECODE_ANY, &je);
		struct tmpl *t = tmpl_compile(renders[i].src, strlen(renders[i].src), err, sizeof(err));
		struct buf out;
		int rc;

		buf_init(&out);
		CHECK(data != NULL, "row %zu: bad JSON: %s", i, je.text);
		CHECK(t != NULL, "row %zu: %s: %s", i, renders[i].src, err);
		rc = t != NULL ? tmpl_render_compiled(t, data, &out) : -1;
		if (renders[i].want == NULL) {
			CHECK(rc == -1, "row %zu: %s: rendered though it should fail", i, renders[i].src);
		} else {
			CHECK(rc == 0, "row %zu: %s: render failed", i, renders[i].src);
			CHECK(rc == 0 && strcmp(out.data != NULL ? out.data : "", renders[i].want) == 0,
			    "row %zu: %s: got \"%s\", want \"%s\"", i, renders[i].src,
			    out.data != NULL ? out.data : "", renders[i].want);
		}
		buf_free(&out);
		tmpl_free(&t);
		CHECK(t == NULL, "tmpl_free NULLs");
		json_decref(data);
	}
}

static void
test_syntax_errors(void)
{
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(syntax_errors) / sizeof(syntax_errors[0]); i++) {
		struct tmpl *t;

		err[0] = '\0';
		t = tmpl_compile(syntax_errors[i].src, strlen(syntax_errors[i].src), err, sizeof(err));
		CHECK(t == NULL, "row %zu: %s compiled", i, syntax_errors[i].src);
		CHECK(strstr(err, syntax_errors[i].want) != NULL, "row %zu: %s: error \"%s\", want \"%s\"",
		    i, syntax_errors[i].src, err, syntax_errors[i].want);
		tmpl_free(&t);
	}
}

/* Sections nest at most TMPL_DEPTH_MAX deep: the limit compiles, one more does not. */
static void
test_depth(void)
{
	struct buf src, out;
	struct tmpl *t;
	char err[256];
	json_t *data = json_pack("{s:b}", "a", 1);
	int i, depth;

	for (depth = TMPL_DEPTH_MAX; depth <= TMPL_DEPTH_MAX + 1; depth++) {
		buf_init(&src);
		buf_init(&out);
		for (i = 0; i < depth; i++)
			CHECK(buf_adds(&src, "{{#a}}"), "oom");
		CHECK(buf_adds(&src, "x"), "oom");
		for (i = 0; i < depth; i++)
			CHECK(buf_adds(&src, "{{/a}}"), "oom");
		t = tmpl_compile(src.data, src.len, err, sizeof(err));
		if (depth == TMPL_DEPTH_MAX) {
			CHECK(t != NULL, "depth %d: %s", depth, err);
			CHECK(t != NULL && tmpl_render_compiled(t, data, &out) == 0, "depth %d", depth);
			CHECK_STR(out.data, "x");
		} else {
			CHECK(t == NULL && strstr(err, "nested deeper") != NULL, "depth %d: %s", depth, err);
		}
		tmpl_free(&t);
		buf_free(&src);
		buf_free(&out);
	}
	json_decref(data);
}

/* A loop that writes a lot stops at TMPL_OUT_MAX, long before TMPL_STEPS_MAX. */
static void
test_output_cap(void)
{
	json_t *data = json_loads("{\"l\":[0,1,2,3,4,5,6,7,8,9]}", 0, NULL);
	struct buf src, out;
	struct tmpl *t;
	char err[256];
	size_t i;

	buf_init(&src);
	buf_init(&out);
	CHECK(buf_adds(&src, "{{#l}}{{#l}}{{#l}}{{#l}}"), "oom");
	for (i = 0; i < 100 * 1024 && buf_addc(&src, 'x'); i++)
		;
	CHECK(!src.oom, "oom");
	CHECK(buf_adds(&src, "{{/l}}{{/l}}{{/l}}{{/l}}"), "oom");
	t = tmpl_compile(src.data, src.len, err, sizeof(err));
	CHECK(t != NULL, "%s", err);
	CHECK(t != NULL && tmpl_render_compiled(t, data, &out) == -1, "rendered %zu bytes", out.len);
	CHECK(out.len <= TMPL_OUT_MAX + 100 * 1024, "stopped at %zu bytes", out.len);
	tmpl_free(&t);
	buf_free(&src);
	buf_free(&out);
	json_decref(data);
}

static char tmpdir[] = "/tmp/test_tmpl.XXXXXX";

static void
put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	CHECK(snprintf(path, sizeof(path), "%s/%s", tmpdir, rel) < (int)sizeof(path), "path");
	f = fopen(path, "w");
	CHECK(f != NULL, "fopen %s", path);
	if (f != NULL) {
		CHECK(fputs(text, f) >= 0, "fputs %s", path);
		CHECK(fclose(f) == 0, "fclose %s", path);
	}
}

static void
sub(const char *rel)
{
	char path[512];

	CHECK(snprintf(path, sizeof(path), "%s/%s", tmpdir, rel) < (int)sizeof(path), "path");
	CHECK(mkdir(path, 0700) == 0, "mkdir %s", path);
}

static void
expect_render(const struct tmpl_set *ts, const char *name, json_t *data, const char *want)
{
	struct buf out;
	int rc;

	buf_init(&out);
	rc = tmpl_render(ts, name, data, &out);
	if (want == NULL) {
		CHECK(rc == -1, "%s rendered \"%s\"", name, out.data != NULL ? out.data : "");
	} else {
		CHECK(rc == 0, "%s: render failed", name);
		CHECK(rc == 0 && strcmp(out.data != NULL ? out.data : "", want) == 0,
		    "%s: got \"%s\", want \"%s\"", name, out.data != NULL ? out.data : "", want);
	}
	buf_free(&out);
}

struct job {
	const struct tmpl_set *ts;
	json_t *data;
	int bad;
};

static void *
render_many(void *arg)
{
	struct job *j = arg;
	struct buf out;
	int i;

	for (i = 0; i < 2000; i++) {
		buf_init(&out);
		if (tmpl_render(j->ts, "admin/page", j->data, &out) != 0 ||
		    strcmp(out.data, "<h1>yubin &amp; co</h1>\n<p>a&lt;</p>\n") != 0)
			j->bad++;
		buf_free(&out);
	}
	return NULL;
}

static void
test_set(void)
{
	struct tmpl_set *ts;
	char err[512], cmd[600];
	json_t *data, *tree;
	pthread_t th[4];
	struct job jobs[4];
	int i;

	CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
	sub("admin");
	sub("partials");
	sub("mail");
	sub(".git");
	put("admin/page.html", "<h1>{{> partials/header}}</h1>\n{{#items}}<p>{{.}}</p>\n{{/items}}");
	put("partials/header.html", "{{t.app_name}}");
	put("mail/report.txt", "To: {{& to}}\n");
	put("autoconfig.xml", "<x>{{host}}</x>");
	put("tree.html", "{{name}}{{#kids}}({{> tree}}){{/kids}}");
	put("loop.html", "x{{> loop.html}}");
	put("notes.json", "{{#never closed");
	put(".hidden.html", "{{#never closed");
	put(".git/x.html", "{{#never closed");
	/* symlinks are skipped: this one would fail to parse, and a link to "." would loop */
	CHECK(snprintf(cmd, sizeof(cmd), "%s/link.html", tmpdir) < (int)sizeof(cmd), "path");
	CHECK(symlink(".hidden.html", cmd) == 0, "symlink");
	CHECK(snprintf(cmd, sizeof(cmd), "%s/admin/self", tmpdir) < (int)sizeof(cmd), "path");
	CHECK(symlink(".", cmd) == 0, "symlink");
	ts = tmpl_load_dir(tmpdir, err, sizeof(err));
	CHECK(ts != NULL, "load: %s", err);

	data = json_pack("{s:{s:s},s:[s],s:s,s:s}", "t", "app_name", "yubin & co", "items", "a<",
	    "to", "a&b@ex.jp", "host", "mail.ex.jp");
	expect_render(ts, "admin/page.html", data, "<h1>yubin &amp; co</h1>\n<p>a&lt;</p>\n");
	expect_render(ts, "admin/page", data, "<h1>yubin &amp; co</h1>\n<p>a&lt;</p>\n");
	expect_render(ts, "mail/report.txt", data, "To: a&b@ex.jp\n");
	expect_render(ts, "mail/report", data, NULL);
	expect_render(ts, "autoconfig.xml", data, "<x>mail.ex.jp</x>");
	expect_render(ts, "partials/header", data, "yubin &amp; co");
	expect_render(ts, "nope.html", data, NULL);
	expect_render(ts, "notes.json", data, NULL);
	expect_render(ts, ".hidden.html", data, NULL);
	expect_render(ts, "", data, NULL);
	/* a partial calling itself stops at TMPL_DEPTH_MAX */
	expect_render(ts, "loop", data, NULL);
	/* Recursion bounded by the data is fine; leaves need their own empty "kids", since a
	 * missing name is looked up in the outer contexts (mustache), which here never ends. */
	tree = json_loads("{\"name\":\"r\",\"kids\":[{\"name\":\"a\",\"kids\":[{\"name\":\"b\","
	    "\"kids\":[]}]},{\"name\":\"c\",\"kids\":[]}]}", 0, NULL);
	expect_render(ts, "tree", tree, "r(a(b))(c)");
	json_decref(tree);
	tree = json_loads("{\"name\":\"r\",\"kids\":[{\"name\":\"a\"}]}", 0, NULL);
	expect_render(ts, "tree", tree, NULL);
	json_decref(tree);
	CHECK(tmpl_render(NULL, "tree", data, NULL) == -1, "NULL set");

	/* One set, many threads: the set is read-only once loaded. */
	for (i = 0; i < 4; i++) {
		jobs[i] = (struct job){ .ts = ts, .data = data };
		CHECK(pthread_create(&th[i], NULL, render_many, &jobs[i]) == 0, "pthread_create");
	}
	for (i = 0; i < 4; i++) {
		CHECK(pthread_join(th[i], NULL) == 0, "pthread_join");
		CHECK(jobs[i].bad == 0, "thread %d: %d bad renders", i, jobs[i].bad);
	}
	json_decref(data);
	tmpl_set_free(&ts);
	CHECK(ts == NULL, "tmpl_set_free NULLs");
	tmpl_set_free(&ts);

	/* errors name the file and line */
	put("admin/broken.html", "ok\n{{#rows}}\n");
	ts = tmpl_load_dir(tmpdir, err, sizeof(err));
	CHECK(ts == NULL && strstr(err, "admin/broken.html:2: {{#rows}} is never closed") != NULL,
	    "got \"%s\"", err);
	put("admin/broken.html", "fine\n\n{{> partials/footer}}");
	ts = tmpl_load_dir(tmpdir, err, sizeof(err));
	CHECK(ts == NULL && strstr(err, "admin/broken.html:3: unknown partial {{> partials/footer}}")
	    != NULL, "got \"%s\"", err);
	ts = tmpl_load_dir("/nonexistent/yubin", err, sizeof(err));
	CHECK(ts == NULL && strstr(err, "/nonexistent/yubin") != NULL, "got \"%s\"", err);

	CHECK(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir) < (int)sizeof(cmd), "cmd");
	CHECK(system(cmd) == 0, "%s", cmd);
}

static void
test_pick_lang(void)
{
	static const struct {
		const char *al, *cookie, *want;
	} rows[] = {
		{ "ja,en;q=0.8", NULL, "ja" },
		{ "en-US,en;q=0.9,ja;q=0.8", NULL, "en" },
		{ "", NULL, "en" },
		{ NULL, NULL, "en" },
		{ "ja-JP", NULL, "ja" },
		{ "JA", NULL, "ja" },
		{ "fr-FR,fr;q=0.9,ja;q=0.5", NULL, "ja" },
		{ "fr, de", NULL, "en" },
		{ "*", NULL, "en" },
		{ "ja;q=0", NULL, "en" },
		{ "en;q=0.5, ja;q=0.7", NULL, "ja" },
		{ "en;q=0.5 , ja ; q=0.7", NULL, "ja" },
		{ "en, ja", NULL, "en" },
		{ "ja, en", NULL, "ja" },
		{ "ja;q=1.5,en;q=0.1", NULL, "en" },          /* malformed q: element ignored */
		{ "ja;q=0.8x,en;q=0.1", NULL, "en" },
		{ "jav,en;q=0.1", NULL, "en" },               /* not Japanese */
		{ "ja;level=1;q=0.9,en;q=0.8", NULL, "ja" },
		{ "ja,en;q=0.8", "en", "en" },
		{ "en", "ja", "ja" },
		{ "ja", "fr", "ja" },                          /* only "ja"/"en" cookies count */
		{ "ja", "", "ja" },
		{ ",,;,", NULL, "en" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = i18n_pick_lang(rows[i].al, rows[i].cookie);

		CHECK(strcmp(got, rows[i].want) == 0, "row %zu: \"%s\" cookie \"%s\": got %s", i,
		    rows[i].al ? rows[i].al : "(null)", rows[i].cookie ? rows[i].cookie : "(null)", got);
	}
}

/* Both catalogs: the same keys. (Order is not checked: each module's file in i18n/LANG/
 * is merged after the base file, so the merged catalog is not one sorted list.) */
static void
test_catalogs(void)
{
	json_t *ja = i18n_catalog("ja"), *en = i18n_catalog("en"), *v;
	const char *key;

	CHECK(ja != NULL && en != NULL && ja != en, "catalogs loaded");
	CHECK(json_object_size(ja) == json_object_size(en), "ja %zu keys, en %zu",
	    json_object_size(ja), json_object_size(en));
	json_object_foreach(ja, key, v)
		CHECK(json_object_get(en, key) != NULL, "en.json lacks \"%s\"", key);
	json_object_foreach(en, key, v)
		CHECK(json_object_get(ja, key) != NULL, "ja.json lacks \"%s\"", key);
}

static void
test_i18n(void)
{
	struct tmpl *t;
	struct buf out;
	json_t *data;
	char err[128];

	CHECK(i18n_catalog("ja") == NULL, "nothing before load");
	CHECK_STR(i18n_get("ja", "app_name"), "app_name");
	CHECK(i18n_load("/nonexistent") == -1, "missing folder");
	CHECK(i18n_load(YUBIN_SOURCE_DIR "/templates/i18n") == 0, "load");
	test_catalogs();
	CHECK_STR(i18n_get("ja", "app_name"), "郵便");
	CHECK_STR(i18n_get("en", "app_name"), "yubin");
	CHECK_STR(i18n_get("ja", "status_normal"), "正常");
	CHECK_STR(i18n_get("ja", "status_compromised"), "不正利用検知");
	CHECK_STR(i18n_get("ja", "status_locked"), "アカウントロック");
	CHECK_STR(i18n_get("ja", "status_send_locked"), "メール送信ロック");
	CHECK_STR(i18n_get("ja", "status_over_quota"), "容量オーバー");
	CHECK_STR(i18n_get("ja", "status_must_change_password"), "強制変更済");
	CHECK_STR(i18n_get("ja", "login_error_credentials"),
	    "ログイン名またはパスワードが正しくありません。");
	CHECK_STR(i18n_get("ja", "done_saved"), "設定が完了しました。");
	CHECK_STR(i18n_get("en", "status_send_locked"), "Send locked");
	CHECK_STR(i18n_get("ja-JP", "status_normal"), "正常");
	CHECK_STR(i18n_get("fr", "status_normal"), "Normal");
	CHECK_STR(i18n_get(NULL, "status_normal"), "Normal");
	CHECK_STR(i18n_get("ja", "no_such_key"), "no_such_key");
	CHECK_STR(i18n_get("en", "no_such_key"), "no_such_key");

	/* what a page does: the catalog as "t" */
	data = json_object();
	CHECK(data != NULL && json_object_set(data, "t", i18n_catalog("ja")) == 0, "set t");
	t = tmpl_compile("{{t.login_title}}|{{t.missing}}", 31, err, sizeof(err));
	buf_init(&out);
	CHECK(t != NULL && tmpl_render_compiled(t, data, &out) == 0, "render: %s", err);
	CHECK_STR(out.data, "ログイン|");
	buf_free(&out);
	tmpl_free(&t);
	json_decref(data);
	i18n_free();
	CHECK(i18n_catalog("en") == NULL, "freed");
}

int
main(void)
{
	test_renders();
	test_syntax_errors();
	test_depth();
	test_output_cap();
	test_set();
	test_pick_lang();
	test_i18n();
	return check_done();
}
