/* maild/virus.h: ClamAV clamd INSTREAM scanning before a message is accepted (SPEC §5). */
#ifndef YUBIN_MAILD_VIRUS_H
#define YUBIN_MAILD_VIRUS_H

#include <stddef.h>

#include "core/config.h"
#include "maild/msg.h"

enum virus_result {
	VIRUS_CLEAN,       /* or scanning is off (virus = none) */
	VIRUS_FOUND,       /* name filled: 554 5.7.1 */
	VIRUS_TEMPFAIL,    /* clamd unreachable or confused: 451 4.7.1 */
};

enum virus_result virus_scan(const struct config *cfg, const struct msg *m, char *name, size_t namesz);

#endif
