/* maild/retention.h: the retention sweep of SPEC §8: old inbox mail to .Archive, old Trash deleted. */
#ifndef YUBIN_MAILD_RETENTION_H
#define YUBIN_MAILD_RETENTION_H

#include <stdint.h>

#include "core/config.h"
#include "core/db.h"

struct retention_stats {
	int64_t mailboxes;    /* swept */
	int64_t skipped;      /* busy (a POP3 session holds it) or not this account's */
	int64_t archived;     /* messages moved from the inbox to .Archive */
	int64_t deleted;      /* messages deleted from .Trash */
	int64_t bytes_freed;
};

/* Start the sweep thread: once now, then every retention_interval seconds. 0 or -1. */
int retention_start(const struct config *cfg);
/* One sweep over every account's mailbox. 0, or -1 when the account list could not be read
 * (single mailboxes that fail are logged and skipped). */
int retention_sweep(struct db *db, const struct config *cfg, struct retention_stats *st);

#endif
