/* api/csv_runner.c: the panel's CSV job runner: take csv_* jobs with FOR UPDATE SKIP LOCKED under a
 * session advisory lock, run them (api/csv_import.c), record the outcome; retake jobs whose panel died. */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "api/csv_job.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"

/*
 * A running job is owned by the runner whose connection holds the advisory lock
 * (CSV_JOB_LOCK_NS, id). When a panel dies (kill -9, a crash, a lost host) its connections
 * close, PostgreSQL drops the lock and aborts the open import transaction: no row of the
 * job is written, and the next claim by any panel finds the job `running` without its lock
 * and takes it again from the start. Locks are per database (pg_locks covers the cluster).
 * SKIP LOCKED keeps two claimers from taking one row; the lock is taken before the claim
 * commits, so once it commits the row no longer matches anyone's WHERE.
 */
static const struct db_stmt st_claim = {
	"csvrun_claim",
	"UPDATE jobs SET state = 'running', worker = $1, attempts = attempts + 1, "
	" started_at = coalesce(started_at, now()), heartbeat_at = now() "
	"WHERE id = (SELECT q.id FROM jobs q "
	"  WHERE q.kind IN ('csv_create', 'csv_edit') "
	"    AND (q.state = 'queued' OR (q.state = 'running' AND NOT EXISTS (SELECT 1 FROM pg_locks l "
	"         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
	"           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
	"           AND l.classid = $2::bigint::oid AND l.objid = (q.id & 2147483647)::oid))) "
	"  ORDER BY q.id LIMIT 1 FOR UPDATE OF q SKIP LOCKED) "
	"RETURNING id, kind, coalesce(domain, ''), actor, params::text, attempts, input", 2
};

static const struct db_stmt st_lock = {
	"csvrun_lock", "SELECT pg_try_advisory_lock($1::int, ($2::bigint & 2147483647)::int)", 2
};

static const struct db_stmt st_unlock = {
	"csvrun_unlock", "SELECT pg_advisory_unlock($1::int, ($2::bigint & 2147483647)::int)", 2
};

static const struct db_stmt st_progress = {
	"csvrun_progress",
	"UPDATE jobs SET done = $3::int, total = $4::int, heartbeat_at = now() "
	"WHERE id = $1::bigint AND worker = $2 AND state = 'running'", 4
};

/* The file holds passwords: it goes when the job ends. */
static const struct db_stmt st_finish = {
	"csvrun_finish",
	"UPDATE jobs SET state = $3, done = $4::int, total = $5::int, errors = $6::jsonb, "
	" result = $7::jsonb, finished_at = now(), heartbeat_at = now(), input = NULL "
	"WHERE id = $1::bigint AND worker = $2 AND state = 'running'", 7
};

/* A stop of the panel is not an attempt that failed: the job goes back as it was. */
static const struct db_stmt st_requeue = {
	"csvrun_requeue",
	"UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), worker = NULL "
	"WHERE id = $1::bigint AND worker = $2 AND state = 'running'", 2
};

static struct {
	const struct config *cfg;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	char worker[128];
} rn;

static int
clamp_int(int64_t v)
{
	return v < 0 ? 0 : v > 2000000000 ? 2000000000 : (int)v;
}

int
csv_job_progress(struct csv_job *j, bool force)
{
	char done[16], total[16];
	struct db_res *r = NULL;
	int64_t t = clock_mono_ms();
	int rc = 0;

	if (!force && t - j->last_progress_ms < 250)
		return 0;
	j->last_progress_ms = t;
	bsnprintf(done, sizeof(done), "%d", clamp_int(j->done));
	bsnprintf(total, sizeof(total), "%d", clamp_int(j->total));
	/* A progress write lost to a short outage is only a stale bar; ownership is the lock. */
	if (db_runv(j->pdb, &st_progress, &r, j->id_s, j->worker, done, total) == DB_OK &&
	    db_affected(r) != 1)
		rc = -1;
	db_res_free(&r);
	return rc;
}

/* bytea's text form back into bytes with libpq's PQunescapeBytea, copied so the caller
 * wipes and free()s it like any buffer; libpq's copy holds passwords too and is wiped. */
