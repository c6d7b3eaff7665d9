/* core/tmpl.c: template parser (source to node tree, once) and renderer (tree + json_t to buf). */
#include "core/tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"

/* Template folders are a handful of levels deep; the cap stops a walk that never ends. */
#define DIR_DEPTH_MAX 16

enum node_kind { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	enum node_kind kind;
	unsigned line;
	const char *text;             /* N_TEXT: points into the template's source, which it owns */
	size_t len;
	const char *name;             /* tags: the name as written, NUL-terminated */
	const char **seg;             /* the dotted path of a name; nseg == 0 means "." */
	size_t nseg;
	struct node *child;           /* sections: the body */
	const struct tmpl *partial;   /* N_PARTIAL: resolved at load; NULL renders nothing */
	struct node *next;
};

struct tmpl {
	struct arena *own;            /* tmpl_compile's; a set's templates live in the set's arena */
	const char *file;             /* for messages: the path it was read from, or NULL */
	struct node *head;
};

struct entry {
	const char *name;
	struct tmpl *t;
};

struct tmpl_set {
	struct arena *arena;
	struct entry *e;              /* sorted by name once loading is done */
	size_t n, cap;
};

/* ---- parsing ---------------------------------------------------------------------------- */

struct parser {
	struct arena *a;
	const char *file;
	const char *s;
	size_t len, pos;
	unsigned line;
	char *err;
	size_t errsz;
};

static void perr(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
perr(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->err == NULL || p->errsz == 0)
		return;
	/* A cut message still names the file and line, which is what the author needs. */
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->file != NULL)
		(void)snprintf(p->err, p->errsz, "%s:%u: %s", p->file, line, msg);
	else
		(void)snprintf(p->err, p->errsz, "line %u: %s", line, msg);
}

/* Moves past n bytes, counting the lines they end. */
static void
advance(struct parser *p, size_t n)
{
	const char *s = p->s + p->pos, *end = s + n, *nl;

	while ((nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		p->line++;
		s = nl + 1;
	}
	p->pos += n;
}

static bool
name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Error messages quote at most this much of a bad tag. */
#define QUOTE_MAX 40

static int
quote_len(size_t n)
{
	return n > QUOTE_MAX ? QUOTE_MAX : (int)n;
}

/* A partial name is a relative path of name characters and dots, with no empty, "." or ".."
 * segment: partials come from the set, but a name that looks like an escape is a bug. */
static bool
valid_partial(const char *s, size_t n)
{
	size_t i, seg = 0;
	bool dots_only = true;

	if (n == 0)
		return false;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (seg == 0 || dots_only)
				return false;
			seg = 0;
			dots_only = true;
			continue;
		}
		if (!name_char((unsigned char)s[i]) && s[i] != '.')
			return false;
		if (s[i] != '.')
			dots_only = false;
		seg++;
	}
	return true;
}

/* Fills nd->name and, for values and sections, nd->seg. 0, or -1 with the error written. */
static int
parse_name(struct parser *p, struct node *nd, const char *s, size_t n)
{
	size_t i, k, start, nseg = 1;

	nd->name = arena_strndup(p->a, s, n);
	if (nd->name == NULL) {
		perr(p, nd->line, "out of memory");
		return -1;
	}
	if (nd->kind == N_PARTIAL) {
		if (!valid_partial(s, n)) {
			perr(p, nd->line, "bad partial name \"%.*s\"", quote_len(n), s);
			return -1;
		}
		return 0;
	}
	if (n == 1 && s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.')
			nseg++;
		else if (!name_char((unsigned char)s[i]))
			goto bad;
	}
	nd->seg = arena_alloc(p->a, nseg * sizeof(*nd->seg));
	if (nd->seg == NULL) {
		perr(p, nd->line, "out of memory");
		return -1;
	}
	for (i = start = k = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (i == start)
			goto bad;
		nd->seg[k] = arena_strndup(p->a, s + start, i - start);
		if (nd->seg[k] == NULL) {
			perr(p, nd->line, "out of memory");
			return -1;
		}
		k++;
		start = i + 1;
	}
	nd->nseg = nseg;
	return 0;
bad:
	if (n > 0 && s[0] == '{')
		perr(p, nd->line, "{{{...}}} is not supported: write {{& name}} for a raw value");
	else if (n > 0 && s[0] == '=')
		perr(p, nd->line, "changing delimiters is not supported");
	else
		perr(p, nd->line, "bad name \"%.*s\"", quote_len(n), s);
	return -1;
}

