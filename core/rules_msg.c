/* core/rules_msg.c: the ja/en message for every rule code (CONTRACT "Rule codes"), per field. */
#include "core/rules.h"

#include <string.h>
#include <strings.h>

/* What a field is about, so a shared code (too_long, bad_char, too_many) can name its rule. */
enum field_kind {
	FK_ANY,        /* no field, or one not listed below */
	FK_PASSWORD,
	FK_NAME,
	FK_TEXT,
	FK_FORWARD,
	FK_COMMENT,
};

/* Field names as the API and forms use them (CONTRACT "JSON API"); a field containing one
 * of these words is of that kind, so "new_password" and "new_password_confirm" are
 * passwords. First match wins. */
static const struct {
	const char *word;
	enum field_kind kind;
} field_words[] = {
	{ "password",     FK_PASSWORD },
	{ "domain",       FK_ANY },      /* "domain_name" is not an account name */
	{ "mail_account", FK_NAME },
	{ "name",         FK_NAME },
	{ "login",        FK_NAME },
	{ "alias",        FK_NAME },
	{ "local_part",   FK_NAME },
	{ "text",         FK_TEXT },
	{ "autoreply",    FK_TEXT },
	{ "address",      FK_FORWARD },
	{ "forward",      FK_FORWARD },
	{ "destination",  FK_FORWARD },
	{ "comment",      FK_COMMENT },
};

/*
 * One row per (kind, code). `*_arg` is the wording when the error carries a detail; "{}"
 * marks where it goes (substituted by hand: a runtime printf format would be a format
 * string we do not control). Rows for FK_ANY are what rule_message() answers.
 */
struct msg {
	enum field_kind kind;
	const char *code;
	const char *ja, *en;
	const char *ja_arg, *en_arg;
};

#define PW_SYMBOLS "# ( ) + - . [ ] { } ! < > _ : * $ @ % ^ & , ~"

