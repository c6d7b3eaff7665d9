/* core/lockout.h: failed-authentication counters per login string, shared by the panel, SMTP AUTH,
 * POP3 and Dovecot (CONTRACT "Failed authentications"), and the per-address panel throttle. */
#ifndef YUBIN_CORE_LOCKOUT_H
#define YUBIN_CORE_LOCKOUT_H

#include <stdint.h>

#include "core/db.h"
#include "core/lookup.h"

/* LK_FOUND: the login is locked now; LK_NOTFOUND: it is not; LK_TEMPFAIL: database fault. */
enum lookup lockout_check(struct db *db, const char *login);
/* Count one failure; the `threshold`th in a row locks the login for `minutes`. Failures
 * while locked neither count nor extend the lock. 0, or -1 on a database fault. */
int lockout_fail(struct db *db, const char *login, int64_t threshold, int64_t minutes);
/* A success or an unlock: the count starts again. 0 or -1. */
int lockout_reset(struct db *db, const char *login);

/* Per client address: LK_FOUND when `limit` failures happened in the last minute. */
enum lookup throttle_check(struct db *db, const char *remote_addr, int64_t limit);
int throttle_fail(struct db *db, const char *remote_addr);

#endif
