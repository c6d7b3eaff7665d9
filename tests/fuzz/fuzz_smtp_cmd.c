/* tests/fuzz/fuzz_smtp_cmd.c: libFuzzer target for the SMTP command-line parsers (verb split, paths and
 * ESMTP parameters, address split, AUTH PLAIN layout). */
#include "maild/smtp.h"
#include "maild/smtp_auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MUST(c) do { if (!(c)) __builtin_trap(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[SMTP_LINE_MAX], verb[16], local[SMTP_PATH_MAX + 1], domain[SMTP_PATH_MAX + 1];
	char login[256], password[256];
	const char *arg;
	struct smtp_path p;
	size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;

	(void)smtp_auth_plain_split((const char *)data, size, login, sizeof(login), password, sizeof(password));
	memcpy(line, data, n);
	line[n] = '\0';
	if (smtp_split(line, verb, &arg)) {
		MUST(strlen(verb) > 0 && strlen(verb) < 16);
		MUST(arg >= line && arg <= line + strlen(line));
		if (smtp_parse_path(arg, "FROM", &p) == 0) {
			MUST(strlen(p.addr) <= SMTP_PATH_MAX);
			MUST(p.addr[0] == '\0' || strchr(p.addr, '@') != NULL);
		}
		if (smtp_parse_path(arg, "TO", &p) == 0)
			MUST(p.size == -1);
	}
	if (smtp_addr_split(line, local, sizeof(local), domain, sizeof(domain)))
		MUST(local[0] != '\0' && domain[0] != '\0');
	return 0;
}
