/* core/password.c: Argon2id through libsodium's crypto_pwhash (the same PHC string as libargon2,
 * 1.2x faster here: PERFORMANCE.md). Only this file includes sodium's password API. */
#include "core/password.h"

#include <sodium.h>
#include <string.h>

static unsigned long long ops = 2;
static size_t mem = 19456u * 1024u;
static char dummy[PW_HASH_MAX];

int
pw_init(int64_t m_kib, int64_t t, int64_t p)
{
	(void)p;   /* libsodium computes with one lane; p=1 is our default and Dovecot's */
	if (sodium_init() < 0)
		return -1;
	ops = (unsigned long long)t;
	mem = (size_t)m_kib * 1024u;
	return pw_hash("dummy-password-for-timing", dummy);
}

int
pw_hash(const char *password, char out[PW_HASH_MAX])
{
	if (crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -1;
	return 0;
}

int
pw_verify(const char *password, const char *phc)
{
	bool real = phc != NULL && strncmp(phc, "$argon2id$", 10) == 0;

	if (!real) {
		/* The result is meaningless; only the time spent matters. */
		int spent = crypto_pwhash_str_verify(dummy, password, strlen(password));

		return spent == 0 ? 0 : 0;
	}
	return crypto_pwhash_str_verify(phc, password, strlen(password)) == 0 ? 1 : 0;
}

void
pw_random(char out[17])
{
	static const char lower[] = "abcdefghijkmnopqrstuvwxyz";
	static const char upper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
	static const char digit[] = "23456789";
	static const char sym[] = "#+-.!_:*$@%^&~";
	static const char *const sets[] = { lower, upper, digit, sym };
	int i, j;

	/* First four positions guarantee one of each class; digits never run to 6, since
	 * at most a quarter of the positions can be digits in a row only by chance and we
	 * break runs explicitly below. */
	for (i = 0; i < 16; i++) {
		const char *s = i < 4 ? sets[i] : sets[randombytes_uniform(4)];

		out[i] = s[randombytes_uniform((uint32_t)strlen(s))];
	}
	out[16] = '\0';
	for (i = 0, j = 0; i < 16; i++) {
		j = (out[i] >= '0' && out[i] <= '9') ? j + 1 : 0;
		if (j >= 5) {
			out[i] = lower[randombytes_uniform((uint32_t)strlen(lower))];
			j = 0;
		}
	}
	/* Shuffle so the class order is not predictable. */
	for (i = 15; i > 0; i--) {
		uint32_t k = randombytes_uniform((uint32_t)i + 1);
		char c = out[i];

		out[i] = out[k];
		out[k] = c;
	}
	/* The shuffle may have rebuilt a digit run; break it again. */
	for (i = 0, j = 0; i < 16; i++) {
		j = (out[i] >= '0' && out[i] <= '9') ? j + 1 : 0;
		if (j >= 5) {
			out[i] = 'x';
			j = 0;
		}
	}
}
