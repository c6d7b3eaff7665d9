/* tests/unit/test_rules.c: table tests for core/rules.c, core/pwpolicy.c and core/rules_msg.c (SPEC §2, §3, §4). */
#include "core/rules.h"
#include "tests/unit/check.h"

#include <stdlib.h>

/* The errors as "code" or "code=arg", comma-separated, in the order they were added. */
static const char *
codes(const struct rule_errs *errs)
{
	static char out[1024];
	size_t i, pos = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < errs->n; i++) {
		n = snprintf(out + pos, sizeof(out) - pos, "%s%s%s%s", i > 0 ? "," : "",
		             errs->e[i].code, errs->e[i].arg[0] != '\0' ? "=" : "", errs->e[i].arg);
		if (n < 0 || (size_t)n >= sizeof(out) - pos)
			break;
		pos += (size_t)n;
	}
	return out;
}

/* s repeated n times, in a buffer that lives until the next call with the same slot. */
static char *
rep(int slot, const char *s, size_t n)
{
	static char bufs[4][8192];
	char *b = bufs[slot];
	size_t len = strlen(s), i, pos = 0;

	for (i = 0; i < n && pos + len < sizeof(bufs[slot]); i++, pos += len)
		memcpy(b + pos, s, len);
	b[pos] = '\0';
	return b;
}

/* a then b, or "" when they do not fit (no test row comes near). */
static char *
cat(int slot, const char *a, const char *b)
{
	static char bufs[4][16384];
	size_t na = strlen(a), nb = strlen(b);

	bufs[slot][0] = '\0';
	if (na + nb < sizeof(bufs[slot])) {
		memcpy(bufs[slot], a, na);
		memcpy(bufs[slot] + na, b, nb + 1);
	}
	return bufs[slot];
}

/* ---- account names, SPEC §2 ---- */

static const struct {
	const char *in;
	const char *want;
} name_rows[] = {
	{ "ab", "" },
	{ "a1", "" },
	{ "00", "" },
	{ "john.doe", "" },
	{ "John_Doe-1", "" },
	{ "a.b.c", "" },
	{ "a-_.b", "" },
	{ "abcdefghijklmnopqrstuvwxyz012345", "" },                  /* 32 */
	{ "abcdefghijklmnopqrstuvwxyz0123456", "bad_length" },       /* 33 */
	{ "a", "bad_length" },
	{ "", "bad_length" },
	{ ".ab", "bad_edge" },
	{ "ab.", "bad_edge" },
	{ "-ab", "bad_edge" },
	{ "ab_", "bad_edge" },
	{ "a..b", "double_dot" },
	{ "a...b", "double_dot" },
	{ "a b", "bad_char= " },
	{ "a+b", "bad_char=+" },
	{ "a@b", "bad_char=@" },
	{ "ab/cd*", "bad_char=/,bad_edge" },
	{ "a\tb", "bad_char" },
	{ "a\xff" "b", "bad_char" },
	{ "山田", "bad_char=山,bad_edge" },
	{ "山", "bad_length,bad_char=山,bad_edge" },
	{ "yamada太郎", "bad_char=太,bad_edge" },
	{ "-", "bad_length,bad_edge" },
	{ ".", "bad_length,bad_edge" },
	{ "..", "bad_edge,double_dot" },
	{ "_a..b+", "bad_char=+,bad_edge,double_dot" },
	{ ".abcdefghijklmnopqrstuvwxyz..0123456+", "bad_length,bad_char=+,bad_edge,double_dot" },
};

static void
test_names(void)
{
	size_t i;

	for (i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++) {
		struct rule_errs errs = { .n = 0 };
		bool ok = rule_account_name(name_rows[i].in, "name", &errs);

		CHECK_STR(codes(&errs), name_rows[i].want);
		CHECK(ok == (name_rows[i].want[0] == '\0'), "row %zu return", i);
		CHECK(rule_account_name(name_rows[i].in, "name", NULL) == ok, "row %zu NULL errs", i);
		if (errs.n > 0)
			CHECK_STR(errs.e[0].field, "name");
	}
	CHECK(!rule_account_name(NULL, "name", NULL), "NULL name");
}

