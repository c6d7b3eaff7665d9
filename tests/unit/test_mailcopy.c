/* tests/unit/test_mailcopy.c: table tests for the mail copy's parsers: modified UTF-7 names (RFC 3501
 * §5.1.3), INTERNALDATE, and the IMAP response tokenizer (atoms, quoted strings, literals, NIL). */
#include "maild/mailcopy.h"
#include "tests/unit/check.h"

#include <string.h>

static const struct {
	const char *in, *out;
	bool ok;
} utf7[] = {
	{ "INBOX", "INBOX", true },
	{ "Sent Items", "Sent Items", true },
	{ "&ZeVnLIqe-", "日本語", true },
	{ "&ZeVnLIqe-/&MNUwqTDrMMA-", "日本語/フォルダ", true },
	{ "~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語", true },
	{ "Tom &- Jerry", "Tom & Jerry", true },
	{ "&2D3eAA-", "\xf0\x9f\x98\x80", true },          /* U+1F600 through a surrogate pair */
	{ "&ZeVnLIqe", "&ZeVnLIqe", false },               /* unterminated */
	{ "&AGEAYgBj-", "&AGEAYgBj-", false },             /* "abc" must not be encoded */
	{ "&2D0-", "&2D0-", false },                       /* lone high surrogate */
	{ "&-&-", "&&", true },
	{ "caf\xc3\xa9", "caf\xc3\xa9", false },           /* raw 8-bit is not mUTF-7: kept as it came */
	{ "&Z!-", "&Z!-", false },
	{ "", "", true },
};

static const struct {
	const char *in;
	bool ok;
	long long t;
} dates[] = {
	{ "17-Jul-1996 02:44:25 -0700", true, 837596665 },
	{ " 1-Jan-2026 00:00:00 +0000", true, 1767225600 },
	{ "01-Jan-2026 09:00:00 +0900", true, 1767225600 },
	{ "1-Foo-2026 00:00:00 +0000", false, 0 },
	{ "17-Jul-1996 02:44:25", false, 0 },
	{ "17-Jul-1996 25:44:25 -0700", false, 0 },
	{ "17-Jul-1996 02:44:25 -0700x", false, 0 },
};

/* The tokens of s as a short text: A(atom) S(string) ( ) N, separated by spaces. */
static const char *
tokens(const char *s, size_t len)
{
	static char out[512];
	char tmp[256];
	struct imap_tk t = { s, s + len };
	const char *v;
	size_t n, o = 0;
	enum imap_tok k;

	out[0] = '\0';
	while ((k = imap_tk_next(&t, &v, &n, tmp, sizeof(tmp))) != IMAP_T_END) {
		int w = 0;

		switch (k) {
		case IMAP_T_ATOM: w = snprintf(out + o, sizeof(out) - o, "%sA:%.*s", o ? " " : "", (int)n, v); break;
		case IMAP_T_STRING: w = snprintf(out + o, sizeof(out) - o, "%sS:%.*s", o ? " " : "", (int)n, v); break;
		case IMAP_T_LPAREN: w = snprintf(out + o, sizeof(out) - o, "%s(", o ? " " : ""); break;
		case IMAP_T_RPAREN: w = snprintf(out + o, sizeof(out) - o, "%s)", o ? " " : ""); break;
		case IMAP_T_NIL: w = snprintf(out + o, sizeof(out) - o, "%sN", o ? " " : ""); break;
		case IMAP_T_ERR: w = snprintf(out + o, sizeof(out) - o, "%sERR", o ? " " : ""); break;
		case IMAP_T_END: break;
		}
		if (w < 0 || (size_t)w >= sizeof(out) - o)
			break;
		o += (size_t)w;
		if (k == IMAP_T_ERR)
			break;
	}
	return out;
}

static const struct {
	const char *in, *want;
} toks[] = {
	{ "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n", "A:* A:LIST ( A:\\HasNoChildren A:\\Trash ) S:/ A:Trash" },
	{ "* LIST () NIL \"a \\\"q\\\" \\\\ b\"\r\n", "A:* A:LIST ( ) N S:a \"q\" \\ b" },
	{ "* LIST () \"/\" {5}\r\nab cd\r\n", "A:* A:LIST ( ) S:/ S:ab cd" },
	{ "* 1 FETCH (UID 7 RFC822.SIZE 12 FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")\r\n",
	  "A:* A:1 A:FETCH ( A:UID A:7 A:RFC822.SIZE A:12 A:FLAGS ( A:\\Seen ) A:INTERNALDATE S:17-Jul-1996 02:44:25 -0700 )" },
	{ "* 1 FETCH (BODY[] NIL)\r\n", "A:* A:1 A:FETCH ( A:BODY[] N )" },
	{ "{3}\r\nab", "ERR" },                 /* literal longer than the data */
	{ "{x}\r\n", "ERR" },
	{ "\"unterminated", "ERR" },
	{ "{2+}\r\nok", "S:ok" },
};

int
main(void)
{
	char out[256];
	size_t i;
	time_t t;

	for (i = 0; i < sizeof(utf7) / sizeof(utf7[0]); i++) {
		CHECK(mutf7_decode(utf7[i].in, out, sizeof(out)) == utf7[i].ok, "ok of %s", utf7[i].in);
		CHECK_STR(out, utf7[i].out);
	}
	CHECK(!mutf7_decode("&ZeVnLIqe-", out, 4), "too small");
	for (i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		t = 0;
		CHECK(imap_parse_date(dates[i].in, &t) == dates[i].ok, "date %s", dates[i].in);
		if (dates[i].ok)
			CHECK((long long)t == dates[i].t, "%s: got %lld", dates[i].in, (long long)t);
	}
	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++)
		CHECK_STR(tokens(toks[i].in, strlen(toks[i].in)), toks[i].want);
	CHECK(strcmp(mailcopy_reason_code(MC_QUOTA), "quota") == 0, "codes");
	return check_done();
}
