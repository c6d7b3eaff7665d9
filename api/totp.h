/* api/totp.h: the second sign-in step (TOTP, RFC 6238) that api/auth.c hands an admin login to. */
#ifndef YUBIN_API_TOTP_H
#define YUBIN_API_TOTP_H

#include <stdint.h>

#include "api/api.h"

/* The password of an admin with TOTP enabled was right: open a pending session (its cookie
 * is set; api/session.c does not treat it as signed in) and answer 200
 * {totp_required: true}, without a CSRF token or principal; a page goes on to
 * /admin/login/totp. Returns the HTTP status (503 answered on a database fault). */
int totp_login_begin(struct api_ctx *c, int64_t admin_id);

#endif
