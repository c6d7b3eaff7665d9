/* maild/cache.h: the configuration change feed (LISTEN yubin_config). maild reads account, alias,
 * forward and autoreply rows fresh for every transaction (one prepared statement per recipient),
 * so read-your-writes holds without waiting for a NOTIFY; the feed counts changes per domain
 * and reconnects by itself, for metrics and for caches layered on it. */
#ifndef YUBIN_MAILD_CACHE_H
#define YUBIN_MAILD_CACHE_H

#include <stdint.h>

#include "core/config.h"

/* Start the LISTEN thread on its own connection. 0 or -1. */
int cache_start(const struct config *cfg);
/* Changes seen since start (every NOTIFY, and every reconnect). */
uint64_t cache_generation(void);

#endif
