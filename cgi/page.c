/* cgi/page.c: pages from templates/ over the handler's result object; form posts answer 303;
 * failures re-render the form with every error next to its field. */
#include "cgi/page.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/i18n.h"
#include "core/log.h"
#include "core/tmpl.h"
#include "core/util.h"

static struct tmpl_set *templates;
static char static_dir[CFG_STR];

int
page_init(const struct config *cfg)
{
	char err[512], dir[CFG_STR + 8];

	if (!bsnprintf(dir, sizeof(dir), "%s/i18n", cfg->templates_dir) || i18n_load(dir) != 0) {
		log_warnx("cannot load catalogs from %s", dir);
		return -1;
	}
	templates = tmpl_load_dir(cfg->templates_dir, err, sizeof(err));
	if (templates == NULL) {
		log_warnx("templates: %s", err);
		return -1;
	}
	bstrcpy(static_dir, sizeof(static_dir), cfg->static_dir);
	return 0;
}

void
page_render(struct request *r, int status, const char *name, json_t *data)
{
	r->status = status;
	r->content_type = "text/html; charset=utf-8";
	buf_reset(&r->body_out);
	if (tmpl_render(templates, name, data, &r->body_out) != 0) {
		log_warnx("template %s failed", name);
		buf_reset(&r->body_out);
		r->status = 500;
		buf_adds(&r->body_out, "<!doctype html><title>500</title><p>Internal error.</p>");
	}
}

static void
redirect(struct request *r, const char *to)
{
	r->status = 303;
	resp_header(r, "Location", to);
	r->content_type = "text/html; charset=utf-8";
	buf_reset(&r->body_out);
}

/* Expand {param} and {out.field} in a redirect pattern. */
static const char *
expand(struct api_ctx *c, const char *pat, const char *base)
{
	struct buf b;
	const char *p;
	char *res;

	buf_init(&b);
	buf_adds(&b, base);
	for (p = pat; *p; p++) {
		const char *e;

		if (*p != '{' || (e = strchr(p, '}')) == NULL) {
			buf_addc(&b, *p);
			continue;
		}
		{
			char name[64];
			const char *v = NULL;
			size_t n = (size_t)(e - p - 1);

			if (n < sizeof(name)) {
				memcpy(name, p + 1, n);
				name[n] = '\0';
				if (strncmp(name, "out.", 4) == 0) {
					json_t *jv = json_object_get(c->out, name + 4);

					v = json_is_string(jv) ? json_string_value(jv) : NULL;
					if (json_is_integer(jv))
						v = arena_printf(c->arena, "%lld", (long long)json_integer_value(jv));
				} else {
					v = api_param(c, name);
				}
			}
			/* Values are names and ids we validated; escape the few URL specials. */
			for (; v && *v; v++) {
				if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
				    *v == '.' || *v == '-' || *v == '_' || *v == '@')
					buf_addc(&b, *v);
				else
					buf_printf(&b, "%%%02X", (unsigned char)*v);
			}
		}
		p = e;
	}
	res = arena_strdup(c->arena, b.data ? b.data : "/");
	buf_free(&b);
	return res;
}

/* Form values to show again: everything but passwords (never echoed into a page). */
static json_t *
form_echo(json_t *in)
{
	json_t *f = json_object(), *v;
	const char *k;

	json_object_foreach(in, k, v) {
		if (strstr(k, "password") == NULL)
			json_object_set(f, k, v);
	}
	return f;
}