/* ---- passwords, SPEC §2 ---- */

static const struct {
	const char *pw, *name, *domain, *current;
	const char *want;
} pw_rows[] = {
	{ "Abcdefgh#123", "taro", "example.jp", NULL, "" },
	/* The SPEC's own examples. */
	{ "abcD#123456x", "taro", "example.jp", NULL, "digit_run" },
	{ "abcD#12345xy", "taro", "example.jp", NULL, "" },
	{ "123456Abcd#x", "taro", "example.jp", NULL, "digit_run" },
	{ "Abcd#x123456", "taro", "example.jp", NULL, "digit_run" },
	{ "Ab1#12345x12345", "taro", "example.jp", NULL, "" },
	{ "Abc#12345678901234", "taro", "example.jp", NULL, "digit_run" },
	/* Length, in characters. */
	{ "Abcdefg#123", "taro", "example.jp", NULL, "too_short" },
	{ "", "taro", "example.jp", NULL,
	  "too_short,needs_lower,needs_upper,needs_digit,needs_symbol" },
	{ "short", "taro", "example.jp", NULL, "too_short,needs_upper,needs_digit,needs_symbol" },
	{ "パスワードパスワードパス", "taro", "example.jp", NULL,
	  "bad_char,needs_lower,needs_upper,needs_digit,needs_symbol" },
	{ "Abcdefghあ#12", "taro", "example.jp", NULL, "bad_char" },
	/* Characters outside the list; the detail only when printable ASCII. */
	{ "Abcdefgh 123#", "taro", "example.jp", NULL, "bad_char= " },
	{ "Abcdefgh\"123#", "taro", "example.jp", NULL, "bad_char=\"" },
	{ "Abcdefgh/123#", "taro", "example.jp", NULL, "bad_char=/" },
	{ "Abcdefgh=123#", "taro", "example.jp", NULL, "bad_char==" },
	{ "Abcdefgh;1'23#", "taro", "example.jp", NULL, "bad_char=;" },
	{ "Abcdefgh\t123#", "taro", "example.jp", NULL, "bad_char" },
	{ "Abcdefgh１23#", "taro", "example.jp", NULL, "bad_char" },
	{ "Abcdefgh\xff" "123#", "taro", "example.jp", NULL, "bad_char" },
	{ "Abcdefgh\\123?|`", "taro", "example.jp", NULL, "bad_char=\\,needs_symbol" },
	{ "Abcdefgh12 x", "taro", "example.jp", NULL, "bad_char= ,needs_symbol" },
	/* Character classes. */
	{ "abcdefgh#123", "taro", "example.jp", NULL, "needs_upper" },
	{ "ABCDEFGH#123", "taro", "example.jp", NULL, "needs_lower" },
	{ "Abcdefgh#xyz", "taro", "example.jp", NULL, "needs_digit" },
	{ "Abcdefgh1234", "taro", "example.jp", NULL, "needs_symbol" },
	/* Name, address, domain: equal (any length) or contained (length >= 4), any case. */
	{ "Taro#Abc1234", "taro", "example.jp", NULL, "contains_name" },
	{ "xyzTARO#12Ab", "taro", "example.jp", NULL, "contains_name" },
	{ "Xx#1Example.JPz", "taro", "example.jp", NULL, "contains_name" },
	{ "1#Ab.taro@EXAMPLE.JP", "taro", "example.jp", NULL, "contains_name" },
	{ "Ab#xyzXYZ1234ab", "ab", "c.d", NULL, "" },
	{ "Xy#12ab@C.Dxyz", "ab", "c.d", NULL, "contains_name" },
	{ "Xy#12abzC.Dxyz", "ab", "c.d", NULL, "" },
	{ "aB", "ab", "c.d", NULL, "too_short,needs_digit,needs_symbol,contains_name" },
	{ "C.D", "ab", "c.d", NULL, "too_short,needs_lower,needs_digit,contains_name" },
	{ "Admin1#xyzABC", "admin1", NULL, NULL, "contains_name" },
	{ "Adm1n#xyzABCd", "admin1", NULL, NULL, "" },
	{ "Abcdefgh#123", NULL, NULL, NULL, "" },
	{ "Abcdefgh#123", "", "", NULL, "" },
	/* Changing: exact comparison with the current one. */
	{ "Abcdefgh#123", "taro", "example.jp", "Abcdefgh#123", "same_as_current" },
	{ "Abcdefgh#123", "taro", "example.jp", "abcdefgh#123", "" },
	{ "Abcdefgh#123", "taro", "example.jp", "", "" },
	/* Every broken rule at once, one entry per code. */
	{ "taro 1234567", "taro", "example.jp", "taro 1234567",
	  "bad_char= ,needs_upper,needs_symbol,contains_name,digit_run,same_as_current" },
	{ "tt", "tt", NULL, "tt",
	  "too_short,needs_upper,needs_digit,needs_symbol,contains_name,same_as_current" },
};

