/* core/i18n.c: the ja/en catalogs, loaded once, and the language choice (cookie, Accept-Language). */
#include "core/i18n.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Read-only after i18n_load; Jansson's refcounts are atomic (JSON_HAVE_ATOMIC_BUILTINS), so
 * pages on many threads may json_object_set() the same catalog into their data. */
static json_t *cat_ja, *cat_en;

static bool
snake_case(const char *k)
{
	const char *p;

	if (!(k[0] >= 'a' && k[0] <= 'z'))
		return false;
	for (p = k; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	}
	return true;
}

/* One catalog, checked to be a flat object of snake_case keys to strings; NULL after
 * saying why on stderr (start-up only, before any log is set up). */
static json_t *
load_path(const char *path)
{
	json_error_t je;
	json_t *cat = NULL, *v;
	const char *key;
	/* A key written twice would silently keep one of the two texts. */
	cat = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (cat == NULL) {
		if (je.line > 0)
			(void)fprintf(stderr, "i18n: %s:%d: %s\n", path, je.line, je.text);
		else
			(void)fprintf(stderr, "i18n: %s\n", je.text);
		goto fail;
	}
	if (!json_is_object(cat)) {
		(void)fprintf(stderr, "i18n: %s: not a JSON object\n", path);
		goto fail;
	}
	json_object_foreach(cat, key, v) {
		if (!snake_case(key) || !json_is_string(v)) {
			(void)fprintf(stderr, "i18n: %s: \"%s\": keys are snake_case, values strings\n",
			    path, key);
			goto fail;
		}
	}
	return cat;
fail:
	json_decref(cat);
	return NULL;
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir/LANG.json, merged with every .json file in dir/LANG/ (one per module, so modules
 * add their texts without editing a shared file); a key defined twice is an error. */
static json_t *
load_one(const char *dir, const char *lang)
{
	char path[PATH_MAX], *names[128];
	json_t *cat, *part, *v;
	const char *key;
	struct dirent *de;
	DIR *d;
	int n, nn = 0, i;

	n = snprintf(path, sizeof(path), "%s/%s.json", dir, lang);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	if ((cat = load_path(path)) == NULL)
		return NULL;
	n = snprintf(path, sizeof(path), "%s/%s", dir, lang);
	if (n < 0 || (size_t)n >= sizeof(path) || (d = opendir(path)) == NULL)
		return cat;
	while ((de = readdir(d)) != NULL && nn < 128) {
		size_t l = strlen(de->d_name);

		if (l > 5 && de->d_name[0] != '.' && strcmp(de->d_name + l - 5, ".json") == 0)
			names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)nn, sizeof(names[0]), cmpname);
	for (i = 0; i < nn; i++) {
		n = names[i] ? snprintf(path, sizeof(path), "%s/%s/%s", dir, lang, names[i]) : -1;
		part = (n > 0 && (size_t)n < sizeof(path)) ? load_path(path) : NULL;
		if (part == NULL) {
			json_decref(cat);
			cat = NULL;
			break;
		}
		json_object_foreach(part, key, v) {
			if (json_object_get(cat, key) != NULL) {
				(void)fprintf(stderr, "i18n: %s: \"%s\" is defined twice\n", path, key);
				json_decref(cat);
				cat = NULL;
				break;
			}
			json_object_set(cat, key, v);
		}
		json_decref(part);
		if (cat == NULL)
			break;
	}
	for (i = 0; i < nn; i++)
		free(names[i]);
	return cat;
}

int
i18n_load(const char *dir)
{
	json_t *ja = NULL, *en = NULL;
	int rc = -1;

	if ((ja = load_one(dir, "ja")) == NULL || (en = load_one(dir, "en")) == NULL)
		goto out;
	/* Swap only when both loaded: a broken file keeps the catalogs we had. */
	json_decref(cat_ja);
	json_decref(cat_en);
	cat_ja = ja;
	cat_en = en;
	ja = en = NULL;
	rc = 0;
out:
	json_decref(ja);
	json_decref(en);
	return rc;
}

void
i18n_free(void)
{
	json_decref(cat_ja);
	json_decref(cat_en);
	cat_ja = cat_en = NULL;
}

static bool
is_ja(const char *lang)
{
	return lang != NULL && strncasecmp(lang, "ja", 2) == 0 && (lang[2] == '\0' || lang[2] == '-');
}

json_t *
i18n_catalog(const char *lang)
{
	return is_ja(lang) ? cat_ja : cat_en;
}

const char *
i18n_get(const char *lang, const char *key)
{
	const char *s = json_string_value(json_object_get(i18n_catalog(lang), key));

	return s != NULL ? s : key;
}

/* A qvalue (RFC 9110 §12.4.2: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]) in thousandths;
 * -1 when malformed. */
static int
parse_q(const char *s, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
		scale /= 10;
	}
	return q > 1000 ? -1 : q;
}

static bool
ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims optional whitespace from both ends of s[0..*n). */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && ows(s[0])) {
		s++;
		(*n)--;
	}
	while (*n > 0 && ows(s[*n - 1]))
		(*n)--;
	return s;
}

/* One Accept-Language element, "tag[;q=v][;other]": "ja" or "en" with its q in *q_r,
 * or NULL for another language or a malformed element. */
static const char *
element_lang(const char *s, size_t n, int *q_r)
{
	const char *tag, *par, *semi, *lang;
	size_t taglen, parlen;

	semi = memchr(s, ';', n);
	taglen = semi != NULL ? (size_t)(semi - s) : n;
	tag = trim(s, &taglen);
	if (taglen >= 2 && strncasecmp(tag, "ja", 2) == 0 && (taglen == 2 || tag[2] == '-'))
		lang = "ja";
	else if (taglen >= 2 && strncasecmp(tag, "en", 2) == 0 && (taglen == 2 || tag[2] == '-'))
		lang = "en";
	else
		return NULL;
	*q_r = 1000;
	while (semi != NULL) {
		par = semi + 1;
		n -= (size_t)(par - s);
		s = par;
		semi = memchr(s, ';', n);
		parlen = semi != NULL ? (size_t)(semi - s) : n;
		par = trim(par, &parlen);
		if (parlen >= 2 && (par[0] == 'q' || par[0] == 'Q') && par[1] == '=') {
			if ((*q_r = parse_q(par + 2, parlen - 2)) < 0)
				return NULL;
		}
	}
	return lang;
}

const char *
i18n_pick_lang(const char *accept_language, const char *cookie_lang)
{
	const char *best = "en", *p, *comma, *lang;
	int bestq = 0, q;
	size_t n;

	if (cookie_lang != NULL && strcmp(cookie_lang, "ja") == 0)
		return "ja";
	if (cookie_lang != NULL && strcmp(cookie_lang, "en") == 0)
		return "en";
	for (p = accept_language; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		lang = element_lang(p, n, &q);
		/* Strictly greater: on a tie the language listed first wins; q=0 is "not this". */
		if (lang != NULL && q > bestq) {
			best = lang;
			bestq = q;
		}
	}
	return best;
}