static struct node *
new_node(struct parser *p, enum node_kind kind, unsigned line)
{
	struct node *nd = arena_alloc(p->a, sizeof(*nd));

	if (nd == NULL) {
		perr(p, line, "out of memory");
		return NULL;
	}
	nd->kind = kind;
	nd->line = line;
	return nd;
}

static char
sigil_of(const struct node *open)
{
	return open->kind == N_INVERTED ? '^' : '#';
}

/* Parses until the end of the source (open == NULL) or the {{/name}} that closes `open`,
 * appending the nodes to *head_r. 0, or -1 with the error written. */
static int
parse_list(struct parser *p, const struct node *open, int depth, struct node **head_r)
{
	struct node **tail = head_r, *nd;
	const char *o, *c, *in;
	size_t textlen, inlen, start;
	enum node_kind kind;
	unsigned line;
	bool close;

	*head_r = NULL;
	for (;;) {
		o = memmem(p->s + p->pos, p->len - p->pos, "{{", 2);
		textlen = o != NULL ? (size_t)(o - (p->s + p->pos)) : p->len - p->pos;
		if (textlen > 0) {
			if ((nd = new_node(p, N_TEXT, p->line)) == NULL)
				return -1;
			nd->text = p->s + p->pos;
			nd->len = textlen;
			*tail = nd;
			tail = &nd->next;
			advance(p, textlen);
		}
		if (o == NULL) {
			if (open != NULL) {
				perr(p, open->line, "{{%c%s}} is never closed", sigil_of(open), open->name);
				return -1;
			}
			return 0;
		}
		line = p->line;
		start = p->pos + 2;
		c = memmem(p->s + start, p->len - start, "}}", 2);
		if (c == NULL) {
			perr(p, line, "\"{{\" without \"}}\"");
			return -1;
		}
		in = p->s + start;
		inlen = (size_t)(c - in);
		advance(p, inlen + 4);
		if (inlen > 0 && in[0] == '!')
			continue;
		close = false;
		kind = N_VAR;
		switch (inlen > 0 ? in[0] : '\0') {
		case '#': kind = N_SECTION; break;
		case '^': kind = N_INVERTED; break;
		case '>': kind = N_PARTIAL; break;
		case '&': kind = N_RAW; break;
		case '/': close = true; break;
		default: break;
		}
		if (close || kind != N_VAR) {
			in++;
			inlen--;
		}
		while (inlen > 0 && is_space(in[0])) {
			in++;
			inlen--;
		}
		while (inlen > 0 && is_space(in[inlen - 1]))
			inlen--;
		if (inlen == 0) {
			perr(p, line, "empty tag");
			return -1;
		}
		if (close) {
			if (open == NULL) {
				perr(p, line, "{{/%.*s}} closes nothing", quote_len(inlen), in);
				return -1;
			}
			if (strlen(open->name) != inlen || memcmp(open->name, in, inlen) != 0) {
				perr(p, line, "{{/%.*s}} where {{%c%s}} from line %u should close",
				    quote_len(inlen), in, sigil_of(open), open->name, open->line);
				return -1;
			}
			return 0;
		}
		if ((nd = new_node(p, kind, line)) == NULL || parse_name(p, nd, in, inlen) != 0)
			return -1;
		if (kind == N_SECTION || kind == N_INVERTED) {
			if (depth >= TMPL_DEPTH_MAX) {
				perr(p, line, "sections nested deeper than %d", TMPL_DEPTH_MAX);
				return -1;
			}
			if (parse_list(p, nd, depth + 1, &nd->child) != 0)
				return -1;
		}
		*tail = nd;
		tail = &nd->next;
	}
}

/* Parses `src`, which must live as long as arena `a`, into a template allocated there. */
static struct tmpl *
compile(struct arena *a, const char *file, const char *src, size_t len, char *err, size_t errsz)
{
	struct parser p = {
		.a = a, .file = file, .s = src, .len = len, .line = 1, .err = err, .errsz = errsz,
	};
	struct tmpl *t = arena_alloc(a, sizeof(*t));

	if (t == NULL) {
		perr(&p, 1, "out of memory");
		return NULL;
	}
	t->file = file;
	if (parse_list(&p, NULL, 0, &t->head) != 0)
		return NULL;
	return t;
}

