/* maild/jobs.c: the job runner: take a mailbox job with FOR UPDATE SKIP LOCKED, heartbeat it, run its
 * handler, record progress and the outcome; LISTEN yubin_jobs (and yubin_config) to start at once. */
#include "maild/jobs.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"

/* SKIP LOCKED: a row another worker is claiming right now is passed over instead of waited
 * for, and after that worker commits its row no longer matches (state = running with a
 * fresh heartbeat), since READ COMMITTED re-checks the WHERE on the locked row version. So
 * each job is taken by exactly one worker however many maild share the database. A running
 * job whose heartbeat is stale lost its worker and is taken again. Heartbeats use the
 * database's clock, shared by every maild, not the test clock of rule decisions. */
static const struct db_stmt st_claim = {
	"jobs_claim",
	"UPDATE jobs SET state = 'running', worker = $1, attempts = attempts + 1, "
	" started_at = coalesce(started_at, now()), heartbeat_at = now() "
	"WHERE id = (SELECT q.id FROM jobs q "
	"  WHERE q.kind IN ('purge_mail', 'delete_account', 'mail_copy') "
	"    AND (q.state = 'queued' OR (q.state = 'running' AND (q.heartbeat_at IS NULL OR "
	"         q.heartbeat_at < now() - make_interval(secs => $2::int)))) "
	/* An account's copies run one after the other (mailcopy.c also holds a lock). */
	"    AND NOT (q.kind = 'mail_copy' AND EXISTS (SELECT 1 FROM jobs o WHERE o.kind = 'mail_copy' "
	"         AND o.account_id = q.account_id AND o.id <> q.id AND o.state = 'running' "
	"         AND o.heartbeat_at >= now() - make_interval(secs => $2::int))) "
	"  ORDER BY q.id LIMIT 1 FOR UPDATE OF q SKIP LOCKED) "
	"RETURNING id, kind, coalesce(domain, ''), coalesce(account, ''), coalesce(account_id, 0), "
	" params::text, attempts, done, total", 2
};

static const struct db_stmt st_progress = {
	"jobs_progress",
	"UPDATE jobs SET done = $3::int, total = $4::int, heartbeat_at = now() "
	"WHERE id = $1::bigint AND worker = $2 AND state = 'running'", 4
};

/* The outcome; a mail copy's source password goes with it (SPEC §8: kept only until the job
 * has run). */
static const struct db_stmt st_finish = {
	"jobs_finish",
	"UPDATE jobs SET state = $3, done = $4::int, total = $5::int, errors = $6::jsonb, "
	" result = $7::jsonb, finished_at = now(), heartbeat_at = now(), "
	" params = params - 'source_password' "
	"WHERE id = $1::bigint AND worker = $2 AND state = 'running'", 7
};

static const struct db_stmt st_heartbeat = {
	"jobs_heartbeat",
	"UPDATE jobs SET heartbeat_at = now() WHERE state = 'running' AND starts_with(worker, $1)", 1
};

static int
clamp_int(int64_t v)
{
	return v < 0 ? 0 : v > 2000000000 ? 2000000000 : (int)v;
}

int
jobs_progress(struct job *j, bool force)
{
	char done[16], total[16];
	struct db_res *r = NULL;
	int64_t t = clock_mono_ms();
	int rc = -1;

	if (!force && t - j->last_progress_ms < 500)
		return 0;
	j->last_progress_ms = t;
	bsnprintf(done, sizeof(done), "%d", clamp_int(j->done));
	bsnprintf(total, sizeof(total), "%d", clamp_int(j->total));
	if (db_runv(j->db, &st_progress, &r, j->id_s, j->worker, done, total) == DB_OK &&
	    db_affected(r) == 1)
		rc = 0;
	db_res_free(&r);
	return rc;
}

void
jobs_error(struct job *j, const char *code, const char *message)
{
	json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);

	if (e != NULL)
		json_array_append_new(j->errors, e);
}

