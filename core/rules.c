/* core/rules.c: the SPEC's input rules for names (§2), autoreply text (§4), forwards (§3) and domains. */
#include "core/rules.h"

#include <stdint.h>
#include <string.h>

/* The password rule lives in core/pwpolicy.c, messages in core/rules_msg.c. */

void
rule_add(struct rule_errs *errs, const char *field, const char *code, const char *arg)
{
	struct rule_err *e;
	size_t n;

	if (errs == NULL || errs->n >= RULE_ERR_MAX)
		return;
	e = &errs->e[errs->n++];
	e->field = field != NULL ? field : "";
	e->code = code != NULL ? code : "invalid";
	n = arg != NULL ? strlen(arg) : 0;
	if (n >= sizeof(e->arg)) {
		/* Cut on a character boundary so the message never shows half a character. */
		n = sizeof(e->arg) - 1;
		while (n > 0 && ((unsigned char)arg[n] & 0xC0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(e->arg, arg, n);
	e->arg[n] = '\0';
}

bool
rule_lower(const char *in, char *out, size_t outsz)
{
	size_t i, n;

	if (out == NULL || outsz == 0)
		return false;
	n = in != NULL ? strlen(in) : 0;
	if (n >= outsz) {
		out[0] = '\0';
		return false;
	}
	for (i = 0; i < n; i++) {
		char c = in[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return true;
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
 * Returns the length of the sequence at s (1..4) and the code point in *cp_r, or 0 when the
 * bytes at s are not a valid sequence. The string is NUL-terminated and NUL is never a
 * continuation byte, so the look-ahead stops at the end by itself.
 */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp_r)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;
	uint32_t cp;

	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;          /* overlong below U+0800 */
		else if (c == 0xED)
			hi = 0x9F;          /* U+D800..U+DFFF are surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;          /* overlong below U+10000 */
		else if (c == 0xF4)
			hi = 0x8F;          /* above U+10FFFF */
	} else {
		return 0;
	}
	for (i = 1; i < len; i++) {
		unsigned char b = s[i];
		unsigned char blo = i == 1 ? lo : 0x80, bhi = i == 1 ? hi : 0xBF;

		if (b < blo || b > bhi)
			return 0;
		cp = (cp << 6) | (b & 0x3F);
	}
	*cp_r = cp;
	return len;
}

/* The detail shown with a bad_char: the character itself when it can be shown (printable
 * ASCII, or one whole UTF-8 character when utf8 is set), else nothing. */
static void
char_arg(const char *s, bool utf8, char out[8])
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t len;

	out[0] = '\0';
	if (u[0] >= 0x20 && u[0] <= 0x7E) {
		out[0] = s[0];
		out[1] = '\0';
		return;
	}
	if (!utf8 || u[0] < 0x80)
		return;
	len = utf8_next(u, &cp);
	if (len == 0)
		return;
	memcpy(out, s, len);
	out[len] = '\0';
}

static bool
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* SPEC §2: account names are 2..32 of A-Z a-z 0-9 - _ . ; an explicit test instead of
 * strchr(), which would accept the terminating NUL. */
static bool
is_name_char(unsigned char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

bool
rule_account_name(const char *name, const char *field, struct rule_errs *errs)
{
	const char *s = name != NULL ? name : "";
	size_t len = strlen(s), nchars = 0, i;
	bool ok = true;
	char arg[8];

	/* SPEC §2 counts characters: "山" is one (too short) and a bad_char, not three. */
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			nchars++;
	if (nchars < 2 || nchars > 32) {
		rule_add(errs, field, "bad_length", NULL);
		ok = false;
	}
	for (i = 0; i < len; i++) {
		if (!is_name_char((unsigned char)s[i])) {
			char_arg(s + i, true, arg);
			rule_add(errs, field, "bad_char", arg);
			ok = false;
			break;
		}
	}
	if (len > 0 && (!is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[len - 1]))) {
		rule_add(errs, field, "bad_edge", NULL);
		ok = false;
	}
	if (strstr(s, "..") != NULL) {
		rule_add(errs, field, "double_dot", NULL);
		ok = false;
	}
	return ok;
}

/*
 * SPEC §4: characters that do not survive ISO-2022-JP (the JIS mapping problem), in the
 * order the SPEC lists them; the index doubles as the "already reported" bit.
 */
static const uint32_t refused_cp[] = {
	0x2015, 0xFF5E, 0x2225, 0xFF0D, 0x00A2, 0x00A3, 0x00AC, 0xFFE0, 0xFFE1, 0xFFE2,
};
#define NREFUSED (sizeof(refused_cp) / sizeof(refused_cp[0]))

static int
refused_index(uint32_t cp)
{
	size_t i;

	for (i = 0; i < NREFUSED; i++)
		if (refused_cp[i] == cp)
			return (int)i;
	return -1;
}

/* SPEC §4: ASCII and half-width katakana count 1, every other character 2. */
static long
cp_width(uint32_t cp)
{
	return (cp <= 0x7F || (cp >= 0xFF61 && cp <= 0xFF9F)) ? 1 : 2;
}

long
rule_text_width(const char *utf8)
{
	const unsigned char *u = (const unsigned char *)(utf8 != NULL ? utf8 : "");
	long w = 0;
	uint32_t cp;
	size_t len;

	while (*u != '\0') {
		len = utf8_next(u, &cp);
		if (len == 0)
			return -1;
		w += cp_width(cp);
		u += len;
	}
	return w;
}

/* The §4 limit: 600 half-width or 300 full-width characters. */
#define AUTOREPLY_WIDTH_MAX 600

bool
rule_autoreply_text(const char *text, const char *field, struct rule_errs *errs)
{
	const unsigned char *u = (const unsigned char *)(text != NULL ? text : "");
	bool seen[NREFUSED] = { false };
	bool bad_utf8 = false, ok = true;
	long w = 0;
	uint32_t cp;
	size_t len;
	int k;

	while (*u != '\0') {
		len = utf8_next(u, &cp);
		if (len == 0) {
			/* Reported once: the bytes cannot be named. Each invalid byte still
			 * counts 2 so that garbage cannot slip under the width limit. */
			if (!bad_utf8)
				rule_add(errs, field, "bad_char", "");
			bad_utf8 = true;
			ok = false;
			w += 2;
			u++;
			continue;
		}
		k = refused_index(cp);
		if (k >= 0 && !seen[k]) {
			char arg[8];

			/* SPEC §4: "The error names each one." */
			memcpy(arg, u, len);
			arg[len] = '\0';
			rule_add(errs, field, "bad_char", arg);
			seen[k] = true;
			ok = false;
		}
		w += cp_width(cp);
		u += len;
	}
	if (w > AUTOREPLY_WIDTH_MAX) {
		rule_add(errs, field, "too_long", NULL);
		ok = false;
	}
	return ok;
}

static bool
is_ldh(unsigned char c)
{
	return is_alnum(c) || c == '-';
}

/* Domain names as RFC 1035 §2.3.1 preferred syntax (LDH, which also covers IDNA A-labels)
 * over [s, s + n): labels of 1..63, no hyphen at either end of a label, at least one dot
 * (a bare host name is not a mail domain here), at most 253 octets. */
static bool
domain_ok(const char *s, size_t n)
{
	size_t i, label = 0, dots = 0;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			dots++;
			continue;
		}
		if (!is_ldh(c))
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	/* A trailing dot leaves an empty last label: refused, users never mean the root. */
	return label > 0 && s[n - 1] != '-' && dots > 0;
}

bool
rule_domain_name(const char *name)
{
	if (name == NULL)
		return false;
	return domain_ok(name, strlen(name));
}

/* RFC 5322 §3.2.3 atext (the '.' of a dot-atom is handled by the caller). */
static bool
is_atext(unsigned char c)
{
	static const char sym[] = "!#$%&'*+-/=?^_`{|}~";
	size_t i;

	if (is_alnum(c))
		return true;
	for (i = 0; i < sizeof(sym) - 1; i++)
		if ((unsigned char)sym[i] == c)
			return true;
	return false;
}

/*
 * Local part of a forward destination. A dot-atom, but lenient as STYLE §10 asks for
 * remote addresses: Japanese carriers (docomo, au) issued addresses with consecutive dots
 * and a dot before the '@' ("email..x.@docomo.ne.jp"), which still receive mail, so those
 * two are allowed; a leading dot is not. A quoted-string ("a@b"@example.jp) is allowed
 * with printable qtext and quoted-pairs; spaces were already refused by the caller.
 */
static bool
local_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)         /* RFC 5321 §4.5.3.1.1 */
		return false;
	if (s[0] == '"') {
		if (n < 3 || s[n - 1] != '"')
			return false;
		for (i = 1; i < n - 1; i++) {
			if (s[i] == '\\') {
				if (++i >= n - 1)
					return false;   /* the backslash escaped the closing quote */
				continue;
			}
			if (s[i] == '"')
				return false;
		}
		return true;
	}
	if (s[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] != '.' && !is_atext((unsigned char)s[i]))
			return false;
	return true;
}

bool
rule_forward_address(const char *addr, const char *field, struct rule_errs *errs)
{
	const char *s = addr != NULL ? addr : "";
	const char *at;
	size_t len = strlen(s), i;

	/* SPEC §3: a destination starting with '-' could be read as an option by a
	 * downstream program; it gets its own code and nothing else. */
	if (s[0] == '-') {
		rule_add(errs, field, "leading_hyphen", NULL);
		return false;
	}
	if (len == 0 || len > 255)
		goto bad;
	/* Plain ASCII without spaces or controls: the address goes into SMTP commands and
	 * headers as is, and we do not offer SMTPUTF8 (RFC 6531) destinations. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7F)
			goto bad;
	}
	/* The last '@' separates: a quoted local part may hold one, a domain never. */
	at = strrchr(s, '@');
	if (at == NULL || !local_ok(s, (size_t)(at - s)))
		goto bad;
	if (!domain_ok(at + 1, len - (size_t)(at - s) - 1))
		goto bad;
	return true;
bad:
	rule_add(errs, field, "bad_address", NULL);
	return false;
}
