/* core/csv.c: RFC 4180 reader/writer (UTF-8 or CP932 in, UTF-8 out; CP932 out for Excel in Japan). */
#include "core/csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
csv_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n, i;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;     /* continuation byte, C0/C1 overlong lead, or > F4 */
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += n + 1;
	}
	return true;
}

size_t
csv_utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* CP932 to UTF-8 through iconv; every byte must convert. 0, -1 invalid, -2 out of memory. */
static int
from_cp932(const char *in, size_t len, char **out_r, size_t *len_r)
{
	iconv_t cd = iconv_open("UTF-8", "CP932");
	/* One CP932 byte (half-width katakana) becomes at most three UTF-8 bytes. */
	size_t cap = len * 3 + 1, il = len, ol = cap;
	char *out, *ip = (char *)in, *op;
	int rc = 0;

	if (cd == (iconv_t)-1)
		return -2;
	out = malloc(cap);
	if (out == NULL) {
		iconv_close(cd);
		return -2;
	}
	op = out;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
		rc = -1;          /* EILSEQ: no CP932 character; EINVAL: cut off after a lead byte */
	else if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
		rc = -1;
	iconv_close(cd);
	if (rc != 0) {
		free(out);
		return rc;
	}
	*op = '\0';
	*out_r = out;
	*len_r = (size_t)(op - out);
	return 0;
}

int
csv_decode(const char *in, size_t len, char **out_r, size_t *len_r, enum csv_charset *cs_r,
           const char **code_r)
{
	const char *p = in;
	size_t n = len;

	*out_r = NULL;
	*len_r = 0;
	*cs_r = CSV_UTF8;
	if (in == NULL) {         /* (NULL, 0): an empty file; memchr/memcpy must not see NULL */
		in = p = "";
		len = n = 0;
	}
	if (len > CSV_MAX_BYTES) {
		*code_r = "too_large";
		return -1;
	}
	/* Excel's "Unicode text" is UTF-16: say so rather than "not UTF-8 or Shift_JIS". */
	if (len >= 2 && (((unsigned char)in[0] == 0xFF && (unsigned char)in[1] == 0xFE) ||
	    ((unsigned char)in[0] == 0xFE && (unsigned char)in[1] == 0xFF))) {
		*code_r = "utf16";
		return -1;
	}
	/* NUL is valid in both UTF-8 and CP932 but never in text; UTF-16 without BOM has them. */
	if (memchr(in, '\0', len) != NULL) {
		*code_r = len >= 2 && (in[0] == '\0' || in[1] == '\0') ? "utf16" : "bad_encoding";
		return -1;
	}
	if (n >= 3 && memcmp(p, CSV_BOM, 3) == 0) {
		p += 3;
		n -= 3;
		if (!csv_utf8_valid(p, n)) {
			*code_r = "bad_encoding";
			return -1;
		}
		*cs_r = CSV_UTF8_BOM;
	} else if (!csv_utf8_valid(p, n)) {
		switch (from_cp932(p, n, out_r, len_r)) {
		case 0:
			*cs_r = CSV_CP932;
			return 0;
		case -1:
			*code_r = "bad_encoding";
			return -1;
		default:
			*code_r = "oom";
			return -1;
		}
	}
	*out_r = malloc(n + 1);
	if (*out_r == NULL) {
		*code_r = "oom";
		return -1;
	}
	memcpy(*out_r, p, n);
	(*out_r)[n] = '\0';
	*len_r = n;
	return 0;
}

struct csv_reader {
	const char *p, *end;
	size_t line;            /* physical line of *p */
	size_t records;
	const char *err;        /* sticky error code, NULL while fine */
	size_t err_line;
	char *cells;            /* CSV_MAX_CELLS cells of CSV_MAX_CELL bytes and a NUL each */
	size_t used[CSV_MAX_CELLS];  /* bytes of each cell ever written: what csv_free clears */
};

struct csv_reader *
csv_open(const char *text, size_t len)
{
	struct csv_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (text == NULL) {
		text = "";
		len = 0;
	}
	r->cells = malloc((size_t)CSV_MAX_CELLS * (CSV_MAX_CELL + 1));
	if (r->cells == NULL) {
		free(r);
		return NULL;
	}
	r->p = text;
	r->end = text + len;
	r->line = 1;
	return r;
}

void
csv_free(struct csv_reader **r)
{
	size_t i;

	if (r == NULL || *r == NULL)
		return;
	/* Cells held passwords: clear what was written (all of it would be 128 KiB each time). */
	for (i = 0; i < CSV_MAX_CELLS; i++)
		if ((*r)->used[i] > 0)
			explicit_bzero((*r)->cells + i * (CSV_MAX_CELL + 1), (*r)->used[i]);
	free((*r)->cells);
	free(*r);
	*r = NULL;
}

const char *
csv_err_code(const struct csv_reader *r)
{
	return r->err ? r->err : "";
}

size_t
csv_err_line(const struct csv_reader *r)
{
	return r->err_line;
}

/* Every error is reported on the line where its record starts (CONTRACT "CSV jobs"). */
static int
fail(struct csv_reader *r, const char *code, size_t line)
{
	r->err = code;
	r->err_line = line;
	return -1;
}

/* Cell `i` has had `n` bytes written. */
static void
note_used(struct csv_reader *r, size_t i, size_t n)
{
	if (n > r->used[i])
		r->used[i] = n;
}

/* An error inside cell `rec->ncells`, of which `len` bytes were written. */
static int
cell_fail(struct csv_reader *r, const char *code, const struct csv_record *rec, size_t len)
{
	note_used(r, rec->ncells, len);
	return fail(r, code, rec->line);
}

