/* core/util.c: bounded string helpers, checked integer parsing, randomness and hashing for tokens. */
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

bool
bsnprintf(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < outsz;
}

bool
bstrcpy(char *out, size_t outsz, const char *src)
{
	size_t n = strlen(src);

	if (outsz == 0)
		return false;
	if (n >= outsz) {
		memcpy(out, src, outsz - 1);
		out[outsz - 1] = '\0';
		return false;
	}
	memcpy(out, src, n + 1);
	return true;
}

bool
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
str_eq_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return false;
	return sodium_memcmp(a, b, la) == 0;
}

bool
str_case_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool
random_hex(char *out, size_t outsz, size_t n)
{
	unsigned char raw[64];

	if (n > sizeof(raw) || outsz < 2 * n + 1)
		return false;
	randombytes_buf(raw, n);
	sodium_bin2hex(out, outsz, raw, n);
	sodium_memzero(raw, sizeof(raw));
	return true;
}

void
sha256_hex(const char *s, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, h, sizeof(h));
}
