/* core/mime.c: charset conversion over iconv, base64 and quoted-printable, for headers, forwards and autoreplies. */
#include "core/mime.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* MIME names to what glibc's iconv calls them. Japanese mail in the wild is written by
 * Windows programs: Shift_JIS means CP932 (NEC and IBM extensions), and ISO-2022-JP
 * often carries CP932 characters too (CP50221 is not in glibc; ISO-2022-JP-3 reads more
 * of them than plain ISO-2022-JP, and we fall back to it). */
static const char *
iconv_name(const char *cs)
{
	if (strcasecmp(cs, "shift_jis") == 0 || strcasecmp(cs, "shift-jis") == 0 ||
	    strcasecmp(cs, "sjis") == 0 || strcasecmp(cs, "x-sjis") == 0 ||
	    strcasecmp(cs, "windows-31j") == 0 || strcasecmp(cs, "cp932") == 0 ||
	    strcasecmp(cs, "ms_kanji") == 0)
		return "CP932";
	if (strcasecmp(cs, "euc-jp") == 0 || strcasecmp(cs, "x-euc-jp") == 0)
		return "EUC-JP-MS";
	if (strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0)
		return "UTF-8";   /* a superset: 8-bit bytes in "ASCII" text are usually UTF-8 */
	return cs;
}

static bool
convert(const char *from, const char *to, const char *in, size_t len, struct buf *out)
{
	iconv_t cd = iconv_open(to, from);
	char tmp[1024];
	char *ip = (char *)in;
	size_t il = len;
	bool ok = true;

	if (cd == (iconv_t)-1)
		return false;
	while (il > 0) {
		char *op = tmp;
		size_t ol = sizeof(tmp);
		size_t rc = iconv(cd, &ip, &il, &op, &ol);

		if (op > tmp && !buf_add(out, tmp, (size_t)(op - tmp))) {
			ok = false;
			break;
		}
		if (rc == (size_t)-1 && errno != E2BIG) {
			ok = false;
			break;
		}
	}
	if (ok) {
		/* Flush the shift state (ISO-2022-JP ends in ASCII). */
		char *op = tmp;
		size_t ol = sizeof(tmp);

		if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
			ok = false;
		else if (op > tmp)
			ok = buf_add(out, tmp, (size_t)(op - tmp));
	}
	iconv_close(cd);
	return ok;
}

bool
mime_to_utf8(const char *charset, const char *in, size_t len, struct buf *out)
{
	const char *name = iconv_name(charset);
	size_t mark = out->len;

	if (strcasecmp(name, "utf-8") == 0 || strcasecmp(name, "utf8") == 0) {
		if (!mime_utf8_valid(in, len))
			return false;
		return buf_add(out, in, len);
	}
	if (convert(name, "UTF-8", in, len, out))
		return true;
	if (strcasecmp(name, "iso-2022-jp") == 0) {
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
		return convert("ISO-2022-JP-3", "UTF-8", in, len, out);
	}
	return false;
}

bool
mime_from_utf8(const char *charset, const char *in, size_t len, struct buf *out)
{
	return convert("UTF-8", iconv_name(charset), in, len, out);
}

bool
mime_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

void
mime_guess_to_utf8(const char *in, size_t len, struct buf *out)
{
	static const char *const tries[] = { "ISO-2022-JP", "CP932", "EUC-JP-MS", NULL };
	size_t mark = out->len, i;

	/* ISO-2022-JP is 7-bit, so it passes as UTF-8: look for its escapes first. */
	if (memmem(in, len, "\x1b$", 2) != NULL && mime_to_utf8("ISO-2022-JP", in, len, out))
		return;
	out->len = mark;
	if (out->data)
		out->data[mark] = '\0';
	if (mime_utf8_valid(in, len)) {
		buf_add(out, in, len);
		return;
	}
	for (i = 1; tries[i] != NULL; i++) {
		/* ISO-2022-JP only when its escape sequences are there. */
		if (i == 0 && memmem(in, len, "\x1b$", 2) == NULL)
			continue;
		if (mime_to_utf8(tries[i], in, len, out))
			return;
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
	}
	for (i = 0; i < len; i++)
		buf_addc(out, (unsigned char)in[i] < 0x80 ? in[i] : '?');
}

static int
b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool
mime_b64_decode(const char *in, size_t len, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)in[i], v;

		if (c == '=')
			break;
		if (isspace(c))
			continue;
		v = b64_val(c);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (!buf_addc(out, (char)((acc >> bits) & 0xff)))
				return false;
		}
	}
	return true;
}

bool
mime_b64_encode(const void *inp, size_t len, size_t linelen, struct buf *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = inp;
	size_t i, col = 0;

	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tab[v & 63] : '=';
		if (!buf_add(out, q, 4))
			return false;
		col += 4;
		if (linelen > 0 && col >= linelen && i + 3 < len) {
			if (!buf_addc(out, '\n'))
				return false;
			col = 0;
		}
	}
	return true;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
mime_qp_decode(const char *in, size_t len, bool header, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '_' && header) {
			c = ' ';
		} else if (c == '=') {
			int h, l;

			if (i + 1 < len && (in[i + 1] == '\n' || in[i + 1] == '\r')) {
				/* soft line break */
				i++;
				if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
					i++;
				continue;
			}
			h = i + 1 < len ? hexval((unsigned char)in[i + 1]) : -1;
			l = i + 2 < len ? hexval((unsigned char)in[i + 2]) : -1;
			if (h < 0 || l < 0) {
				if (!buf_addc(out, '='))
					return false;
				continue;
			}
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (!buf_addc(out, c))
			return false;
	}
	return true;
}
