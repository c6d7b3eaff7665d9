/* core/mime.h: MIME building blocks of our own over iconv: charset conversion (Japanese charsets
 * by their Microsoft-compatible tables), base64 and quoted-printable. */
#ifndef YUBIN_CORE_MIME_H
#define YUBIN_CORE_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Append `in` converted from `charset` (case-insensitive MIME name, e.g. "ISO-2022-JP",
 * "Shift_JIS", "EUC-JP", "UTF-8") to out as UTF-8. False when the charset is unknown or the
 * bytes are not valid in it (out then holds what converted before the fault). */
bool mime_to_utf8(const char *charset, const char *in, size_t len, struct buf *out);
/* Append UTF-8 `in` converted to charset. False when a character has no mapping there. */
bool mime_from_utf8(const char *charset, const char *in, size_t len, struct buf *out);
bool mime_utf8_valid(const char *s, size_t len);
/* Text of unknown charset (raw 8-bit or ISO-2022-JP escapes in a header) as UTF-8: UTF-8 as
 * is, else ISO-2022-JP when it has its escapes, else CP932, else EUC-JP, else with '?' for
 * the bytes nothing could read. */
void mime_guess_to_utf8(const char *in, size_t len, struct buf *out);
/* Base64 decoding, skipping whitespace and stopping at '='. False on a bad character. */
bool mime_b64_decode(const char *in, size_t len, struct buf *out);
/* Base64 with CRLF-free output; linelen 0 = one line, else a "\n" every linelen chars. */
bool mime_b64_encode(const void *in, size_t len, size_t linelen, struct buf *out);
/* Quoted-printable decoding; `header` = RFC 2047 Q (underscore is a space). */
bool mime_qp_decode(const char *in, size_t len, bool header, struct buf *out);

#endif
