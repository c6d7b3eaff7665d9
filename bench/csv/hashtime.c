/* bench/csv/hashtime.c: time Argon2id through core/password.c (pw_hash, the panel's own code
 * and parameters): one hash at a time, and THREADS threads at once (hashes/s on all cores).
 * Usage: hashtime M_KIB T P HASHES THREADS  → prints "one_ms=… one_cpu_ms=… parallel_per_s=…"
 * (one_ms the median wall time of one hash, one_cpu_ms the mean CPU time of one). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/password.h"

static int per_thread;

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		abort();
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void *
work(void *arg)
{
	char out[PW_HASH_MAX];
	int i;

	(void)arg;
	for (i = 0; i < per_thread; i++)
		if (pw_hash("Bench#Passw0rd-xyz", out) != 0)
			abort();
	return NULL;
}

int
main(int argc, char **argv)
{
	char out[PW_HASH_MAX];
	double *t, t0, dt, cpu0, cpu;
	pthread_t th[64];
	int n, threads, i;

	if (argc != 6 || (n = atoi(argv[4])) < 1 || (threads = atoi(argv[5])) < 1 || threads > 64) {
		fprintf(stderr, "usage: hashtime M_KIB T P HASHES THREADS\n");
		return 2;
	}
	if (pw_init(atoll(argv[1]), atoll(argv[2]), atoll(argv[3])) != 0 ||
	    (t = calloc((size_t)n, sizeof(*t))) == NULL)
		return 1;
	if (pw_hash("warm-up#Passw0rd", out) != 0)
		return 1;
	cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		t0 = now();
		if (pw_hash("Bench#Passw0rd-xyz", out) != 0)
			return 1;
		t[i] = now() - t0;
	}
	cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / n;
	qsort(t, (size_t)n, sizeof(*t), cmp);
	per_thread = n;
	t0 = now();
	for (i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, work, NULL) != 0)
			return 1;
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	dt = now() - t0;
	printf("one_ms=%.3f one_cpu_ms=%.3f parallel_per_s=%.2f\n", t[n / 2] * 1000.0, cpu * 1000.0,
	    (double)n * threads / dt);
	free(t);
	return 0;
}
