/* cgi/main.c: yubin-panel — parse the command line, load the configuration, serve. */
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
	int i;

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
	if (app_init(&cfg) != 0)
		fatalx("start-up failed");
	if (http != NULL) {
		sigset_t set;
		int sig;

		if (http_start(&cfg, http) != 0)
			return 1;
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		if (fcgi == NULL) {
			sigwait(&set, &sig);
			log_info("signal %d: stopping", sig);
			http_stop();
			return 0;
		}
	}
	return fcgi_serve(&cfg, fcgi) == 0 ? 0 : 1;
}
