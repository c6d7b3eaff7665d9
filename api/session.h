/* api/session.h: who is calling — a cookie session or a Bearer token turned into a principal. */
#ifndef YUBIN_API_SESSION_H
#define YUBIN_API_SESSION_H

#include "api/api.h"
#include "core/lookup.h"

/* Load the principal for a cookie token or a Bearer token (either may be NULL).
 * LK_FOUND: *p_r is set (arena memory); LK_NOTFOUND: no valid session; LK_TEMPFAIL. */
enum lookup session_load(struct api_ctx *c, const char *cookie_token, const char *bearer,
                         struct principal **p_r);
/* Create a session row for an admin (admin_id) or an account (account_id); writes the
 * cookie into c->set_cookie, the token into token_r and the CSRF token into csrf_r. 0 or -1 (db fault). */
int session_create(struct api_ctx *c, int64_t admin_id, int64_t account_id, char token_r[65],
                   char csrf_r[65]);
int session_destroy(struct api_ctx *c);
/* Drop every session of an account (compromised, deleted, password set by an admin). */
int session_drop_account(struct db *db, int64_t account_id);
int session_drop_admin(struct db *db, int64_t admin_id);

#define SESSION_COOKIE "yubin_session"

#endif
