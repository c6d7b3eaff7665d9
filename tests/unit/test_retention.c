/* tests/unit/test_retention.c: maild/retention.c on a real Maildir and PostgreSQL with the test clock:
 * inbox age from delivery (mtime), Trash age from the move (ctime), busy and foreign mailboxes skipped. */
#include "maild/retention.h"
#include "maild/jobs_mbox.h"
#include "tests/unit/check.h"
#include "tests/unit/mailtest_db.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "core/domain.h"

static const struct db_stmt st_account = {
	"t_ret_account",
	"INSERT INTO accounts (domain_id, name, password_hash, quota_mb, usage_bytes) "
	"VALUES ($1::bigint, $2, 'x', 1, $3::bigint) RETURNING id", 3
};
static const struct db_stmt st_usage = {
	"t_ret_usage", "SELECT usage_bytes FROM accounts WHERE id = $1::bigint", 1
};

static char root[] = "/tmp/yubin-ret-XXXXXX";
static char clockfile[] = "/tmp/yubin-ret-clock-XXXXXX";

static void
set_clock(long days)
{
	FILE *f = fopen(clockfile, "w");

	if (f != NULL) {
		fprintf(f, "%ld\n", days * 86400);
		fclose(f);
	}
}

static int64_t
usage(struct db *db, const char *id)
{
	struct db_res *r = NULL;
	int64_t v = -1;

	if (db_runv(db, &st_usage, &r, id) == DB_OK && db_rows(r) == 1)
		v = db_i64(r, 0, 0);
	db_res_free(&r);
	return v;
}

static int
count(const char *dir, const char *sub)
{
	char p[4096];
	DIR *d;
	struct dirent *e;
	int n = 0;

	bsnprintf(p, sizeof(p), "%s/%s", dir, sub);
	d = opendir(p);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A message delivered `days_ago` (its mtime, as delivery and Dovecot set it). */
static void
store(const char *folder, const char *flags, long days_ago)
{
	CHECK(mailtest_store(folder, "Subject: r\n\n0123456789\n", flags, time(NULL) - days_ago * 86400) == 0,
	    "store");
}

int
main(void)
{
	struct mailtest_db t;
	struct config cfg;
	struct db *db;
	struct retention_stats st;
	struct db_res *r = NULL;
	char dir[4096], trash[4096], dom_id[24], id[24], other[4096];
	int64_t did;
	int fd, lock;

	config_defaults(&cfg);
	CHECK(mkdtemp(root) != NULL, "mkdtemp");
	fd = mkstemp(clockfile);
	CHECK(fd >= 0, "clock");
	close(fd);
	set_clock(0);
	setenv("YUBIN_TEST_CLOCK_FILE", clockfile, 1);
	bstrcpy(cfg.maildir_root, sizeof(cfg.maildir_root), root);
	mailtest_db_create(&t, "retention");
	db = db_open(t.conninfo);
	CHECK(domain_add(db, "example.test", 100, &did) == DB_OK, "domain_add");
	bsnprintf(dom_id, sizeof(dom_id), "%lld", (long long)did);
	CHECK(db_runv(db, &st_account, &r, dom_id, "alice", "96") == DB_OK && db_rows(r) == 1, "account");
	bstrcpy(id, sizeof(id), db_val(r, 0, 0));
	db_res_free(&r);

	CHECK(maildir_ensure(root, "example.test", "alice", strtoll(id, NULL, 10), dir, sizeof(dir)) == 0, "mailbox");
	bsnprintf(trash, sizeof(trash), "%s/.Trash", dir);
	store(dir, NULL, 181);      /* new/, delivered 181 days ago: archived */
	store(dir, "S", 200);       /* cur/, read, 200 days: archived */
	store(dir, "S", 179);       /* cur/, 179 days: kept for now */
	/* In Trash: delivered 60 days ago but moved there just now (ctime now): kept. */
	store(trash, "S", 60);
	store(trash, NULL, 400);

	CHECK(retention_sweep(db, &cfg, &st) == 0, "sweep");
	CHECK(st.archived == 2 && st.deleted == 0, "archived %lld deleted %lld", (long long)st.archived,
	    (long long)st.deleted);
	CHECK(count(dir, "new") == 0 && count(dir, "cur") == 1, "inbox keeps the 179-day message");
	CHECK(count(dir, ".Archive/new") == 1 && count(dir, ".Archive/cur") == 1, "archive has both");
	CHECK(count(dir, ".Trash/cur") == 1 && count(dir, ".Trash/new") == 1, "trash counts from the move");
	CHECK(usage(db, id) == 96, "usage unchanged by archiving");

	/* Two days later the 179-day message is over 180; Trash is still young. */
	set_clock(2);
	CHECK(retention_sweep(db, &cfg, &st) == 0, "sweep");
	CHECK(st.archived == 1 && st.deleted == 0, "archived %lld", (long long)st.archived);
	CHECK(count(dir, "cur") == 0 && count(dir, ".Archive/cur") == 2, "moved with its flags");

	/* While a POP3 session holds the mailbox, nothing moves under it. */
	set_clock(32);
	lock = mbox_lock(dir);
	CHECK(lock >= 0, "lock");
	CHECK(retention_sweep(db, &cfg, &st) == 0 && st.skipped == 1 && st.deleted == 0, "busy skipped");
	mbox_unlock(&lock);

	/* 32 days after the move: Trash emptied, usage lowered, Archive untouched. */
	CHECK(retention_sweep(db, &cfg, &st) == 0, "sweep");
	CHECK(st.deleted == 2 && st.bytes_freed == 46, "deleted %lld", (long long)st.deleted);
	CHECK(count(dir, ".Trash/cur") == 0 && count(dir, ".Trash/new") == 0, "trash empty");
	CHECK(count(dir, ".Archive/cur") == 2 && count(dir, ".Archive/new") == 1, "archive kept");
	CHECK(usage(db, id) == 50, "usage lowered: %lld", (long long)usage(db, id));

	/* A mailbox marked for another account (a deleted one of the same name) is not touched. */
	CHECK(db_runv(db, &st_account, &r, dom_id, "bob", "0") == DB_OK, "bob");
	db_res_free(&r);
	CHECK(maildir_ensure(root, "example.test", "bob", 424242, other, sizeof(other)) == 0, "foreign");
	store(other, NULL, 500);
	CHECK(retention_sweep(db, &cfg, &st) == 0 && st.skipped == 1, "foreign skipped");
	CHECK(count(other, "new") == 1, "foreign mail untouched");

	/* A shorter configured period applies. */
	cfg.retention_inbox_days = 10;
	set_clock(0);
	store(dir, NULL, 11);
	CHECK(retention_sweep(db, &cfg, &st) == 0 && st.archived == 1, "configurable");

	unsetenv("YUBIN_TEST_CLOCK_FILE");
	unlink(clockfile);
	db_close(&db);
	mailtest_db_drop(&t);
	CHECK(mbox_remove_tree(root) == 0, "cleanup");
	return check_done();
}
