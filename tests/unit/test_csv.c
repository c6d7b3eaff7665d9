/* tests/unit/test_csv.c: core/csv — encoding detection, RFC 4180 reading, limits, writer quoting, round trips, CP932 out. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/csv.h"
#include "tests/unit/check.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* Decodes; on success checks the charset and the UTF-8 text; on failure the code. */
static void
decode_case(const char *in, size_t len, int want_rc, enum csv_charset want_cs, const char *want,
            size_t want_len, const char *what)
{
	char *out = NULL;
	size_t olen = 0;
	enum csv_charset cs;
	const char *code = NULL;
	int rc = csv_decode(in, len, &out, &olen, &cs, &code);

	CHECK(rc == want_rc, "%s: rc %d", what, rc);
	if (rc == 0 && want_rc == 0) {
		CHECK(cs == want_cs, "%s: charset %d, want %d", what, (int)cs, (int)want_cs);
		CHECK(olen == want_len && memcmp(out, want, want_len) == 0 && out[olen] == '\0',
		      "%s: text \"%.*s\" (%zu bytes)", what, (int)olen, out, olen);
	} else if (rc != 0 && want_rc != 0) {
		CHECK(out == NULL, "%s: output on failure", what);
		CHECK_STR(code, want);
	}
	free(out);
}

static void
test_decode(void)
{
	decode_case(LIT("a,b\r\n1,2\r\n"), 0, CSV_UTF8, LIT("a,b\r\n1,2\r\n"), "ascii");
	decode_case(LIT("\xEF\xBB\xBFmail_account\r\n"), 0, CSV_UTF8_BOM, LIT("mail_account\r\n"), "bom");
	decode_case(LIT("\xEF\xBB\xBF"), 0, CSV_UTF8_BOM, LIT(""), "bom only");
	decode_case(LIT("\xEF\xBB\xBF\xE9\xAB\x99\xE2\x91\xA0\r\n"), 0, CSV_UTF8_BOM,
	            LIT("\xE9\xAB\x99\xE2\x91\xA0\r\n"), "bom + 髙①");
	decode_case(LIT("x,\xE9\xAB\x99\xE2\x91\xA0\n"), 0, CSV_UTF8, LIT("x,\xE9\xAB\x99\xE2\x91\xA0\n"),
	            "utf-8 without bom");
	decode_case(NULL, 0, 0, CSV_UTF8, LIT(""), "empty");
	/* CP932: ① (NEC row 13, 87 40), 髙 (IBM extension, FB FC), 纊 (NEC-selected IBM, ED 40),
	 * Excel's half-width kana ﾃｽﾄ ﾕｰｻﾞｰ (single bytes A1..DF), CRLF. */
	decode_case(LIT("a,\x87\x40\xFB\xFC\xED\x40\r\nb,\xC3\xBD\xC4 \xD5\xB0\xBB\xDE\xB0\r\n"), 0, CSV_CP932,
	            LIT("a,\xE2\x91\xA0\xE9\xAB\x99\xE7\xBA\x8A\r\n"
	                "b,\xEF\xBE\x83\xEF\xBD\xBD\xEF\xBE\x84 \xEF\xBE\x95\xEF\xBD\xB0\xEF\xBD\xBB\xEF\xBE\x9E\xEF\xBD\xB0\r\n"),
	            "cp932");
	/* Shift_JIS kanji and the backslash/tilde bytes stay ASCII (CP932, not JIS X 0201 roman). */
	decode_case(LIT("\x93\xFA\x96\x7B\x8C\xEA,\\~\n"), 0, CSV_CP932,
	            LIT("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E,\\~\n"), "sjis 日本語");
	/* ～ as Excel writes it (81 60) is U+FF5E. */
	decode_case(LIT("\x81\x60\x82\xA0"), 0, CSV_CP932, LIT("\xEF\xBD\x9E\xE3\x81\x82"), "cp932 wave");
	/* Refused. */
	decode_case(LIT("\xFF\xFEm\0a\0"), -1, CSV_UTF8, "utf16", 0, "utf-16le bom");
	decode_case(LIT("\xFE\xFF\0m\0a"), -1, CSV_UTF8, "utf16", 0, "utf-16be bom");
	decode_case(LIT("m\0a\0i\0l\0"), -1, CSV_UTF8, "utf16", 0, "utf-16le without bom");
	decode_case(LIT("\0m\0a\0i"), -1, CSV_UTF8, "utf16", 0, "utf-16be without bom");
	decode_case(LIT("mail,\0x\n"), -1, CSV_UTF8, "bad_encoding", 0, "nul inside");
	decode_case(LIT("\xEF\xBB\xBF""a\xE9\xAB\n"), -1, CSV_UTF8, "bad_encoding", 0, "bom + broken utf-8");
	decode_case(LIT("\xEF\xBB\xBF\x87\x40"), -1, CSV_UTF8, "bad_encoding", 0, "bom + cp932");
	decode_case(LIT("a,\x80\n"), -1, CSV_UTF8, "bad_encoding", 0, "0x80 (neither)");
	decode_case(LIT("a,\xA0\n"), -1, CSV_UTF8, "bad_encoding", 0, "0xA0 (neither)");
	decode_case(LIT("a,\xFD\n"), -1, CSV_UTF8, "bad_encoding", 0, "0xFD (neither)");
	decode_case(LIT("a,\x82"), -1, CSV_UTF8, "bad_encoding", 0, "cut after a cp932 lead byte");
	decode_case(LIT("a,\x82\x20"), -1, CSV_UTF8, "bad_encoding", 0, "cp932 lead + bad trail");
	{
		size_t n = CSV_MAX_BYTES + 1u;
		char *big = malloc(n);

		CHECK(big != NULL, "malloc");
		if (big != NULL) {
			memset(big, 'a', n);
			decode_case(big, n, -1, CSV_UTF8, "too_large", 0, "too large");
			decode_case(big, n - 1, 0, CSV_UTF8, big, n - 1, "largest");
			free(big);
		}
	}
}

