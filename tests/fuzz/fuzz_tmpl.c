/* tests/fuzz/fuzz_tmpl.c: libFuzzer: the input compiled as a template, rendered against fixed data. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/tmpl.h"

/* Every kind of value a lookup can meet, nested, with all five escaped characters. */
static const char data_json[] =
	"{\"s\":\"a&b<c>\\\"d'e\",\"n\":42,\"m\":-1,\"r\":0.5,\"yes\":true,\"no\":false,\"z\":null,"
	"\"e\":\"\",\"zero\":0,\"empty\":[],\"eo\":{},"
	"\"l\":[1,\"x<\",{\"s\":\"in\",\"l\":[]},[2,3],null,true],"
	"\"o\":{\"a\":{\"b\":{\"c\":\"deep\"}},\"l\":[true,false],\"s\":\"o.s\"},"
	"\"t\":{\"app_name\":\"\\u90f5\\u4fbf\",\"login_title\":\"<ログイン>\"}}";

static json_t *data;

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	struct tmpl *t;
	struct buf out;
	char err[256];
	int rc;

	if (data == NULL && (data = json_loads(data_json, 0, NULL)) == NULL)
		abort();
	err[0] = '\0';
	t = tmpl_compile((const char *)in, len, err, sizeof(err));
	if (t == NULL) {
		/* Every refusal says why. */
		if (err[0] == '\0')
			abort();
		return 0;
	}
	buf_init(&out);
	rc = tmpl_render_compiled(t, data, &out);
	if (rc != 0 && rc != -1)
		abort();
	/* The buffer stays NUL-terminated at its length. */
	if (rc == 0 && out.data != NULL && out.data[out.len] != '\0')
		abort();
	buf_free(&out);
	tmpl_free(&t);
	return 0;
}
