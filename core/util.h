/* core/util.h: small string and number helpers glibc lacks (bounded copies, checked parsing). */
#ifndef YUBIN_CORE_UTIL_H
#define YUBIN_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* snprintf that reports truncation: false when the result did not fit. */
bool bsnprintf(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Copy with truncation check: false when src did not fit. */
bool bstrcpy(char *out, size_t outsz, const char *src);
/* Whole-string decimal integer in [min, max]; false otherwise. */
bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Constant-time comparison of two NUL-terminated strings. */
bool str_eq_ct(const char *a, const char *b);
bool str_case_eq(const char *a, const char *b);
/* Random bytes from the kernel as lower-case hex (outsz >= 2*n+1); false on failure. */
bool random_hex(char *out, size_t outsz, size_t n);
/* SHA-256 of s as lower-case hex into out[65]. */
void sha256_hex(const char *s, char out[65]);

#endif
