/* tests/unit/test_jobs.c: maild/jobs*.c against real PostgreSQL and a real Maildir tree: purge keeps mail
 * that arrives meanwhile, delete_account spares a new account of the same name, SKIP LOCKED runs once. */
#include "maild/jobs.h"
#include "maild/jobs_mbox.h"
#include "tests/unit/check.h"
#include "tests/unit/mailtest_db.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/domain.h"

static const struct db_stmt st_account = {
	"t_jobs_account",
	"INSERT INTO accounts (domain_id, name, password_hash, quota_mb, usage_bytes) "
	"VALUES ($1::bigint, $2, 'x', 1, $3::bigint) RETURNING id", 3
};
static const struct db_stmt st_job = {
	"t_jobs_job",
	"INSERT INTO jobs (kind, domain, account, account_id, params) "
	"VALUES ($1, 'example.test', $2, $3::bigint, '{}') RETURNING id", 3
};
static const struct db_stmt st_job_row = {
	"t_jobs_row",
	"SELECT state, done, total, attempts, coalesce(worker, ''), coalesce(result::text, '') FROM jobs WHERE id = $1::bigint", 1
};
static const struct db_stmt st_usage = {
	"t_jobs_usage", "SELECT usage_bytes FROM accounts WHERE id = $1::bigint", 1
};
static const struct db_stmt st_drop_account = {
	"t_jobs_drop", "DELETE FROM accounts WHERE id = $1::bigint", 1
};
static const struct db_stmt st_total = {
	"t_jobs_total", "SELECT total FROM jobs WHERE id = $1::bigint", 1
};
static const struct db_stmt st_stale = {
	"t_jobs_stale",
	"INSERT INTO jobs (kind, domain, account, account_id, state, worker, attempts, heartbeat_at) "
	"VALUES ('purge_mail', 'example.test', $1, $2::bigint, 'running', 'dead:1:x:0', $3::int, "
	" now() - interval '5 minutes') RETURNING id", 3
};
static const struct db_stmt st_fresh = {
	"t_jobs_fresh",
	"INSERT INTO jobs (kind, domain, account, account_id, state, worker, attempts, heartbeat_at) "
	"VALUES ('purge_mail', 'example.test', $1, $2::bigint, 'running', 'alive:1:x:0', 1, now()) RETURNING id", 2
};
static const struct db_stmt st_count_once = {
	"t_jobs_once",
	"SELECT count(*) FILTER (WHERE state = 'done' AND attempts = 1), count(DISTINCT worker) "
	"FROM jobs WHERE kind = 'purge_mail' AND account = 'many'", 0
};

static char root[] = "/tmp/yubin-jobs-XXXXXX";
static char dom_id[24];

static char *
insert(struct db *db, const struct db_stmt *st, const char *a, const char *b, const char *c)
{
	static char out[8][24];
	static int slot;
	struct db_res *r = NULL;
	const char *params[3] = { a, b, c };
	char *o = out[slot++ % 8];

	o[0] = '\0';
	if (db_run(db, st, &r, params) == DB_OK && db_rows(r) == 1)
		bstrcpy(o, 24, db_val(r, 0, 0));
	else
		fprintf(stderr, "insert %s: %s\n", st->name, db_errmsg(db));
	db_res_free(&r);
	return o;
}

static int64_t
i64(struct db *db, const struct db_stmt *st, const char *a)
{
	struct db_res *r = NULL;
	int64_t v = -1;

	if (db_runv(db, st, &r, a) == DB_OK && db_rows(r) == 1)
		v = db_i64(r, 0, 0);
	db_res_free(&r);
	return v;
}

/* state, done, total, attempts of a job into a short text "done 3/3 a1". */
static const char *
job_state(struct db *db, const char *id)
{
	static char out[128];
	struct db_res *r = NULL;

	out[0] = '\0';
	if (db_runv(db, &st_job_row, &r, id) == DB_OK && db_rows(r) == 1)
		bsnprintf(out, sizeof(out), "%s %s/%s a%s", db_val(r, 0, 0), db_val(r, 0, 1), db_val(r, 0, 2),
		    db_val(r, 0, 3));
	db_res_free(&r);
	return out;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "open %s", path);
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A mailbox with messages in every kind of folder; returns their total size. */
static int64_t
fill_mailbox(const char *dir, int64_t id, int per_folder)
{
	static const char *const folders[] = { "", ".Junk", ".Trash", ".Archive", ".Projects", ".Projects.2025",
	                                       ".日本語", NULL };
	char p[4096], made[MAILDIR_PATH];
	const char *name = strrchr(dir, '/') + 1;
	int64_t total = 0;
	int i, k;

	CHECK(maildir_ensure(root, "example.test", name, id, made, sizeof(made)) == 0 && !strcmp(made, dir),
	    "mailbox %s", dir);
	for (i = 0; folders[i] != NULL; i++) {
		if (*folders[i])
			CHECK(mbox_folder_create(dir, folders[i]) == 0, "folder %s", folders[i]);
		for (k = 0; k < per_folder; k++) {
			bsnprintf(p, sizeof(p), "%s%s%s", dir, *folders[i] ? "/" : "", folders[i]);
			CHECK(mailtest_store(p, "Subject: x\n\nbody\n", k % 2 ? "S" : NULL, 0) == 0, "store");
			total += 17;
		}
	}
	return total;
}

