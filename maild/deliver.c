/* maild/deliver.c: inbound delivery in three phases so that 250 means durable and a 4xx leaves nothing:
 * (1) scan and write every copy into tmp/ and the queue, (2) one database statement for usage,
 * (3) rename into new/ with directory fsync, commit the queue entries, then answer. */
#include "maild/deliver.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/clock.h"
#include "core/db.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/autoreply.h"
#include "maild/forward.h"
#include "maild/maildir.h"
#include "maild/metrics.h"
#include "maild/queue.h"
#include "maild/spam.h"
#include "maild/virus.h"

const char *
deliver_spool_dir(const struct config *cfg, char *out, size_t outsz)
{
	if (!bsnprintf(out, outsz, "%s/.spool", cfg->maildir_root))
		out[0] = '\0';
	return out;
}

static void
rfc5322_date(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, outsz, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		out[0] = '\0';
}

void
deliver_received(const struct config *cfg, const struct envelope *env, const char *rcpt,
                 struct buf *out)
{
	char date[64];

	rfc5322_date(time(NULL), date, sizeof(date));
	buf_printf(out, "Received: from %s ([%s])\n\tby %s (yubin-maild) with %s id %s",
	           env->helo[0] ? env->helo : "unknown", env->peer, cfg->hostname,
	           env->proto ? env->proto : "ESMTP", env->id);
	if (rcpt != NULL)
		buf_printf(out, "\n\tfor <%s>", rcpt);
	buf_printf(out, "; %s\n", date);
}

/* Whether a Delivered-To of the message names this account (its address, the address used,
 * or any alias: SPEC §3 loop stop follows aliases). LK_TEMPFAIL on a database fault. */
static enum lookup
seen_before(struct db *db, const struct rcpt_info *r, const struct msg *m)
{
	struct hdr_field f;
	size_t pos = 0, next;

	while ((next = msg_hdr_next(m->hdr.data, m->hdr.len, pos, &f)) != 0) {
		char addr[330];
		size_t i, o = 0;

		pos = next;
		if (!msg_hdr_is(&f, "Delivered-To"))
			continue;
		for (i = 0; i < f.valuelen && o + 1 < sizeof(addr); i++) {
			char ch = f.value[i];

			if (ch == '<' || ch == '>' || isspace((unsigned char)ch))
				continue;
			addr[o++] = (char)tolower((unsigned char)ch);
		}
		addr[o] = '\0';
		if (strcmp(addr, r->address) == 0 || strcmp(addr, r->rcpt) == 0)
			return LK_FOUND;
		switch (rcpt_is_own_address(db, r->account_id, addr)) {
		case LK_FOUND:
			return LK_FOUND;
		case LK_NOTFOUND:
			break;
		case LK_TEMPFAIL:
			return LK_TEMPFAIL;
		}
	}
	return LK_NOTFOUND;
}

/* The decoded-enough test for "already tagged": the raw value starts with the tag, or its
 * first encoded-word decodes to it. */
static bool
already_tagged(const char *value, size_t len)
{
	return len >= 6 && strncasecmp(value, "[SPAM]", 6) == 0;
}

/* The header section of one copy: our trace fields first (RFC 5321 §4.4), then the message's
 * own fields without incoming X-Spam-* and Return-Path, the Subject tagged for spam. */
static void
build_headers(const struct config *cfg, const struct envelope *env, const struct rcpt_info *r,
              const struct msg *m, const struct spam_verdict *v, bool tag, struct buf *out)
{
	struct hdr_field f;
	size_t pos = 0, next;
	bool subject_seen = false;

	buf_printf(out, "Return-Path: <%s>\n", env->from);
	buf_printf(out, "Delivered-To: %s\n", r->address);
	deliver_received(cfg, env, r->rcpt, out);
	if (v->checked) {
		buf_printf(out, "X-Spam-Flag: %s\n", v->spam ? "YES" : "NO");
		buf_printf(out, "X-Spam-Score: %.1f\n", v->score);
	}
	while ((next = msg_hdr_next(m->hdr.data, m->hdr.len, pos, &f)) != 0) {
		pos = next;
		if ((f.namelen >= 7 && strncasecmp(f.name, "X-Spam-", 7) == 0) ||
		    msg_hdr_is(&f, "Return-Path"))
			continue;
		if (msg_hdr_is(&f, "Subject") && !subject_seen) {
			subject_seen = true;
			if (tag && !already_tagged(f.value, f.valuelen)) {
				buf_adds(out, "Subject: [SPAM] ");
				buf_add(out, f.value, f.valuelen);
				buf_addc(out, '\n');
				continue;
			}
		}
		buf_add(out, f.raw, f.rawlen);
		if (f.rawlen > 0 && f.raw[f.rawlen - 1] != '\n')
			buf_addc(out, '\n');
	}
	if (tag && !subject_seen)
		buf_adds(out, "Subject: [SPAM] \n");
}

struct plan {
	bool keep;
	bool loop;
	struct maildir_msg md;
	bool md_open;
	struct fwd_list *fwd;
	struct queue_msg q;
	bool q_open;
};

