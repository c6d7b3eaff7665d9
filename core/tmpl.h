/* core/tmpl.h: mustache-like templates over Jansson values, parsed once at load, rendered read-only. */
#ifndef YUBIN_CORE_TMPL_H
#define YUBIN_CORE_TMPL_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

/*
 * Syntax (no set-delimiter, no standalone-line stripping: text is kept exactly as written):
 *   {{name}} {{a.b.c}} {{.}}   value, HTML-escaped (& < > " ', the last as &#x27;)
 *   {{& name}}                 value unescaped: the only raw form, so `grep '{{&'` finds them all
 *   {{#name}}…{{/name}}        section: skipped for false, null, missing, [], "", 0;
 *                              once per element of an array; once otherwise, value pushed
 *   {{^name}}…{{/name}}        inverted section: rendered only when the section would be skipped
 *   {{> dir/name}}             partial from the same set ("name" tries "name", then "name.html")
 *   {{! comment}}
 * The first segment of a dotted name is looked up through the context stack innermost-first;
 * the rest only inside what it found, as mustache does; a segment of digits indexes an array
 * ({{#list.0}}…{{/list.0}} renders when the list is not empty). Numbers render as numbers, true as
 * "true", false and null as nothing, objects and arrays as nothing.
 */

/* Sections plus partials active at once; deeper templates fail to load, deeper renders fail.
 * (Template limits live here rather than in core/limits.h: templates are ours, not input.) */
#define TMPL_DEPTH_MAX 32
/* Largest template file tmpl_load_dir reads. */
#define TMPL_FILE_MAX (1024 * 1024)
/* Nodes one render may visit: a template bug (sections nested over the same list) must
 * not keep a worker thread busy for ever. A 500-row account list visits about 50,000. */
#define TMPL_STEPS_MAX (1L << 22)
/* Bytes one render may append: the same bug with text in the loop would otherwise eat the
 * memory of the whole process first. The largest real page is well under 1 MB. */
#define TMPL_OUT_MAX ((size_t)64 * 1024 * 1024)

struct tmpl;
struct tmpl_set;

/* Loads every *.html, *.txt and *.xml below `dir` (recursively; hidden entries and symlinks
 * skipped), named by their path relative to `dir` ("admin/accounts.html"), parses each once
 * and resolves every partial. NULL on failure with a message in `err`: "file:line: reason"
 * for a syntax error or an unknown partial, "path: reason" for I/O or out of memory. */
struct tmpl_set *tmpl_load_dir(const char *dir, char *err, size_t errsz);
/* Frees the set and NULLs *ts; NULL and *ts == NULL are fine. */
void tmpl_set_free(struct tmpl_set **ts);

/* Appends template `name` (exact, else name + ".html") rendered against `data` to `out`.
 * 0 on success; -1 when the template is missing, memory ran out, or a limit was hit
 * (TMPL_DEPTH_MAX through partial recursion, TMPL_STEPS_MAX, TMPL_OUT_MAX): `out` may then
 * hold part of the page, which the caller discards. Safe to call from many threads at once
 * on one set. */
int tmpl_render(const struct tmpl_set *ts, const char *name, json_t *data, struct buf *out);

/* A template from memory (tests, fuzzer); its partials render as nothing. NULL on a syntax
 * error ("line N: reason" in `err`) or out of memory. */
struct tmpl *tmpl_compile(const char *src, size_t len, char *err, size_t errsz);
/* As tmpl_render, for a compiled template. */
int tmpl_render_compiled(const struct tmpl *t, json_t *data, struct buf *out);
/* Frees a template from tmpl_compile and NULLs *t; NULL and *t == NULL are fine. */
void tmpl_free(struct tmpl **t);

#endif
