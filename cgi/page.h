/* cgi/page.h: answering a browser: templates rendered from a handler's result, redirects after
 * form posts, error pages without internals, static files. */
#ifndef YUBIN_CGI_PAGE_H
#define YUBIN_CGI_PAGE_H

#include "api/api.h"
#include "cgi/request.h"

int page_init(const struct config *cfg);
/* Answer r for a page request whose handler returned status (rt may be NULL when no
 * route matched). `base` is "/admin", "/mail" or "". */
void page_answer(struct request *r, struct api_ctx *c, const struct api_route *rt,
                 const char *base, const char *method, int status);
/* Serve a file below the static folder (CSS, JS, images). */
void page_static(struct request *r, const char *rel);
/* Render template `name` with data into r as a 200 (or status) HTML answer. */
void page_render(struct request *r, int status, const char *name, json_t *data);

#endif