struct tmpl *
tmpl_compile(const char *src, size_t len, char *err, size_t errsz)
{
	struct arena *a = arena_new("tmpl");
	struct tmpl *t = NULL;
	char *copy;

	if (a == NULL) {
		(void)snprintf(err, errsz, "out of memory");
		goto out;
	}
	if ((copy = arena_strndup(a, src, len)) == NULL) {
		(void)snprintf(err, errsz, "out of memory");
		goto out;
	}
	if ((t = compile(a, NULL, copy, len, err, errsz)) == NULL)
		goto out;
	t->own = a;
	a = NULL;
out:
	arena_free(&a);
	return t;
}

void
tmpl_free(struct tmpl **tp)
{
	struct arena *a;

	if (tp == NULL || *tp == NULL)
		return;
	a = (*tp)->own;
	*tp = NULL;
	arena_free(&a);
}

/* ---- rendering -------------------------------------------------------------------------- */

struct render {
	struct buf *out;
	/* The data, then one entry per open section: sections are at most TMPL_DEPTH_MAX deep. */
	json_t *ctx[TMPL_DEPTH_MAX + 1];
	size_t nctx;
	int depth;
	long steps;
	size_t start;                 /* out->len before this render */
};

static json_t *
lookup(const struct render *r, const struct node *n)
{
	json_t *v = NULL;
	size_t i, k;

	if (n->nseg == 0)
		return r->ctx[r->nctx - 1];
	for (i = r->nctx; i-- > 0;) {
		if (json_is_object(r->ctx[i]) && (v = json_object_get(r->ctx[i], n->seg[0])) != NULL)
			break;
	}
	/* Mustache: once the first segment is found, the rest resolve only inside it. A
	 * segment of digits indexes an array ({{#errors.0}}: "the list is not empty"). */
	for (k = 1; v != NULL && k < n->nseg; k++) {
		if (json_is_array(v)) {
			const char *d = n->seg[k];
			size_t idx = 0;

			for (; *d >= '0' && *d <= '9' && idx < 100000; d++)
				idx = idx * 10 + (size_t)(*d - '0');
			v = *d == '\0' && d != n->seg[k] ? json_array_get(v, idx) : NULL;
		} else {
			v = json_is_object(v) ? json_object_get(v, n->seg[k]) : NULL;
		}
	}
	return v;
}

static bool
truthy(const json_t *v)
{
	if (v == NULL || json_is_false(v) || json_is_null(v))
		return false;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_real(v))
		return json_real_value(v) != 0.0;
	return true;
}

/* The shortest of %.15g..%.17g that reads back as the same double: 0.1, not 0.10000000000000001. */
static bool
add_real(struct buf *b, double d)
{
	char tmp[40];
	int prec, n = 0;

	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (n < 0 || (size_t)n >= sizeof(tmp))
			return false;
		if (strtod(tmp, NULL) == d)
			break;
	}
	return buf_add(b, tmp, (size_t)n);
}

static bool
add_value(struct buf *b, const json_t *v, bool escape)
{
	if (v == NULL)
		return true;
	if (json_is_string(v)) {
		if (escape)
			return buf_add_html(b, json_string_value(v), json_string_length(v));
		return buf_add(b, json_string_value(v), json_string_length(v));
	}
	if (json_is_integer(v))
		return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return add_real(b, json_real_value(v));
	if (json_is_true(v))
		return buf_adds(b, "true");
	/* false, null, objects and arrays print nothing: never JSON dumped into a page. */
	return true;
}

static int render_list(struct render *r, const struct node *n);

/* Renders a section body or a partial one level deeper, with `push` (if any) on the stack. */
static int
render_nested(struct render *r, const struct node *body, json_t *push)
{
	int rc;

	if (r->depth >= TMPL_DEPTH_MAX)
		return -1;
	r->depth++;
	if (push != NULL)
		r->ctx[r->nctx++] = push;
	rc = render_list(r, body);
	if (push != NULL)
		r->nctx--;
	r->depth--;
	return rc;
}

static int
render_section(struct render *r, const struct node *n)
{
	json_t *v = lookup(r, n), *el;
	size_t i;

	if (!truthy(v))
		return 0;
	if (!json_is_array(v))
		return render_nested(r, n->child, v);
	json_array_foreach(v, i, el) {
		/* Counted here too, or an empty body over a long list would be free. */
		if (++r->steps > TMPL_STEPS_MAX || render_nested(r, n->child, el) != 0)
			return -1;
	}
	return 0;
}

