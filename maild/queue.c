/* maild/queue.c: the durable outgoing queue. One entry per recipient: ID.msg (a hard link of the
 * fsync'd message) and ID.env (fsync'd, renamed into place last, so its presence means "queued").
 * Each attempt (called by maild/queue_sched.c's workers) delivers one due entry, reschedules a
 * temporary failure with backoff on clock_now(), and turns a permanent one into a DSN bounce
 * (RFC 3464) — never a bounce for a temporary fault. */
#include "maild/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/db.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/maildir.h"
#include "maild/metrics.h"
#include "maild/mx.h"
#include "maild/queue_sched.h"
#include "maild/rcpt.h"
#include "maild/smtp.h"
#include "maild/smtpc.h"
#include "maild/sock.h"

/* Give up after five days of temporary failures (RFC 5321 §4.5.4.1 suggests 4-5). */
#define QUEUE_EXPIRE (5 * 86400)
#define QUEUE_MAX_BACKOFF 3600

static const struct config *qcfg;
static char queue_q[1100];      /* queue_dir/q, the entries; kept for the scheduler's life */

const char *
queue_dir(const struct config *cfg, char *out, size_t outsz)
{
	if (cfg->queue_dir[0] != '\0')
		bstrcpy(out, outsz, cfg->queue_dir);
	else if (!bsnprintf(out, outsz, "%s/.queue", cfg->maildir_root))
		out[0] = '\0';
	return out;
}

int
queue_open(const struct config *cfg, struct queue_msg *q)
{
	char dir[1024], rnd[17];

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	if (!random_hex(rnd, sizeof(rnd), 8) ||
	    !bsnprintf(q->id, sizeof(q->id), "%lld-%s", (long long)time(NULL), rnd) ||
	    !bsnprintf(q->path, sizeof(q->path), "%s/tmp/%s", queue_dir(cfg, dir, sizeof(dir)), q->id))
		return -1;
	q->fd = open(q->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (q->fd < 0) {
		log_warn("queue: open %s", q->path);
		q->path[0] = '\0';
		return -1;
	}
	return 0;
}

int
queue_write(struct queue_msg *q, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(q->fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("queue: write");
			return -1;
		}
		s += w;
		n -= (size_t)w;
		q->size += w;
	}
	return 0;
}

void
queue_abort(struct queue_msg *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	if (q->path[0] != '\0')
		(void)unlink(q->path);
	q->path[0] = '\0';
}

struct env {
	char from[SMTP_PATH_MAX + 1];
	char rcpt[SMTP_PATH_MAX + 1];
	int64_t attempts;
	int64_t next;
	int64_t created;
	char last_error[512];
};

static int
write_env(const char *path, const struct env *e)
{
	char tmp[1100];
	struct buf b;
	int fd, rc = -1;

	buf_init(&b);
	buf_printf(&b, "from=%s\nrcpt=%s\nattempts=%" PRId64 "\nnext=%" PRId64 "\ncreated=%" PRId64
	           "\nerror=%s\n", e->from, e->rcpt, e->attempts, e->next, e->created, e->last_error);
	if (b.oom || !bsnprintf(tmp, sizeof(tmp), "%s.tmp", path))
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) != 0) {
		close(fd);
		(void)unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		(void)unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

static void
clean_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

int
queue_commit(const struct config *cfg, struct queue_msg *q, const char *from,
             const char *const *rcpts, int nrcpt)
{
	char dir[1024], qd[1100], msgp[1200], envp[1200];
	struct env e;
	int i, made = 0;

	if (fsync(q->fd) != 0 || close(q->fd) != 0) {
		q->fd = -1;
		log_warn("queue: fsync %s", q->path);
		queue_abort(q);
		return -1;
	}
	q->fd = -1;
	queue_dir(cfg, dir, sizeof(dir));
	if (!bsnprintf(qd, sizeof(qd), "%s/q", dir))
		goto fail;
	memset(&e, 0, sizeof(e));
	bstrcpy(e.from, sizeof(e.from), from);
	clean_line(e.from);
	e.created = clock_now();
	e.next = e.created;
	for (i = 0; i < nrcpt; i++) {
		if (!bsnprintf(msgp, sizeof(msgp), "%s/%s-%d.msg", qd, q->id, i) ||
		    !bsnprintf(envp, sizeof(envp), "%s/%s-%d.env", qd, q->id, i))
			goto fail;
		bstrcpy(e.rcpt, sizeof(e.rcpt), rcpts[i]);
		clean_line(e.rcpt);
		if (link(q->path, msgp) != 0 || write_env(envp, &e) != 0) {
			log_warn("queue: cannot queue %s", envp);
			(void)unlink(msgp);
			goto fail;
		}
		made++;
	}
	if (maildir_fsync_dir(qd) != 0) {
		log_warn("queue: fsync %s", qd);
		goto fail;
	}
	(void)unlink(q->path);
	q->path[0] = '\0';
	queue_sched_added(nrcpt);
	metrics_add("yubin_maild_queue_size", nrcpt);
	return 0;
fail:
	for (i = 0; i < made; i++) {
		if (bsnprintf(msgp, sizeof(msgp), "%s/%s-%d.msg", qd, q->id, i))
			(void)unlink(msgp);
		if (bsnprintf(envp, sizeof(envp), "%s/%s-%d.env", qd, q->id, i))
			(void)unlink(envp);
	}
	queue_abort(q);
	return -1;
}

void
queue_kick(void)
{
	queue_sched_kick();
}

int64_t
queue_size(void)
{
	return queue_sched_waiting();
}

static bool
read_env(const char *path, struct env *e)
{
	FILE *f = fopen(path, "re");
	char line[1024];

	memset(e, 0, sizeof(*e));
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strchr(line, '=');

		line[strcspn(line, "\n")] = '\0';
		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "from") == 0)
			bstrcpy(e->from, sizeof(e->from), eq);
		else if (strcmp(line, "rcpt") == 0)
			bstrcpy(e->rcpt, sizeof(e->rcpt), eq);
		else if (strcmp(line, "attempts") == 0)
			(void)parse_i64(eq, 0, INT64_MAX, &e->attempts);
		else if (strcmp(line, "next") == 0)
			(void)parse_i64(eq, 0, INT64_MAX, &e->next);
		else if (strcmp(line, "created") == 0)
			(void)parse_i64(eq, 0, INT64_MAX, &e->created);
		else if (strcmp(line, "error") == 0)
			bstrcpy(e->last_error, sizeof(e->last_error), eq);
	}
	fclose(f);
	return e->rcpt[0] != '\0';
}

