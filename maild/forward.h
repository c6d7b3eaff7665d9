/* maild/forward.h: the account's forward rules of SPEC §3 (all / From contains / Subject contains,
 * matched case-insensitively on RFC 2047-decoded text) applied to one message. */
#ifndef YUBIN_MAILD_FORWARD_H
#define YUBIN_MAILD_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"
#include "core/lookup.h"
#include "maild/msg.h"

/* SPEC §3: at most 300 destinations per account. */
#define FWD_MAX 300

struct fwd_list {
	int n;
	char addr[FWD_MAX][330];
};

/* The distinct destinations of every rule that matches m (LK_FOUND when there is at least
 * one, LK_NOTFOUND when none, LK_TEMPFAIL on a database fault). */
enum lookup forward_match(struct db *db, int64_t account_id, const struct msg *m, struct fwd_list *out);
/* The matching itself, for the unit test: does `cond` ("all", "from", "subject") with `keyword`
 * match the decoded From and Subject (UTF-8)? */
bool forward_rule_matches(const char *cond, const char *keyword, const char *from_utf8,
                          const char *subject_utf8);
/* UTF-8 case-insensitive substring test (ASCII and full-width Latin letters fold). */
bool forward_contains(const char *hay, const char *needle);

#endif