static void
test_passwords(void)
{
	static const char syms[] = "#()+-.[]{}!<>_:*$@%^&,~";
	char pw[32];
	size_t i;

	for (i = 0; i < sizeof(pw_rows) / sizeof(pw_rows[0]); i++) {
		struct rule_errs errs = { .n = 0 };
		bool ok = rule_password(pw_rows[i].pw, pw_rows[i].name, pw_rows[i].domain,
		                        pw_rows[i].current, "new_password", &errs);

		CHECK_STR(codes(&errs), pw_rows[i].want);
		CHECK(ok == (pw_rows[i].want[0] == '\0'), "row %zu return", i);
		CHECK(rule_password(pw_rows[i].pw, pw_rows[i].name, pw_rows[i].domain,
		                    pw_rows[i].current, "new_password", NULL) == ok,
		      "row %zu NULL errs", i);
		if (errs.n > 0)
			CHECK_STR(errs.e[0].field, "new_password");
	}
	/* Each listed symbol alone satisfies needs_symbol. */
	for (i = 0; i < sizeof(syms) - 1; i++) {
		struct rule_errs errs = { .n = 0 };

		snprintf(pw, sizeof(pw), "Abcdefgh12%cx", syms[i]);
		CHECK(rule_password(pw, "taro", "example.jp", NULL, "password", &errs),
		      "symbol '%c': %s", syms[i], codes(&errs));
	}
	/* 128 characters is the longest. */
	{
		struct rule_errs errs = { .n = 0 };
		char *p128 = cat(0, "Ab#1", rep(1, "x", 124));
		char *p129 = cat(2, "Ab#1", rep(3, "x", 125));

		CHECK(strlen(p128) == 128, "len %zu", strlen(p128));
		CHECK(rule_password(p128, "taro", "example.jp", NULL, "password", &errs), "128");
		CHECK_STR(codes(&errs), "");
		CHECK(!rule_password(p129, "taro", "example.jp", NULL, "password", &errs), "129");
		CHECK_STR(codes(&errs), "too_long");
	}
	/* Long and multi-byte: 128 kanji are 128 characters, not too long; 129 are. */
	{
		struct rule_errs errs = { .n = 0 };

		rule_password(rep(0, "字", 128), "taro", "example.jp", NULL, "password", &errs);
		CHECK_STR(codes(&errs), "bad_char,needs_lower,needs_upper,needs_digit,needs_symbol");
		errs.n = 0;
		rule_password(rep(0, "字", 129), "taro", "example.jp", NULL, "password", &errs);
		CHECK_STR(codes(&errs),
		          "too_long,bad_char,needs_lower,needs_upper,needs_digit,needs_symbol");
	}
	CHECK(!rule_password(NULL, "taro", "example.jp", NULL, "password", NULL), "NULL pw");
}

/* ---- autoreply, SPEC §4 ---- */