int
jobs_heartbeat(struct db *db, const char *prefix)
{
	return db_runv(db, &st_heartbeat, NULL, prefix) == DB_OK ? 0 : -1;
}

static enum job_outcome
dispatch(struct job *j)
{
	if (j->attempts > JOBS_MAX_ATTEMPTS) {
		jobs_error(j, "worker_died", "the job stopped its worker repeatedly and was given up");
		return JOB_FAILED;
	}
	if (!strcmp(j->kind, "purge_mail"))
		return jobs_purge_mail(j);
	if (!strcmp(j->kind, "delete_account"))
		return jobs_delete_account(j);
	if (!strcmp(j->kind, "mail_copy"))
		return mailcopy_run(j);
	jobs_error(j, "unknown_kind", "maild does not run this kind of job");
	return JOB_FAILED;
}

static int
finish(struct job *j, enum job_outcome o)
{
	char done[16], total[16];
	char *errs = NULL, *res = NULL;
	struct db_res *r = NULL;
	const char *state = o == JOB_DONE ? "done" : "failed";
	int rc = -1, tries;

	if (o == JOB_LOST) {
		log_warnx("jobs: job %s (%s) was taken over by another worker", j->id_s, j->kind);
		return 0;
	}
	if (o == JOB_REQUEUED)
		return 0;
	bsnprintf(done, sizeof(done), "%d", clamp_int(j->done));
	bsnprintf(total, sizeof(total), "%d", clamp_int(j->total));
	errs = json_dumps(j->errors, JSON_COMPACT);
	res = j->result ? json_dumps(j->result, JSON_COMPACT) : NULL;
	/* The work is done on disk; losing its record to a short outage would run it again,
	 * so the outcome is retried for a while. */
	for (tries = 0; tries < 30; tries++) {
		if (db_runv(j->db, &st_finish, &r, j->id_s, j->worker, state, done, total,
		    errs ? errs : "[]", res) == DB_OK) {
			rc = db_affected(r) == 1 ? 0 : 1;
			break;
		}
		sleep(1);
	}
	db_res_free(&r);
	if (rc == 0)
		log_info("jobs: job %s (%s %s@%s) %s, %lld/%lld", j->id_s, j->kind, j->account, j->domain,
		    state, (long long)j->done, (long long)j->total);
	else if (rc == 1)
		log_warnx("jobs: job %s finished but another worker holds it now", j->id_s);
	else
		log_warnx("jobs: job %s: outcome not recorded: %s", j->id_s, db_errmsg(j->db));
	free(errs);
	free(res);
	return rc < 0 ? -1 : 0;
}

int
jobs_run_one(struct db *db, const struct config *cfg, const char *worker)
{
	char stale[16];
	struct db_res *r = NULL;
	struct job j;
	json_error_t jerr;
	enum job_outcome o;
	int rc;

	bsnprintf(stale, sizeof(stale), "%d", JOBS_STALE_S);
	if (db_runv(db, &st_claim, &r, worker, stale) != DB_OK)
		return -1;
	if (db_rows(r) != 1) {
		db_res_free(&r);
		return 0;
	}
	memset(&j, 0, sizeof(j));
	j.id = db_i64(r, 0, 0);
	bstrcpy(j.id_s, sizeof(j.id_s), db_val(r, 0, 0));
	bstrcpy(j.kind, sizeof(j.kind), db_val(r, 0, 1));
	bstrcpy(j.domain, sizeof(j.domain), db_val(r, 0, 2));
	bstrcpy(j.account, sizeof(j.account), db_val(r, 0, 3));
	j.account_id = db_i64(r, 0, 4);
	bstrcpy(j.account_id_s, sizeof(j.account_id_s), db_val(r, 0, 4));
	j.params = json_loads(db_val(r, 0, 5), 0, &jerr);
	j.attempts = (int)db_i64(r, 0, 6);
	j.done = db_i64(r, 0, 7);
	j.total = db_i64(r, 0, 8);
	j.worker = worker;
	j.db = db;
	j.cfg = cfg;
	j.errors = json_array();
	db_res_free(&r);
	if (!json_is_object(j.params)) {
		json_decref(j.params);
		j.params = json_object();
	}
	log_info("jobs: job %s (%s %s@%s) taken by %s, attempt %d", j.id_s, j.kind, j.account, j.domain,
	    worker, j.attempts);
	o = dispatch(&j);
	rc = finish(&j, o) == 0 ? 1 : -1;
	json_decref(j.params);
	json_decref(j.errors);
	json_decref(j.result);
	return rc;
}