static bool
input_bytes(const char *s, char **out_r, size_t *len_r)
{
	size_t n = 0;
	unsigned char *b = PQunescapeBytea((const unsigned char *)s, &n);
	char *out = NULL;

	*out_r = NULL;
	*len_r = 0;
	if (b == NULL)
		return false;
	out = malloc(n + 1);
	if (out != NULL) {
		memcpy(out, b, n);
		out[n] = '\0';
		*out_r = out;
		*len_r = n;
	}
	explicit_bzero(b, n);
	PQfreemem(b);
	return out != NULL;
}

static const char *
str_of(json_t *params, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(params, key));

	return s ? s : dflt;
}

static void
finish(struct csv_job *j, const char *state)
{
	char done[16], total[16], *errs, *res;
	struct db_res *r = NULL;

	bsnprintf(done, sizeof(done), "%d", clamp_int(j->done));
	bsnprintf(total, sizeof(total), "%d", clamp_int(j->total));
	errs = j->errors ? json_dumps(j->errors, JSON_COMPACT) : NULL;
	res = j->result ? json_dumps(j->result, JSON_COMPACT) : NULL;
	if (db_runv(j->pdb, &st_finish, &r, j->id_s, j->worker, state, done, total,
	    errs ? errs : "[]", res) != DB_OK)
		log_warnx("csv: job %s: outcome not recorded: %s", j->id_s, db_errmsg(j->pdb));
	else
		log_info("csv: job %s %s (%lld rows, %zu errors)", j->id_s, state, (long long)j->total,
		    json_array_size(j->errors));
	free(errs);
	free(res);
	db_res_free(&r);
}

static void
unlock(struct db *db, const char *id_s)
{
	char ns[16];

	bsnprintf(ns, sizeof(ns), "%d", CSV_JOB_LOCK_NS);
	if (db_runv(db, &st_unlock, NULL, ns, id_s) != DB_OK)
		log_warnx("csv: advisory unlock: %s", db_errmsg(db));
}

/* Take one job and run it to its end. 1 when one ran, 0 none waiting, -1 database fault. */
static int
run_one(struct db *db, struct db *pdb)
{
	struct db_res *r = NULL, *lk = NULL;
	struct csv_job j;
	json_error_t jerr;
	json_t *params = NULL;
	char ns[16];
	enum csv_outcome o;

	bsnprintf(ns, sizeof(ns), "%d", CSV_JOB_LOCK_NS);
	if (db_begin(db) != DB_OK)
		return -1;
	if (db_runv(db, &st_claim, &r, rn.worker, ns) != DB_OK) {
		db_rollback(db);
		return -1;
	}
	if (db_rows(r) != 1) {
		db_rollback(db);
		db_res_free(&r);
		return 0;
	}
	if (db_runv(db, &st_lock, &lk, ns, db_val(r, 0, 0)) != DB_OK || !db_bool(lk, 0, 0)) {
		db_rollback(db);
		db_res_free(&r);
		db_res_free(&lk);
		return -1;
	}
	db_res_free(&lk);
	if (db_commit(db) != DB_OK) {
		unlock(db, db_val(r, 0, 0));
		db_res_free(&r);
		return -1;
	}
	memset(&j, 0, sizeof(j));
	j.id = db_i64(r, 0, 0);
	bstrcpy(j.id_s, sizeof(j.id_s), db_val(r, 0, 0));
	j.edit = strcmp(db_val(r, 0, 1), "csv_edit") == 0;
	bstrcpy(j.domain, sizeof(j.domain), db_val(r, 0, 2));
	bstrcpy(j.actor, sizeof(j.actor), db_val(r, 0, 3));
	params = json_loads(db_val(r, 0, 4), 0, &jerr);
	bstrcpy(j.actor_role, sizeof(j.actor_role), str_of(params, "actor_role", "-"));
	bstrcpy(j.remote_addr, sizeof(j.remote_addr), str_of(params, "remote_addr", ""));
	bstrcpy(j.lang, sizeof(j.lang), strcmp(str_of(params, "lang", "ja"), "en") == 0 ? "en" : "ja");
	j.dry_run = json_is_true(json_object_get(params, "dry_run"));
	j.attempts = (int)db_i64(r, 0, 5);
	j.worker = rn.worker;
	j.db = db;
	j.pdb = pdb;
	j.stop = &rn.stop;
	json_decref(params);
	log_info("csv: job %s (%s %s) taken by %s, attempt %d%s", j.id_s, j.edit ? "csv_edit" : "csv_create",
	    j.domain, rn.worker, j.attempts, j.dry_run ? ", dry run" : "");
	if (j.attempts > CSV_JOB_MAX_ATTEMPTS) {
		j.errors = json_pack("[{s:n, s:n, s:s, s:s}]", "line", "column", "code", "worker_died",
		    "message", strcmp(j.lang, "en") == 0 ?
		    "The import stopped the panel repeatedly and was given up." :
		    "取り込み処理が繰り返し中断されたため、中止しました。");
		finish(&j, "failed");
		goto out;
	}
	if (!input_bytes(db_val(r, 0, 6), &j.input, &j.input_len)) {
		log_warnx("csv: job %s: input unreadable", j.id_s);
		o = CSV_REQUEUE;
	} else {
		db_res_free(&r);
		o = csv_job_run(&j);
	}
	switch (o) {
	case CSV_DONE:
		if (j.dry_run)
			finish(&j, "done");
		else
			log_info("csv: job %s done (%lld rows)", j.id_s, (long long)j.total);
		break;
	case CSV_FAILED:
		finish(&j, "failed");
		break;
	case CSV_REQUEUE:
		if (db_runv(pdb, &st_requeue, NULL, j.id_s, rn.worker) != DB_OK)
			log_warnx("csv: job %s: requeue: %s", j.id_s, db_errmsg(pdb));
		break;
	case CSV_LOST:
		log_warnx("csv: job %s was taken over by another runner", j.id_s);
		break;
	}
out:
	unlock(db, j.id_s);
	if (j.input != NULL) {
		explicit_bzero(j.input, j.input_len);
		free(j.input);
	}
	json_decref(j.errors);
	json_decref(j.result);
	db_res_free(&r);
	return 1;
}

