/* core/csv.h: RFC 4180 reader/writer (UTF-8 with or without BOM, or Shift_JIS/CP932 in; UTF-8 out; CP932 out on request). */
#ifndef YUBIN_CORE_CSV_H
#define YUBIN_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Every CSV bound in one place (STYLE §8). SPEC §7 files are account lists: 100,000 rows
 * of a few short cells is far above any real domain and far below what hurts. */
#define CSV_MAX_BYTES   (32u * 1024u * 1024u)  /* one upload, as sent */
#define CSV_MAX_RECORDS 100001u                /* the header and 100,000 rows */
#define CSV_MAX_CELLS   32u                    /* cells in one record */
#define CSV_MAX_CELL    4096u                  /* bytes of one cell after decoding to UTF-8 */
#define CSV_MAX_ERRORS  10000u                 /* errors one job lists before it stops counting */

#define CSV_BOM "\xEF\xBB\xBF"

enum csv_charset {
	CSV_UTF8,       /* UTF-8 without BOM (ASCII files land here) */
	CSV_UTF8_BOM,
	CSV_CP932,      /* Shift_JIS as Excel in Japan writes it (CP932, with NEC/IBM rows) */
};

/* Detect the encoding of a whole file and give it back as UTF-8 without BOM: a UTF-8 BOM
 * means UTF-8 (which must then be valid), else valid UTF-8 is UTF-8, else the bytes must be
 * valid CP932, converted with iconv. Anything else is refused: UTF-16 (a BOM, or NUL bytes),
 * NUL bytes, bytes valid in neither. 0 with *out_r (malloc'd, NUL-terminated, no NUL
 * inside; free() it) and *len_r, *cs_r set; -1 with *code_r one of "too_large",
 * "utf16", "bad_encoding", "oom" (static strings). */
int csv_decode(const char *in, size_t len, char **out_r, size_t *len_r, enum csv_charset *cs_r,
               const char **code_r);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool csv_utf8_valid(const char *s, size_t len);
/* Code points in well-formed UTF-8 (what PostgreSQL's char_length counts). */
size_t csv_utf8_chars(const char *s, size_t len);

/* One record. cell[i] is NUL-terminated and lives until the next csv_next or csv_free. */
struct csv_record {
	size_t line;                      /* file line where the record starts; the first is 1 */
	size_t ncells;
	const char *cell[CSV_MAX_CELLS];
	size_t len[CSV_MAX_CELLS];
};

struct csv_reader;

/* A reader over UTF-8 text (as csv_decode gives it; not copied, must outlive the reader).
 * NULL when out of memory. */
struct csv_reader *csv_open(const char *text, size_t len);
void csv_free(struct csv_reader **r);
/*
 * The next record: 1 with *rec filled, 0 at the end of the input, -1 on a format error,
 * after which the reader answers -1 again. Fields may be quoted ("a ""b"", c"); quoted
 * fields may hold commas, quotes and line breaks; records end with CRLF, LF or a lone CR;
 * a line break at the very end adds no record; an empty line is a record of one empty cell
 * (callers skip records whose cells are all empty). Error codes (static strings):
 * "bad_quote" (a quote inside an unquoted field, or text after a closing quote),
 * "unterminated_quote", "too_many_records", "too_many_cells", "cell_too_long",
 * "bad_encoding" (a NUL byte), "oom".
 */
int csv_next(struct csv_reader *r, struct csv_record *rec);
const char *csv_err_code(const struct csv_reader *r);
/* The file line where the record holding the error starts (CONTRACT "CSV jobs": `line` is
 * where the record starts); for a one-line record that is the line of the offending byte. */
size_t csv_err_line(const struct csv_reader *r);

/* Writer. Appends one cell, preceded by a comma unless it is the first of its record, and
 * quoted when it holds a comma, quote, CR or LF or starts or ends with a space. False
 * when memory ran out. */
bool csv_put(struct buf *b, const char *s, size_t len, bool first);
bool csv_put_str(struct buf *b, const char *s, bool first);
bool csv_put_int(struct buf *b, long long v, bool first);
/* Ends a record with CRLF (RFC 4180 §2.1). */
bool csv_end_record(struct buf *b);
/* Appends UTF-8 text converted to CP932; a character CP932 lacks becomes '?'. False when
 * memory ran out or iconv is unavailable; out may then hold part of the text. */
bool csv_to_cp932(const char *in, size_t len, struct buf *out);

#endif
