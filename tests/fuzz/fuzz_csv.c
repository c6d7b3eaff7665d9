/* tests/fuzz/fuzz_csv.c: libFuzzer target for core/csv: any bytes through csv_decode and the
 * reader; decoded text is valid UTF-8, every record is within the limits, and what the writer
 * makes of the records (in UTF-8 and in CP932) reads back as the same records. */
#include "core/buf.h"
#include "core/csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MUST(c) do { if (!(c)) __builtin_trap(); } while (0)

static void
check_record(const struct csv_record *rec, size_t prev_line)
{
	size_t i;

	MUST(rec->ncells >= 1 && rec->ncells <= CSV_MAX_CELLS);
	MUST(rec->line > prev_line);
	for (i = 0; i < rec->ncells; i++) {
		MUST(rec->len[i] <= CSV_MAX_CELL);
		MUST(rec->cell[i][rec->len[i]] == '\0');
		MUST(strlen(rec->cell[i]) == rec->len[i]);
		MUST(csv_utf8_valid(rec->cell[i], rec->len[i]));
	}
}

/* Reads text, checks every record and writes it to *w; the number of records read. */
static size_t
read_and_write(const char *text, size_t len, struct buf *w, int *rc_r)
{
	struct csv_reader *r = csv_open(text, len);
	struct csv_record rec;
	size_t n = 0, prev = 0, i;
	int rc;

	MUST(r != NULL);
	while ((rc = csv_next(r, &rec)) == 1) {
		check_record(&rec, prev);
		prev = rec.line;
		for (i = 0; i < rec.ncells; i++)
			MUST(csv_put(w, rec.cell[i], rec.len[i], i == 0));
		MUST(csv_end_record(w));
		n++;
	}
	if (rc == -1) {
		MUST(csv_err_code(r)[0] != '\0');
		MUST(csv_err_line(r) > prev);
		MUST(csv_next(r, &rec) == -1);
	} else {
		MUST(rc == 0);
		MUST(csv_err_code(r)[0] == '\0');
	}
	csv_free(&r);
	*rc_r = rc;
	return n;
}

/* The records of a and of b are the same (the first n of a; b has exactly n). */
static void
same_records(const char *a, size_t alen, const char *b, size_t blen, size_t n)
{
	struct csv_reader *ra = csv_open(a, alen), *rb = csv_open(b, blen);
	struct csv_record x, y;
	size_t k, i;

	MUST(ra != NULL && rb != NULL);
	for (k = 0; k < n; k++) {
		MUST(csv_next(ra, &x) == 1);
		MUST(csv_next(rb, &y) == 1);
		MUST(x.ncells == y.ncells);
		for (i = 0; i < x.ncells; i++)
			MUST(x.len[i] == y.len[i] && memcmp(x.cell[i], y.cell[i], x.len[i]) == 0);
	}
	MUST(csv_next(rb, &y) == 0);
	csv_free(&ra);
	csv_free(&rb);
}

/* The writer's CP932 output decodes and reads back as records of the same shape. */
static void
cp932_shape(const struct buf *w, size_t n)
{
	struct buf sj;
	char *text = NULL, *back = NULL;
	size_t tlen, blen;
	enum csv_charset cs;
	const char *code;
	struct csv_reader *ra, *rb;
	struct csv_record x, y;
	size_t k;

	buf_init(&sj);
	MUST(csv_to_cp932(w->data ? w->data : "", w->len, &sj));
	MUST(csv_decode(sj.data, sj.len, &back, &blen, &cs, &code) == 0);
	MUST(csv_decode(w->data, w->len, &text, &tlen, &cs, &code) == 0);
	ra = csv_open(text, tlen);
	rb = csv_open(back, blen);
	MUST(ra != NULL && rb != NULL);
	for (k = 0; k < n; k++) {
		MUST(csv_next(ra, &x) == 1);
		MUST(csv_next(rb, &y) == 1);
		MUST(x.ncells == y.ncells && x.line == y.line);
	}
	MUST(csv_next(rb, &y) == 0);
	csv_free(&ra);
	csv_free(&rb);
	free(text);
	free(back);
	buf_free(&sj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	size_t len = 0, n, n2;
	enum csv_charset cs;
	const char *code = NULL;
	struct buf w, w2;
	int rc, rc2;

	if (csv_decode((const char *)data, size, &text, &len, &cs, &code) != 0) {
		MUST(text == NULL && code != NULL);
		MUST(strcmp(code, "utf16") == 0 || strcmp(code, "bad_encoding") == 0);
		return 0;
	}
	MUST(text != NULL && text[len] == '\0' && strlen(text) == len);
	MUST(csv_utf8_valid(text, len));
	switch (cs) {
	case CSV_UTF8:
		MUST(len == size && memcmp(text, data, size) == 0);
		break;
	case CSV_UTF8_BOM:
		MUST(size >= 3 && memcmp(data, CSV_BOM, 3) == 0);
		MUST(len == size - 3 && memcmp(text, data + 3, len) == 0);
		break;
	case CSV_CP932:
		MUST(!csv_utf8_valid((const char *)data, size));
		break;
	}

	buf_init(&w);
	n = read_and_write(text, len, &w, &rc);
	/* What the writer wrote reads without error, as the same records. */
	buf_init(&w2);
	n2 = read_and_write(w.data ? w.data : "", w.len, &w2, &rc2);
	MUST(rc2 == 0 && n2 == n);
	same_records(text, len, w.data ? w.data : "", w.len, n);
	/* Writing is a fixed point after one pass. */
	MUST(w.len == w2.len && (w.len == 0 || memcmp(w.data, w2.data, w.len) == 0));
	cp932_shape(&w, n);

	buf_free(&w);
	buf_free(&w2);
	free(text);
	return 0;
}
