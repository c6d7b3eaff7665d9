/* maild/metrics.h: Prometheus counters and gauges of the mail daemon, served as text on metrics_listen. */
#ifndef YUBIN_MAILD_METRICS_H
#define YUBIN_MAILD_METRICS_H

#include <stdint.h>

/* `series` is a full Prometheus series name with its labels, e.g.
 * "yubin_maild_messages_refused_total{reason=\"unknown_user\"}"; the text must be a
 * literal (it is kept, not copied). Unknown series are registered on first use, up to a
 * fixed number (later ones are dropped and logged once). Thread-safe. */
void metrics_add(const char *series, int64_t delta);
void metrics_inc(const char *series);
void metrics_set(const char *series, int64_t value);
/* Serve the text format on ADDR:PORT in a thread of its own. 0 or -1 (logged). */
int metrics_listen(const char *addrport);
/* The exposition text into a malloc'd string (caller frees); NULL when out of memory. */
char *metrics_render(void);

#endif