static const struct {
	const char *in;
	const char *want;
} ar_rows[] = {
	{ "", "" },
	{ "ただいま不在にしております。\r\n03-1234-5678 / https://example.jp/~taro", "" },
	{ "お問い合わせは～まで", "bad_char=～" },
	{ "―", "bad_char=―" },
	{ "∥", "bad_char=∥" },
	{ "－", "bad_char=－" },
	{ "¢", "bad_char=¢" },
	{ "£", "bad_char=£" },
	{ "¬", "bad_char=¬" },
	{ "￠", "bad_char=￠" },
	{ "￡", "bad_char=￡" },
	{ "￢", "bad_char=￢" },
	/* One error per distinct character, in the order they appear. */
	{ "～～―～―∥", "bad_char=～,bad_char=―,bad_char=∥" },
	{ "―～∥－¢£¬￠￡￢", "bad_char=―,bad_char=～,bad_char=∥,bad_char=－,bad_char=¢,"
	  "bad_char=£,bad_char=¬,bad_char=￠,bad_char=￡,bad_char=￢" },
	/* Look-alikes that convert cleanly stay allowed. */
	{ "〜 ー ‐ — ‖ ¥ \\ ~ -", "" },
	/* Invalid UTF-8: one bad_char with no detail. */
	{ "\xff", "bad_char" },
	{ "a\xff" "b\xfe", "bad_char" },
	{ "\xc0\xaf", "bad_char" },                 /* overlong '/' */
	{ "\xe0\x80\xaf", "bad_char" },             /* overlong */
	{ "\xed\xa0\x80", "bad_char" },             /* surrogate U+D800 */
	{ "\xf4\x90\x80\x80", "bad_char" },         /* above U+10FFFF */
	{ "\xe3\x81", "bad_char" },                 /* cut short */
	{ "\x80", "bad_char" },                     /* lone continuation */
	{ "～\xff～", "bad_char=～,bad_char" },
	{ "😀 𠮷野家", "" },
};

static void
test_autoreply(void)
{
	size_t i;

	for (i = 0; i < sizeof(ar_rows) / sizeof(ar_rows[0]); i++) {
		struct rule_errs errs = { .n = 0 };
		bool ok = rule_autoreply_text(ar_rows[i].in, "text", &errs);

		CHECK_STR(codes(&errs), ar_rows[i].want);
		CHECK(ok == (ar_rows[i].want[0] == '\0'), "row %zu return", i);
		CHECK(rule_autoreply_text(ar_rows[i].in, "text", NULL) == ok, "row %zu NULL errs", i);
	}

	/* Width limit: 300 full-width or 600 half-width, and mixtures. */
	static const struct {
		const char *a; size_t na;
		const char *b; size_t nb;
		long width;
	} w_rows[] = {
		{ "あ", 300, "", 0, 600 },
		{ "あ", 301, "", 0, 602 },
		{ "a", 600, "", 0, 600 },
		{ "a", 601, "", 0, 601 },
		{ "ｱ", 600, "", 0, 600 },        /* half-width katakana count 1 */
		{ "ｱ", 601, "", 0, 601 },
		{ "あ", 200, "a", 200, 600 },
		{ "あ", 200, "a", 201, 601 },
		{ "漢", 299, "ab", 1, 600 },
		{ "漢", 299, "abc", 1, 601 },
		{ "ﾃｽﾄ", 100, "テスト", 50, 600 },
		{ "\r\n", 300, "", 0, 600 },
		{ "😀", 300, "", 0, 600 },
		{ "😀", 300, "x", 1, 601 },
	};
	for (i = 0; i < sizeof(w_rows) / sizeof(w_rows[0]); i++) {
		struct rule_errs errs = { .n = 0 };
		char *t = cat(2, rep(0, w_rows[i].a, w_rows[i].na), rep(1, w_rows[i].b, w_rows[i].nb));
		bool ok = rule_autoreply_text(t, "text", &errs);

		CHECK(rule_text_width(t) == w_rows[i].width, "width row %zu: %ld", i, rule_text_width(t));
		CHECK(ok == (w_rows[i].width <= 600), "width row %zu return", i);
		CHECK_STR(codes(&errs), w_rows[i].width <= 600 ? "" : "too_long");
	}
	/* Both rules at once. */
	{
		struct rule_errs errs = { .n = 0 };

		CHECK(!rule_autoreply_text(cat(0, rep(1, "あ", 300), "～"), "text", &errs), "both");
		CHECK_STR(codes(&errs), "bad_char=～,too_long");
	}

	static const struct {
		const char *in;
		long width;
	} tw_rows[] = {
		{ "", 0 }, { "abc", 3 }, { "あいう", 6 }, { "ｱｲｳ", 3 },
		{ "｡", 1 }, { "ﾟ", 1 },                       /* U+FF61, U+FF9F: the range ends */
		{ "｠", 2 }, { "\xef\xbe\xa0", 2 },            /* U+FF60, U+FFA0: just outside */
		{ "\x7f", 1 }, { "\xc2\x80", 2 },             /* U+007F, U+0080 */
		{ "Ａ", 2 }, { "😀", 2 },
		{ "\xff", -1 }, { "ab\xe3\x81", -1 },
	};
	for (i = 0; i < sizeof(tw_rows) / sizeof(tw_rows[0]); i++)
		CHECK(rule_text_width(tw_rows[i].in) == tw_rows[i].width, "tw row %zu: %ld", i,
		      rule_text_width(tw_rows[i].in));
	CHECK(rule_text_width(NULL) == 0, "NULL width");
	CHECK(rule_autoreply_text(NULL, "text", NULL), "NULL text");
}

