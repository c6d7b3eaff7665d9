/* cgi/routes.h: the list of route tables the router walks, and the lookup over them. */
#ifndef YUBIN_CGI_ROUTES_H
#define YUBIN_CGI_ROUTES_H

#include "api/api.h"

/* Every resource file exports one table ended by a row with method NULL. They are weak
 * here so a module and its one line in routes.c can land in any order. */
#define ROUTE_TABLE(name) extern const struct api_route name[] __attribute__((weak))
ROUTE_TABLE(api_routes_auth);
ROUTE_TABLE(api_routes_pages);      /* api/pages.c: login forms, home */
ROUTE_TABLE(api_routes_domains);    /* api/domains.c */
ROUTE_TABLE(api_routes_admins);     /* api/admins.c */
ROUTE_TABLE(api_routes_tokens);     /* api/tokens.c */
ROUTE_TABLE(api_routes_accounts);   /* api/accounts.c */
ROUTE_TABLE(api_routes_support);    /* api/support.c: unlock, send lock, compromised, temp password */
ROUTE_TABLE(api_routes_audit);      /* api/audit.c */
ROUTE_TABLE(api_routes_forwards);   /* api/forwards.c */
ROUTE_TABLE(api_routes_autoreply);  /* api/autoreply.c */
ROUTE_TABLE(api_routes_csv);        /* api/csv.c */
ROUTE_TABLE(api_routes_jobs);       /* api/jobs.c */
ROUTE_TABLE(api_routes_me);         /* api/me.c: the user's own account */
ROUTE_TABLE(api_routes_mailconf);   /* api/mailconf.c: client settings, autoconfig */
ROUTE_TABLE(api_routes_aliases);    /* api/aliases.c: aliases, catch-all, domain aliases */
ROUTE_TABLE(api_routes_totp);       /* api/totp.c */
ROUTE_TABLE(api_routes_extra1);     /* spare names for modules not foreseen */
ROUTE_TABLE(api_routes_extra2);
ROUTE_TABLE(api_routes_extra3);
#undef ROUTE_TABLE

#define ROUTE_TABLES_MAX 24
extern const struct api_route *const route_tables[ROUTE_TABLES_MAX];

enum route_mode { MODE_API, MODE_HTML };

/* Find the row for method+path. 0 found (*route_r, params in c); 404 no such path;
 * 405 path exists with other methods (allow_r gets "GET, POST"). */
int route_find(enum route_mode mode, const char *method, const char *path,
               struct api_ctx *c, const struct api_route **route_r, char *allow_r, size_t allowsz);

#endif