static const struct msg msgs[] = {
	/* Passwords, SPEC §2. The password-only codes are also the FK_ANY answer. */
	{ FK_ANY, "too_short",
	  "パスワードは12文字以上で入力してください。",
	  "Password must be at least 12 characters.", NULL, NULL },
	{ FK_PASSWORD, "too_long",
	  "パスワードは128文字以内で入力してください。",
	  "Password must be at most 128 characters.", NULL, NULL },
	{ FK_PASSWORD, "bad_char",
	  "パスワードに使用できない文字が含まれています。使用できるのは半角英数字と記号 "
	  PW_SYMBOLS " です。",
	  "Password contains a character that is not allowed. Use only A-Z, a-z, 0-9 and the "
	  "symbols " PW_SYMBOLS ".",
	  "パスワードに使用できない文字「{}」が含まれています。使用できるのは半角英数字と記号 "
	  PW_SYMBOLS " です。",
	  "Password contains a character that is not allowed (\"{}\"). Use only A-Z, a-z, 0-9 "
	  "and the symbols " PW_SYMBOLS "." },
	{ FK_ANY, "needs_lower",
	  "パスワードには英小文字（a-z）を1文字以上含めてください。",
	  "Password must contain at least one lower-case letter (a-z).", NULL, NULL },
	{ FK_ANY, "needs_upper",
	  "パスワードには英大文字（A-Z）を1文字以上含めてください。",
	  "Password must contain at least one upper-case letter (A-Z).", NULL, NULL },
	{ FK_ANY, "needs_digit",
	  "パスワードには数字（0-9）を1文字以上含めてください。",
	  "Password must contain at least one digit (0-9).", NULL, NULL },
	{ FK_ANY, "needs_symbol",
	  "パスワードには記号（" PW_SYMBOLS "）を1文字以上含めてください。",
	  "Password must contain at least one of the symbols " PW_SYMBOLS ".", NULL, NULL },
	{ FK_ANY, "contains_name",
	  "パスワードにアカウント名、メールアドレス、ドメイン名を含めることはできません。",
	  "Password must not be or contain the account name, the mail address or the domain name.",
	  NULL, NULL },
	{ FK_ANY, "digit_run",
	  "パスワードに6桁以上の連続した数字を含めることはできません。",
	  "Password must not contain 6 or more digits in a row.", NULL, NULL },
	{ FK_ANY, "same_as_current",
	  "現在と同じパスワードは設定できません。別のパスワードを入力してください。",
	  "New password must be different from the current password.", NULL, NULL },
	{ FK_ANY, "mismatch",
	  "確認用のパスワードが一致しません。同じパスワードを2回入力してください。",
	  "Password confirmation does not match. Enter the same password twice.", NULL, NULL },
	{ FK_ANY, "wrong_password",
	  "現在のパスワードが正しくありません。",
	  "Current password is incorrect.", NULL, NULL },

	/* Account names, SPEC §2 (also admin logins and alias names). */
	{ FK_ANY, "bad_length",
	  "アカウント名は2文字以上32文字以内で入力してください。",
	  "Account name must be 2 to 32 characters long.", NULL, NULL },
	{ FK_NAME, "bad_char",
	  "アカウント名に使用できるのは半角英数字と「-」「_」「.」のみです。",
	  "Account name may contain only A-Z, a-z, 0-9, \"-\", \"_\" and \".\".",
	  "アカウント名に使用できない文字「{}」が含まれています。使用できるのは半角英数字と「-」「_」「.」のみです。",
	  "Account name contains a character that is not allowed (\"{}\"). Use only A-Z, a-z, "
	  "0-9, \"-\", \"_\" and \".\"." },
	{ FK_ANY, "bad_edge",
	  "アカウント名の先頭と末尾には半角英数字を使用してください。",
	  "Account name must begin and end with a letter or digit.", NULL, NULL },
	{ FK_ANY, "double_dot",
	  "アカウント名に「.」を2つ以上続けて使用することはできません。",
	  "Account name must not contain two dots in a row.", NULL, NULL },
	{ FK_NAME, "exists",
	  "このアカウント名はすでに使用されています。",
	  "This account name is already in use.", NULL, NULL },
	{ FK_ANY, "system_account",
	  "システムアカウント（postmaster）は削除できません。",
	  "The system account (postmaster) cannot be deleted.", NULL, NULL },

	/* Autoreply, SPEC §4. */
	{ FK_TEXT, "too_long",
	  "自動返信メッセージは全角300文字（半角600文字）以内で入力してください。",
	  "Autoreply text must be at most 300 full-width or 600 half-width characters.",
	  NULL, NULL },
	{ FK_TEXT, "bad_char",
	  "自動返信メッセージに使用できない文字が含まれています。",
	  "Autoreply text contains a character that cannot be sent.",
	  "自動返信メッセージに使用できない文字「{}」が含まれています。別の文字に置き換えてください。",
	  "Autoreply text contains a character that cannot be sent: \"{}\". Replace it with "
	  "another character." },

	/* Forwards, SPEC §3. */
	{ FK_ANY, "bad_address",
	  "メールアドレスの形式が正しくありません。",
	  "Not a valid mail address.", NULL, NULL },
	{ FK_FORWARD, "bad_address",
	  "転送先のメールアドレスの形式が正しくありません。",
	  "Forwarding address is not a valid mail address.", NULL, NULL },
	{ FK_ANY, "leading_hyphen",
	  "「-」で始まるメールアドレスは転送先に指定できません。",
	  "Forwarding address must not start with \"-\".", NULL, NULL },
	{ FK_FORWARD, "too_many",
	  "転送先は1アカウントにつき300件まで設定できます。",
	  "At most 300 forwarding addresses can be set per account.", NULL, NULL },
	{ FK_ANY, "loop",
	  "転送がループするため、この転送先は設定できません。",
	  "This forward would make mail loop between accounts.", NULL, NULL },

	/* Generic codes, and the shared ones when the field does not say which rule. */
	{ FK_ANY, "required",
	  "この項目は必須です。入力してください。",
	  "This field is required.", NULL, NULL },
	{ FK_ANY, "invalid",
	  "入力内容が正しくありません。",
	  "This value is not valid.", NULL, NULL },
	{ FK_ANY, "empty",
	  "この項目を空にすることはできません。",
	  "This field must not be empty.", NULL, NULL },
	{ FK_ANY, "not_found",
	  "指定されたものが見つかりません。",
	  "Not found.", NULL, NULL },
	{ FK_ANY, "too_many",
	  "登録できる件数の上限を超えています。",
	  "Too many items.", NULL, NULL },
	{ FK_ANY, "bad_date",
	  "日付が正しくありません。",
	  "The date is not valid.", NULL, NULL },
	{ FK_ANY, "bad_quota",
	  "容量はMB単位の1以上の整数で入力してください。",
	  "Quota must be a whole number of MB, at least 1.", NULL, NULL },
	{ FK_ANY, "bad_condition",
	  "転送条件は「すべて」「差出人（From）」「件名」のいずれかを選択してください。",
	  "Forward condition must be all, from or subject.", NULL, NULL },
	{ FK_ANY, "bad_keyword",
	  "キーワードが正しくありません。",
	  "The keyword is not valid.", NULL, NULL },
	{ FK_ANY, "exists",
	  "すでに登録されています。",
	  "Already exists.", NULL, NULL },
	{ FK_ANY, "too_long",
	  "入力できる文字数を超えています。",
	  "This value is too long.", NULL, NULL },
	{ FK_ANY, "bad_char",
	  "使用できない文字が含まれています。",
	  "Contains a character that is not allowed.",
	  "使用できない文字「{}」が含まれています。",
	  "Contains a character that is not allowed: \"{}\"." },
	{ FK_COMMENT, "too_long",
	  "コメントは255文字以内で入力してください。",
	  "Comment must be at most 255 characters.", NULL, NULL },
};