/* ---- forwards, SPEC §3, and domains ---- */

static const struct {
	const char *in;
	const char *want;
} fwd_rows[] = {
	{ "user@example.jp", "" },
	{ "First.Last+tag@Mail.Example.CO.JP", "" },
	{ "o'brien@example.com", "" },
	{ "a!#$%&'*+/=?^_`{|}~-@example.jp", "" },
	/* Japanese carrier deviations (STYLE §10): consecutive dots, dot before '@'. */
	{ "email..x.@docomo.ne.jp", "" },
	{ "taro.@ezweb.ne.jp", "" },
	{ "x...y@docomo.ne.jp", "" },
	{ ".taro@docomo.ne.jp", "bad_address" },
	{ "\"a@b\"@example.jp", "" },
	{ "\"a\\\"b\"@example.jp", "" },
	{ "\"\"@example.jp", "bad_address" },
	{ "\"a\\\"@example.jp", "bad_address" },
	{ "\"a\"b\"@example.jp", "bad_address" },
	{ "a@xn--eckwd4c7c.xn--zckzah", "" },
	{ "a@a-b.example", "" },
	{ "a@1.2", "" },
	{ "", "bad_address" },
	{ "user", "bad_address" },
	{ "@example.jp", "bad_address" },
	{ "user@", "bad_address" },
	{ "user@localhost", "bad_address" },
	{ "user@exa mple.jp", "bad_address" },
	{ "us er@example.jp", "bad_address" },
	{ " user@example.jp", "bad_address" },
	{ "user@example.jp\r\n", "bad_address" },
	{ "user\x01@example.jp", "bad_address" },
	{ "user@-example.jp", "bad_address" },
	{ "user@example-.jp", "bad_address" },
	{ "user@example..jp", "bad_address" },
	{ "user@example.jp.", "bad_address" },
	{ "user@.example.jp", "bad_address" },
	{ "user@exam_ple.jp", "bad_address" },
	{ "user@[192.0.2.1]", "bad_address" },
	{ "ユーザー@example.jp", "bad_address" },
	{ "user@例え.jp", "bad_address" },
	{ "a@b@example.jp", "bad_address" },
	{ "<user@example.jp>", "bad_address" },
	{ "user(comment)@example.jp", "bad_address" },
	{ "a,b@example.jp", "bad_address" },
	/* A leading '-' is its own code, never also bad_address. */
	{ "-user@example.jp", "leading_hyphen" },
	{ "-", "leading_hyphen" },
	{ "--help", "leading_hyphen" },
	{ "user@example.jp -f", "bad_address" },
};

