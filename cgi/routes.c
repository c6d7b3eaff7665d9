/* cgi/routes.c: the one route table of the panel: every resource file's rows, in order. */
#include "cgi/routes.h"

/* More specific tables first: the first row whose path matches decides 405 vs a handler. */
const struct api_route *const route_tables[] = {
	api_routes_auth,
	api_routes_pages,
	NULL,
};
