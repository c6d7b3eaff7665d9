/* maild/queue_sched.c: the outgoing queue's scheduler. A scanner lists the queue folder (every second,
 * or at once when kicked) and hands due entries to a pool of workers, one entry per worker at a time. */
#include "maild/queue_sched.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "maild/metrics.h"

/*
 * Why a pool and not a batch per scan: a batch that waits for all its entries lets one
 * destination that answers slowly (a 5-minute DATA timeout, a 30 s connect) hold every
 * later message, submissions included, for as long. Here each worker is busy with one
 * entry; the others go on, and a new message is taken by the next free worker as soon
 * as it is committed. An entry is in the ready list or with a worker at most once, so no
 * two workers ever deliver the same entry.
 *
 * Only the scanner creates and frees entries; workers hold an entry only while `busy`,
 * and the scanner never frees a busy or listed one.
 */
#define QUEUE_WORKERS 8

struct qent {
	char *name;                /* the .env file's name */
	time_t next;               /* due at (clock_now()); -1 not read yet */
	bool busy;                 /* a worker has it */
	bool listed;               /* in the ready list */
	bool gone;                 /* delivered or bounced: its files are removed */
	struct qent *ready_next;
};

static struct {
	const char *qd;
	queue_attempt_fn attempt;
	queue_due_fn due;
	pthread_mutex_t mtx;
	pthread_cond_t kick_cv, work_cv;
	bool kicked;
	long waiting;
	struct qent **tab;         /* sorted by name */
	size_t ntab;
	struct qent *ready_head, *ready_tail;
} qs = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.kick_cv = PTHREAD_COND_INITIALIZER,
	.work_cv = PTHREAD_COND_INITIALIZER,
};

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .env names in the folder, sorted, in *names_r (NULL when none). false when the folder
 * cannot be read. */
