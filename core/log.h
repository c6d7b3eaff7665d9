/* core/log.h: the severity ladder (info, warn, error; fatal only for start-up and broken invariants). */
#ifndef YUBIN_CORE_LOG_H
#define YUBIN_CORE_LOG_H

#include <stddef.h>

void log_init(const char *progname, int debug);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Copy at most `max` bytes of untrusted text into out, non-printables as \xNN. */
const char *log_untrusted(const char *in, size_t inlen, char *out, size_t outsz);

#endif