struct arrival {
	const char *conninfo;
	const char *job_id;
	const char *dir;
	atomic_int written;
};

/* Delivers three messages as soon as the purge has taken its snapshot (the job shows its
 * total), while it is still deleting: they must survive. */
static void *
arrive(void *arg)
{
	struct arrival *a = arg;
	struct db *db = db_open(a->conninfo);
	int i, tries;

	for (tries = 0; tries < 20000 && i64(db, &st_total, a->job_id) <= 0; tries++)
		usleep(200);
	for (i = 0; i < 3; i++)
		if (mailtest_store(a->dir, "Subject: late\n\nnew\n", NULL, 0) == 0)
			atomic_fetch_add(&a->written, 1);
	db_close(&db);
	return NULL;
}

struct runner_arg {
	const char *conninfo;
	const struct config *cfg;
	const char *worker;
	int ran;
};

static void *
runner(void *arg)
{
	struct runner_arg *ra = arg;
	struct db *db = db_open(ra->conninfo);

	while (jobs_run_one(db, ra->cfg, ra->worker) == 1)
		ra->ran++;
	db_close(&db);
	return NULL;
}

int
main(void)
{
	struct mailtest_db t;
	struct config cfg;
	struct db *db;
	char dir[4096], p[4096], tmpfile[4096];
	const char *alice, *job;
	int64_t did, total;
	pthread_t th, th2;
	struct arrival arr;
	int i;

	config_defaults(&cfg);
	CHECK(mkdtemp(root) != NULL, "mkdtemp");
	bstrcpy(cfg.maildir_root, sizeof(cfg.maildir_root), root);
	mailtest_db_create(&t, "jobs");
	bstrcpy(cfg.db, sizeof(cfg.db), t.conninfo);
	db = db_open(t.conninfo);
	CHECK(domain_add(db, "example.test", 100, &did) == DB_OK, "domain_add");
	bsnprintf(dom_id, sizeof(dom_id), "%lld", (long long)did);

	/* purge_mail: every folder emptied, folders kept, a half-written message in tmp/ kept,
	 * usage recounted to what is left (0), over quota cleared. */
	alice = insert(db, &st_account, dom_id, "alice", "5000000");
	CHECK(mbox_path(&cfg, "example.test", "alice", dir, sizeof(dir)), "path");
	total = fill_mailbox(dir, strtoll(alice, NULL, 10), 3);
	bsnprintf(tmpfile, sizeof(tmpfile), "%s/tmp/being-written", dir);
	write_file(tmpfile, "Subject: half");
	job = insert(db, &st_job, "purge_mail", "alice", alice);
	CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "ran");
	CHECK_STR(job_state(db, job), "done 21/21 a1");
	CHECK(total == 21 * 17, "fixture size");
	CHECK(i64(db, &st_usage, alice) == 0, "usage 0");
	bsnprintf(p, sizeof(p), "%s/new", dir);
	CHECK(count_files(p) == 0, "inbox new empty");
	bsnprintf(p, sizeof(p), "%s/cur", dir);
	CHECK(count_files(p) == 0, "inbox cur empty");
	bsnprintf(p, sizeof(p), "%s/.Projects.2025/cur", dir);
	CHECK(count_files(p) == 0, "user folder empty");
	bsnprintf(p, sizeof(p), "%s/.日本語/new", dir);
	CHECK(count_files(p) == 0, "Japanese folder empty");
	bsnprintf(p, sizeof(p), "%s/.Projects/maildirfolder", dir);
	CHECK(exists(p), "folders kept");
	CHECK(exists(tmpfile), "half-written message untouched");
	CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 0, "nothing left");

	/* Mail delivered while a purge deletes is kept, and counted in the usage. */
	fill_mailbox(dir, strtoll(alice, NULL, 10), 700);
	job = insert(db, &st_job, "purge_mail", "alice", alice);
	memset(&arr, 0, sizeof(arr));
	arr.conninfo = t.conninfo;
	arr.job_id = job;
	arr.dir = dir;
	CHECK(pthread_create(&th, NULL, arrive, &arr) == 0, "thread");
	CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "ran");
	pthread_join(th, NULL);
	CHECK_STR(job_state(db, job), "done 4900/4900 a1");
	bsnprintf(p, sizeof(p), "%s/new", dir);
	CHECK(atomic_load(&arr.written) == 3 && count_files(p) == 3, "arrivals kept: %d", count_files(p));
	CHECK(i64(db, &st_usage, alice) == 3 * 19, "usage = what arrived: %lld", (long long)i64(db, &st_usage, alice));

	/* delete_account: the deleted account's mailbox goes; the old mailbox moved aside by
	 * delivery goes too. */
	{
		const char *bob = insert(db, &st_account, dom_id, "bob", "0");
		char aside[4096];

		CHECK(mbox_path(&cfg, "example.test", "bob", dir, sizeof(dir)), "path");
		fill_mailbox(dir, strtoll(bob, NULL, 10), 2);
		bsnprintf(p, sizeof(p), "bob@example.test-%s-abcd", bob);
		CHECK(maildir_ensure(root, ".trash", p, strtoll(bob, NULL, 10), aside, sizeof(aside)) == 0, "aside");
		CHECK(db_runv(db, &st_drop_account, NULL, bob) == DB_OK, "drop bob");
		job = insert(db, &st_job, "delete_account", "bob", bob);
		CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "ran");
		CHECK_STR(job_state(db, job), "done 1/1 a1");
		CHECK(!exists(dir), "bob's mailbox removed");
		CHECK(!exists(aside), "moved-aside mailbox removed");
	}

	/* A new account of the same name keeps its mail when the old one's job runs late. */
	{
		const char *old = insert(db, &st_account, dom_id, "carol", "0");
		const char *fresh;

		CHECK(db_runv(db, &st_drop_account, NULL, old) == DB_OK, "drop old carol");
		fresh = insert(db, &st_account, dom_id, "carol", "0");
		CHECK(mbox_path(&cfg, "example.test", "carol", dir, sizeof(dir)), "path");
		fill_mailbox(dir, strtoll(fresh, NULL, 10), 1);
		job = insert(db, &st_job, "delete_account", "carol", old);
		CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "ran");
		CHECK_STR(job_state(db, job), "done 1/1 a1");
		bsnprintf(p, sizeof(p), "%s/new", dir);
		CHECK(count_files(p) == 1, "new carol's mail kept");
	}

	/* An unmarked mailbox is removed only when nobody has its name now. */
	{
		bsnprintf(dir, sizeof(dir), "%s/example.test/dave", root);
		bsnprintf(p, sizeof(p), "%s/new", dir);
		CHECK(mkdir(dir, 0700) == 0 && mkdir(p, 0700) == 0, "unmarked");
		job = insert(db, &st_job, "delete_account", "dave", "999999");
		CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "ran");
		CHECK(!exists(dir), "unmarked, nameless mailbox removed");
		bsnprintf(dir, sizeof(dir), "%s/example.test/alice", root);
		job = insert(db, &st_job, "delete_account", "alice", "999998");
		CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "ran");
		CHECK(exists(dir), "alice (marked with her own id) kept");
	}

	/* A job whose worker stopped heartbeating is taken again; a live one is not; one that
	 * killed its worker too often fails. */
	{
		const char *stale = insert(db, &st_stale, "alice", alice, "1");
		const char *fresh = insert(db, &st_fresh, "alice", alice, NULL);
		const char *poison = insert(db, &st_stale, "alice", alice, "3");

		CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "stale taken");
		CHECK(strncmp(job_state(db, stale), "done ", 5) == 0 && strstr(job_state(db, stale), " a2") != NULL,
		    "stale job rerun: %s", job_state(db, stale));
		CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 1, "poison taken");
		CHECK(strncmp(job_state(db, poison), "failed", 6) == 0, "poison failed: %s", job_state(db, poison));
		CHECK(jobs_run_one(db, &cfg, "w:1:a:0") == 0, "fresh running job left alone");
		CHECK(strncmp(job_state(db, fresh), "running", 7) == 0, "still running");
		CHECK(jobs_heartbeat(db, "alive:") == 0, "heartbeat");
	}

	/* Two workers on one queue: every job exactly once. */
	{
		char many[24];
		struct runner_arg a1 = { t.conninfo, &cfg, "one:1:a:0", 0 }, a2 = { t.conninfo, &cfg, "two:1:b:0", 0 };
		struct db_res *r = NULL;

		bstrcpy(many, sizeof(many), insert(db, &st_account, dom_id, "many", "0"));
		for (i = 0; i < 60; i++)
			insert(db, &st_job, "purge_mail", "many", many);
		/* Both created before either is joined, and a failed create is fatal for the
		 * test: joining a thread that never started is undefined. */
		if (pthread_create(&th, NULL, runner, &a1) != 0 || pthread_create(&th2, NULL, runner, &a2) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
		pthread_join(th, NULL);
		pthread_join(th2, NULL);
		CHECK(a1.ran + a2.ran == 60, "ran %d + %d", a1.ran, a2.ran);
		CHECK(db_runv(db, &st_count_once, &r) == DB_OK && db_rows(r) == 1, "count");
		CHECK(db_i64(r, 0, 0) == 60, "each once: %s", db_val(r, 0, 0));
		db_res_free(&r);
	}

	db_close(&db);
	mailtest_db_drop(&t);
	CHECK(mbox_remove_tree(root) == 0, "cleanup");
	return check_done();
}