static int
render_list(struct render *r, const struct node *n)
{
	for (; n != NULL; n = n->next) {
		/* One node appends at most one text or value, so this bounds the overshoot. */
		if (++r->steps > TMPL_STEPS_MAX || r->out->len - r->start > TMPL_OUT_MAX)
			return -1;
		switch (n->kind) {
		case N_TEXT:
			if (!buf_add(r->out, n->text, n->len))
				return -1;
			break;
		case N_VAR:
			if (!add_value(r->out, lookup(r, n), true))
				return -1;
			break;
		case N_RAW:
			if (!add_value(r->out, lookup(r, n), false))
				return -1;
			break;
		case N_SECTION:
			if (render_section(r, n) != 0)
				return -1;
			break;
		case N_INVERTED:
			if (!truthy(lookup(r, n)) && render_nested(r, n->child, NULL) != 0)
				return -1;
			break;
		case N_PARTIAL:
			if (n->partial != NULL && render_nested(r, n->partial->head, NULL) != 0)
				return -1;
			break;
		}
	}
	return 0;
}

int
tmpl_render_compiled(const struct tmpl *t, json_t *data, struct buf *out)
{
	struct render r = { .out = out, .nctx = 1, .start = out->len };

	if (t == NULL)
		return -1;
	r.ctx[0] = data;
	if (render_list(&r, t->head) != 0 || out->oom)
		return -1;
	return 0;
}

/* ---- sets ------------------------------------------------------------------------------- */

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The template `name`, else `name`.html; NULL when neither is in the set. */
static const struct tmpl *
find(const struct tmpl_set *ts, const char *name)
{
	struct entry key = { .name = name }, *e;
	char alt[PATH_MAX];
	int n;

	if (ts->n == 0)
		return NULL;
	e = bsearch(&key, ts->e, ts->n, sizeof(*ts->e), entry_cmp);
	if (e != NULL)
		return e->t;
	n = snprintf(alt, sizeof(alt), "%s.html", name);
	if (n < 0 || (size_t)n >= sizeof(alt))
		return NULL;
	key.name = alt;
	e = bsearch(&key, ts->e, ts->n, sizeof(*ts->e), entry_cmp);
	return e != NULL ? e->t : NULL;
}

int
tmpl_render(const struct tmpl_set *ts, const char *name, json_t *data, struct buf *out)
{
	if (ts == NULL || name == NULL)
		return -1;
	return tmpl_render_compiled(find(ts, name), data, out);
}

/* Points every partial of the list at its template, so rendering never looks one up. */
static int
resolve(const struct tmpl_set *ts, const struct tmpl *t, struct node *n, char *err, size_t errsz)
{
	for (; n != NULL; n = n->next) {
		if (n->kind == N_PARTIAL && (n->partial = find(ts, n->name)) == NULL) {
			(void)snprintf(err, errsz, "%s:%u: unknown partial {{> %s}}", t->file, n->line,
			    n->name);
			return -1;
		}
		if (n->child != NULL && resolve(ts, t, n->child, err, errsz) != 0)
			return -1;
	}
	return 0;
}

struct loader {
	struct tmpl_set *ts;
	char path[PATH_MAX];          /* the directory given, then "/" and the relative name */
	size_t rootlen;
	char *err;
	size_t errsz;
};

static bool
has_ext(const char *name)
{
	static const char *const exts[] = { ".html", ".txt", ".xml" };
	size_t i, n = strlen(name), k;

	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		k = strlen(exts[i]);
		if (n > k && strcmp(name + n - k, exts[i]) == 0)
			return true;
	}
	return false;
}

static int
add_entry(struct loader *l, const char *name, struct tmpl *t)
{
	struct tmpl_set *ts = l->ts;
	struct entry *e;
	size_t ncap;

	if (ts->n == ts->cap) {
		ncap = ts->cap ? ts->cap * 2 : 32;
		if (ncap > SIZE_MAX / sizeof(*e) ||
		    (e = realloc(ts->e, ncap * sizeof(*e))) == NULL) {
			(void)snprintf(l->err, l->errsz, "%s: out of memory", l->path);
			return -1;
		}
		ts->e = e;
		ts->cap = ncap;
	}
	ts->e[ts->n].name = name;
	ts->e[ts->n].t = t;
	ts->n++;
	return 0;
}

