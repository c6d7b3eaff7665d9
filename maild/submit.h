/* maild/submit.h: submission policy (CONTRACT "Submission", SPEC §6): whose envelope sender an account
 * may use, whether it may send now, and the per-day send count that sets the send lock. */
#ifndef YUBIN_MAILD_SUBMIT_H
#define YUBIN_MAILD_SUBMIT_H

#include <stddef.h>

#include "core/config.h"
#include "core/db.h"
#include "maild/mailauth.h"

enum submit_check {
	SUBMIT_OK,
	SUBMIT_NOT_OWN,    /* 553 5.7.1: not the account's address or one of its aliases */
	SUBMIT_REFUSED,    /* 550 5.7.1: compromised, locked or send-locked (why says which) */
	SUBMIT_TEMPFAIL,   /* 451 4.3.0 */
};

/* Read fresh from the database at every MAIL FROM, so a lock or a release the panel
 * answered applies to the next transaction. A refusal by status is audited
 * (smtp_send_refused, from `peer`). */
enum submit_check submit_check_sender(struct db *db, const struct config *cfg,
                                      const struct mailauth_user *u, const char *from,
                                      const char *peer, char *why, size_t whysz);
/* Count one sent message in the current hour bucket; when the last 24 h hold more than
 * send_limit_per_day, set send_locked_at, audit it (smtp_send_locked) and answer
 * SUBMIT_REFUSED (the message is not sent). SUBMIT_OK when counted and under the limit. */
enum submit_check submit_count(struct db *db, const struct config *cfg, const struct mailauth_user *u,
                               const char *peer);

#endif
