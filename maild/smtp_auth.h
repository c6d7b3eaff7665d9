/* maild/smtp_auth.h: SMTP AUTH PLAIN and LOGIN (RFC 4954, 4616) over mailauth_check. */
#ifndef YUBIN_MAILD_SMTP_AUTH_H
#define YUBIN_MAILD_SMTP_AUTH_H

#include <stddef.h>

#include "core/config.h"
#include "core/db.h"
#include "maild/mailauth.h"
#include "maild/net.h"

enum smtp_auth_result {
	SA_OK,
	SA_BAD,        /* 535 5.7.8 */
	SA_LOCKED,     /* 535 5.7.8 (CONTRACT: locked logins get the same code) */
	SA_REFUSED,    /* 535 5.7.8: compromised or a temporary password */
	SA_TEMPFAIL,   /* 454 4.7.0 */
	SA_SYNTAX,     /* 501 5.5.2: bad base64 or layout */
	SA_CANCEL,     /* 501 5.0.0: the client sent "*" */
	SA_MECH,       /* 504 5.5.4: not PLAIN or LOGIN */
	SA_LOST,       /* connection gone */
};

/* Run the exchange for "AUTH <arg>": may write 334 challenges and read the answers.
 * scratch is wiped by the caller (it holds the password). */
enum smtp_auth_result smtp_auth_exchange(struct conn *c, struct db *db, const struct config *cfg,
                                         const char *arg, struct mailauth_user *u,
                                         char *scratch, size_t scratchsz);
/* Split a decoded PLAIN response "authzid\0authcid\0password" (n bytes). False when it is not
 * that shape or authzid names someone else. For the fuzz target and unit test. */
bool smtp_auth_plain_split(const char *p, size_t n, char *login, size_t loginsz,
                           char *password, size_t passwordsz);

#endif
