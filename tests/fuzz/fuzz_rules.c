/* tests/fuzz/fuzz_rules.c: libFuzzer target feeding one input to every core/rules validator and its messages. */
#include "core/rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A broken invariant is a crash the fuzzer reports, with the input that caused it. */
#define MUST(c) do { if (!(c)) __builtin_trap(); } while (0)

static void
check_errs(const struct rule_errs *errs, size_t before, bool ok)
{
	char out[1024];
	size_t i;

	/* A validator answers true exactly when it added nothing. */
	MUST(ok == (errs->n == before) || errs->n == RULE_ERR_MAX);
	for (i = 0; i < errs->n; i++) {
		MUST(errs->e[i].field != NULL && errs->e[i].code != NULL);
		MUST(memchr(errs->e[i].arg, '\0', sizeof(errs->e[i].arg)) != NULL);
		MUST(rule_err_text(&errs->e[i], "ja", out, sizeof(out)));
		MUST(rule_err_text(&errs->e[i], "en", out, sizeof(out)));
		/* Cut short, the text is still whole characters. */
		(void)rule_err_text(&errs->e[i], "ja", out, 7);
		MUST(rule_text_width(out) >= 0);
		MUST(rule_message_field(errs->e[i].field, errs->e[i].code, "en") != NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_errs errs = { .n = 0 };
	char *s, *nl;
	char low[64];
	bool ok;
	long w;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	ok = rule_password(s, "taro", "example.jp", NULL, "password", &errs);
	check_errs(&errs, 0, ok);
	errs.n = 0;
	ok = rule_autoreply_text(s, "text", &errs);
	check_errs(&errs, 0, ok);
	w = rule_text_width(s);
	if (w > 600)
		MUST(!ok);
	if (w >= 0 && w <= 600)
		MUST(ok == (errs.n == 0));
	errs.n = 0;
	ok = rule_forward_address(s, "addresses", &errs);
	check_errs(&errs, 0, ok);
	MUST(errs.n <= 1);
	errs.n = 0;
	ok = rule_account_name(s, "name", &errs);
	check_errs(&errs, 0, ok);
	if (ok)
		MUST(rule_lower(s, low, sizeof(low)));
	(void)rule_domain_name(s);

	/* "password\nname": arbitrary names and domains for the contains_name search. */
	nl = strchr(s, '\n');
	if (nl != NULL) {
		*nl = '\0';
		errs.n = 0;
		ok = rule_password(s, nl + 1, nl + 1, s, "new_password", &errs);
		check_errs(&errs, 0, ok);
		MUST(!ok);    /* the password equals the current one */
	}
	free(s);
	return 0;
}
