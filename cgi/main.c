/* cgi/main.c: yubin-panel — parse the command line, load the configuration, serve. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgi/transport.h"
#include "core/log.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: yubin-panel [--config FILE] [--db CONNINFO] [--workers N]\n"
	    "                   [--http ADDR:PORT | --fcgi ADDR:PORT | --fcgi /path.sock]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	const char *http = NULL, *fcgi = NULL, *db = NULL, *cfile = NULL, *workers = NULL;
	char err[512];
	sigset_t stop;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--http") && i + 1 < argc)
			http = argv[++i];
		else if (!strcmp(argv[i], "--fcgi") && i + 1 < argc)
			fcgi = argv[++i];
		else if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			cfile = argv[++i];
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			workers = argv[++i];
		else
			usage();
	}
	log_init("yubin-panel", getenv("YUBIN_DEBUG") != NULL);
	config_defaults(&cfg);
	if (cfile && config_load(&cfg, cfile, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (workers && config_set(&cfg, "workers", workers) != 0)
		fatalx("--workers: a number from 1 to 256");
	config_pick_db(&cfg, db);
	signal(SIGPIPE, SIG_IGN);
	/* SIGINT and SIGTERM are taken by this thread alone (sigwait), so they are blocked
	 * before any thread starts and inherit the mask. Over FastCGI this also keeps libfcgi's
	 * own SIGTERM handler from running: it only marks a shutdown that a worker blocked in
	 * accept() never sees, and the panel did not stop. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0)
		fatalx("pthread_sigmask");
	if (app_init(&cfg) != 0)
		fatalx("start-up failed");
	if (http != NULL && http_start(&cfg, http) != 0)
		return 1;
	if (http != NULL && fcgi == NULL) {
		int sig = 0;

		if (sigwait(&stop, &sig) != 0)
			fatalx("sigwait");
		log_info("signal %d: stopping", sig);
		http_stop();
		return 0;
	}
	rc = fcgi_serve(&cfg, fcgi, &stop);
	http_stop();
	return rc == 0 ? 0 : 1;
}