static void
test_utf8(void)
{
	CHECK(csv_utf8_valid(LIT("")), "empty");
	CHECK(csv_utf8_valid(LIT("abc \xC3\xA9 \xE9\xAB\x99 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF")), "valid");
	CHECK(!csv_utf8_valid(LIT("\xC0\xAF")), "overlong 2");
	CHECK(!csv_utf8_valid(LIT("\xC1\xBF")), "overlong 2 (C1)");
	CHECK(!csv_utf8_valid(LIT("\xE0\x80\xAF")), "overlong 3");
	CHECK(!csv_utf8_valid(LIT("\xF0\x80\x80\xAF")), "overlong 4");
	CHECK(!csv_utf8_valid(LIT("\xED\xA0\x80")), "surrogate");
	CHECK(!csv_utf8_valid(LIT("\xF4\x90\x80\x80")), "past U+10FFFF");
	CHECK(!csv_utf8_valid(LIT("\xF5\x80\x80\x80")), "F5");
	CHECK(!csv_utf8_valid(LIT("\xE9\xAB")), "cut 3");
	CHECK(!csv_utf8_valid(LIT("\xE9")), "cut 1");
	CHECK(!csv_utf8_valid(LIT("\xBF")), "lone continuation");
	CHECK(!csv_utf8_valid(LIT("\xE9\x41\x99")), "bad continuation");
	CHECK(csv_utf8_chars(LIT("a\xC3\xA9\xE9\xAB\x99\xF0\x9F\x98\x80")) == 4, "chars");
	CHECK(csv_utf8_chars(LIT("")) == 0, "chars of empty");
}

/* Reads every record of text; a record is written as its cells joined by '|' and ended by
 * "#line;" so a whole file compares as one string. Returns the last csv_next answer. */
static int
read_all(const char *text, size_t len, struct buf *out, const char **code, size_t *err_line)
{
	struct csv_reader *r = csv_open(text, len);
	struct csv_record rec;
	int rc;

	buf_reset(out);
	*code = "";
	*err_line = 0;
	if (r == NULL)
		return -2;
	while ((rc = csv_next(r, &rec)) == 1) {
		size_t i;

		for (i = 0; i < rec.ncells; i++) {
			if (i > 0)
				(void)buf_addc(out, '|');
			(void)buf_add(out, rec.cell[i], rec.len[i]);
			if (strlen(rec.cell[i]) != rec.len[i])
				(void)buf_adds(out, "<LEN>");
		}
		(void)buf_printf(out, "#%zu;", rec.line);
	}
	if (rc < 0) {
		*code = csv_err_code(r);
		*err_line = csv_err_line(r);
		/* The error sticks. */
		if (csv_next(r, &rec) != -1)
			(void)buf_adds(out, "<NOT STICKY>");
	}
	csv_free(&r);
	CHECK(r == NULL, "csv_free clears the pointer");
	return rc;
}

