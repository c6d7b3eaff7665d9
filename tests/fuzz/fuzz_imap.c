/* tests/fuzz/fuzz_imap.c: libFuzzer target for what the mail copy reads from a source IMAP server it does
 * not control: the response tokenizer, modified UTF-7 names and INTERNALDATE. */
#include "maild/mailcopy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MUST(c) do { if (!(c)) __builtin_trap(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_tk t = { (const char *)data, (const char *)data + size };
	char tmp[64], out[128], *s;
	const char *v;
	size_t n, steps = 0;
	enum imap_tok k;
	time_t when;

	/* Every token lies inside the input and the walk always ends. */
	while ((k = imap_tk_next(&t, &v, &n, tmp, sizeof(tmp))) != IMAP_T_END && k != IMAP_T_ERR) {
		MUST(t.p <= t.e);
		if (k == IMAP_T_ATOM || k == IMAP_T_STRING)
			MUST((v >= tmp && v + n <= tmp + sizeof(tmp)) ||
			     (v >= (const char *)data && v + n <= (const char *)data + size));
		MUST(++steps <= size + 1);
	}
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)mutf7_decode(s, out, sizeof(out));
	MUST(strlen(out) < sizeof(out));
	(void)imap_parse_date(s, &when);
	free(s);
	return 0;
}
