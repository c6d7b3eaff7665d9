/* core/password.h: Argon2id PHC strings ($argon2id$v=19$m=…,t=…,p=…$salt$hash) — the only password storage. */
#ifndef YUBIN_CORE_PASSWORD_H
#define YUBIN_CORE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_HASH_MAX 128

/* Parameters for new hashes (default m=19456 KiB, t=2, p=1). Call once at start-up. */
int pw_init(int64_t m_kib, int64_t t, int64_t p);
/* Hash into out (PW_HASH_MAX bytes). 0 on success, -1 when out of memory. Thread-safe. */
int pw_hash(const char *password, char out[PW_HASH_MAX]);
/* 1 match, 0 mismatch or malformed hash, -1 out of memory. `phc` may be NULL or "": then
 * the same work is spent on a fixed dummy hash and 0 is returned, so an unknown login
 * costs what a known one does (CONTRACT "Failed authentications"). */
int pw_verify(const char *password, const char *phc);
/* A random password that passes the SPEC §2 policy (for temporary passwords), 16 chars. */
void pw_random(char out[17]);

#endif