/* Reads and compiles the regular file at l->path into the set. */
static int
load_file(struct loader *l)
{
	struct arena *a = l->ts->arena;
	const char *file, *name;
	struct stat st;
	struct tmpl *t;
	size_t size, got = 0;
	ssize_t n;
	char *src;
	int fd, rc = -1;

	fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0) {
		(void)snprintf(l->err, l->errsz, "%s: %s", l->path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TMPL_FILE_MAX) {
		(void)snprintf(l->err, l->errsz, "%s: not a regular file of at most %d bytes",
		    l->path, TMPL_FILE_MAX);
		goto out;
	}
	size = (size_t)st.st_size;
	file = arena_strdup(a, l->path);
	src = arena_alloc(a, size + 1);
	if (file == NULL || src == NULL) {
		(void)snprintf(l->err, l->errsz, "%s: out of memory", l->path);
		goto out;
	}
	while (got < size) {
		n = read(fd, src + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			(void)snprintf(l->err, l->errsz, "%s: %s", l->path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;        /* it shrank while we read: take what is there */
		got += (size_t)n;
	}
	name = file + l->rootlen + 1;
	if ((t = compile(a, file, src, got, l->err, l->errsz)) == NULL || add_entry(l, name, t) != 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		(void)close(fd);   /* read-only: nothing a failed close could lose */
	return rc;
}

/* Loads the templates below the directory l->path[0..len), then restores l->path. */
static int
walk(struct loader *l, size_t len, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n, rc = -1;

	d = opendir(l->path);
	if (d == NULL) {
		(void)snprintf(l->err, l->errsz, "%s: %s", l->path, strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				(void)snprintf(l->err, l->errsz, "%s: %s", l->path, strerror(errno));
				goto out;
			}
			break;
		}
		/* Skips ".", ".." and editors' and VCS's hidden files. */
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(l->path + len, sizeof(l->path) - len, "/%s", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(l->path) - len) {
			l->path[len] = '\0';
			(void)snprintf(l->err, l->errsz, "%s/%s: path too long", l->path, de->d_name);
			goto out;
		}
		/* lstat: a symlink is skipped, so a link loop cannot make the walk endless. */
		if (lstat(l->path, &st) != 0) {
			(void)snprintf(l->err, l->errsz, "%s: %s", l->path, strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth >= DIR_DEPTH_MAX) {
				(void)snprintf(l->err, l->errsz, "%s: folders nested deeper than %d",
				    l->path, DIR_DEPTH_MAX);
				goto out;
			}
			if (walk(l, len + (size_t)n, depth + 1) != 0)
				goto out;
		} else if (S_ISREG(st.st_mode) && has_ext(de->d_name)) {
			if (load_file(l) != 0)
				goto out;
		}
		l->path[len] = '\0';
	}
	rc = 0;
out:
	if (d != NULL)
		(void)closedir(d);
	l->path[len] = '\0';
	return rc;
}

struct tmpl_set *
tmpl_load_dir(const char *dir, char *err, size_t errsz)
{
	struct loader l = { .err = err, .errsz = errsz };
	struct tmpl_set *ts = NULL;
	size_t i;
	int n;

	n = snprintf(l.path, sizeof(l.path), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(l.path)) {
		(void)snprintf(err, errsz, "%.64s...: path too long", dir);
		goto fail;
	}
	l.rootlen = (size_t)n;
	if ((ts = calloc(1, sizeof(*ts))) == NULL || (ts->arena = arena_new("tmpl_set")) == NULL) {
		(void)snprintf(err, errsz, "%s: out of memory", dir);
		goto fail;
	}
	l.ts = ts;
	if (walk(&l, l.rootlen, 0) != 0)
		goto fail;
	if (ts->n > 0)
		qsort(ts->e, ts->n, sizeof(*ts->e), entry_cmp);
	for (i = 0; i < ts->n; i++) {
		if (resolve(ts, ts->e[i].t, ts->e[i].t->head, err, errsz) != 0)
			goto fail;
	}
	return ts;
fail:
	tmpl_set_free(&ts);
	return NULL;
}

void
tmpl_set_free(struct tmpl_set **tsp)
{
	struct tmpl_set *ts;

	if (tsp == NULL || *tsp == NULL)
		return;
	ts = *tsp;
	arena_free(&ts->arena);
	free(ts->e);
	free(ts);
	*tsp = NULL;
}