static const struct msg unknown_msg = {
	FK_ANY, "", "入力内容に誤りがあります。", "The value is not accepted.", NULL, NULL,
};

static bool
lang_en(const char *lang)
{
	return lang != NULL && strncasecmp(lang, "en", 2) == 0;
}

static enum field_kind
kind_of(const char *field)
{
	size_t i;

	if (field == NULL || field[0] == '\0')
		return FK_ANY;
	for (i = 0; i < sizeof(field_words) / sizeof(field_words[0]); i++)
		if (strstr(field, field_words[i].word) != NULL)
			return field_words[i].kind;
	return FK_ANY;
}

/* The row for (kind, code), else the FK_ANY row for code, else the generic message. */
static const struct msg *
find(enum field_kind kind, const char *code)
{
	const struct msg *any = NULL;
	size_t i;

	if (code == NULL)
		return &unknown_msg;
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		if (strcmp(msgs[i].code, code) != 0)
			continue;
		if (msgs[i].kind == kind)
			return &msgs[i];
		if (msgs[i].kind == FK_ANY && any == NULL)
			any = &msgs[i];
	}
	return any != NULL ? any : &unknown_msg;
}

const char *
rule_message(const char *code, const char *lang)
{
	const struct msg *m = find(FK_ANY, code);

	return lang_en(lang) ? m->en : m->ja;
}

const char *
rule_message_field(const char *field, const char *code, const char *lang)
{
	const struct msg *m = find(kind_of(field), code);

	return lang_en(lang) ? m->en : m->ja;
}

/* Append n bytes of p at *pos, keeping room for the NUL; false once out is full. The cut
 * falls on a UTF-8 character boundary so a truncated message is still valid text. */
static bool
put(char *out, size_t outsz, size_t *pos, const char *p, size_t n)
{
	size_t room = outsz - 1 - *pos;
	bool fits = n <= room;

	if (!fits) {
		n = room;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out + *pos, p, n);
	*pos += n;
	out[*pos] = '\0';
	return fits;
}

bool
rule_err_text(const struct rule_err *e, const char *lang, char *out, size_t outsz)
{
	const struct msg *m;
	const char *tmpl, *mark;
	size_t pos = 0;

	if (out == NULL || outsz == 0)
		return false;
	out[0] = '\0';
	if (e == NULL) {
		tmpl = lang_en(lang) ? unknown_msg.en : unknown_msg.ja;
		return put(out, outsz, &pos, tmpl, strlen(tmpl));
	}
	m = find(kind_of(e->field), e->code);
	tmpl = lang_en(lang) ? m->en_arg : m->ja_arg;
	if (tmpl == NULL || e->arg[0] == '\0') {
		tmpl = lang_en(lang) ? m->en : m->ja;
		return put(out, outsz, &pos, tmpl, strlen(tmpl));
	}
	mark = strstr(tmpl, "{}");
	if (mark == NULL)
		return put(out, outsz, &pos, tmpl, strlen(tmpl));
	return put(out, outsz, &pos, tmpl, (size_t)(mark - tmpl)) &&
	       put(out, outsz, &pos, e->arg, strnlen(e->arg, sizeof(e->arg))) &&
	       put(out, outsz, &pos, mark + 2, strlen(mark + 2));
}
