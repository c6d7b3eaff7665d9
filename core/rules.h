/* core/rules.h: the SPEC's input rules as pure functions (names §2, passwords §2, autoreply §4, forwards §3). */
#ifndef YUBIN_CORE_RULES_H
#define YUBIN_CORE_RULES_H

#include <stdbool.h>
#include <stddef.h>

/* One broken rule: machine code (CONTRACT.md "Rule codes") and the field it concerns.
 * `arg` carries a detail for the message, e.g. the refused character in UTF-8 ("～"). */
struct rule_err {
	const char *field;   /* "password", "name", "text", "addresses", ... (static string) */
	const char *code;    /* "too_short", "bad_char", ... (static string) */
	char arg[16];        /* optional detail, NUL-terminated, may be empty */
};

#define RULE_ERR_MAX 16

struct rule_errs {
	struct rule_err e[RULE_ERR_MAX];
	size_t n;
};

/* Append one error (ignored once RULE_ERR_MAX are held). */
void rule_add(struct rule_errs *errs, const char *field, const char *code, const char *arg);

/* Account or alias local part, SPEC §2: 2..32 of A-Z a-z 0-9 - _ . ; first/last alnum;
 * no "..". Adds bad_length, bad_char, bad_edge, double_dot to errs under `field`.
 * Returns true when the name is acceptable. Case is not changed here. */
bool rule_account_name(const char *name, const char *field, struct rule_errs *errs);

/* Lower-case a name into out (ASCII only); false if it does not fit. */
bool rule_lower(const char *in, char *out, size_t outsz);

/* Password policy, SPEC §2. `name` is the account name (or admin login), `domain` the
 * domain (may be NULL for admins), `current` the current plain password when changing
 * it (NULL otherwise). Every broken rule is added: too_short too_long bad_char
 * needs_lower needs_upper needs_digit needs_symbol contains_name digit_run same_as_current.
 * Returns true when no rule is broken. */
bool rule_password(const char *pw, const char *name, const char *domain,
                   const char *current, const char *field, struct rule_errs *errs);

/* Autoreply text, SPEC §4: width (ASCII and U+FF61..U+FF9F count 1, others 2) at most 600;
 * refused characters each reported as bad_char with arg = the character in UTF-8;
 * too_long when over width. Invalid UTF-8 is bad_char with arg "". */
bool rule_autoreply_text(const char *text, const char *field, struct rule_errs *errs);
/* The width of a UTF-8 string by the §4 count, or -1 for invalid UTF-8. */
long rule_text_width(const char *utf8);

/* Forward destination, SPEC §3: a valid address local@domain (dot-atom or quoted local
 * part, domain with at least one dot of LDH labels), not starting with '-'.
 * Adds bad_address or leading_hyphen. */
bool rule_forward_address(const char *addr, const char *field, struct rule_errs *errs);

/* Domain name: LDH labels, at least one dot, at most 253. */
bool rule_domain_name(const char *name);

/* Message for a rule code in a language ("ja" or "en"); never NULL. */
const char *rule_message(const char *code, const char *lang);

/* Additions. Every validator above also accepts errs == NULL (it then only answers) and
 * treats a NULL string as empty. */

/* Message for a code as it concerns a field: "password", "new_password", "name", "login",
 * "text", "addresses", "comment", ... pick the wording of that rule ("Password must be at
 * least 12 characters." vs "Autoreply text must be ..."); an unknown field falls back to
 * rule_message(). `lang` starting with "en" gives English, anything else (NULL too)
 * Japanese. Never NULL. */
const char *rule_message_field(const char *field, const char *code, const char *lang);

/* The message for one error with its arg worked in where the rule names it (the refused
 * autoreply character, SPEC §4: 「～」). Writes a NUL-terminated string into out; false
 * when it did not fit (out then holds a truncated but valid UTF-8 prefix). */
bool rule_err_text(const struct rule_err *e, const char *lang, char *out, size_t outsz);

#endif