static json_t *
page_data(struct request *r, struct api_ctx *c, const char *base, int status)
{
	json_t *d, *errs = json_object_get(json_object_get(c->out, "error"), "details");
	json_t *by_field = json_object(), *params = json_object(), *e;
	const char *done = json_string_value(json_object_get(c->query, "done"));
	size_t i;
	int k;

	json_array_foreach(errs, i, e) {
		const char *f = json_string_value(json_object_get(e, "field"));
		json_t *m = json_object_get(e, "message");

		if (f != NULL && json_object_get(by_field, f) == NULL)
			json_object_set(by_field, f, m);
	}
	for (k = 0; k < c->nparams; k++)
		json_object_set_new(params, c->params[k].name, json_string(c->params[k].value));
	d = json_pack("{s:O, s:s, s:s, s:s, s:i, s:O, s:o, s:o, s:o, s:O}",
	    "t", i18n_catalog(c->lang), "lang", c->lang, "base", base ? base : "",
	    "path", r->path, "status", status,
	    "query", c->query, "params", params, "form", form_echo(c->in), "err", by_field,
	    "data", c->out ? c->out : json_null());
	if (d == NULL)
		return NULL;
	json_object_set_new(d, "is_ja", json_boolean(strcmp(c->lang, "ja") == 0));
	json_object_set_new(d, "mail_side", json_boolean(base && strcmp(base, "/mail") == 0));
	if (c->p != NULL) {
		json_t *me = api_principal_json(c->p);

		json_object_set_new(me, "is_superadmin", json_boolean(c->p->role == ROLE_SUPERADMIN));
		json_object_set_new(me, "is_support", json_boolean(c->p->role == ROLE_SUPPORT));
		json_object_set_new(me, "is_user", json_boolean(c->p->role == ROLE_USER));
		json_object_set_new(me, "is_admin", json_boolean(c->p->role != ROLE_USER));
		json_object_set_new(d, "me", me);
		json_object_set_new(d, "csrf_token", json_string(c->p->csrf_token));
	}
	if (json_is_array(errs) && json_array_size(errs) > 0)
		json_object_set(d, "errors", errs);
	if (json_object_get(c->out, "error") != NULL)
		json_object_set(d, "error_message", json_object_get(json_object_get(c->out, "error"), "message"));
	if (done != NULL) {
		char key[96];

		if (bsnprintf(key, sizeof(key), "done_%s", done)) {
			const char *msg = i18n_get(c->lang, key);

			if (strcmp(msg, key) != 0)
				json_object_set_new(d, "done", json_string(msg));
		}
	}
	return d;
}

/* Does the path start with the segment seg ("/admin": "/admin", "/admin/…", "/admin?…",
 * but not "/admins")? */
static bool
seg_prefix(const char *path, const char *seg)
{
	size_t n = strlen(seg);

	return strncmp(path, seg, n) == 0 && (path[n] == '\0' || path[n] == '/' || path[n] == '?');
}

static const char *
login_path(const char *base)
{
	return base && strcmp(base, "/mail") == 0 ? "/mail/login" : "/admin/login";
}

void
page_answer(struct request *r, struct api_ctx *c, const struct api_route *rt,
            const char *base, const char *method, int status)
{
	const char *code = json_string_value(json_object_get(json_object_get(c->out, "error"), "code"));
	json_t *d;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (status == 401 && !(rt && (rt->flags & R_PUBLIC))) {
		redirect(r, login_path(base));
		return;
	}
	if (status == 403 && code && strcmp(code, "must_change_password") == 0) {
		redirect(r, base && strcmp(base, "/mail") == 0 ? "/mail/password" : "/admin/me/password");
		return;
	}
	if (status >= 200 && status < 300 && !get && !(rt != NULL && (rt->flags & R_RENDER))) {
		if (c->location != NULL)
			redirect(r, c->location);
		else if (rt != NULL && rt->redirect != NULL)
			redirect(r, expand(c, rt->redirect, rt->redirect[0] == '/' && !seg_prefix(rt->redirect, "/admin") &&
			    !seg_prefix(rt->redirect, "/mail") ? (base ? base : "") : ""));
		else
			redirect(r, base && *base ? arena_printf(r->arena, "%s/", base) : "/");
		return;
	}
	if (status == 303 && c->location != NULL) {
		redirect(r, c->location);
		return;
	}
	d = page_data(r, c, base, status);
	if (d == NULL) {
		page_render(r, 500, "error.html", NULL);
		return;
	}
	if (rt != NULL && rt->page != NULL && ((status >= 200 && status < 300) || (!get && (status == 422 ||
	    status == 409 || status == 400 || status == 401 || status == 423 || status == 429))))
		page_render(r, status, rt->page, d);
	else
		page_render(r, status >= 200 && status < 300 ? 500 : status, "error.html", d);
	json_decref(d);
}

static const char *
mime_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return "application/octet-stream";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".png"))
		return "image/png";
	if (!strcmp(dot, ".ico"))
		return "image/x-icon";
	return "application/octet-stream";
}

void
page_static(struct request *r, const char *rel)
{
	char path[CFG_STR + 256], chunk[8192];
	const char *p;
	int fd;
	ssize_t n;

	r->status = 404;
	r->content_type = "text/plain; charset=utf-8";
	for (p = rel; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '/'))
			goto missing;
	if (strstr(rel, "..") != NULL || rel[0] == '/' || rel[0] == '\0' ||
	    !bsnprintf(path, sizeof(path), "%s/%s", static_dir, rel))
		goto missing;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto missing;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&r->body_out, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		buf_reset(&r->body_out);
		goto missing;
	}
	r->status = 200;
	r->content_type = mime_of(rel);
	/* Static files may be cached; the security headers were set before. */
	for (int i = 0; i < r->nout; i++)
		if (!strcmp(r->out[i].name, "Cache-Control"))
			r->out[i].value = "public, max-age=3600";
	return;
missing:
	buf_adds(&r->body_out, "not found\n");
}
