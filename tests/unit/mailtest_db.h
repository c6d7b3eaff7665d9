/* tests/unit/mailtest_db.h: a throwaway database from yubin_template for unit tests of maild code
 * that needs real PostgreSQL (YUBIN_TEST_PGHOST/YUBIN_TEST_PGPORT, as test.sh exports them). */
#ifndef YUBIN_TESTS_MAILTEST_DB_H
#define YUBIN_TESTS_MAILTEST_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>
#include <time.h>

#include "core/db.h"
#include "core/util.h"
#include "maild/maildir.h"

struct mailtest_db {
	char name[64];
	char conninfo[256];
	char admin[256];
};

/* Create the database; exits the test program (failing) when PostgreSQL is not there. */
static inline void
mailtest_db_create(struct mailtest_db *t, const char *tag)
{
	const char *host = getenv("YUBIN_TEST_PGHOST"), *port = getenv("YUBIN_TEST_PGPORT");
	char sql[256];
	struct db *adm;

	if (host == NULL || *host == '\0')
		host = "127.0.0.1";
	if (port == NULL || *port == '\0') {
		fprintf(stderr, "YUBIN_TEST_PGPORT is not set: this test needs the suite's PostgreSQL (test.sh)\n");
		exit(1);
	}
	bsnprintf(t->name, sizeof(t->name), "u_%s_%ld", tag, (long)getpid());
	bsnprintf(t->admin, sizeof(t->admin), "host=%s port=%s user=postgres dbname=postgres", host, port);
	bsnprintf(t->conninfo, sizeof(t->conninfo), "host=%s port=%s user=postgres dbname=%s", host, port, t->name);
	adm = db_open(t->admin);
	/* Plain SQL: a database name cannot be a statement parameter, and this one is ours. */
	bsnprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"", t->name);
	(void)db_plain(adm, sql);
	bsnprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\" TEMPLATE yubin_template", t->name);
	if (adm == NULL || db_plain(adm, sql) != DB_OK) {
		fprintf(stderr, "cannot create %s: %s\n", t->name, adm ? db_errmsg(adm) : "no memory");
		exit(1);
	}
	db_close(&adm);
}

static inline void
mailtest_db_drop(struct mailtest_db *t)
{
	char sql[256];
	struct db *adm = db_open(t->admin);

	bsnprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", t->name);
	if (adm != NULL)
		(void)db_plain(adm, sql);
	db_close(&adm);
}

/* A message in folderdir written as delivery writes it (maild/maildir.c), then moved to cur/
 * with ":2,FLAGS" when flags is not NULL, and given mtime (a delivery time) when not 0. */
static inline int
mailtest_store(const char *folderdir, const char *text, const char *flags, time_t mtime)
{
	struct maildir_msg m;
	char from[MAILDIR_PATH], to[MAILDIR_PATH];
	struct timespec ts[2];

	if (maildir_open(&m, folderdir, "") != 0 || maildir_write(&m, text, strlen(text)) != 0 ||
	    maildir_commit(&m) != 0)
		return -1;
	bsnprintf(from, sizeof(from), "%s/new/%s,S=%lld", folderdir, m.base, (long long)m.size);
	if (flags != NULL) {
		bsnprintf(to, sizeof(to), "%s/cur/%s,S=%lld:2,%s", folderdir, m.base, (long long)m.size, flags);
		if (rename(from, to) != 0)
			return -1;
		bstrcpy(from, sizeof(from), to);
	}
	if (mtime != 0) {
		ts[0].tv_sec = ts[1].tv_sec = mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (utimensat(AT_FDCWD, from, ts, 0) != 0)
			return -1;
	}
	return 0;
}

#endif
