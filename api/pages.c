/* api/pages.c: page-only routes with no API twin: sign-in forms, home pages, the password form. */
#include <string.h>

#include "api/api.h"
#include "cgi/routes.h"

static int
admin_login_form(struct api_ctx *c)
{
	return api_ok(c, 200, json_pack("{s:b, s:s}", "mail_login", 0, "action", "/admin/login"));
}

static int
mail_login_form(struct api_ctx *c)
{
	return api_ok(c, 200, json_pack("{s:b, s:s}", "mail_login", 1, "action", "/mail/login"));
}

/* Where a signed-in person starts: superadmin the domains, support the console, a domain
 * admin the accounts of their first domain, a user their own account. */
static int
home(struct api_ctx *c)
{
	switch (c->p->role) {
	case ROLE_SUPERADMIN:
		c->location = "/admin/domains";
		break;
	case ROLE_SUPPORT:
		c->location = "/admin/support";
		break;
	case ROLE_DOMAIN_ADMIN:
		c->location = c->p->ndomains > 0 ?
		    arena_printf(c->arena, "/admin/domains/%s/accounts", c->p->domains[0]) : "/admin/me/password";
		break;
	case ROLE_USER:
		c->location = "/mail/account";
		break;
	}
	{
		/* A completion message sent home (after a password change) survives the hop. */
		const char *done = json_string_value(json_object_get(c->query, "done"));

		if (done != NULL && *done != '\0' && strlen(done) < 64 &&
		    strspn(done, "abcdefghijklmnopqrstuvwxyz_") == strlen(done))
			c->location = arena_printf(c->arena, "%s%sdone=%s", c->location,
			    strchr(c->location, '?') ? "&" : "?", done);
	}
	return api_ok(c, 303, NULL);
}

static int
password_form(struct api_ctx *c)
{
	return api_ok(c, 200, json_object());
}

const struct api_route api_routes_pages[] = {
	{ "GET", "/admin/login", admin_login_form, R_PUBLIC | R_HTML, "login.html", NULL },
	{ "GET", "/mail/login", mail_login_form, R_PUBLIC | R_HTML, "login.html", NULL },
	{ "GET", "/me/password", password_form, R_ADMIN | R_USER | R_GATE_OK | R_HTML, "password.html", NULL },
	{ "GET", "/me/", home, R_USER | R_HTML, NULL, NULL },
	{ "GET", "/me", home, R_USER | R_HTML, NULL, NULL },
	{ "GET", "/", home, R_ADMIN | R_HTML, NULL, NULL },
	{ NULL, NULL, NULL, 0, NULL, NULL },
};
