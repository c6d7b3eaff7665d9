/* maild/retention.c: SPEC §8 retention — inbox mail 180 days after delivery to .Archive, mail 31 days
 * in .Trash deleted — once at start and every retention_interval seconds, on the clock of core/clock.h. */
#include "maild/retention.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/jobs_mbox.h"

/* Pages of accounts, so a large installation never holds one huge result. */
static const struct db_stmt st_accounts = {
	"retention_accounts",
	"SELECT a.id, d.name, a.name FROM accounts a JOIN domains d ON d.id = a.domain_id "
	"WHERE a.id > $1::bigint ORDER BY a.id LIMIT 500", 1
};

static const struct db_stmt st_usage = {
	"retention_usage",
	"UPDATE accounts SET usage_bytes = greatest(0, usage_bytes - $2::bigint), updated_at = now() "
	"WHERE id = $1::bigint", 2
};

struct sweep {
	const char *dir;
	time_t cutoff;
	bool archive_ready;
	int64_t archived, deleted, bytes;
	int errors;
};

/* Inbox age counts from delivery: the file's mtime, which delivery sets, a new/ -> cur/ or
 * flag rename keeps, and Dovecot reads as the received date. */
static int
archive_one(const char *folder, const char *sub, const char *name, const struct stat *st, void *arg)
{
	struct sweep *s = arg;
	char from[4096], to[4096];

	(void)folder;
	if (st->st_mtime >= s->cutoff)
		return 0;
	if (!s->archive_ready) {
		if (mbox_folder_create(s->dir, ".Archive") != 0) {
			log_warn("retention: %s/.Archive", s->dir);
			return -1;
		}
		s->archive_ready = true;
	}
	if (!bsnprintf(from, sizeof(from), "%s/%s/%s", s->dir, sub, name) ||
	    !bsnprintf(to, sizeof(to), "%s/.Archive/%s/%s", s->dir, sub, name))
		return 0;
	if (rename(from, to) == 0)
		s->archived++;
	else if (errno != ENOENT)   /* ENOENT: a client moved or deleted it meanwhile */
		s->errors++;
	return 0;
}

/* Trash age counts from when the message was moved there: the inode's ctime, which rename()
 * and link() (Dovecot's copy into Trash) set, never the Date header or the delivery time.
 * A flag change is a rename too and starts the count again: mail is kept longer, never
 * deleted early. */
static int
expire_one(const char *folder, const char *sub, const char *name, const struct stat *st, void *arg)
{
	struct sweep *s = arg;
	char p[4096];

	(void)folder;
	if (st->st_ctime >= s->cutoff)
		return 0;
	if (!bsnprintf(p, sizeof(p), "%s/.Trash/%s/%s", s->dir, sub, name))
		return 0;
	if (unlink(p) == 0) {
		s->deleted++;
		s->bytes += (int64_t)st->st_size;
	} else if (errno != ENOENT) {
		s->errors++;
	}
	return 0;
}

static int
sweep_mailbox(struct db *db, const struct config *cfg, const char *id, int64_t account_id,
              const char *domain, const char *name, struct retention_stats *st)
{
	char dir[4096], trash[4096], freed[24];
	struct sweep s;
	time_t now = clock_now();
	int lock = -1, rc = 0;

	if (!mbox_path(cfg, domain, name, dir, sizeof(dir)))
		return 0;
	/* Only a mailbox whose marker names this account: an old one of a deleted account of
	 * the same name is the delete job's, not ours to move mail in. */
	switch (mbox_owner(dir, account_id, false)) {
	case MBOX_OURS:
		break;
	case MBOX_ABSENT:
		return 0;
	case MBOX_FOREIGN:
		st->skipped++;
		return 0;
	case MBOX_ERROR:
		log_warn("retention: %s", dir);
		return -1;
	}
	/* A POP3 session works on a snapshot of the inbox; moving mail under it would make
	 * its RETR fail. The next sweep catches this mailbox. */
	lock = mbox_lock(dir);
	if (lock == -2) {
		st->skipped++;
		return 0;
	}
	if (lock < 0) {
		log_warn("retention: lock %s", dir);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.dir = dir;
	s.cutoff = now - (time_t)cfg->retention_inbox_days * 86400;
	if (mbox_walk(dir, false, archive_one, &s) != 0)
		rc = -1;
	s.cutoff = now - (time_t)cfg->retention_trash_days * 86400;
	if (bsnprintf(trash, sizeof(trash), "%s/.Trash", dir) && mbox_walk(trash, false, expire_one, &s) != 0)
		rc = -1;
	mbox_unlock(&lock);

	if (s.bytes > 0) {
		bsnprintf(freed, sizeof(freed), "%lld", (long long)s.bytes);
		if (db_begin(db) != DB_OK || db_runv(db, &st_usage, NULL, id, freed) != DB_OK ||
		    db_notify_domain(db, domain) != DB_OK || db_commit(db) != DB_OK) {
			db_rollback(db);
			log_warnx("retention: %s@%s: usage not updated by -%s bytes: %s", name, domain, freed,
			    db_errmsg(db));
			rc = -1;
		}
	}
	if (s.archived > 0 || s.deleted > 0 || s.errors > 0)
		log_info("retention: %s@%s: %lld archived, %lld deleted from Trash (%lld bytes), %d errors",
		    name, domain, (long long)s.archived, (long long)s.deleted, (long long)s.bytes, s.errors);
	st->mailboxes++;
	st->archived += s.archived;
	st->deleted += s.deleted;
	st->bytes_freed += s.bytes;
	return rc;
}

int
retention_sweep(struct db *db, const struct config *cfg, struct retention_stats *st)
{
	char last[24] = "0";
	struct db_res *r = NULL;
	int i, n;

	memset(st, 0, sizeof(*st));
	for (;;) {
		if (db_runv(db, &st_accounts, &r, last) != DB_OK) {
			log_warnx("retention: accounts not read: %s", db_errmsg(db));
			return -1;
		}
		n = db_rows(r);
		for (i = 0; i < n; i++)
			(void)sweep_mailbox(db, cfg, db_val(r, i, 0), db_i64(r, i, 0), db_val(r, i, 1),
			    db_val(r, i, 2), st);
		if (n > 0)
			(void)bstrcpy(last, sizeof(last), db_val(r, n - 1, 0));
		db_res_free(&r);
		if (n < 500)
			break;
	}
	return 0;
}

static void *
retention_thread(void *arg)
{
	const struct config *cfg = arg;
	struct db *db = db_open(cfg->db);
	struct retention_stats st;
	int64_t slept;

	if (db == NULL) {
		log_warnx("retention: out of memory");
		return NULL;
	}
	for (;;) {
		if (retention_sweep(db, cfg, &st) == 0 && (st.archived > 0 || st.deleted > 0))
			log_info("retention: sweep: %lld mailboxes, %lld archived, %lld deleted, %lld bytes freed",
			    (long long)st.mailboxes, (long long)st.archived, (long long)st.deleted,
			    (long long)st.bytes_freed);
		for (slept = 0; slept < cfg->retention_interval; slept++)
			sleep(1);
	}
	return NULL;
}

int
retention_start(const struct config *cfg)
{
	pthread_t t;
	int e;

	if (cfg->maildir_root[0] == '\0')
		return 0;
	e = pthread_create(&t, NULL, retention_thread, (void *)cfg);
	if (e != 0) {
		errno = e;
		log_warn("retention: thread");
		return -1;
	}
	(void)pthread_detach(t);
	return 0;
}
