/* cgi/routes.h: the list of route tables the router walks, and the lookup over them. */
#ifndef YUBIN_CGI_ROUTES_H
#define YUBIN_CGI_ROUTES_H

#include "api/api.h"

extern const struct api_route *const route_tables[];
/* Pages that have no API twin (home, login forms): api/pages.c. */
extern const struct api_route api_routes_pages[];

enum route_mode { MODE_API, MODE_HTML };

/* Find the row for method+path. 0 found (*route_r, params in c); 404 no such path;
 * 405 path exists with other methods (allow_r gets "GET, POST"). */
int route_find(enum route_mode mode, const char *method, const char *path,
               struct api_ctx *c, const struct api_route **route_r, char *allow_r, size_t allowsz);

#endif
