/* core/rfc2047.c: encoded-word decoding for matching forwards on From/Subject, and encoding for autoreplies. */
#include "core/rfc2047.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/mime.h"

#define CS_MAX 64

/* Parse one encoded-word at s (s[0..2] == "=?"): charset, encoding, text. Returns its length,
 * or 0 when it is not a well-formed encoded-word. */
static size_t
parse_word(const char *s, size_t len, char cs[CS_MAX], char *enc, const char **text, size_t *textlen)
{
	size_t i = 2, cl = 0, t0;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	while (i < len && s[i] != '?' && !isspace((unsigned char)s[i])) {
		if (cl + 1 >= CS_MAX)
			return 0;
		cs[cl++] = s[i++];
	}
	cs[cl] = '\0';
	if (i + 2 >= len || s[i] != '?' || cl == 0)
		return 0;
	{
		char *star = strchr(cs, '*');   /* RFC 2231 language: charset*lang */

		if (star)
			*star = '\0';
	}
	*enc = (char)toupper((unsigned char)s[i + 1]);
	if ((*enc != 'B' && *enc != 'Q') || s[i + 2] != '?')
		return 0;
	t0 = i + 3;
	for (i = t0; i + 1 < len; i++) {
		if (s[i] == '?' && s[i + 1] == '=')
			break;
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
			return 0;
	}
	if (i + 1 >= len)
		return 0;
	*text = s + t0;
	*textlen = i - t0;
	return i + 2;
}

static bool
flush(char cs[CS_MAX], struct buf *raw, struct buf *out)
{
	bool ok = true;

	if (raw->len > 0) {
		size_t mark = out->len;

		if (!mime_to_utf8(cs, raw->data, raw->len, out)) {
			out->len = mark;
			if (out->data)
				out->data[mark] = '\0';
			mime_guess_to_utf8(raw->data, raw->len, out);
		}
		ok = !out->oom;
	}
	buf_reset(raw);
	cs[0] = '\0';
	return ok;
}

bool
rfc2047_decode(const char *in, size_t len, struct buf *out)
{
	struct buf raw, plain;
	char pend_cs[CS_MAX] = "";
	size_t i = 0, ws_start = 0;
	bool in_ws = false, last_was_word = false, ok = true;

	buf_init(&raw);
	buf_init(&plain);
	while (i < len) {
		char cs[CS_MAX], enc;
		const char *text;
		size_t tl, wl;

		if (in[i] == '\r' || in[i] == '\n') {
			i++;   /* unfold: the CRLF goes, the whitespace after it stays */
			continue;
		}
		if (in[i] == ' ' || in[i] == '\t') {
			if (!in_ws) {
				in_ws = true;
				ws_start = plain.len;
			}
			buf_addc(&plain, ' ');
			i++;
			continue;
		}
		wl = (in[i] == '=' && i + 1 < len && in[i + 1] == '?') ?
		     parse_word(in + i, len - i, cs, &enc, &text, &tl) : 0;
		if (wl > 0) {
			/* Whitespace between two encoded-words is not displayed (§6.2). */
			if (last_was_word && in_ws) {
				plain.len = ws_start;
				if (plain.data)
					plain.data[ws_start] = '\0';
			}
			if (plain.len > 0) {
				ok = ok && flush(pend_cs, &raw, out);
				mime_guess_to_utf8(plain.data, plain.len, out);
				buf_reset(&plain);
			}
			if (pend_cs[0] != '\0' && strcasecmp(pend_cs, cs) != 0)
				ok = ok && flush(pend_cs, &raw, out);
			if (pend_cs[0] == '\0')
				memcpy(pend_cs, cs, sizeof(pend_cs));
			if (enc == 'B') {
				size_t mark = raw.len;

				if (!mime_b64_decode(text, tl, &raw)) {
					raw.len = mark;
					buf_add(&raw, in + i, wl);
				}
			} else {
				mime_qp_decode(text, tl, true, &raw);
			}
			i += wl;
			last_was_word = true;
			in_ws = false;
			continue;
		}
		if (raw.len > 0 || pend_cs[0] != '\0') {
			ok = ok && flush(pend_cs, &raw, out);
		}
		/* Plain text (with any whitespace before it) is kept as is. */
		{
			size_t start = i;

			while (i < len && in[i] != ' ' && in[i] != '\t' && in[i] != '\r' && in[i] != '\n' &&
			       !(in[i] == '=' && i + 1 < len && in[i + 1] == '?' && i > start))
				i++;
			if (i == start)
				i++;   /* a lone "=?" that is not a word */
			buf_add(&plain, in + start, i - start);
		}
		last_was_word = false;
		in_ws = false;
	}
	ok = ok && flush(pend_cs, &raw, out);
	if (plain.len > 0)
		mime_guess_to_utf8(plain.data, plain.len, out);
	ok = ok && !out->oom && !raw.oom && !plain.oom;
	buf_free(&raw);
	buf_free(&plain);
	return ok;
}

static bool
printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Length in bytes of the UTF-8 character at s. */
static size_t
u8len(const char *s)
{
	unsigned char c = (unsigned char)*s;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return 4;
}

bool
rfc2047_encode(const char *text, const char *charset, struct buf *out)
{
	size_t pos = 0, len = strlen(text);
	bool first = true;

	if (printable_ascii(text))
		return buf_adds(out, text);
	if (!mime_utf8_valid(text, len))
		return false;
	/* Each word holds a run of whole characters whose encoding stays under the limit, so
	 * every word is decodable on its own (ISO-2022-JP words end back in ASCII). */
	while (pos < len) {
		struct buf conv;
		size_t take = 0, best = 0;
		bool ok = false;

		buf_init(&conv);
		while (pos + take < len) {
			size_t next = take + u8len(text + pos + take);

			if (pos + next > len)
				break;
			buf_reset(&conv);
			if (!mime_from_utf8(charset, text + pos, next, &conv)) {
				buf_free(&conv);
				return false;
			}
			/* base64 grows 4/3; "=?" cs "?B?" … "?=" around it. */
			if ((conv.len + 2) / 3 * 4 + strlen(charset) + 7 > 74 && best > 0)
				break;
			best = next;
			take = next;
		}
		buf_reset(&conv);
		ok = mime_from_utf8(charset, text + pos, best, &conv);
		if (ok) {
			ok = buf_adds(out, first ? "" : "\n ") && buf_printf(out, "=?%s?B?", charset) &&
			     mime_b64_encode(conv.data ? conv.data : "", conv.len, 0, out) && buf_adds(out, "?=");
		}
		buf_free(&conv);
		if (!ok)
			return false;
		pos += best;
		first = false;
	}
	return !out->oom;
}
