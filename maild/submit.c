/* maild/submit.c: submission: sender ownership, account status at each transaction, send counting and
 * the send lock on clock_now() (SPEC §6), and queueing the message for every recipient. */
#include "maild/submit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/lockout.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/deliver.h"
#include "maild/metrics.h"
#include "maild/queue.h"
#include "maild/rcpt.h"

static const struct db_stmt st_status = {
	"submit_status",
	"SELECT a.compromised, a.temp_password, "
	" (a.send_locked_at IS NOT NULL AND a.send_locked_at > $2::timestamptz - interval '24 hours') "
	"FROM accounts a WHERE a.id = $1", 2
};

static const struct db_stmt st_count = {
	"submit_count",
	"WITH up AS (INSERT INTO send_counts (account_id, hour, count) "
	"  VALUES ($1, date_trunc('hour', $2::timestamptz), 1) "
	"  ON CONFLICT (account_id, hour) DO UPDATE SET count = send_counts.count + 1 RETURNING count, hour) "
	"SELECT (SELECT count FROM up) + COALESCE((SELECT sum(count) FROM send_counts "
	"  WHERE account_id = $1 AND hour > $2::timestamptz - interval '24 hours' "
	"  AND hour <> date_trunc('hour', $2::timestamptz)), 0)", 2
};

static const struct db_stmt st_lock = {
	"submit_lock",
	"UPDATE accounts SET send_locked_at = $2::timestamptz, updated_at = $2::timestamptz "
	"WHERE id = $1 AND (send_locked_at IS NULL OR send_locked_at <= $2::timestamptz - interval '24 hours')", 2
};

static const struct db_stmt st_uncount = {
	"submit_uncount",
	"UPDATE send_counts SET count = count - 1 WHERE account_id = $1 "
	"AND hour = date_trunc('hour', $2::timestamptz) AND count > 0", 2
};

static const struct db_stmt st_prune = {
	"submit_prune",
	"DELETE FROM send_counts WHERE account_id = $1 AND hour < $2::timestamptz - interval '48 hours'", 2
};

enum submit_check
submit_check_sender(struct db *db, const struct config *cfg, const struct mailauth_user *u,
                    const char *from, const char *peer, char *why, size_t whysz)
{
	struct db_res *res = NULL;
	char id[24], now[32];
	enum submit_check rc = SUBMIT_TEMPFAIL;
	const char *reason = NULL;

	(void)cfg;
	why[0] = '\0';
	snprintf(id, sizeof(id), "%lld", (long long)u->account_id);
	if (db_runv(db, &st_status, &res, id, clock_now_str(now, sizeof(now))) != DB_OK)
		goto out;
	if (db_rows(res) == 0) {
		bstrcpy(why, whysz, "the account no longer exists");
		rc = SUBMIT_REFUSED;
		goto out;
	}
	if (db_bool(res, 0, 0) || db_bool(res, 0, 1)) {
		bstrcpy(why, whysz, "the account is suspended");
		reason = db_bool(res, 0, 0) ? "compromised" : "temp_password";
		rc = SUBMIT_REFUSED;
		goto out;
	}
	if (db_bool(res, 0, 2)) {
		bstrcpy(why, whysz, "the account is send-locked (too many messages in 24 hours)");
		reason = "send_locked";
		rc = SUBMIT_REFUSED;
		goto out;
	}
	switch (lockout_check(db, u->address)) {
	case LK_FOUND:
		bstrcpy(why, whysz, "the account is locked");
		reason = "locked";
		rc = SUBMIT_REFUSED;
		goto out;
	case LK_NOTFOUND:
		break;
	case LK_TEMPFAIL:
		goto out;
	}
	if (from[0] == '\0') {
		rc = SUBMIT_NOT_OWN;
		goto out;
	}
	switch (rcpt_is_own_address(db, u->account_id, from)) {
	case LK_FOUND:
		rc = SUBMIT_OK;
		break;
	case LK_NOTFOUND:
		rc = SUBMIT_NOT_OWN;
		break;
	case LK_TEMPFAIL:
		break;
	}
out:
	db_res_free(&res);
	/* SPEC §6 / issue 9: every refusal by status lands in the audit log. */
	if (reason != NULL)
		mailauth_audit(db, u->domain, u->address, "smtp", "send_refused", reason, peer);
	return rc;
}