struct runner {
	const struct config *cfg;
	char worker[128];
};

static char worker_prefix[96];

static void
on_notify(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)payload;
	*(bool *)arg = true;
}

/* Wait up to a second for a NOTIFY: new jobs start at once when their writer notifies,
 * within a second otherwise. */
static void
wait_for_work(struct db *db, bool *listening)
{
	struct pollfd pfd;
	bool reconnected = false, woke = false;

	if (!db_ensure(db, &reconnected)) {
		*listening = false;
		sleep(1);
		return;
	}
	if (reconnected || !*listening)
		*listening = db_plain(db, "LISTEN yubin_jobs") == DB_OK &&
		    db_plain(db, "LISTEN yubin_config") == DB_OK;
	pfd.fd = db_socket(db);
	pfd.events = POLLIN;
	if (pfd.fd < 0 || poll(&pfd, 1, 1000) < 0) {
		sleep(1);
		return;
	}
	if (db_notifications(db, on_notify, &woke) < 0)
		*listening = false;
}

static void *
runner_thread(void *arg)
{
	struct runner *rn = arg;
	struct db *db = db_open(rn->cfg->db);
	bool listening = false;
	int n;

	if (db == NULL) {
		log_warnx("jobs: out of memory");
		return NULL;
	}
	for (;;) {
		n = jobs_run_one(db, rn->cfg, rn->worker);
		if (n < 0) {
			log_warnx("jobs: %s: %s", rn->worker, db_errmsg(db));
			sleep(1);
		}
		if (n != 1)
			wait_for_work(db, &listening);
	}
	return NULL;
}

static void *
heartbeat_thread(void *arg)
{
	const struct config *cfg = arg;
	struct db *db = db_open(cfg->db);

	if (db == NULL)
		return NULL;
	for (;;) {
		if (jobs_heartbeat(db, worker_prefix) != 0)
			log_warnx("jobs: heartbeat: %s", db_errmsg(db));
		sleep(JOBS_HEARTBEAT_S);
	}
	return NULL;
}

/* Two runners: a long mail copy does not hold up an emptied mailbox or a deleted account. */
#define JOBS_RUNNERS 2

int
jobs_start(const struct config *cfg)
{
	static struct runner runners[JOBS_RUNNERS];
	char host[64], rnd[9];
	pthread_t t;
	int i, e;

	if (gethostname(host, sizeof(host)) != 0)
		bstrcpy(host, sizeof(host), "maild");
	host[sizeof(host) - 1] = '\0';
	/* The random part keeps two maild with the same host name and pid (containers) apart. */
	if (!random_hex(rnd, sizeof(rnd), 4))
		bstrcpy(rnd, sizeof(rnd), "0");
	bsnprintf(worker_prefix, sizeof(worker_prefix), "%s:%ld:%s:", host, (long)getpid(), rnd);
	e = pthread_create(&t, NULL, heartbeat_thread, (void *)cfg);
	if (e != 0)
		goto fail;
	(void)pthread_detach(t);
	for (i = 0; i < JOBS_RUNNERS; i++) {
		runners[i].cfg = cfg;
		bsnprintf(runners[i].worker, sizeof(runners[i].worker), "%s%d", worker_prefix, i);
		e = pthread_create(&t, NULL, runner_thread, &runners[i]);
		if (e != 0)
			goto fail;
		(void)pthread_detach(t);
	}
	return 0;
fail:
	errno = e;
	log_warn("jobs: thread");
	return -1;
}
