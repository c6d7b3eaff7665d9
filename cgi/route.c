/* cgi/route.c: match a path against the route rows, telling 404 from 405 (kore's route.c does). */
#include <string.h>

#include "cgi/decode.h"
#include "cgi/routes.h"
#include "core/util.h"

/* Match pattern "/domains/{d}/accounts" against path; fills params. */
static bool
match(const char *pat, const char *path, struct api_ctx *c)
{
	int n = 0;

	c->nparams = 0;
	while (*pat && *path) {
		if (*pat == '{') {
			const char *pe = strchr(pat, '}'), *se = strchr(path, '/');
			size_t sl = se ? (size_t)(se - path) : strlen(path);
			char *name, *val;

			if (pe == NULL || sl == 0 || n >= API_MAX_PARAMS)
				return false;
			name = arena_strndup(c->arena, pat + 1, (size_t)(pe - pat - 1));
			val = arena_alloc(c->arena, sl + 1);
			if (name == NULL || val == NULL || decode_pct_path(path, sl, val, sl + 1) < 0)
				return false;
			c->params[n].name = name;
			c->params[n].value = val;
			n++;
			pat = pe + 1;
			path += sl;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++;
		path++;
	}
	/* A trailing slash is the same page. */
	if (*path == '/' && path[1] == '\0')
		path++;
	if (*pat != '\0' || *path != '\0')
		return false;
	c->nparams = n;
	return true;
}

int
route_find(enum route_mode mode, const char *method, const char *path, struct api_ctx *c,
           const struct api_route **route_r, char *allow, size_t allowsz)
{
	const struct api_route *r;
	int t;
	bool path_seen = false;
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;

	allow[0] = '\0';
	for (t = 0; t < ROUTE_TABLES_MAX; t++) {
		if (route_tables[t] == NULL)
			continue;
		for (r = route_tables[t]; r->method != NULL; r++) {
			if ((mode == MODE_API && (r->flags & R_HTML)) || (mode == MODE_HTML && (r->flags & R_API)))
				continue;
			if (!match(r->path, path, c))
				continue;
			if (strcmp(r->method, m) == 0) {
				*route_r = r;
				return 0;
			}
			if (strstr(allow, r->method) == NULL) {
				size_t l = strlen(allow);

				(void)bsnprintf(allow + l, allowsz - l, "%s%s", l ? ", " : "", r->method);
			}
			path_seen = true;
		}
	}
	c->nparams = 0;
	return path_seen ? 405 : 404;
}
