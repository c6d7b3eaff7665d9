/* cgi/routes.c: the one route table of the panel: every resource file's rows, in order.
 * A NULL entry is a module not linked in; the router skips it. */
#include "cgi/routes.h"

/* More specific tables first: the first row whose path and method match is taken. */
const struct api_route *const route_tables[ROUTE_TABLES_MAX] = {
	api_routes_auth,
	api_routes_pages,
	api_routes_totp,
	api_routes_me,
	api_routes_mailconf,
	api_routes_domains,
	api_routes_admins,
	api_routes_tokens,
	api_routes_extra3,   /* api/csv_pages.c: page-only rows, before the CSV and job API rows they use */
	api_routes_csv,
	api_routes_jobs,
	api_routes_support,
	api_routes_audit,
	api_routes_forwards,
	api_routes_autoreply,
	api_routes_aliases,
	api_routes_accounts,
	api_routes_extra1,
	api_routes_extra2,   /* api/csv_export.c: accounts.csv export, the two CSV samples */
};
