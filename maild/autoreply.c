/* maild/autoreply.c: the autoresponder (SPEC §4) under RFC 3834: who is never answered, once per sender
 * per day on clock_now(), the dates, and a reply in ISO-2022-JP (Japanese text) or UTF-8. */
#include "maild/autoreply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mime.h"
#include "core/rfc2047.h"
#include "core/util.h"
#include "maild/metrics.h"
#include "maild/queue.h"

static const struct db_stmt st_text = {
	"autoreply_text",
	"SELECT body FROM autoreplies WHERE account_id = $1 AND body <> '' "
	"AND (start_at IS NULL OR start_at <= $2::timestamptz) AND (end_at IS NULL OR end_at >= $2::timestamptz)", 2
};

/* The row is written (and the reply due) only when there was none, or it is a day old:
 * one statement, so two deliveries at once cannot both reply. */
static const struct db_stmt st_history = {
	"autoreply_history",
	"INSERT INTO autoreply_history (account_id, sender, replied_at) VALUES ($1, $2, $3::timestamptz) "
	"ON CONFLICT (account_id, sender) DO UPDATE SET replied_at = EXCLUDED.replied_at "
	"WHERE autoreply_history.replied_at <= $3::timestamptz - interval '1 day' RETURNING 1", 3
};

static bool
header_is(const struct msg *m, const char *name, const char *const *values)
{
	char v[256], *p;
	size_t i;

	if (!msg_hdr_get(m, name, v, sizeof(v)))
		return false;
	p = v;
	while (*p == ' ' || *p == '\t')
		p++;
	p[strcspn(p, " \t;(")] = '\0';
	for (i = 0; values[i] != NULL; i++)
		if (strcasecmp(p, values[i]) == 0)
			return true;
	return false;
}

bool
autoreply_allowed(const struct msg *m, const char *from)
{
	static const char *const bulk[] = { "bulk", "list", "junk", NULL };
	char v[256], *p;
	const char *at;

	/* RFC 3834 §2: never to the null return path; MAILER-DAEMON by convention too. */
	if (from == NULL || from[0] == '\0')
		return false;
	at = strchr(from, '@');
	if (at != NULL && (size_t)(at - from) == 13 && strncasecmp(from, "mailer-daemon", 13) == 0)
		return false;
	/* §5.1 / SPEC §4: Auto-Submitted other than "no" is never answered. */
	if (msg_hdr_get(m, "Auto-Submitted", v, sizeof(v))) {
		p = v;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, " \t;(")] = '\0';
		if (strcasecmp(p, "no") != 0)
			return false;
	}
	if (header_is(m, "Precedence", bulk))
		return false;
	if (msg_hdr_get(m, "List-Id", v, sizeof(v)))
		return false;
	return true;
}

/* Whether UTF-8 text is plain ASCII. */
static bool
ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void
body_lf(const char *text, struct buf *out)
{
	for (; *text; text++)
		if (*text != '\r')
			buf_addc(out, *text);
	if (out->len == 0 || out->data[out->len - 1] != '\n')
		buf_addc(out, '\n');
}

