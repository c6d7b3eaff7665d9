/* core/pwpolicy.c: the SPEC §2 password policy, every broken rule reported at once. */
#include "core/rules.h"

#include <string.h>

/* SPEC §2 bounds, in characters. */
#define PW_MIN 12
#define PW_MAX 128
/* SPEC §2: "no run of 6 or more digits". */
#define PW_DIGIT_RUN 6
/* SPEC §2: a name, address or domain this long is refused anywhere inside the password;
 * shorter ones only when the password equals them. */
#define PW_CONTAINS_MIN 4

/* The SPEC §2 symbol list, compared one by one so the terminating NUL never matches. */
static const char pw_symbols[] = "#()+-.[]{}!<>_:*$@%^&,~";

static bool
is_symbol(unsigned char c)
{
	size_t i;

	for (i = 0; i < sizeof(pw_symbols) - 1; i++)
		if ((unsigned char)pw_symbols[i] == c)
			return true;
	return false;
}

static unsigned char
fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * The needle is the concatenation of up to three parts (name, "@", domain), so the full
 * address is matched without building it in a buffer of guessed size. Each part is
 * compared case-insensitively (SPEC §2, CONTRACT "contains_name ignores case").
 */
struct needle {
	const char *part[3];
	size_t len[3];
	size_t total;
};

static void
needle_set(struct needle *nd, const char *a, const char *b, const char *c)
{
	const char *p[3] = { a, b, c };
	size_t i;

	nd->total = 0;
	for (i = 0; i < 3; i++) {
		nd->part[i] = p[i] != NULL ? p[i] : "";
		nd->len[i] = strlen(nd->part[i]);
		nd->total += nd->len[i];
	}
}

/* Does the needle match hay at offset 0? hay has at least nd->total bytes there. */
static bool
needle_at(const struct needle *nd, const char *hay)
{
	size_t i, j, k = 0;

	for (i = 0; i < 3; i++)
		for (j = 0; j < nd->len[i]; j++, k++)
			if (fold((unsigned char)hay[k]) != fold((unsigned char)nd->part[i][j]))
				return false;
	return true;
}

static bool
needle_hits(const struct needle *nd, const char *pw, size_t pwlen)
{
	size_t off;

	if (nd->total == 0 || nd->total > pwlen)
		return false;
	if (nd->total == pwlen)
		return needle_at(nd, pw);
	if (nd->total < PW_CONTAINS_MIN)
		return false;
	for (off = 0; off + nd->total <= pwlen; off++)
		if (needle_at(nd, pw + off))
			return true;
	return false;
}

bool
rule_password(const char *pw, const char *name, const char *domain,
              const char *current, const char *field, struct rule_errs *errs)
{
	const char *s = pw != NULL ? pw : "";
	size_t len = strlen(s), nchars = 0, run = 0, i;
	bool lower = false, upper = false, digit = false, symbol = false;
	bool badc = false, longrun = false, named = false, ok = true;
	char badarg[2] = "";
	struct needle nd;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Characters, not bytes: a UTF-8 continuation byte is part of the one before. */
		if ((c & 0xC0) != 0x80)
			nchars++;
		if (c >= '0' && c <= '9') {
			digit = true;
			if (++run >= PW_DIGIT_RUN)
				longrun = true;
			continue;
		}
		run = 0;
		if (c >= 'a' && c <= 'z')
			lower = true;
		else if (c >= 'A' && c <= 'Z')
			upper = true;
		else if (is_symbol(c))
			symbol = true;
		else if (!badc) {
			/* The detail names the first offender only if it can be shown as is. */
			badc = true;
			if (c >= 0x20 && c <= 0x7E)
				badarg[0] = (char)c;
		}
	}

	/* SPEC §2: the full address only when both halves are known (admins have none). */
	if (name != NULL && name[0] != '\0') {
		needle_set(&nd, name, NULL, NULL);
		named = needle_hits(&nd, s, len);
	}
	if (!named && name != NULL && name[0] != '\0' && domain != NULL && domain[0] != '\0') {
		needle_set(&nd, name, "@", domain);
		named = needle_hits(&nd, s, len);
	}
	if (!named && domain != NULL && domain[0] != '\0') {
		needle_set(&nd, domain, NULL, NULL);
		named = needle_hits(&nd, s, len);
	}

	/* One entry per code, in the order the SPEC lists the rules. */
	if (nchars < PW_MIN) {
		rule_add(errs, field, "too_short", NULL);
		ok = false;
	}
	if (nchars > PW_MAX) {
		rule_add(errs, field, "too_long", NULL);
		ok = false;
	}
	if (badc) {
		rule_add(errs, field, "bad_char", badarg);
		ok = false;
	}
	if (!lower) {
		rule_add(errs, field, "needs_lower", NULL);
		ok = false;
	}
	if (!upper) {
		rule_add(errs, field, "needs_upper", NULL);
		ok = false;
	}
	if (!digit) {
		rule_add(errs, field, "needs_digit", NULL);
		ok = false;
	}
	if (!symbol) {
		rule_add(errs, field, "needs_symbol", NULL);
		ok = false;
	}
	if (named) {
		rule_add(errs, field, "contains_name", NULL);
		ok = false;
	}
	if (longrun) {
		rule_add(errs, field, "digit_run", NULL);
		ok = false;
	}
	/* Exact comparison: a change of case is a new password. */
	if (current != NULL && strcmp(s, current) == 0) {
		rule_add(errs, field, "same_as_current", NULL);
		ok = false;
	}
	return ok;
}