/* Consume one line break at r->p (CRLF, LF or CR); false when there is none. */
static bool
line_break(struct csv_reader *r)
{
	if (r->p < r->end && *r->p == '\r') {
		r->p++;
		if (r->p < r->end && *r->p == '\n')
			r->p++;
		r->line++;
		return true;
	}
	if (r->p < r->end && *r->p == '\n') {
		r->p++;
		r->line++;
		return true;
	}
	return false;
}

int
csv_next(struct csv_reader *r, struct csv_record *rec)
{
	char *cell;
	size_t len;

	if (r->err != NULL)
		return -1;
	if (r->p >= r->end)
		return 0;
	if (++r->records > CSV_MAX_RECORDS)
		return fail(r, "too_many_records", r->line);
	rec->line = r->line;
	rec->ncells = 0;
	for (;;) {
		if (rec->ncells == CSV_MAX_CELLS)
			return fail(r, "too_many_cells", rec->line);
		cell = r->cells + rec->ncells * (CSV_MAX_CELL + 1);
		len = 0;
		if (r->p < r->end && *r->p == '"') {
			r->p++;
			for (;;) {
				char c;

				if (r->p >= r->end)
					return cell_fail(r, "unterminated_quote", rec, len);
				c = *r->p;
				if (c == '"') {
					if (r->p + 1 < r->end && r->p[1] == '"') {
						r->p += 2;
					} else {
						r->p++;
						break;
					}
				} else if (c == '\r' || c == '\n') {
					/* A line break inside a field is kept as written and counted. */
					const char *s = r->p;

					(void)line_break(r);
					if (len + (size_t)(r->p - s) > CSV_MAX_CELL)
						return cell_fail(r, "cell_too_long", rec, len);
					memcpy(cell + len, s, (size_t)(r->p - s));
					len += (size_t)(r->p - s);
					continue;
				} else {
					if (c == '\0')
						return cell_fail(r, "bad_encoding", rec, len);
					r->p++;
				}
				if (len == CSV_MAX_CELL)
					return cell_fail(r, "cell_too_long", rec, len);
				cell[len++] = c;
			}
			if (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n')
				return cell_fail(r, "bad_quote", rec, len);
		} else {
			while (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n') {
				if (*r->p == '"')
					return cell_fail(r, "bad_quote", rec, len);
				if (*r->p == '\0')
					return cell_fail(r, "bad_encoding", rec, len);
				if (len == CSV_MAX_CELL)
					return cell_fail(r, "cell_too_long", rec, len);
				cell[len++] = *r->p++;
			}
		}
		cell[len] = '\0';
		note_used(r, rec->ncells, len + 1);
		rec->cell[rec->ncells] = cell;
		rec->len[rec->ncells] = len;
		rec->ncells++;
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		(void)line_break(r);
		return 1;
	}
}

static bool
needs_quotes(const char *s, size_t len)
{
	size_t i;

	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		return true;
	for (i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

bool
csv_put(struct buf *b, const char *s, size_t len, bool first)
{
	size_t i, from;

	if (!first && !buf_addc(b, ','))
		return false;
	if (!needs_quotes(s, len))
		return buf_add(b, s, len);
	if (!buf_addc(b, '"'))
		return false;
	for (i = 0, from = 0; i < len; i++) {
		if (s[i] != '"')
			continue;
		/* A quote inside a quoted field is written twice (RFC 4180 §2.7). */
		if (!buf_add(b, s + from, i + 1 - from) || !buf_addc(b, '"'))
			return false;
		from = i + 1;
	}
	return buf_add(b, s + from, len - from) && buf_addc(b, '"');
}

bool
csv_put_str(struct buf *b, const char *s, bool first)
{
	return csv_put(b, s ? s : "", s ? strlen(s) : 0, first);
}

bool
csv_put_int(struct buf *b, long long v, bool first)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", v);

	if (n < 0 || (size_t)n >= sizeof(num))
		return false;
	return csv_put(b, num, (size_t)n, first);
}

bool
csv_end_record(struct buf *b)
{
	return buf_add(b, "\r\n", 2);
}

/* Bytes to skip at a sequence iconv refused: its first byte and the continuation bytes after
 * it, so an unmappable character or a broken sequence is one '?' and an ASCII byte after a
 * broken lead byte is kept. */
static size_t
skip_len(const char *p, size_t n)
{
	size_t i = 1;

	while (i < n && i < 4 && ((unsigned char)p[i] & 0xC0) == 0x80)
		i++;
	return i;
}

bool
csv_to_cp932(const char *in, size_t len, struct buf *out)
{
	iconv_t cd = iconv_open("CP932", "UTF-8");
	char *ip = (char *)in, chunk[8192];
	size_t il = len;
	bool ok = true;

	if (cd == (iconv_t)-1)
		return false;
	while (il > 0 && ok) {
		char *op = chunk;
		size_t ol = sizeof(chunk);
		size_t rc = iconv(cd, &ip, &il, &op, &ol);
		int e = errno;

		ok = buf_add(out, chunk, (size_t)(op - chunk));
		if (rc != (size_t)-1 || !ok)
			continue;
		if (e == E2BIG)
			continue;
		/* EILSEQ (an emoji in a comment, say) or EINVAL (cut-off sequence): one '?'. */
		{
			size_t skip = skip_len(ip, il);

			ip += skip;
			il -= skip;
			ok = buf_addc(out, '?');
		}
	}
	iconv_close(cd);
	return ok && !out->oom;
}
