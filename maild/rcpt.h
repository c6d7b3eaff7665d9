/* maild/rcpt.h: recipient resolution (SPEC §10): account → alias → domain alias → catch-all, read from
 * PostgreSQL for every recipient so a change the API answered governs the next message. */
#ifndef YUBIN_MAILD_RCPT_H
#define YUBIN_MAILD_RCPT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"
#include "core/lookup.h"

struct rcpt_info {
	int64_t account_id;
	char name[65];              /* the account's own local part */
	char domain[256];           /* the account's own domain */
	char address[330];          /* name@domain */
	char rcpt[330];             /* the address the mail was sent to, lower case */
	int64_t quota_mb;
	int64_t usage_bytes;
	bool receive, spam_tag, spam_sort;
	/* Known at RCPT time to have no forward rule / no autoreply text: delivery skips those
	 * queries (false = unknown, ask). Read in the same transaction, so read-your-writes holds. */
	bool no_forwards, no_autoreply;
};

/* LK_FOUND with r filled; LK_NOTFOUND with *domain_local_r telling whether the domain is
 * ours (550 5.1.1) or not (relay refused); LK_TEMPFAIL on a database fault. */
enum lookup rcpt_lookup(struct db *db, const char *local, const char *domain,
                        struct rcpt_info *r, bool *domain_local_r);
/* Whether a domain (or domain alias) is hosted here. */
enum lookup rcpt_domain_is_local(struct db *db, const char *domain);
/* Whether `address` (lower case) is the account's own address or one of its aliases (in any
 * of its domain's aliases). LK_FOUND yes, LK_NOTFOUND no. */
enum lookup rcpt_is_own_address(struct db *db, int64_t account_id, const char *address);
/* Over quota by CONTRACT: usage above quota (a message is still taken at exactly the quota). */
bool rcpt_over_quota(const struct rcpt_info *r);
/* The audit row of an over-quota refusal (SPEC §6), at most one an hour per address. */
void rcpt_audit_over_quota(struct db *db, const struct rcpt_info *r, const char *peer);

#endif
