/* maild/autoreply.h: the autoresponder of SPEC §4 under RFC 3834's rules, replies through the queue. */
#ifndef YUBIN_MAILD_AUTOREPLY_H
#define YUBIN_MAILD_AUTOREPLY_H

#include "core/config.h"
#include "core/db.h"
#include "maild/msg.h"
#include "maild/rcpt.h"

/* Decide for one recipient and queue the reply. 1 reply queued, 0 none due, -1 temporary
 * fault (database or queue). `from` is the envelope sender. */
int autoreply_maybe(struct db *db, const struct config *cfg, const struct rcpt_info *r,
                    const char *from, const struct msg *m);
/* RFC 3834 §2 and SPEC §4: whether a message may be answered at all (headers, sender).
 * Exposed for the unit test. */
bool autoreply_allowed(const struct msg *m, const char *from);

#endif