static void
read_case(const char *text, size_t len, const char *want, int want_rc, const char *want_code,
          size_t want_line, const char *what)
{
	struct buf out;
	const char *code;
	size_t line;
	int rc;

	buf_init(&out);
	rc = read_all(text, len, &out, &code, &line);
	CHECK(rc == want_rc, "%s: rc %d (%s at %zu)", what, rc, code, line);
	CHECK(strcmp(out.data ? out.data : "", want) == 0, "%s: got \"%s\" want \"%s\"", what,
	      out.data ? out.data : "", want);
	if (want_rc < 0) {
		CHECK(strcmp(code, want_code) == 0, "%s: code %s, want %s", what, code, want_code);
		CHECK(line == want_line, "%s: line %zu, want %zu", what, line, want_line);
	}
	buf_free(&out);
}

static void
test_reader(void)
{
	read_case(LIT(""), "", 0, NULL, 0, "empty");
	read_case(NULL, 0, "", 0, NULL, 0, "NULL empty");
	read_case(LIT("a,b,c\r\n1,2,3\r\n"), "a|b|c#1;1|2|3#2;", 0, NULL, 0, "crlf");
	read_case(LIT("a,b,c\n1,2,3\n"), "a|b|c#1;1|2|3#2;", 0, NULL, 0, "lf");
	read_case(LIT("a,b\r1,2\r"), "a|b#1;1|2#2;", 0, NULL, 0, "lone cr");
	read_case(LIT("a\r\nb\nc\rd"), "a#1;b#2;c#3;d#4;", 0, NULL, 0, "mixed, no final break");
	read_case(LIT("a,b\r\n1,2"), "a|b#1;1|2#2;", 0, NULL, 0, "no final line break");
	read_case(LIT("a\n\nb\n"), "a#1;#2;b#3;", 0, NULL, 0, "empty line is one empty cell");
	read_case(LIT("a\r\n\r\n\r\n"), "a#1;#2;#3;", 0, NULL, 0, "empty lines at the end");
	read_case(LIT("\n"), "#1;", 0, NULL, 0, "only a line break");
	read_case(LIT("a,,c,\n,\n"), "a||c|#1;|#2;", 0, NULL, 0, "empty cells");
	read_case(LIT("a,"), "a|#1;", 0, NULL, 0, "trailing comma at the end");
	read_case(LIT("\"a,b\",\"say \"\"hi\"\"\",\"\"\n"), "a,b|say \"hi\"|#1;", 0, NULL, 0,
	          "quoted comma, quotes, empty");
	read_case(LIT("\"\"\"\"\n"), "\"#1;", 0, NULL, 0, "a lone quote");
	read_case(LIT("x,\"line1\r\nline2\nline3\rend\"\r\nnext,1\r\n"),
	          "x|line1\r\nline2\nline3\rend#1;next|1#5;", 0, NULL, 0, "line breaks inside quotes");
	read_case(LIT("\"a\"\r\n\"b\""), "a#1;b#2;", 0, NULL, 0, "quoted last field without break");
	read_case(LIT(" a , b \n"), " a | b #1;", 0, NULL, 0, "spaces kept");
	read_case(LIT("\xE9\xAB\x99,\xE2\x91\xA0\n"), "\xE9\xAB\x99|\xE2\x91\xA0#1;", 0, NULL, 0, "utf-8 cells");
	/* Errors, on the line where the record starts, and sticky. */
	read_case(LIT("ok\na\"b\n"), "ok#1;", -1, "bad_quote", 2, "quote in unquoted field");
	read_case(LIT("ok\n\"a\"b\n"), "ok#1;", -1, "bad_quote", 2, "text after closing quote");
	read_case(LIT("\"a\" ,b\n"), "", -1, "bad_quote", 1, "space after closing quote");
	read_case(LIT("ok\n\"a\nb\"x\n"), "ok#1;", -1, "bad_quote", 2, "bad quote in a two-line record");
	read_case(LIT("ok\r\n\"abc\r\ndef\r\n"), "ok#1;", -1, "unterminated_quote", 2, "unterminated");
	read_case(LIT("\""), "", -1, "unterminated_quote", 1, "a lone opening quote");
	read_case(LIT("a,b\0c\n"), "", -1, "bad_encoding", 1, "nul unquoted");
	read_case(LIT("x\n\"b\0c\"\n"), "x#1;", -1, "bad_encoding", 2, "nul quoted");
}

