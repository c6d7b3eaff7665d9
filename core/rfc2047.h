/* core/rfc2047.h: RFC 2047 encoded-words in header fields, decoded to UTF-8 and encoded from it. */
#ifndef YUBIN_CORE_RFC2047_H
#define YUBIN_CORE_RFC2047_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Append the header value `in` (folded or not) to out as UTF-8: folding removed,
 * encoded-words (B and Q, any charset iconv knows, RFC 2231 language suffix ignored)
 * decoded, whitespace between adjacent encoded-words dropped (RFC 2047 §6.2), adjacent
 * words of one charset joined before conversion (mailers split multibyte characters),
 * raw 8-bit text read by mime_guess_to_utf8. False only when memory ran out. */
bool rfc2047_decode(const char *in, size_t len, struct buf *out);
/* Append UTF-8 `text` as a header value: as is when it is printable ASCII, else as
 * B encoded-words in `charset` ("ISO-2022-JP" or "UTF-8"), each under 76 characters,
 * separated by CRLF-free "\n " folds. False when the text does not convert or memory ran out. */
bool rfc2047_encode(const char *text, const char *charset, struct buf *out);

#endif