enum submit_check
submit_count(struct db *db, const struct config *cfg, const struct mailauth_user *u, const char *peer)
{
	int64_t account_id = u->account_id;
	struct db_res *res = NULL;
	char id[24], now[32];
	enum submit_check rc = SUBMIT_TEMPFAIL;
	int64_t n;

	snprintf(id, sizeof(id), "%lld", (long long)account_id);
	clock_now_str(now, sizeof(now));
	if (db_runv(db, &st_count, &res, id, now) != DB_OK || db_rows(res) != 1)
		goto out;
	n = db_i64(res, 0, 0);
	if (n > cfg->send_limit_per_day) {
		/* SPEC §6: more than the limit in 24 h locks sending; this one is not sent. */
		(void)db_runv(db, &st_uncount, NULL, id, now);
		if (db_runv(db, &st_lock, NULL, id, now) != DB_OK)
			goto out;
		log_info("submit: account %s send-locked after %lld messages in 24 h", id, (long long)n - 1);
		mailauth_audit(db, u->domain, u->address, "smtp", "send_locked", "send_limit_per_day", peer);
		metrics_inc("yubin_maild_send_locks_total");
		rc = SUBMIT_REFUSED;
		goto out;
	}
	(void)db_runv(db, &st_prune, NULL, id, now);
	rc = SUBMIT_OK;
out:
	db_res_free(&res);
	return rc;
}

static int
q_wr(void *ctx, const void *p, size_t n)
{
	return queue_write(ctx, p, n);
}

void
deliver_submission(const struct config *cfg, const struct envelope *env, struct msg *m,
                   char *reply, size_t replysz)
{
	struct queue_msg q;
	struct buf hdr;
	struct db *db = db_pool_get();
	const char *rcpts[SMTP_RCPT_MAX];
	int i;
	bool have_date = false, have_msgid = false;

	buf_init(&hdr);
	q.fd = -1;
	q.path[0] = '\0';
	switch (submit_count(db, cfg, env->user, env->peer)) {
	case SUBMIT_OK:
		break;
	case SUBMIT_NOT_OWN:
	case SUBMIT_REFUSED:
		metrics_inc("yubin_maild_messages_refused_total{reason=\"send_locked\"}");
		bstrcpy(reply, replysz, "550 5.7.1 Sending refused: daily sending limit reached");
		goto out;
	case SUBMIT_TEMPFAIL:
		metrics_inc("yubin_maild_db_errors_total");
		bstrcpy(reply, replysz, "451 4.3.0 Temporary lookup failure, try again later");
		goto out;
	}
	{
		char tmp[8];

		have_date = msg_hdr_get(m, "Date", tmp, sizeof(tmp));
		have_msgid = msg_hdr_get(m, "Message-ID", tmp, sizeof(tmp));
	}
	deliver_received(cfg, env, NULL, &hdr);
	/* RFC 6409 §8: a submission server may add missing Date and Message-ID. */
	if (!have_date) {
		char date[64];
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
		buf_printf(&hdr, "Date: %s\n", date);
	}
	if (!have_msgid)
		buf_printf(&hdr, "Message-ID: <%s.%lld@%s>\n", env->id, (long long)time(NULL), cfg->hostname);
	if (hdr.oom || queue_open(cfg, &q) != 0)
		goto localfail;
	if (queue_write(&q, hdr.data, hdr.len) != 0 || msg_stream(m, q_wr, &q) != 0)
		goto localfail;
	for (i = 0; i < env->nrcpt; i++)
		rcpts[i] = env->addr[i];
	if (queue_commit(cfg, &q, env->from, rcpts, env->nrcpt) != 0)
		goto localfail;
	queue_kick();
	metrics_inc("yubin_maild_submissions_total");
	log_info("submit %s: from=<%s> user=%s rcpts=%d", env->id, env->from, env->user->address, env->nrcpt);
	snprintf(reply, replysz, "250 2.0.0 Ok: queued as %s", env->id);
	goto out;
localfail:
	queue_abort(&q);
	/* The send was counted but not made: take it back so a retry is not counted twice. */
	{
		char id[24], now[32];

		snprintf(id, sizeof(id), "%lld", (long long)env->user->account_id);
		(void)db_runv(db, &st_uncount, NULL, id, clock_now_str(now, sizeof(now)));
	}
	bstrcpy(reply, replysz, "451 4.3.0 Local error in processing");
out:
	buf_free(&hdr);
	db_pool_put(&db);
}
