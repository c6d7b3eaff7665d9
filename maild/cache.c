/* maild/cache.c: LISTEN yubin_config on a dedicated connection; every NOTIFY (payload = domain) or
 * reconnect bumps the generation, so anything cached from it is dropped. */
#include "maild/cache.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "core/db.h"
#include "core/log.h"
#include "maild/metrics.h"

static _Atomic uint64_t generation;
static struct db *listen_db;

uint64_t
cache_generation(void)
{
	return atomic_load(&generation);
}

static void
on_notify(const char *channel, const char *payload, void *arg)
{
	(void)channel;
	(void)arg;
	atomic_fetch_add(&generation, 1);
	metrics_inc("yubin_maild_config_notifications_total");
	log_debug("cache: change in %s", payload);
}

static void *
listen_thread(void *arg)
{
	int backoff = 1;

	(void)arg;
	for (;;) {
		bool fresh = false;
		struct pollfd pfd;
		int fd;

		if (!db_ensure(listen_db, &fresh)) {
			metrics_inc("yubin_maild_db_errors_total");
			sleep((unsigned)backoff);
			if (backoff < 10)
				backoff *= 2;
			continue;
		}
		if (fresh) {
			if (db_plain(listen_db, "LISTEN yubin_config") != DB_OK) {
				sleep(1);
				continue;
			}
			/* Whatever happened while we were away is unknown: drop everything. */
			atomic_fetch_add(&generation, 1);
			backoff = 1;
		}
		fd = db_socket(listen_db);
		if (fd < 0)
			continue;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 1000) < 0)
			continue;
		if (db_notifications(listen_db, on_notify, NULL) < 0)
			log_warnx("cache: LISTEN connection lost; reconnecting");
	}
	return NULL;
}

int
cache_start(const struct config *cfg)
{
	pthread_t t;

	listen_db = db_open(cfg->db);
	if (listen_db == NULL)
		return -1;
	if (pthread_create(&t, NULL, listen_thread, NULL) != 0)
		return -1;
	(void)pthread_detach(t);
	return 0;
}