static void
test_limits(void)
{
	struct buf in, want;
	size_t i;

	buf_init(&in);
	buf_init(&want);
	/* 32 cells are fine, 33 are not. */
	for (i = 0; i < CSV_MAX_CELLS; i++) {
		(void)buf_adds(&in, i ? ",c" : "c");
		(void)buf_adds(&want, i ? "|c" : "c");
	}
	(void)buf_adds(&want, "#1;");
	read_case(in.data, in.len, want.data, 0, NULL, 0, "32 cells");
	(void)buf_adds(&in, ",c");
	read_case(in.data, in.len, "", -1, "too_many_cells", 1, "33 cells");
	(void)buf_adds(&in, "\n");
	buf_reset(&want);
	{
		char *line = in.data;
		size_t n = in.len;

		buf_init(&in);
		(void)buf_adds(&in, "ok\n");
		(void)buf_add(&in, line, n);
		free(line);
	}
	read_case(in.data, in.len, "ok#1;", -1, "too_many_cells", 2, "33 cells on line 2");

	/* A cell of 4096 bytes is fine, 4097 is not — quoted or not, with line breaks inside. */
	buf_reset(&in);
	for (i = 0; i < CSV_MAX_CELL; i++)
		(void)buf_addc(&in, 'x');
	{
		struct buf w;

		buf_init(&w);
		(void)buf_add(&w, in.data, in.len);
		(void)buf_adds(&w, "#1;");
		read_case(in.data, in.len, w.data, 0, NULL, 0, "4096-byte cell");
		buf_reset(&w);
		(void)buf_addc(&w, '"');
		(void)buf_add(&w, in.data, in.len - 2);
		(void)buf_adds(&w, "\r\n\"");
		{
			struct buf w2;

			buf_init(&w2);
			(void)buf_add(&w2, in.data, in.len - 2);
			(void)buf_adds(&w2, "\r\n#1;");
			read_case(w.data, w.len, w2.data, 0, NULL, 0, "4096-byte quoted cell ending in CRLF");
			buf_free(&w2);
		}
		buf_reset(&w);
		(void)buf_addc(&w, '"');
		(void)buf_add(&w, in.data, in.len - 1);
		(void)buf_adds(&w, "\r\n\"");
		read_case(w.data, w.len, "", -1, "cell_too_long", 1, "4097-byte quoted cell (CRLF at the end)");
		buf_reset(&w);
		(void)buf_addc(&w, '"');
		(void)buf_add(&w, in.data, in.len);
		(void)buf_adds(&w, "\"\"\"");
		read_case(w.data, w.len, "", -1, "cell_too_long", 1, "4097-byte quoted cell (a quote at the end)");
		buf_free(&w);
	}
	(void)buf_addc(&in, 'x');
	read_case(in.data, in.len, "", -1, "cell_too_long", 1, "4097-byte cell");

	/* The header and 100,000 rows, then one more. */
	buf_reset(&in);
	for (i = 0; i < CSV_MAX_RECORDS; i++)
		(void)buf_adds(&in, "a\n");
	{
		struct csv_reader *r = csv_open(in.data, in.len);
		struct csv_record rec;
		size_t n = 0;
		int rc;

		while ((rc = csv_next(r, &rec)) == 1)
			n++;
		CHECK(rc == 0 && n == CSV_MAX_RECORDS, "max records: rc %d n %zu", rc, n);
		csv_free(&r);
		(void)buf_adds(&in, "b\n");
		r = csv_open(in.data, in.len);
		n = 0;
		while ((rc = csv_next(r, &rec)) == 1)
			n++;
		CHECK(rc == -1 && n == CSV_MAX_RECORDS, "one too many: rc %d n %zu", rc, n);
		CHECK_STR(csv_err_code(r), "too_many_records");
		CHECK(csv_err_line(r) == CSV_MAX_RECORDS + 1, "line %zu", csv_err_line(r));
		csv_free(&r);
	}
	buf_free(&in);
	buf_free(&want);
}