static void
test_forwards(void)
{
	char *l63 = rep(0, "a", 63), *l64 = rep(1, "a", 64), *l65 = rep(2, "a", 65);
	char dom190[256], addr[512];
	size_t i;

	for (i = 0; i < sizeof(fwd_rows) / sizeof(fwd_rows[0]); i++) {
		struct rule_errs errs = { .n = 0 };
		bool ok = rule_forward_address(fwd_rows[i].in, "addresses", &errs);

		CHECK_STR(codes(&errs), fwd_rows[i].want);
		CHECK(ok == (fwd_rows[i].want[0] == '\0'), "row %zu return", i);
		CHECK(rule_forward_address(fwd_rows[i].in, "addresses", NULL) == ok,
		      "row %zu NULL errs", i);
		if (errs.n > 0)
			CHECK_STR(errs.e[0].field, "addresses");
	}
	CHECK(!rule_forward_address(NULL, "addresses", NULL), "NULL address");

	/* Local part at most 64 octets, whole address at most 255. */
	snprintf(addr, sizeof(addr), "%s@example.jp", l64);
	CHECK(rule_forward_address(addr, "addresses", NULL), "local 64");
	snprintf(addr, sizeof(addr), "%s@example.jp", l65);
	CHECK(!rule_forward_address(addr, "addresses", NULL), "local 65");
	snprintf(dom190, sizeof(dom190), "%s.%s.%s", l63, l63, rep(3, "b", 62));
	CHECK(strlen(dom190) == 190, "dom190 %zu", strlen(dom190));
	snprintf(addr, sizeof(addr), "%s@%s", l64, dom190);
	CHECK(strlen(addr) == 255 && rule_forward_address(addr, "addresses", NULL), "total 255");
	snprintf(addr, sizeof(addr), "%s@c%s", l64, dom190);
	CHECK(strlen(addr) == 256 && !rule_forward_address(addr, "addresses", NULL), "total 256");
	/* A label of 64 is too long even when the whole is short. */
	snprintf(addr, sizeof(addr), "a@%s.jp", l64);
	CHECK(!rule_forward_address(addr, "addresses", NULL), "label 64");
}

static void
test_domains(void)
{
	static const struct {
		const char *in;
		bool ok;
	} rows[] = {
		{ "example.jp", true }, { "a.b", true }, { "EXAMPLE.CO.JP", true },
		{ "xn--wgv71a.jp", true }, { "a-b--c.example", true }, { "123.45", true },
		{ "", false }, { "localhost", false }, { ".example.jp", false },
		{ "example.jp.", false }, { "exa..mple", false }, { "-a.jp", false },
		{ "a-.jp", false }, { "a.-jp", false }, { "a.jp-", false }, { "a_b.jp", false },
		{ "a b.jp", false }, { "例え.jp", false }, { "a.jp\n", false }, { ".", false },
	};
	char name[300];
	char *l63 = rep(0, "a", 63);
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK(rule_domain_name(rows[i].in) == rows[i].ok, "domain \"%s\"", rows[i].in);
	CHECK(!rule_domain_name(NULL), "NULL domain");
	snprintf(name, sizeof(name), "%s.jp", l63);
	CHECK(rule_domain_name(name), "label 63");
	snprintf(name, sizeof(name), "%s.jp", rep(1, "a", 64));
	CHECK(!rule_domain_name(name), "label 64");
	snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, rep(2, "c", 61));
	CHECK(strlen(name) == 253 && rule_domain_name(name), "total 253");
	snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, rep(2, "c", 62));
	CHECK(strlen(name) == 254 && !rule_domain_name(name), "total 254");
}

/* ---- messages, CONTRACT "Rule codes" ---- */

