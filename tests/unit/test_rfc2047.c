/* tests/unit/test_rfc2047.c: table tests for core/rfc2047.c and core/mime.c (SPEC §3 decoding) and the
 * forward keyword match of maild/forward.c. */
#include "core/mime.h"
#include "core/rfc2047.h"
#include "maild/forward.h"
#include "maild/smtp.h"
#include "tests/unit/check.h"

#include <stdlib.h>

static const char *
dec(const char *in)
{
	static char out[1024];
	struct buf b;

	buf_init(&b);
	rfc2047_decode(in, strlen(in), &b);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static const char *
enc_dec(const char *text, const char *cs)
{
	static char out[1024];
	struct buf b;

	buf_init(&b);
	if (!rfc2047_encode(text, cs, &b)) {
		buf_free(&b);
		return "(failed)";
	}
	snprintf(out, sizeof(out), "%s", dec(b.data));
	buf_free(&b);
	return out;
}

int
main(void)
{
	struct smtp_path p;
	char l[64], d[64];

	/* ISO-2022-JP, Shift_JIS, EUC-JP, UTF-8; B and Q. */
	CHECK_STR(dec("=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?="), "こんにちは");
	CHECK_STR(dec("=?Shift_JIS?B?kL+LgY+R?="), "請求書");
	CHECK_STR(dec("=?EUC-JP?B?wMG14b3x?="), "請求書");
	CHECK_STR(dec("=?utf-8?q?caf=C3=A9_au_lait?="), "café au lait");
	CHECK_STR(dec("=?UTF-8?B?5pel5pys?= =?UTF-8?B?6Kqe?="), "日本語");   /* §6.2: space between words dropped */
	CHECK_STR(dec("Re: =?UTF-8?B?5pel5pys6Kqe?= plain"), "Re: 日本語 plain");
	CHECK_STR(dec("=?UTF-8?B?5pel?=\r\n =?UTF-8?B?5pys?="), "日本");       /* folded */
	/* a multibyte character split across two words of one charset is joined */
	CHECK_STR(dec("=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKw=?="), "日本");
	CHECK_STR(dec("=?ISO-2022-JP*ja?B?GyRCRnxLXBsoQg==?="), "日本");     /* RFC 2231 language */
	CHECK_STR(dec("not =?encoded"), "not =?encoded");
	CHECK_STR(dec("=?bogus-charset?B?YWJj?="), "abc");
	/* raw ISO-2022-JP and raw Shift_JIS in a header */
	CHECK_STR(dec("\x1b$B$3$s$K$A$O\x1b(B"), "こんにちは");
	CHECK_STR(dec("\x90\xbf\x8b\x81\x8f\x91"), "請求書");
	/* CP932 extensions (NEC special: ① U+2460) */
	CHECK_STR(dec("=?Shift_JIS?B?h0A=?="), "①");
	/* round trip */
	CHECK_STR(enc_dec("Re: 今月の請求書について（ご確認ください）", "ISO-2022-JP"),
	          "Re: 今月の請求書について（ご確認ください）");
	CHECK_STR(enc_dec("日本語の件名、とても長い件名がここに続きます。折り返しても読めること。", "UTF-8"),
	          "日本語の件名、とても長い件名がここに続きます。折り返しても読めること。");
	CHECK_STR(enc_dec("plain ascii", "UTF-8"), "plain ascii");

	/* forward matching: case-insensitive, Japanese, full-width Latin */
	CHECK(forward_contains("Invoice from ACME", "acme"), "ascii case");
	CHECK(forward_contains("今月の請求書です", "請求書"), "japanese");
	CHECK(forward_contains("ＡＣＭＥ社より", "ａｃｍｅ"), "full-width case");
	CHECK(!forward_contains("hello", "world"), "no match");
	CHECK(forward_rule_matches("all", "", "", ""), "all");
	CHECK(forward_rule_matches("from", "boss", "The Boss <b@x>", ""), "from");
	CHECK(!forward_rule_matches("subject", "boss", "The Boss <b@x>", "hi"), "subject not from");
	CHECK(forward_rule_matches("subject", "a b!", "", "x A B! y"), "spaces and symbols");

	/* SMTP paths */
	CHECK(smtp_parse_path("FROM:<a@b.test> SIZE=10 BODY=8BITMIME", "FROM", &p) == 0 && p.size == 10 &&
	      p.body_8bit && strcmp(p.addr, "a@b.test") == 0, "mail from");
	CHECK(smtp_parse_path("FROM:<>", "FROM", &p) == 0 && p.addr[0] == '\0', "null sender");
	CHECK(smtp_parse_path("TO:<@r.test:u@d.test>", "TO", &p) == 0 && strcmp(p.addr, "u@d.test") == 0, "adl");
	CHECK(smtp_parse_path("FROM:<a@b> FOO=1", "FROM", &p) == -2, "unknown param");
	CHECK(smtp_parse_path("TO:<a@b> SIZE=1", "TO", &p) == -2, "size on rcpt");
	CHECK(smtp_parse_path("FROM:a@b", "FROM", &p) == -1, "no brackets");
	CHECK(smtp_parse_path("TO:<a b@c>", "TO", &p) == -1, "space");
	CHECK(smtp_parse_path("TO:<\"a b\"@c.test>", "TO", &p) == 0, "quoted");
	CHECK(smtp_addr_split("\"a b\"@Ex.TEST", l, sizeof(l), d, sizeof(d)) && strcmp(l, "a b") == 0 &&
	      strcmp(d, "ex.test") == 0, "split");
	CHECK(!smtp_addr_split("@x", l, sizeof(l), d, sizeof(d)), "empty local");
	return check_done();
}
