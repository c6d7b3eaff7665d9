/* maild/jobs.h: the mailbox jobs of the jobs table (purge_mail, delete_account, mail_copy), taken with
 * FOR UPDATE SKIP LOCKED so any number of maild sharing one database run each job exactly once. */
#ifndef YUBIN_MAILD_JOBS_H
#define YUBIN_MAILD_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/db.h"

/* A job that has not sent a heartbeat for this long is taken again by any worker (its
 * maild died); heartbeats go out every JOBS_HEARTBEAT_S. */
#define JOBS_STALE_S 60
#define JOBS_HEARTBEAT_S 10
/* A job taken this many times without finishing is marked failed (it kills its worker). */
#define JOBS_MAX_ATTEMPTS 3

enum job_outcome {
	JOB_DONE,
	JOB_FAILED,
	JOB_LOST,     /* another worker took it over (we were presumed dead): write nothing */
	JOB_REQUEUED, /* the handler put it back in the queue (its turn has not come) */
};

struct job {
	int64_t id;
	char id_s[24];
	char kind[32];
	char domain[256];
	char account[65];
	int64_t account_id;
	char account_id_s[24];
	json_t *params;        /* the row's params (borrowed by handlers, freed by the runner) */
	int attempts;
	const char *worker;
	struct db *db;
	const struct config *cfg;
	int64_t done, total;
	json_t *errors;        /* array of {code, message}, set by handlers */
	json_t *result;        /* object, set by handlers */
	int64_t last_progress_ms;
};

/* Start the job threads (and their heartbeat). 0 or -1. */
int jobs_start(const struct config *cfg);
/* Take one runnable job and run it to its end. 1 when a job ran, 0 when none was waiting,
 * -1 on a database fault. `worker` names this runner in the row (for heartbeats). */
int jobs_run_one(struct db *db, const struct config *cfg, const char *worker);
/* Refresh heartbeat_at of every running job whose worker name starts with `prefix`. */
int jobs_heartbeat(struct db *db, const char *prefix);
/* Record progress (written at most every half second unless `force`). 0, or -1 when the job
 * is no longer ours (JOB_LOST) or the database failed. */
int jobs_progress(struct job *j, bool force);
/* Append {code, message} to the job's errors. */
void jobs_error(struct job *j, const char *code, const char *message);

/* The handlers (jobs_purge.c, mailcopy.c). */
enum job_outcome jobs_purge_mail(struct job *j);
enum job_outcome jobs_delete_account(struct job *j);
enum job_outcome mailcopy_run(struct job *j);

#endif