/* The reply message into out (LF line ends). */
static bool
compose(const struct config *cfg, const struct rcpt_info *r, const char *to, const struct msg *m,
        const char *text, struct buf *out)
{
	char *raw = malloc(MSG_HDR_MAX), msgid[1024], refs[4096], date[64], rnd[17];
	struct buf subj, conv, body;
	const char *cs;
	time_t now = time(NULL);
	struct tm tm;
	bool ok = false;

	buf_init(&subj);
	buf_init(&conv);
	buf_init(&body);
	if (raw == NULL)
		goto out;
	buf_adds(&subj, "Re: ");
	if (msg_hdr_get(m, "Subject", raw, MSG_HDR_MAX) && raw[0] != '\0')
		rfc2047_decode(raw, strlen(raw), &subj);
	else
		buf_adds(&subj, "Auto-reply");
	body_lf(text, &body);
	/* SPEC §4: Japanese text goes out as ISO-2022-JP (what Japanese mail programs expect);
	 * if it does not convert (a character outside JIS X 0208), UTF-8. */
	if (ascii(text)) {
		cs = "us-ascii";
	} else if (mime_from_utf8("ISO-2022-JP", body.data, body.len, &conv)) {
		cs = "ISO-2022-JP";
	} else {
		cs = "UTF-8";
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (!random_hex(rnd, sizeof(rnd), 8))
		goto out;
	buf_printf(out, "From: <%s>\nTo: <%s>\nSubject: ", r->rcpt, to);
	{
		struct buf enc;
		bool encoded;

		buf_init(&enc);
		encoded = rfc2047_encode(subj.data ? subj.data : "Auto-reply",
		                         strcmp(cs, "us-ascii") == 0 ? "UTF-8" : cs, &enc) ||
		          (buf_reset(&enc), rfc2047_encode(subj.data, "UTF-8", &enc));
		buf_adds(out, encoded && enc.data ? enc.data : "Auto-reply");
		buf_free(&enc);
	}
	buf_printf(out, "\nDate: %s\nMessage-ID: <%s.autoreply@%s>\n", date, rnd, cfg->hostname);
	if (msg_hdr_get(m, "Message-ID", msgid, sizeof(msgid)) && msgid[0] != '\0') {
		char *id = msgid;

		while (*id == ' ')
			id++;
		buf_printf(out, "In-Reply-To: %s\n", id);
		if (msg_hdr_get(m, "References", refs, sizeof(refs)) && refs[0] != '\0')
			buf_printf(out, "References: %s %s\n", refs, id);
		else
			buf_printf(out, "References: %s\n", id);
	}
	buf_printf(out, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	           "Content-Type: text/plain; charset=%s\n", cs);
	if (strcmp(cs, "UTF-8") == 0) {
		buf_adds(out, "Content-Transfer-Encoding: base64\n\n");
		mime_b64_encode(body.data, body.len, 76, out);
		buf_addc(out, '\n');
	} else {
		buf_adds(out, "Content-Transfer-Encoding: 7bit\n\n");
		if (strcmp(cs, "ISO-2022-JP") == 0)
			buf_add(out, conv.data, conv.len);
		else
			buf_add(out, body.data, body.len);
	}
	ok = !out->oom;
out:
	free(raw);
	buf_free(&subj);
	buf_free(&conv);
	buf_free(&body);
	return ok;
}

int
autoreply_maybe(struct db *db, const struct config *cfg, const struct rcpt_info *r,
                const char *from, const struct msg *m)
{
	struct db_res *res = NULL;
	char id[24], now[32], sender[330];
	struct buf reply;
	struct queue_msg q;
	const char *to[1];
	int rc = -1;
	size_t i;

	buf_init(&reply);
	q.fd = -1;
	q.path[0] = '\0';
	if (!autoreply_allowed(m, from))
		return 0;
	for (i = 0; from[i] != '\0' && i + 1 < sizeof(sender); i++)
		sender[i] = (char)tolower((unsigned char)from[i]);
	sender[i] = '\0';
	snprintf(id, sizeof(id), "%lld", (long long)r->account_id);
	clock_now_str(now, sizeof(now));
	if (db_runv(db, &st_text, &res, id, now) != DB_OK)
		goto out;
	if (db_rows(res) == 0) {
		rc = 0;
		goto out;
	}
	/* Never to itself or one of its aliases (SPEC §4). */
	switch (rcpt_is_own_address(db, r->account_id, sender)) {
	case LK_FOUND:
		rc = 0;
		goto out;
	case LK_NOTFOUND:
		break;
	case LK_TEMPFAIL:
		goto out;
	}
	if (!compose(cfg, r, from, m, db_val(res, 0, 0), &reply))
		goto out;
	db_res_free(&res);
	if (db_runv(db, &st_history, &res, id, sender, now) != DB_OK)
		goto out;
	if (db_rows(res) == 0) {
		rc = 0;   /* answered this sender within the day */
		goto out;
	}
	to[0] = from;
	/* RFC 3834 §3.3: the reply's own return path is null, so it never bounces back. */
	if (queue_open(cfg, &q) != 0 || queue_write(&q, reply.data, reply.len) != 0 ||
	    queue_commit(cfg, &q, "", to, 1) != 0) {
		queue_abort(&q);
		goto out;
	}
	queue_kick();
	metrics_inc("yubin_maild_autoreplies_total");
	log_info("autoreply: %s answered <%s>", r->rcpt, from);
	rc = 1;
out:
	db_res_free(&res);
	buf_free(&reply);
	return rc;
}