static int
write_copy(int (*wr)(void *, const void *, size_t), void *ctx, const struct buf *hdr,
           const struct msg *m, int fd)
{
	if (wr(ctx, hdr->data, hdr->len) != 0)
		return -1;
	if (m->has_body && wr(ctx, "\n", 1) != 0)
		return -1;
	if (m->body_size > 0 && msg_copy_body(m, fd) != 0)
		return -1;
	return 0;
}

static int
md_wr(void *ctx, const void *p, size_t n)
{
	return maildir_write(ctx, p, n);
}

static int
q_wr(void *ctx, const void *p, size_t n)
{
	return queue_write(ctx, p, n);
}

static const struct db_stmt st_usage = {
	"deliver_usage",
	"UPDATE accounts SET usage_bytes = accounts.usage_bytes + v.size "
	"FROM unnest($1::bigint[], $2::bigint[]) AS v(id, size) WHERE accounts.id = v.id", 2
};

/* Phase 2: every kept copy's size added to its account in one statement. */
static enum db_status
add_usage(struct db *db, const struct envelope *env, struct plan *plans)
{
	struct buf ids, sizes;
	enum db_status st;
	int i;
	bool any = false;

	buf_init(&ids);
	buf_init(&sizes);
	buf_addc(&ids, '{');
	buf_addc(&sizes, '{');
	for (i = 0; i < env->nrcpt; i++) {
		if (!plans[i].md_open)
			continue;
		buf_printf(&ids, "%s%lld", any ? "," : "", (long long)env->rcpt[i].account_id);
		buf_printf(&sizes, "%s%lld", any ? "," : "", (long long)plans[i].md.size);
		any = true;
	}
	buf_addc(&ids, '}');
	buf_addc(&sizes, '}');
	st = DB_OK;
	if (any)
		st = ids.oom || sizes.oom ? DB_ERROR : db_runv(db, &st_usage, NULL, ids.data, sizes.data);
	buf_free(&ids);
	buf_free(&sizes);
	return st;
}

/* The copies' fsyncs run on a thread of their own while the usage statement goes to the
 * database: the two waits overlap instead of adding up (a single sender waits for both). */
struct syncjob {
	struct plan *plans;
	int n;
	bool failed;
};

static void *
sync_copies(void *arg)
{
	struct syncjob *j = arg;
	int i;

	for (i = 0; i < j->n; i++)
		if (j->plans[i].md_open && maildir_sync(&j->plans[i].md) != 0)
			j->failed = true;
	return NULL;
}

