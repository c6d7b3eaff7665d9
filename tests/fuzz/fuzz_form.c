/* tests/fuzz/fuzz_form.c: the panel's body decoders (urlencoded, multipart, JSON) on any bytes. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cgi/decode.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o = json_object();
	const char *file;
	size_t flen;
	json_t *j;

	(void)decode_urlencoded((const char *)data, size, o);
	json_decref(o);
	o = json_object();
	(void)decode_multipart((const char *)data, size, "multipart/form-data; boundary=XyZ", o, &file, &flen);
	json_decref(o);
	j = decode_json_object((const char *)data, size);
	json_decref(j);
	return 0;
}
