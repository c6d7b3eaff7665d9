/* maild/queue_sched.h: the outgoing queue's scheduler: which entries are due, and a pool of workers
 * that each deliver one entry at a time, so a slow destination holds one worker and nothing else. */
#ifndef YUBIN_MAILD_QUEUE_SCHED_H
#define YUBIN_MAILD_QUEUE_SCHED_H

#include <stdbool.h>
#include <time.h>

/* What a worker's attempt left: the entry gone (delivered or bounced), or due again at
 * `next` (clock_now() time). */
struct queue_outcome {
	bool gone;
	time_t next;
};

/* One attempt at the entry `name` (an .env file in `qd`); queue.c does the delivery. */
typedef void (*queue_attempt_fn)(const char *qd, const char *name, struct queue_outcome *out);

/* When an entry not yet attempted here is due (its envelope's next attempt); 0 on a read
 * error, so it is tried (and reported) at once. */
typedef time_t (*queue_due_fn)(const char *qd, const char *name);

/* Start the scanner and the workers over `qd`. 0 or -1. */
int queue_sched_start(const char *qd, queue_attempt_fn attempt, queue_due_fn due);

/* Look at the folder now (a new entry was committed). */
void queue_sched_kick(void);

/* Entries in the folder at the last look, less those delivered or bounced since. */
long queue_sched_waiting(void);

/* Account for entries added (after a commit) before the next look. */
void queue_sched_added(long n);

#endif