static void
on_notify(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)payload;
	*(bool *)arg = true;
}

/* Up to a second for a NOTIFY: a new job starts at once, a job whose panel died within a second. */
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
		*listening = db_plain(db, "LISTEN " CSV_JOB_CHANNEL) == DB_OK;
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
runner_main(void *arg)
{
	struct db *db = db_open(rn.cfg->db), *pdb = db_open(rn.cfg->db);
	bool listening = false;
	int n;

	(void)arg;
	if (db == NULL || pdb == NULL) {
		log_warnx("csv: out of memory");
		db_close(&db);
		db_close(&pdb);
		return NULL;
	}
	while (!atomic_load(&rn.stop)) {
		n = run_one(db, pdb);
		if (n < 0) {
			log_warnx("csv: %s: %s", rn.worker, db_errmsg(db));
			sleep(1);
		}
		if (n != 1 && !atomic_load(&rn.stop))
			wait_for_work(pdb, &listening);
	}
	db_close(&db);
	db_close(&pdb);
	return NULL;
}

static void
runner_stop(void)
{
	if (!rn.started)
		return;
	atomic_store(&rn.stop, true);
	pthread_join(rn.thread, NULL);
	rn.started = false;
}

int
csv_runner_start(const struct config *cfg)
{
	char host[64], rnd[9];

	if (rn.started)
		return 0;
	rn.cfg = cfg;
	atomic_init(&rn.stop, false);
	if (gethostname(host, sizeof(host)) != 0)
		bstrcpy(host, sizeof(host), "panel");
	host[sizeof(host) - 1] = '\0';
	if (!random_hex(rnd, sizeof(rnd), 4))
		bstrcpy(rnd, sizeof(rnd), "0");
	bsnprintf(rn.worker, sizeof(rn.worker), "panel:%s:%ld:%s:csv", host, (long)getpid(), rnd);
	if (pthread_create(&rn.thread, NULL, runner_main, NULL) != 0) {
		log_warn("csv: runner thread");
		return -1;
	}
	rn.started = true;
	if (atexit(runner_stop) != 0) {
		log_warnx("csv: atexit");
		return -1;
	}
	return 0;
}
