/* maild/spam.h: spam verdicts from rspamd (HTTP /checkv2), SpamAssassin's spamd (SPAMC), or a trusted
 * upstream X-Spam-Flag header (SPEC §5). */
#ifndef YUBIN_MAILD_SPAM_H
#define YUBIN_MAILD_SPAM_H

#include <stdbool.h>

#include "core/config.h"
#include "maild/msg.h"

struct spam_verdict {
	bool checked;      /* false with spam = none: no verdict headers are added */
	bool spam;
	double score;
};

/* 0 with v filled, -1 when the engine could not be asked (451 4.7.1, never pass unscanned). */
int spam_check(const struct config *cfg, const struct msg *m, struct spam_verdict *v);
/* Parse the `spam` setting; false when malformed (checked at start-up). */
bool spam_config_ok(const char *setting);

#endif