static void
test_writer(void)
{
	struct buf b;

	buf_init(&b);
	CHECK(csv_put_str(&b, "plain", true), "put");
	CHECK(csv_put_str(&b, "a,b", false), "put");
	CHECK(csv_put_str(&b, "say \"hi\"", false), "put");
	CHECK(csv_put_str(&b, "l1\r\nl2", false), "put");
	CHECK(csv_put_str(&b, "cr\r", false), "put");
	CHECK(csv_put_str(&b, "lf\n", false), "put");
	CHECK(csv_put_str(&b, " lead", false), "put");
	CHECK(csv_put_str(&b, "trail ", false), "put");
	CHECK(csv_put_str(&b, "", false), "put");
	CHECK(csv_put_str(&b, NULL, false), "put");
	CHECK(csv_put_int(&b, 0, false), "put");
	CHECK(csv_put_int(&b, -42, false), "put");
	CHECK(csv_put_int(&b, 9223372036854775807LL, false), "put");
	CHECK(csv_put_str(&b, "\xE9\xAB\x99\xE2\x91\xA0", false), "put");
	CHECK(csv_put(&b, "\"", 1, false), "put");
	CHECK(csv_end_record(&b), "end");
	CHECK_STR(b.data, "plain,\"a,b\",\"say \"\"hi\"\"\",\"l1\r\nl2\",\"cr\r\",\"lf\n\",\" lead\",\"trail \","
	          ",,0,-42,9223372036854775807,\xE9\xAB\x99\xE2\x91\xA0,\"\"\"\"\r\n");
	buf_reset(&b);
	CHECK(csv_put_str(&b, "mail_account", true) && csv_put_str(&b, "mail_password", false) &&
	      csv_end_record(&b), "header");
	CHECK_STR(b.data, "mail_account,mail_password\r\n");
	buf_free(&b);
}

/* Cells written then read back are the same cells. */
static void
test_round_trip(void)
{
	static const char *const rows[][5] = {
		{ "mail_account", "mail_password", "comment", "amount_of_mail_box", "spam" },
		{ "a,b", "\"", "\"\"", "x\"y\"", "" },
		{ "l1\r\nl2", "cr\ronly", "lf\nonly", "\r\n", "\n\n" },
		{ " sp", "sp ", " ", "\xE9\xAB\x99\xE2\x91\xA0\xEF\xBE\x83", "\xF0\x9F\x98\x80" },
		{ "", "", "", "", "" },
		{ "=1+2", "'x", "a\tb", "#", "end" },
	};
	size_t nrows = sizeof(rows) / sizeof(rows[0]), i, j;
	struct buf b;
	struct csv_reader *r;
	struct csv_record rec;

	buf_init(&b);
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < 5; j++)
			CHECK(csv_put_str(&b, rows[i][j], j == 0), "put");
		CHECK(csv_end_record(&b), "end");
	}
	r = csv_open(b.data, b.len);
	for (i = 0; i < nrows; i++) {
		CHECK(csv_next(r, &rec) == 1, "row %zu: %s", i, csv_err_code(r));
		CHECK(rec.ncells == 5, "row %zu cells %zu", i, rec.ncells);
		for (j = 0; j < 5 && j < rec.ncells; j++)
			CHECK(rec.len[j] == strlen(rows[i][j]) && memcmp(rec.cell[j], rows[i][j], rec.len[j]) == 0,
			      "row %zu cell %zu: \"%s\"", i, j, rec.cell[j]);
	}
	CHECK(csv_next(r, &rec) == 0, "end");
	csv_free(&r);
	buf_free(&b);

	/* A single empty cell is an empty line, read back as one empty cell. */
	buf_init(&b);
	CHECK(csv_put_str(&b, "", true) && csv_end_record(&b), "put");
	r = csv_open(b.data, b.len);
	CHECK(csv_next(r, &rec) == 1 && rec.ncells == 1 && rec.len[0] == 0, "empty record");
	CHECK(csv_next(r, &rec) == 0, "end");
	csv_free(&r);
	buf_free(&b);
}

