/* api/csv_job.h: CSV import jobs (SPEC §7) run inside the panel: what the upload route, the runner
 * threads and the importer share. */
#ifndef YUBIN_API_CSV_JOB_H
#define YUBIN_API_CSV_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/config.h"
#include "core/db.h"

/* The channel api/csv.c notifies when it queues a job, so an idle runner starts at once. */
#define CSV_JOB_CHANNEL "yubin_csv"
/* Namespace (first key) of the session advisory lock a runner holds on its job's id while it
 * runs it. The lock dies with the runner's connection, so a job whose panel was killed is
 * seen as orphaned at once (api/csv_runner.c). */
#define CSV_JOB_LOCK_NS 1498567254
/* A job taken this many times without finishing is marked failed (it kills its panel). */
#define CSV_JOB_MAX_ATTEMPTS 3
/* Rows written per statement while hashing goes on, inside the one import transaction. */
#define CSV_JOB_BATCH 1000

enum csv_outcome {
	CSV_DONE,      /* recorded as done in the import transaction (or dry run: to record) */
	CSV_FAILED,    /* errors collected: to record as failed, nothing written */
	CSV_REQUEUE,   /* stopped (shutdown) or the database went away: back to the queue */
	CSV_LOST,      /* another runner holds the job now: write nothing */
};

struct csv_job {
	int64_t id;
	char id_s[24];
	bool edit;                 /* csv_edit, else csv_create */
	char domain[256];
	char actor[330];
	char actor_role[16];
	char remote_addr[64];
	char lang[4];              /* "ja" or "en": the messages of the errors */
	bool dry_run;
	char *input;               /* the uploaded bytes (malloc'd) */
	size_t input_len;
	int attempts;
	const char *worker;
	struct db *db;             /* the import transaction (holds the job's advisory lock) */
	struct db *pdb;            /* progress, autocommit: seen while the import is open */
	atomic_bool *stop;         /* set when the panel stops */
	int64_t done, total;
	int64_t last_progress_ms;
	json_t *errors;            /* [{line, column, code, message}] */
	json_t *result;            /* {created, updated, skipped, rows, charset, dry_run} */
};

/* Start the runner thread of this panel process (from app_init, after the catalogs are
 * loaded). Stops by itself at exit. 0 or -1. */
int csv_runner_start(const struct config *cfg);

/* Validate, hash and import one claimed job (api/csv_import.c). CSV_DONE means the import
 * transaction on j->db committed together with the job's done state; for a dry run
 * (nothing written) the runner records done itself. */
enum csv_outcome csv_job_run(struct csv_job *j);

/* Record j->done/j->total on j->pdb (at most every 250 ms unless force). 0, or -1 when the
 * job is not ours any more. */
int csv_job_progress(struct csv_job *j, bool force);

/* Number of hashing threads: one per online core. */
int csv_job_threads(void);

#endif
