/* api/api.c: helpers every handler shares: input fields, the error shape, scope and audit. */
#include "api/api.h"

#include <string.h>
#include <strings.h>

#include <stdlib.h>

#include "core/clock.h"
#include "core/util.h"

const char *
api_param(const struct api_ctx *c, const char *name)
{
	int i;

	for (i = 0; i < c->nparams; i++)
		if (strcmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	return NULL;
}

const char *
api_in_str(const struct api_ctx *c, const char *name)
{
	json_t *v = json_object_get(c->in, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
api_in_bool(const struct api_ctx *c, const char *name)
{
	json_t *v = json_object_get(c->in, name);
	const char *s;

	if (v == NULL || json_is_null(v))
		return -1;
	if (json_is_boolean(v))
		return json_is_true(v) ? 1 : 0;
	if (!json_is_string(v))
		return -2;
	s = json_string_value(v);
	if (*s == '\0')
		return -1;
	if (!strcmp(s, "1") || !strcasecmp(s, "on") || !strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		return 1;
	if (!strcmp(s, "0") || !strcasecmp(s, "off") || !strcasecmp(s, "false") || !strcasecmp(s, "no"))
		return 0;
	return -2;
}

int
api_in_int(const struct api_ctx *c, const char *name, int64_t *out)
{
	json_t *v = json_object_get(c->in, name);

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (*s == '\0')
			return 0;
		return parse_i64(s, INT64_MIN, INT64_MAX, out) ? 1 : -1;
	}
	return -1;
}

static const char *
top_message(const char *code, const char *lang)
{
	bool ja = strcmp(lang, "ja") == 0;

	if (!strcmp(code, "malformed"))
		return ja ? "リクエストの形式が正しくありません。" : "The request is malformed.";
	if (!strcmp(code, "unauthenticated"))
		return ja ? "ログインしてください。" : "Please sign in.";
	if (!strcmp(code, "forbidden"))
		return ja ? "この操作を行う権限がありません。" : "You are not allowed to do this.";
	if (!strcmp(code, "csrf"))
		return ja ? "フォームの有効期限が切れました。もう一度お試しください。" : "The form has expired or the CSRF token is wrong. Please try again.";
	if (!strcmp(code, "must_change_password"))
		return ja ? "パスワードを変更してください。" : "You must change your password first.";
	if (!strcmp(code, "not_found"))
		return ja ? "見つかりません。" : "Not found.";
	if (!strcmp(code, "method_not_allowed"))
		return ja ? "このメソッドは使用できません。" : "Method not allowed.";
	if (!strcmp(code, "exists"))
		return ja ? "既に存在します。" : "It exists already.";
	if (!strcmp(code, "invalid"))
		return ja ? "入力内容に誤りがあります。" : "Some fields are invalid.";
	if (!strcmp(code, "locked"))
		return ja ? "アカウントがロックされています。しばらく待ってから再度お試しください。" : "The account is locked. Please try again later.";
	if (!strcmp(code, "throttled"))
		return ja ? "試行回数が多すぎます。しばらく待ってから再度お試しください。" : "Too many attempts. Please wait and try again.";
	if (!strcmp(code, "unavailable"))
		return ja ? "ただいまサービスを利用できません。しばらく待ってから再度お試しください。" : "The service is temporarily unavailable. Please try again shortly.";
	if (!strcmp(code, "unauthorized") || !strcmp(code, "bad_credentials"))
		return ja ? "ログイン名またはパスワードが正しくありません。" : "The login name or password is wrong.";
	return rule_message(code, lang);
}

int
api_fail(struct api_ctx *c, int status, const char *code, const struct rule_errs *errs)
{
	json_t *details = json_array(), *err;
	size_t i;

	for (i = 0; errs != NULL && i < errs->n; i++) {
		const struct rule_err *e = &errs->e[i];
		char msg[512];
		json_t *d;

		/* rule_err_text names the detail (the refused character, SPEC §4). */
		if (!rule_err_text(e, c->lang, msg, sizeof(msg)) && msg[0] == '\0')
			bstrcpy(msg, sizeof(msg), rule_message_field(e->field, e->code, c->lang));
		d = json_pack("{s:s, s:s, s:s}", "field", e->field, "code", e->code, "message", msg);

		if (d != NULL && e->arg[0] != '\0')
			json_object_set_new(d, "char", json_string(e->arg));
		json_array_append_new(details, d);
	}
	err = json_pack("{s:{s:s, s:s, s:o}}", "error", "code", code, "message",
	    top_message(code, c->lang), "details", details);
	json_decref(c->out);
	c->out = err;
	return status;
}

int
api_fail1(struct api_ctx *c, int status, const char *code, const char *field, const char *fcode)
{
	struct rule_errs errs = { .n = 0 };

	rule_add(&errs, field, fcode, NULL);
	return api_fail(c, status, code, &errs);
}

int
api_unavailable(struct api_ctx *c)
{
	return api_fail(c, 503, "unavailable", NULL);
}

int
api_ok(struct api_ctx *c, int status, json_t *out)
{
	json_decref(c->out);
	c->out = out;
	return status;
}

bool
api_in_scope(const struct api_ctx *c, const char *domain)
{
	size_t i;

	if (c->p == NULL || domain == NULL)
		return false;
	if (c->p->role == ROLE_SUPERADMIN)
		return true;
	for (i = 0; i < c->p->ndomains; i++)
		if (strcasecmp(c->p->domains[i], domain) == 0)
			return true;
	return false;
}

static const struct db_stmt st_audit = {
	"api_audit",
	"INSERT INTO audit_log (at, domain, actor, actor_role, action, target, remote_addr, details) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)", 8
};

enum db_status
api_audit(struct api_ctx *c, const char *domain, const char *action, const char *target,
          json_t *details)
{
	char now[32];
	char *js = details ? json_dumps(details, JSON_COMPACT) : NULL;
	enum db_status s;

	s = db_runv(c->db, &st_audit, NULL, clock_now_str(now, sizeof(now)), domain,
	    c->p ? c->p->login : "-", c->p ? role_name(c->p->role) : "-", action,
	    target ? target : "", c->remote_addr ? c->remote_addr : "", js);
	free(js);
	return s;
}

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_SUPERADMIN: return "superadmin";
	case ROLE_DOMAIN_ADMIN: return "domain_admin";
	case ROLE_SUPPORT: return "support";
	case ROLE_USER: return "user";
	}
	return "?";
}

int
role_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (!strcmp(s, "superadmin"))
		return ROLE_SUPERADMIN;
	if (!strcmp(s, "domain_admin"))
		return ROLE_DOMAIN_ADMIN;
	if (!strcmp(s, "support"))
		return ROLE_SUPPORT;
	if (!strcmp(s, "user"))
		return ROLE_USER;
	return -1;
}