/* A DSN (RFC 3464) to the sender, queued with the null sender so it never bounces back. */
static void
bounce(const struct env *e, const char *msgpath, const char *status, const char *diag)
{
	struct queue_msg q;
	struct buf b;
	char date[64], boundary[40], rnd[17];
	const char *to[1] = { e->from };
	FILE *orig;
	char line[4096];
	time_t now = time(NULL);
	struct tm tm;

	if (e->from[0] == '\0' || strncasecmp(e->from, "mailer-daemon@", 14) == 0) {
		log_info("queue: undeliverable to <%s> from the null sender, dropped: %s", e->rcpt, diag);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (!random_hex(rnd, sizeof(rnd), 8))
		bstrcpy(rnd, sizeof(rnd), "0");
	bsnprintf(boundary, sizeof(boundary), "=_yubin_%s", rnd);
	buf_init(&b);
	buf_printf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\nTo: <%s>\n"
	           "Subject: Undelivered Mail Returned to Sender\nDate: %s\n"
	           "Message-ID: <%s.bounce@%s>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	           "Content-Type: multipart/report; report-type=delivery-status; boundary=\"%s\"\n\n",
	           qcfg->hostname, e->from, date, rnd, qcfg->hostname, boundary);
	buf_printf(&b, "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
	           "This is the mail system at host %s.\n\n"
	           "Your message could not be delivered to <%s>:\n%s\n\n", boundary, qcfg->hostname, e->rcpt, diag);
	buf_printf(&b, "--%s\nContent-Type: message/delivery-status\n\n"
	           "Reporting-MTA: dns; %s\n\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: %s\n"
	           "Diagnostic-Code: smtp; %s\n\n", boundary, qcfg->hostname, e->rcpt, status, diag);
	buf_printf(&b, "--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	orig = fopen(msgpath, "re");
	if (orig != NULL) {
		while (fgets(line, sizeof(line), orig) != NULL && line[0] != '\n' && b.len < 256 * 1024)
			buf_adds(&b, line);
		fclose(orig);
	}
	buf_printf(&b, "\n--%s--\n", boundary);
	if (b.oom || queue_open(qcfg, &q) != 0) {
		buf_free(&b);
		log_warnx("queue: bounce to <%s> not queued", e->from);
		return;
	}
	if (queue_write(&q, b.data, b.len) != 0 || queue_commit(qcfg, &q, "", to, 1) != 0) {
		queue_abort(&q);
		log_warnx("queue: bounce to <%s> not queued", e->from);
	} else {
		metrics_inc("yubin_maild_bounces_total");
		log_info("queue: bounced <%s> to <%s>: %s", e->rcpt, e->from, diag);
	}
	buf_free(&b);
}

/* Where mail for rcpt goes: our own inbound listener for hosted domains (so every panel
 * setting applies), else the relay, else the MX. Result as for smtpc_send. */
static enum smtpc_result
send_one(const struct env *e, const char *msgpath, char *err, size_t errsz)
{
	char local[SMTP_PATH_MAX + 1], domain[SMTP_PATH_MAX + 1], host[256], port[32];
	struct db *db;
	enum lookup lk;

	if (!smtp_addr_split(e->rcpt, local, sizeof(local), domain, sizeof(domain))) {
		bstrcpy(err, errsz, "5.1.3 bad recipient address syntax");
		return SMTPC_PERM;
	}
	db = db_pool_get();
	lk = rcpt_domain_is_local(db, domain);
	db_pool_put(&db);
	switch (lk) {
	case LK_FOUND:
		if (qcfg->smtp_listen[0] != '\0' &&
		    sock_split_local(qcfg->smtp_listen, host, sizeof(host), port, sizeof(port)))
			return smtpc_send(qcfg, host, port, e->from, e->rcpt, msgpath, err, errsz);
		break;
	case LK_NOTFOUND:
		break;
	case LK_TEMPFAIL:
		bstrcpy(err, errsz, "4.3.0 database unavailable");
		return SMTPC_TEMP;
	}
	if (qcfg->relay[0] != '\0') {
		if (!sock_split_local(qcfg->relay, host, sizeof(host), port, sizeof(port))) {
			bstrcpy(err, errsz, "4.3.5 bad relay setting");
			return SMTPC_TEMP;
		}
		return smtpc_send(qcfg, host, port, e->from, e->rcpt, msgpath, err, errsz);
	}
	return mx_send(qcfg, domain, e->from, e->rcpt, msgpath, err, errsz);
}

/* One attempt at an entry (queue_sched.c's workers call it, one entry per worker). */
static void
attempt(const char *qd, const char *name, struct queue_outcome *out)
{
	char envp[1200], msgp[1200], err[512];
	struct env e;
	size_t nl = strlen(name);
	time_t now = clock_now();

	out->gone = false;
	out->next = now + 60;    /* an unreadable entry is looked at again in a minute */
	if (!bsnprintf(envp, sizeof(envp), "%s/%s", qd, name) ||
	    !bsnprintf(msgp, sizeof(msgp), "%s/%.*s.msg", qd, (int)(nl - 4), name))
		return;
	if (!read_env(envp, &e)) {
		log_warnx("queue: unreadable entry %s", envp);
		return;
	}
	out->next = e.next;
	if (e.next > now)
		return;
	err[0] = '\0';
	switch (send_one(&e, msgp, err, sizeof(err))) {
	case SMTPC_OK:
		log_info("queue: delivered to <%s> from <%s>", e.rcpt, e.from);
		metrics_inc("yubin_maild_queue_delivered_total");
		break;
	case SMTPC_PERM:
		metrics_inc("yubin_maild_queue_failed_total");
		bounce(&e, msgp, "5.0.0", err);
		break;
	case SMTPC_TEMP:
		e.attempts++;
		if (now - e.created >= QUEUE_EXPIRE) {
			metrics_inc("yubin_maild_queue_expired_total");
			bounce(&e, msgp, "4.4.7", err);
			break;
		}
		{
			int64_t delay = 60;

			for (int64_t i = 1; i < e.attempts && delay < QUEUE_MAX_BACKOFF; i++)
				delay *= 2;
			if (delay > QUEUE_MAX_BACKOFF)
				delay = QUEUE_MAX_BACKOFF;
			e.next = now + delay;
		}
		bstrcpy(e.last_error, sizeof(e.last_error), err);
		clean_line(e.last_error);
		log_info("queue: deferred <%s> (attempt %lld): %s", e.rcpt, (long long)e.attempts, err);
		if (write_env(envp, &e) != 0)
			log_warn("queue: cannot reschedule %s", envp);
		out->next = e.next;
		return;
	}
	(void)unlink(envp);
	(void)unlink(msgp);
	out->gone = true;
	metrics_add("yubin_maild_queue_size", -1);
}

/* When an entry not attempted yet is due. */
static time_t
due(const char *qd, const char *name)
{
	char envp[1200];
	struct env e;

	if (!bsnprintf(envp, sizeof(envp), "%s/%s", qd, name) || !read_env(envp, &e))
		return 0;
	return e.next;
}

int
queue_start(const struct config *cfg)
{
	char dir[1024], p[1100];
	DIR *d;
	struct dirent *de;

	qcfg = cfg;
	queue_dir(cfg, dir, sizeof(dir));
	if (dir[0] == '\0' || maildir_mkdirs(dir) != 0)
		goto fail;
	if (!bsnprintf(p, sizeof(p), "%s/tmp", dir) || maildir_mkdirs(p) != 0)
		goto fail;
	/* Messages half-written before a crash were never acknowledged: remove them. */
	d = opendir(p);
	while (d != NULL && (de = readdir(d)) != NULL) {
		char f[1400];

		if (de->d_name[0] != '.' && bsnprintf(f, sizeof(f), "%s/%s", p, de->d_name))
			(void)unlink(f);
	}
	if (d != NULL)
		closedir(d);
	if (!bsnprintf(queue_q, sizeof(queue_q), "%s/q", dir) || maildir_mkdirs(queue_q) != 0)
		goto fail;
	return queue_sched_start(queue_q, attempt, due);
fail:
	log_warn("queue: cannot prepare %s", dir);
	return -1;
}