static void
test_cp932_out(void)
{
	struct buf b;
	char *back = NULL;
	size_t blen;
	enum csv_charset cs;
	const char *code;
	size_t i;

	buf_init(&b);
	/* ① 髙 ﾃｽﾄ 日本 ～, and 〜 (U+301C, what a Mac types) also becomes 81 60. */
	CHECK(csv_to_cp932(LIT("a,\xE2\x91\xA0\xE9\xAB\x99\xEF\xBE\x83\xEF\xBD\xBD\xEF\xBE\x84"
	                       "\xE6\x97\xA5\xE6\x9C\xAC\xEF\xBD\x9E\xE3\x80\x9C\r\n"), &b), "to cp932");
	CHECK(b.len == 19 && memcmp(b.data, "a,\x87\x40\xFB\xFC\xC3\xBD\xC4\x93\xFA\x96\x7B\x81\x60\x81\x60\r\n", 19) == 0,
	      "cp932 bytes (%zu)", b.len);
	/* Back through detection: the same text, with ～ for both tildes. */
	CHECK(csv_decode(b.data, b.len, &back, &blen, &cs, &code) == 0, "decode back");
	CHECK(cs == CSV_CP932, "charset %d", (int)cs);
	CHECK(back != NULL && strcmp(back, "a,\xE2\x91\xA0\xE9\xAB\x99\xEF\xBE\x83\xEF\xBD\xBD\xEF\xBE\x84"
	                             "\xE6\x97\xA5\xE6\x9C\xAC\xEF\xBD\x9E\xEF\xBD\x9E\r\n") == 0, "decoded back");
	free(back);
	/* What CP932 lacks (an emoji, é) and broken UTF-8 become '?', one each. */
	buf_reset(&b);
	CHECK(csv_to_cp932(LIT("x\xF0\x9F\x98\x80y\xC3\xA9z\xFFw\xE9\xAB"), &b), "to cp932");
	CHECK_STR(b.data, "x?y?z?w?");
	/* Past iconv's 8 KiB chunks: 10,000 髙 are 20,000 bytes of FB FC. */
	buf_reset(&b);
	{
		struct buf in;
		bool same = true;

		buf_init(&in);
		for (i = 0; i < 10000; i++)
			(void)buf_adds(&in, "\xE9\xAB\x99");
		CHECK(csv_to_cp932(in.data, in.len, &b), "to cp932");
		CHECK(b.len == 20000, "len %zu", b.len);
		for (i = 0; i + 1 < b.len; i += 2)
			if ((unsigned char)b.data[i] != 0xFB || (unsigned char)b.data[i + 1] != 0xFC)
				same = false;
		CHECK(same, "all FB FC");
		buf_free(&in);
	}
	/* Appends. */
	buf_reset(&b);
	CHECK(buf_adds(&b, "pre:") && csv_to_cp932(LIT("ok"), &b), "append");
	CHECK_STR(b.data, "pre:ok");
	buf_reset(&b);
	CHECK(csv_to_cp932(LIT(""), &b), "empty");
	CHECK(b.len == 0, "empty len");
	buf_free(&b);
}

/* What Excel in Japan saves, end to end: CP932 with CRLF, read into cells. */
static void
test_excel_file(void)
{
	static const char file[] =
		"mail_account,password,mail_capacity,comment\r\n"
		"tanaka,Abcdef#12345x,100,\x93\x63\x92\x86 \x87\x40\r\n"
		"takahashi,Abcdef#12345y,200,\"\xFB\xFC\x8B\xB4, \xC3\xBD\xC4\"\r\n"
		"sato,Abcdef#12345z,,\"\xB6\xC5\r\n\x8E\x9F\x82\xCC\x8D\x73\"\r\n";
	char *text = NULL;
	size_t len;
	enum csv_charset cs;
	const char *code;
	struct csv_reader *r;
	struct csv_record rec;

	CHECK(csv_decode(file, sizeof(file) - 1, &text, &len, &cs, &code) == 0, "decode");
	CHECK(cs == CSV_CP932, "charset");
	r = csv_open(text, len);
	CHECK(csv_next(r, &rec) == 1 && rec.ncells == 4 && strcmp(rec.cell[3], "comment") == 0, "header");
	CHECK(csv_next(r, &rec) == 1 && rec.line == 2, "row 1");
	CHECK_STR(rec.cell[3], "\xE7\x94\xB0\xE4\xB8\xAD \xE2\x91\xA0");   /* 田中 ① */
	CHECK(csv_next(r, &rec) == 1 && rec.line == 3, "row 2");
	CHECK_STR(rec.cell[0], "takahashi");
	CHECK_STR(rec.cell[3], "\xE9\xAB\x99\xE6\xA9\x8B, \xEF\xBE\x83\xEF\xBD\xBD\xEF\xBE\x84"); /* 髙橋, ﾃｽﾄ */
	CHECK(csv_next(r, &rec) == 1 && rec.line == 4, "row 3");
	CHECK_STR(rec.cell[2], "");
	CHECK_STR(rec.cell[3], "\xEF\xBD\xB6\xEF\xBE\x85\r\n\xE6\xAC\xA1\xE3\x81\xAE\xE8\xA1\x8C"); /* ｶﾅ CRLF 次の行 */
	CHECK(csv_next(r, &rec) == 0, "end");
	csv_free(&r);
	free(text);
}

int
main(void)
{
	test_decode();
	test_utf8();
	test_reader();
	test_limits();
	test_writer();
	test_round_trip();
	test_cp932_out();
	test_excel_file();
	return check_done();
}