static bool
list_dir(char ***names_r, size_t *n_r)
{
	DIR *d = opendir(qs.qd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	*names_r = NULL;
	*n_r = 0;
	if (d == NULL) {
		log_warn("queue: cannot read %s", qs.qd);
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l < 5 || strcmp(de->d_name + l - 4, ".env") != 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof(*names));

			if (nn == NULL)
				break;
			names = nn;
			cap = nc;
		}
		if ((names[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_name);
	*names_r = names;
	*n_r = n;
	return true;
}

static void
ent_free(struct qent *e)
{
	free(e->name);
	free(e);
}

/* The table becomes the folder's listing: entries kept, new ones made (next -1), vanished
 * ones freed unless a worker has them. Takes the names. -1 out of memory (nothing changed
 * but the names freed). Under qs.mtx. */
static int
merge(char **names, size_t n)
{
	struct qent **tab = malloc((qs.ntab + n + 1) * sizeof(*tab));
	size_t i = 0, j = 0, k = 0;

	if (tab == NULL) {
		for (j = 0; j < n; j++)
			free(names[j]);
		return -1;
	}
	while (i < qs.ntab || j < n) {
		int c = i == qs.ntab ? 1 : j == n ? -1 : strcmp(qs.tab[i]->name, names[j]);

		if (c < 0) {
			struct qent *e = qs.tab[i++];

			if (e->busy || e->listed)
				tab[k++] = e;
			else
				ent_free(e);
		} else if (c == 0) {
			tab[k++] = qs.tab[i++];
			free(names[j++]);
		} else {
			struct qent *e = calloc(1, sizeof(*e));

			if (e == NULL) {
				free(names[j++]);
				continue;
			}
			e->name = names[j++];
			e->next = -1;
			tab[k++] = e;
		}
	}
	free(qs.tab);
	qs.tab = tab;
	qs.ntab = k;
	return 0;
}

/* Due entries into the ready list. Under qs.mtx. */
static void
dispatch(time_t now)
{
	size_t i;
	bool any = false;

	for (i = 0; i < qs.ntab; i++) {
		struct qent *e = qs.tab[i];

		if (e->busy || e->listed || e->gone || e->next < 0 || e->next > now)
			continue;
		e->listed = true;
		e->ready_next = NULL;
		if (qs.ready_tail != NULL)
			qs.ready_tail->ready_next = e;
		else
			qs.ready_head = e;
		qs.ready_tail = e;
		any = true;
	}
	if (any)
		pthread_cond_broadcast(&qs.work_cv);
}

static void
scan(void)
{
	size_t n, i;
	char **names;
	struct qent **fresh = NULL;
	size_t nfresh = 0;

	if (!list_dir(&names, &n))
		return;
	metrics_set("yubin_maild_queue_size", (int64_t)n);
	pthread_mutex_lock(&qs.mtx);
	(void)merge(names, n);
	qs.waiting = (long)n;
	/* The envelopes of new entries are read without the lock: no worker sees them yet. */
	for (i = 0; i < qs.ntab; i++)
		if (qs.tab[i]->next < 0)
			nfresh++;
	if (nfresh > 0 && (fresh = malloc(nfresh * sizeof(*fresh))) != NULL) {
		size_t k = 0;

		for (i = 0; i < qs.ntab; i++)
			if (qs.tab[i]->next < 0)
				fresh[k++] = qs.tab[i];
	}
	pthread_mutex_unlock(&qs.mtx);
	free(names);
	for (i = 0; fresh != NULL && i < nfresh; i++) {
		time_t t = qs.due(qs.qd, fresh[i]->name);

		pthread_mutex_lock(&qs.mtx);
		fresh[i]->next = t;
		pthread_mutex_unlock(&qs.mtx);
	}
	free(fresh);
	pthread_mutex_lock(&qs.mtx);
	dispatch(clock_now());
	pthread_mutex_unlock(&qs.mtx);
}

static void *
worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&qs.mtx);
	for (;;) {
		struct qent *e;
		struct queue_outcome o = { false, 0 };

		while (qs.ready_head == NULL)
			pthread_cond_wait(&qs.work_cv, &qs.mtx);
		e = qs.ready_head;
		qs.ready_head = e->ready_next;
		if (qs.ready_head == NULL)
			qs.ready_tail = NULL;
		e->listed = false;
		e->busy = true;
		pthread_mutex_unlock(&qs.mtx);
		qs.attempt(qs.qd, e->name, &o);
		pthread_mutex_lock(&qs.mtx);
		e->busy = false;
		if (o.gone) {
			e->gone = true;
			qs.waiting--;
		} else {
			e->next = o.next;
		}
	}
	return NULL;
}

static void *
scanner(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec ts;

		scan();
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_mutex_lock(&qs.mtx);
		while (!qs.kicked)
			if (pthread_cond_timedwait(&qs.kick_cv, &qs.mtx, &ts) != 0)
				break;
		qs.kicked = false;
		pthread_mutex_unlock(&qs.mtx);
	}
	return NULL;
}

int
queue_sched_start(const char *qd, queue_attempt_fn attempt, queue_due_fn due)
{
	pthread_t t;
	int i, started = 0;

	qs.qd = qd;
	qs.attempt = attempt;
	qs.due = due;
	for (i = 0; i < QUEUE_WORKERS; i++) {
		if (pthread_create(&t, NULL, worker, NULL) != 0) {
			log_warn("queue: worker thread");
			continue;
		}
		(void)pthread_detach(t);
		started++;
	}
	if (started == 0 || pthread_create(&t, NULL, scanner, NULL) != 0) {
		log_warnx("queue: cannot start the runner");
		return -1;
	}
	(void)pthread_detach(t);
	return 0;
}

void
queue_sched_kick(void)
{
	pthread_mutex_lock(&qs.mtx);
	qs.kicked = true;
	pthread_cond_signal(&qs.kick_cv);
	pthread_mutex_unlock(&qs.mtx);
}

long
queue_sched_waiting(void)
{
	long n;

	pthread_mutex_lock(&qs.mtx);
	n = qs.waiting;
	pthread_mutex_unlock(&qs.mtx);
	return n;
}

void
queue_sched_added(long n)
{
	pthread_mutex_lock(&qs.mtx);
	qs.waiting += n;
	pthread_mutex_unlock(&qs.mtx);
}
