/* core/i18n.h: ja and en message catalogs (templates/i18n/) and the choice between them. */
#ifndef YUBIN_CORE_I18N_H
#define YUBIN_CORE_I18N_H

#include <jansson.h>

/* Loads `dir`/ja.json and `dir`/en.json: flat objects of snake_case key -> string. Call once
 * at start-up, before any thread reads a catalog (a second call swaps the catalogs without
 * locking). 0 on success; -1 with one line on stderr naming the file, line and reason. */
int i18n_load(const char *dir);
/* Drops the catalogs (at exit, so leak checkers stay quiet). */
void i18n_free(void);

/* The catalog for "ja" (also "ja-JP", any case), else the English one. Borrowed: do not
 * decref; json_object_set() it into a page's data as "t" so templates write {{t.key}}.
 * NULL before i18n_load. */
json_t *i18n_catalog(const char *lang);
/* The message for `key` in `lang`'s catalog, or `key` itself when it has none, so a missing
 * message shows up on the page instead of as a blank. */
const char *i18n_get(const char *lang, const char *key);

/* "ja" or "en" (static strings). A cookie_lang of exactly "ja" or "en" wins; else the better
 * of ja and en by Accept-Language q-value (RFC 9110 §12.5.4), the earlier one on a tie;
 * "en" when the header names neither with q > 0. Either argument may be NULL. */
const char *i18n_pick_lang(const char *accept_language, const char *cookie_lang);

#endif
