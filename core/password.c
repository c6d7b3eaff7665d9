/* core/password.c: Argon2id through libsodium's crypto_pwhash (the same PHC string as libargon2,
 * 1.2x faster here: PERFORMANCE.md). Only this file includes sodium's password API. */
#include "core/password.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

static unsigned long long ops = 2;
static size_t mem = 19456u * 1024u;
static char dummy[PW_HASH_MAX];

/*
 * At most one Argon2id computation per online core at a time in this process; the others
 * wait their turn. Eight sign-ins at once on two cores otherwise time-slice eight 19 MiB
 * computations: each takes four times as long, none ends sooner, and the memory held is
 * eight hashes' worth (the bench saw 142 MiB PSS in a panel mid-burst) instead of two.
 */
static sem_t slots;
static bool slots_ok;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void
slots_init(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	slots_ok = sem_init(&slots, 0, n < 1 ? 1u : n > 256 ? 256u : (unsigned)n) == 0;
}

static void
slot_take(void)
{
	(void)pthread_once(&slots_once, slots_init);
	if (slots_ok)
		while (sem_wait(&slots) != 0 && errno == EINTR)
			;
}

static void
slot_give(void)
{
	if (slots_ok)
		(void)sem_post(&slots);
}

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
	int rc;

	slot_take();
	rc = crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0 ? -1 : 0;
	slot_give();
	return rc;
}

int
pw_verify(const char *password, const char *phc)
{
	bool real = phc != NULL && strncmp(phc, "$argon2id$", 10) == 0;
	int rc;

	slot_take();
	if (!real) {
		/* The result is meaningless; only the time spent matters. */
		int spent = crypto_pwhash_str_verify(dummy, password, strlen(password));

		rc = spent == 0 ? 0 : 0;
	} else {
		rc = crypto_pwhash_str_verify(phc, password, strlen(password)) == 0 ? 1 : 0;
	}
	slot_give();
	return rc;
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
