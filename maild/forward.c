/* maild/forward.c: which forward rules of an account match a message (SPEC §3): From and Subject decoded
 * from RFC 2047 first, then a case-insensitive substring match that works for Japanese text. */
#include "maild/forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/rfc2047.h"
#include "core/util.h"

static const struct db_stmt st_rules = {
	"forward_rules",
	"SELECT r.condition, r.keyword, fa.address FROM forward_rules r "
	"JOIN forward_addresses fa ON fa.rule_id = r.id WHERE r.account_id = $1 ORDER BY r.id, fa.address", 1
};

/* Lower-case folding on UTF-8: ASCII A-Z and full-width Ａ-Ｚ (U+FF21..U+FF3A). Japanese
 * scripts have no case. */
static char *
fold(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z') {
			out[o++] = (char)(c + 32);
		} else if (c == 0xef && i + 2 < n && (unsigned char)s[i + 1] == 0xbc &&
		           (unsigned char)s[i + 2] >= 0xa1 && (unsigned char)s[i + 2] <= 0xba) {
			/* U+FF21..FF3A = EF BC A1..BA; U+FF41..FF5A = EF BD 81..9A */
			out[o++] = (char)0xef;
			out[o++] = (char)0xbd;
			out[o++] = (char)((unsigned char)s[i + 2] - 0xa1 + 0x81);
			i += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}

bool
forward_contains(const char *hay, const char *needle)
{
	char *h = fold(hay), *n = fold(needle);
	bool found = h != NULL && n != NULL && strstr(h, n) != NULL;

	free(h);
	free(n);
	return found;
}

bool
forward_rule_matches(const char *cond, const char *keyword, const char *from_utf8,
                     const char *subject_utf8)
{
	if (strcmp(cond, "all") == 0)
		return true;
	if (keyword[0] == '\0')
		return false;   /* the panel never stores one; an empty keyword matches nothing */
	if (strcmp(cond, "from") == 0)
		return forward_contains(from_utf8, keyword);
	if (strcmp(cond, "subject") == 0)
		return forward_contains(subject_utf8, keyword);
	return false;
}

static void
decoded(const struct msg *m, const char *name, struct buf *out)
{
	char *raw = malloc(MSG_HDR_MAX);

	if (raw != NULL && msg_hdr_get(m, name, raw, MSG_HDR_MAX))
		rfc2047_decode(raw, strlen(raw), out);
	if (out->data == NULL)
		buf_adds(out, "");
	free(raw);
}

enum lookup
forward_match(struct db *db, int64_t account_id, const struct msg *m, struct fwd_list *out)
{
	struct db_res *res = NULL;
	struct buf from, subject;
	char id[24];
	int i, j, rows;
	enum lookup lk = LK_TEMPFAIL;

	out->n = 0;
	buf_init(&from);
	buf_init(&subject);
	snprintf(id, sizeof(id), "%lld", (long long)account_id);
	if (db_runv(db, &st_rules, &res, id) != DB_OK)
		goto out;
	rows = db_rows(res);
	if (rows > 0) {
		decoded(m, "From", &from);
		decoded(m, "Subject", &subject);
	}
	for (i = 0; i < rows && out->n < FWD_MAX; i++) {
		const char *addr = db_val(res, i, 2);
		bool dup = false;

		if (!forward_rule_matches(db_val(res, i, 0), db_val(res, i, 1), from.data, subject.data))
			continue;
		for (j = 0; j < out->n; j++)
			if (strcmp(out->addr[j], addr) == 0)
				dup = true;
		if (!dup && bstrcpy(out->addr[out->n], sizeof(out->addr[0]), addr))
			out->n++;
	}
	lk = out->n > 0 ? LK_FOUND : LK_NOTFOUND;
out:
	db_res_free(&res);
	buf_free(&from);
	buf_free(&subject);
	return lk;
}