static void
test_messages(void)
{
	static const char *all[] = {
		"too_short", "too_long", "bad_char", "needs_lower", "needs_upper", "needs_digit",
		"needs_symbol", "contains_name", "digit_run", "same_as_current", "mismatch",
		"wrong_password", "bad_length", "bad_edge", "double_dot", "exists",
		"system_account", "bad_address", "leading_hyphen", "too_many", "loop",
		"required", "invalid", "empty", "not_found", "bad_date", "bad_quota",
		"bad_condition", "bad_keyword",
	};
	static const char *fields[] = {
		NULL, "", "password", "new_password", "name", "text", "addresses", "comment", "zzz",
	};
	const char *unk_ja = rule_message("no_such_code", "ja");
	const char *unk_en = rule_message("no_such_code", "en");
	size_t i, j;

	CHECK(unk_ja != NULL && unk_ja[0] != '\0', "unknown ja");
	CHECK(unk_en != NULL && unk_en[0] != '\0', "unknown en");
	CHECK(rule_message(NULL, NULL) != NULL, "NULL code");
	CHECK(rule_message_field(NULL, NULL, NULL) != NULL, "NULL field code");
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		for (j = 0; j < sizeof(fields) / sizeof(fields[0]); j++) {
			const char *ja = rule_message_field(fields[j], all[i], "ja");
			const char *en = rule_message_field(fields[j], all[i], "en");

			CHECK(ja != NULL && strcmp(ja, unk_ja) != 0, "%s ja", all[i]);
			CHECK(en != NULL && strcmp(en, unk_en) != 0, "%s en", all[i]);
			CHECK(ja != NULL && en != NULL && strcmp(ja, en) != 0, "%s ja != en", all[i]);
			/* Japanese text, ending as a sentence does. */
			CHECK(ja != NULL && (unsigned char)ja[0] >= 0x80 &&
			      strcmp(ja + strlen(ja) - 3, "。") == 0, "%s ja: %s", all[i], ja);
			CHECK(en != NULL && en[strlen(en) - 1] == '.', "%s en: %s", all[i], en);
		}
		CHECK_STR(rule_message(all[i], "ja"), rule_message_field(NULL, all[i], "ja"));
	}

	/* Field-specific wording names the rule. */
	static const struct {
		const char *field, *code, *lang, *want;
	} rows[] = {
		{ "password", "too_short", "ja", "パスワードは12文字以上で入力してください。" },
		{ "password", "too_short", "en", "Password must be at least 12 characters." },
		{ "new_password", "too_long", "en", "Password must be at most 128 characters." },
		{ "password", "too_long", "ja", "パスワードは128文字以内で入力してください。" },
		{ "text", "too_long", "ja",
		  "自動返信メッセージは全角300文字（半角600文字）以内で入力してください。" },
		{ "name", "bad_length", "en", "Account name must be 2 to 32 characters long." },
		{ "name", "bad_char", "en",
		  "Account name may contain only A-Z, a-z, 0-9, \"-\", \"_\" and \".\"." },
		{ "text", "bad_char", "en", "Autoreply text contains a character that cannot be sent." },
		{ "addresses", "too_many", "en",
		  "At most 300 forwarding addresses can be set per account." },
		{ "name", "exists", "ja", "このアカウント名はすでに使用されています。" },
		{ "comment", "too_long", "en", "Comment must be at most 255 characters." },
		{ "domain_name", "bad_char", "en", "Contains a character that is not allowed." },
		{ "zzz", "too_short", "en", "Password must be at least 12 characters." },
		{ NULL, "too_long", "en", "This value is too long." },
		{ "text", "too_short", "en-US", "Password must be at least 12 characters." },
		{ "text", "too_short", "EN", "Password must be at least 12 characters." },
		{ "text", "too_short", NULL, "パスワードは12文字以上で入力してください。" },
		{ "text", "too_short", "ja-JP", "パスワードは12文字以上で入力してください。" },
	};
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK_STR(rule_message_field(rows[i].field, rows[i].code, rows[i].lang), rows[i].want);
	CHECK(strncmp(rule_message_field("new_password", "bad_char", "en"), "Password", 8) == 0,
	      "password bad_char");
}

