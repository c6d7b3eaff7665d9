/* maild/main.c: yubin-maild — configuration, database pool, TLS, listeners (SMTP, submission, SMTPS,
 * and the POP3 helper's services), LISTEN feed, queue runner, metrics; exits cleanly on SIGTERM. */
#include <curl/curl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/db.h"
#include "core/log.h"
#include "core/password.h"
#include "core/util.h"
#include "maild/cache.h"
#include "maild/deliver.h"
#include "maild/maildir.h"
#include "maild/metrics.h"
#include "maild/net.h"
#include "maild/queue.h"
#include "maild/services.h"
#include "maild/smtp.h"
#include "maild/spam.h"

static struct config cfg;
static struct smtp_server srv_smtp, srv_sub, srv_smtps;

/* Spool files left by a crash belong to transactions that never got their 250. */
static void
clean_spool(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[1300];

	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && bsnprintf(p, sizeof(p), "%s/%s", dir, de->d_name))
			(void)unlink(p);
	if (d != NULL)
		closedir(d);
}

static void
usage(void)
{
	fprintf(stderr, "usage: yubin-maild --config FILE [--db CONNINFO] [--debug]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *cfgfile = NULL, *cli_db = NULL;
	char err[512], spool[1024];
	int i, debug = 0, sig;
	sigset_t set;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			cfgfile = argv[++i];
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			cli_db = argv[++i];
		else if (strcmp(argv[i], "--debug") == 0)
			debug = 1;
		else
			usage();
	}
	log_init("yubin-maild", debug);
	config_defaults(&cfg);
	if (cfgfile != NULL && config_load(&cfg, cfgfile, err, sizeof(err)) != 0)
		fatalx("%s", err);
	config_pick_db(&cfg, cli_db);
	if (!spam_config_ok(cfg.spam))
		fatalx("bad spam setting \"%s\"", cfg.spam);
	if (pw_init(cfg.argon2_m_kib, cfg.argon2_t, cfg.argon2_p) != 0)
		fatalx("password hashing parameters refused");
	/* One database connection per concurrent lookup at most, far fewer than connections:
	 * each session borrows one only for the duration of a lookup. */
	/* The message itself is durable by its own fsync before the 250; the counters maild
	 * writes (usage, send counts, autoreply history) need no WAL flush of their own, and
	 * waiting for one per message would cap delivery at the database's fsync rate. A
	 * PostgreSQL crash can lose the last few milliseconds of them, never a message. */
	{
		char dsn[CFG_STR + 64];

		if (strncmp(cfg.db, "postgres", 8) != 0 && strstr(cfg.db, "options") == NULL &&
		    bsnprintf(dsn, sizeof(dsn), "%s options='-c synchronous_commit=off'", cfg.db) &&
		    strlen(dsn) < sizeof(cfg.db))
			(void)bstrcpy(cfg.db, sizeof(cfg.db), dsn);
	}
	if (db_pool_init(cfg.db, 16) != 0)
		fatalx("out of memory");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("libcurl init failed");
	if (maildir_mkdirs(cfg.maildir_root) != 0 ||
	    maildir_mkdirs(deliver_spool_dir(&cfg, spool, sizeof(spool))) != 0)
		fatal("cannot create %s", spool);
	clean_spool(spool);
	if (net_tls_init(&cfg) != 0)
		fatalx("TLS certificate or key refused");

	/* Signals are taken by sigwait in this thread only; every other thread blocks them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cache_start(&cfg) != 0 || queue_start(&cfg) != 0)
		fatalx("cannot start the change feed or the queue");
	srv_smtp = (struct smtp_server){ &cfg, SMTP_INBOUND, "smtp" };
	srv_sub = (struct smtp_server){ &cfg, SMTP_SUBMISSION, "submission" };
	srv_smtps = (struct smtp_server){ &cfg, SMTP_SUBMISSION, "smtps" };
	if (cfg.smtp_listen[0] && net_listen("smtp", cfg.smtp_listen, false, smtp_session, &srv_smtp) != 0)
		fatalx("cannot listen on %s", cfg.smtp_listen);
	if (cfg.submission_listen[0] &&
	    net_listen("submission", cfg.submission_listen, false, smtp_session, &srv_sub) != 0)
		fatalx("cannot listen on %s", cfg.submission_listen);
	if (cfg.smtps_listen[0] && net_listen("smtps", cfg.smtps_listen, true, smtp_session, &srv_smtps) != 0)
		fatalx("cannot listen on %s", cfg.smtps_listen);
	if (cfg.metrics_listen[0] && metrics_listen(cfg.metrics_listen) != 0)
		fatalx("cannot listen on %s", cfg.metrics_listen);
	if (pop3_start(&cfg) != 0 || jobs_start(&cfg) != 0 || retention_start(&cfg) != 0)
		fatalx("cannot start POP3, jobs or retention");
	log_info("started (spam=%s virus=%s relay=%s)", cfg.spam, cfg.virus, cfg.relay[0] ? cfg.relay : "MX");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			continue;
		break;
	}
	/* Every 250 was given only after fsync, so stopping now loses nothing acknowledged;
	 * sessions in progress see their connection close and their clients retry. */
	log_info("stopping on signal %d", sig);
	curl_global_cleanup();
	_exit(0);
}
