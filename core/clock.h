/* core/clock.h: "now" for every rule that depends on time, movable by tests (TESTING.md "Time"). */
#ifndef YUBIN_CORE_CLOCK_H
#define YUBIN_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Seconds since the epoch, plus the offset in the file named by YUBIN_TEST_CLOCK_FILE
 * (a test-only setting; read on each call so a running daemon follows it). */
time_t clock_now(void);
/* Milliseconds of CLOCK_MONOTONIC, for intervals (throttled progress writes); no test offset. */
int64_t clock_mono_ms(void);
/* RFC 3339 UTC text of t ("2026-12-02T18:00:00Z") into out (>= 21 bytes). */
const char *clock_rfc3339(time_t t, char *out, size_t outsz);
/* clock_now() as RFC 3339, for SQL parameters. */
const char *clock_now_str(char *out, size_t outsz);
/* Parse RFC 3339 / ISO 8601 ("2026-12-02", "2026-12-02T10:00:00Z", with +09:00 offsets);
 * -1 when malformed. */
int clock_parse(const char *s, time_t *out);

#endif