static void
test_err_text(void)
{
	struct rule_err e = { .field = "text", .code = "bad_char", .arg = "～" };
	char out[512];

	CHECK(rule_err_text(&e, "ja", out, sizeof(out)), "ja fits");
	CHECK_STR(out, "自動返信メッセージに使用できない文字「～」が含まれています。"
	          "別の文字に置き換えてください。");
	CHECK(rule_err_text(&e, "en", out, sizeof(out)), "en fits");
	CHECK_STR(out, "Autoreply text contains a character that cannot be sent: \"～\". "
	          "Replace it with another character.");
	e.arg[0] = '\0';
	CHECK(rule_err_text(&e, "ja", out, sizeof(out)), "no arg");
	CHECK_STR(out, "自動返信メッセージに使用できない文字が含まれています。");
	e = (struct rule_err){ .field = "password", .code = "bad_char", .arg = "/" };
	CHECK(rule_err_text(&e, "en", out, sizeof(out)), "pw fits");
	CHECK(strstr(out, "(\"/\")") != NULL, "pw arg: %s", out);
	e = (struct rule_err){ .field = "password", .code = "too_short", .arg = "x" };
	CHECK(rule_err_text(&e, "en", out, sizeof(out)), "no template");
	CHECK_STR(out, "Password must be at least 12 characters.");
	/* Truncation: false, NUL-terminated, never half a character. */
	e = (struct rule_err){ .field = "text", .code = "bad_char", .arg = "～" };
	CHECK(!rule_err_text(&e, "ja", out, 11), "truncated");
	CHECK_STR(out, "自動返");
	CHECK(!rule_err_text(&e, "ja", out, 1) && out[0] == '\0', "size 1");
	CHECK(!rule_err_text(&e, "ja", out, 0), "size 0");
	CHECK(!rule_err_text(&e, "ja", NULL, 10), "NULL out");
	CHECK(rule_err_text(NULL, "en", out, sizeof(out)) && out[0] != '\0', "NULL err");
}

static void
test_add_lower(void)
{
	struct rule_errs errs = { .n = 0 };
	char out[8];
	int i;

	for (i = 0; i < RULE_ERR_MAX + 4; i++)
		rule_add(&errs, "f", "invalid", NULL);
	CHECK(errs.n == RULE_ERR_MAX, "cap %zu", errs.n);
	errs.n = 0;
	rule_add(&errs, "f", "bad_char", "あいうえおか");
	CHECK_STR(errs.e[0].arg, "あいうえお");
	rule_add(&errs, "f", "bad_char", "aあいうえおか");
	CHECK_STR(errs.e[1].arg, "aあいうえ");
	rule_add(&errs, "f", "bad_char", "123456789012345");
	CHECK_STR(errs.e[2].arg, "123456789012345");
	rule_add(&errs, NULL, NULL, NULL);
	CHECK_STR(errs.e[3].field, "");
	CHECK_STR(errs.e[3].code, "invalid");
	CHECK_STR(errs.e[3].arg, "");
	rule_add(NULL, "f", "x", "y");

	CHECK(rule_lower("AbC.D-9_z", out, sizeof(out)) == false && out[0] == '\0', "too long");
	CHECK(rule_lower("AbC.D-9", out, sizeof(out)), "exact fit");
	CHECK_STR(out, "abc.d-9");
	CHECK(rule_lower("", out, sizeof(out)), "empty");
	CHECK_STR(out, "");
	CHECK(!rule_lower("a", out, 0), "size 0");
	CHECK(!rule_lower("a", NULL, 4), "NULL out");
	CHECK(rule_lower("ÀB", out, sizeof(out)), "non-ASCII kept");
	CHECK_STR(out, "Àb");
}

int
main(void)
{
	test_names();
	test_passwords();
	test_autoreply();
	test_forwards();
	test_domains();
	test_messages();
	test_err_text();
	test_add_lower();
	return check_done();
}