void
deliver_inbound(const struct config *cfg, const struct envelope *env, struct msg *m,
                char *reply, size_t replysz)
{
	struct plan *plans = calloc((size_t)env->nrcpt, sizeof(*plans));
	struct spam_verdict v = { false, false, 0.0 };
	struct db *db = NULL;
	struct buf hdr;
	char vname[256];
	int i, kept = 0, forwarded = 0;
	bool ok = false;

	buf_init(&hdr);
	if (plans == NULL) {
		bstrcpy(reply, replysz, "451 4.3.0 Out of memory");
		goto out;
	}
	switch (virus_scan(cfg, m, vname, sizeof(vname))) {
	case VIRUS_CLEAN:
		break;
	case VIRUS_FOUND:
		metrics_inc("yubin_maild_messages_refused_total{reason=\"virus\"}");
		log_info("deliver %s: virus %s from <%s>", env->id, vname, env->from);
		snprintf(reply, replysz, "554 5.7.1 Message refused: virus found: %s", vname);
		goto out;
	case VIRUS_TEMPFAIL:
		metrics_inc("yubin_maild_messages_refused_total{reason=\"virus_tempfail\"}");
		bstrcpy(reply, replysz, "451 4.7.1 Virus scanner unavailable, try again later");
		goto out;
	}
	if (spam_check(cfg, m, &v) != 0) {
		metrics_inc("yubin_maild_messages_refused_total{reason=\"spam_tempfail\"}");
		bstrcpy(reply, replysz, "451 4.7.1 Spam filter unavailable, try again later");
		goto out;
	}
	if (v.checked)
		metrics_inc(v.spam ? "yubin_maild_spam_verdicts_total{verdict=\"spam\"}"
		                   : "yubin_maild_spam_verdicts_total{verdict=\"ham\"}");
	db = db_pool_get();
	/* Phase 1: plan and write every copy. */
	for (i = 0; i < env->nrcpt; i++) {
		const struct rcpt_info *r = &env->rcpt[i];
		struct plan *p = &plans[i];
		int j;
		bool dup = false;

		/* The same account twice (an alias and its account): one copy. */
		for (j = 0; j < i; j++)
			if (env->rcpt[j].account_id == r->account_id)
				dup = true;
		if (dup)
			continue;
		switch (seen_before(db, r, m)) {
		case LK_FOUND:
			p->loop = true;
			log_info("deliver %s: loop stopped for %s (already delivered there)", env->id, r->address);
			metrics_inc("yubin_maild_loops_stopped_total");
			continue;
		case LK_NOTFOUND:
			break;
		case LK_TEMPFAIL:
			goto tempfail;
		}
		buf_reset(&hdr);
		build_headers(cfg, env, r, m, &v, v.spam && r->spam_tag, &hdr);
		if (hdr.oom)
			goto localfail;
		if (r->receive) {
			char box[MAILDIR_PATH];

			if (maildir_ensure(cfg->maildir_root, r->domain, r->name, r->account_id, box, sizeof(box)) != 0 ||
			    maildir_open(&p->md, box, v.spam && r->spam_sort ? ".Junk" : NULL) != 0)
				goto localfail;
			p->md_open = true;
			if (write_copy(md_wr, &p->md, &hdr, m, p->md.fd) != 0)
				goto localfail;
			p->md.size += m->body_size;   /* copied by the kernel, not through maildir_write */
		}
		p->fwd = malloc(sizeof(*p->fwd));
		if (p->fwd == NULL)
			goto localfail;
		switch (r->no_forwards ? LK_NOTFOUND : forward_match(db, r->account_id, m, p->fwd)) {
		case LK_FOUND:
			if (queue_open(cfg, &p->q) != 0)
				goto localfail;
			p->q_open = true;
			if (write_copy(q_wr, &p->q, &hdr, m, p->q.fd) != 0)
				goto localfail;
			p->q.size += m->body_size;
			break;
		case LK_NOTFOUND:
			p->fwd->n = 0;
			break;
		case LK_TEMPFAIL:
			goto tempfail;
		}
	}
	/* Phase 2: usage, while the copies are flushed to disk (without the thread, phase 3's
	 * commit does the fsync). */
	{
		struct syncjob sj = { plans, env->nrcpt, false };
		pthread_t syncer;
		bool threaded = false;
		enum db_status ust;

		for (i = 0; i < env->nrcpt && !threaded; i++)
			if (plans[i].md_open)
				threaded = pthread_create(&syncer, NULL, sync_copies, &sj) == 0;
		ust = add_usage(db, env, plans);
		if (threaded)
			pthread_join(syncer, NULL);
		switch (ust) {
		case DB_OK:
			break;
		case DB_CONFLICT:
		case DB_FKEY:
		case DB_CHECK:
		case DB_ERROR:
		case DB_TEMPFAIL:
			goto tempfail;
		}
		if (sj.failed)
			goto localfail_late;
	}
	/* Phase 3: make it all visible, durably. */
	for (i = 0; i < env->nrcpt; i++) {
		struct plan *p = &plans[i];

		if (p->md_open) {
			p->md_open = false;
			if (maildir_commit(&p->md) != 0)
				goto localfail_late;
			kept++;
			metrics_inc("yubin_maild_deliveries_total{folder=\"inbox\"}");
		}
		if (p->q_open) {
			const char *dst[FWD_MAX];
			int k;

			for (k = 0; k < p->fwd->n; k++)
				dst[k] = p->fwd->addr[k];
			p->q_open = false;
			/* Forwards keep the original envelope sender, so bounces go to whoever wrote. */
			if (queue_commit(cfg, &p->q, env->from, dst, p->fwd->n) != 0)
				goto localfail_late;
			forwarded += p->fwd->n;
			metrics_add("yubin_maild_forwards_total", p->fwd->n);
		}
	}
	/* Autoreplies after the message is safe: a lost reply is better than a lost message. */
	for (i = 0; i < env->nrcpt; i++) {
		if (plans[i].loop || plans[i].fwd == NULL || env->rcpt[i].no_autoreply)
			continue;
		if (autoreply_maybe(db, cfg, &env->rcpt[i], env->from, m) < 0)
			log_warnx("deliver %s: autoreply for %s not sent (temporary fault)", env->id,
			          env->rcpt[i].address);
	}
	if (forwarded > 0)
		queue_kick();
	metrics_inc("yubin_maild_messages_accepted_total");
	snprintf(reply, replysz, "250 2.0.0 Ok: queued as %s", env->id);
	log_info("deliver %s: from=<%s> rcpts=%d kept=%d forwarded=%d spam=%s size=%lld", env->id,
	         env->from, env->nrcpt, kept, forwarded, v.checked ? (v.spam ? "yes" : "no") : "-",
	         (long long)(m->hdr.len + (size_t)m->body_size));
	ok = true;
	goto out;
tempfail:
	metrics_inc("yubin_maild_db_errors_total");
	bstrcpy(reply, replysz, "451 4.3.0 Temporary lookup failure, try again later");
	goto out;
localfail_late:
	log_warnx("deliver %s: a copy could not be made durable after usage was counted", env->id);
	/* fall through */
localfail:
	bstrcpy(reply, replysz, "451 4.3.0 Local error in processing");
out:
	if (plans != NULL) {
		for (i = 0; i < env->nrcpt; i++) {
			if (plans[i].md_open)
				maildir_abort(&plans[i].md);
			if (plans[i].q_open)
				queue_abort(&plans[i].q);
			free(plans[i].fwd);
		}
	}
	if (!ok && reply[0] == '4')
		metrics_inc("yubin_maild_messages_tempfailed_total");
	free(plans);
	buf_free(&hdr);
	db_pool_put(&db);
}
