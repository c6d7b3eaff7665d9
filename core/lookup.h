/* core/lookup.h: every lookup answers found, not found, or temporary failure (OpenSMTPD table.c). */
#ifndef YUBIN_CORE_LOOKUP_H
#define YUBIN_CORE_LOOKUP_H

enum lookup {
	LK_FOUND,
	LK_NOTFOUND,
	LK_TEMPFAIL,   /* database or disk unavailable: 503 / SMTP 4xx, never a rejection */
};

#endif
