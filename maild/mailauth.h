/* maild/mailauth.h: authentication for SMTP AUTH and POP3 (and the policy Dovecot shares):
 * lockout counters of core/lockout.h, Argon2id, and the account statuses of SPEC §6. */
#ifndef YUBIN_MAILD_MAILAUTH_H
#define YUBIN_MAILD_MAILAUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/db.h"

enum mailauth_result {
	MA_OK,            /* signed in */
	MA_BAD,           /* wrong login or password (counted as a failure) */
	MA_LOCKED,        /* the login is locked (right password refused too; not counted) */
	MA_REFUSED,       /* compromised, or a temporary password (panel only, SPEC §6) */
	MA_TEMPFAIL,      /* database fault: 4xx / -ERR [SYS/TEMP], never "wrong password" */
};

struct mailauth_user {
	int64_t account_id;
	char name[65];          /* local part */
	char domain[256];
	char address[330];
	bool send_locked;       /* SPEC §6: sending refused */
	bool compromised;
};

/* Check `login` (full address, any case) and `password`. Counts the failure, resets the
 * count on success, and writes an audit row for refusals. `proto` is "smtp" or "pop3". */
enum mailauth_result mailauth_check(struct db *db, const struct config *cfg, const char *proto,
                                    const char *remote_addr, const char *login,
                                    const char *password, struct mailauth_user *u);

/* An audit row (action "<proto>_<what>", details {reason, protocol}) about an existing
 * account's address; a failure to write it is logged, not fatal. */
void mailauth_audit(struct db *db, const char *domain, const char *login, const char *proto,
                    const char *what, const char *reason, const char *remote_addr);

#endif
