/* maild/jobs_purge.c: the purge_mail job (empty every folder, keep mail that arrives meanwhile) and the
 * delete_account job (remove a deleted account's mailbox, never a new account's of the same name). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/jobs.h"
#include "maild/jobs_mbox.h"

static const struct db_stmt st_account = {
	"jobs_purge_account",
	"SELECT d.name, a.name FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = $1::bigint", 1
};

/* The row lock orders our recount against a delivery's usage increment (see set_usage). */
static const struct db_stmt st_lock_account = {
	"jobs_purge_lock", "SELECT 1 FROM accounts WHERE id = $1::bigint FOR UPDATE", 1
};

static const struct db_stmt st_set_usage = {
	"jobs_purge_set_usage",
	"UPDATE accounts SET usage_bytes = $2::bigint, updated_at = now() WHERE id = $1::bigint", 2
};

static const struct db_stmt st_name_taken = {
	"jobs_purge_name_taken",
	"SELECT 1 FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE d.name = $1 AND a.name = $2", 2
};

static const struct db_stmt st_id_exists = {
	"jobs_purge_id_exists", "SELECT 1 FROM accounts WHERE id = $1::bigint", 1
};

static const struct db_stmt st_domain_exists = {
	"jobs_purge_domain_exists", "SELECT 1 FROM domains WHERE name = $1", 1
};

/* The unique parts of the messages present when the job started. */
struct snapshot {
	char **names;
	size_t n, cap;
	bool oom;
};

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
snap_add(const char *folder, const char *sub, const char *name, const struct stat *st, void *arg)
{
	struct snapshot *s = arg;
	char *copy;

	(void)folder;
	(void)sub;
	(void)st;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		char **p = realloc(s->names, cap * sizeof(*p));

		if (p == NULL) {
			s->oom = true;
			return -1;
		}
		s->names = p;
		s->cap = cap;
	}
	copy = strndup(name, mbox_base_len(name));
	if (copy == NULL) {
		s->oom = true;
		return -1;
	}
	s->names[s->n++] = copy;
	return 0;
}

static void
snap_free(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	memset(s, 0, sizeof(*s));
}

struct purge {
	struct job *j;
	struct snapshot *snap;
	const char *dir;
	int64_t bytes;
	bool lost;
};

static int
purge_one(const char *folder, const char *sub, const char *name, const struct stat *st, void *arg)
{
	struct purge *p = arg;
	char base[512], path[4096];
	const char *key = base;
	size_t bl = mbox_base_len(name);

	if (bl >= sizeof(base))
		return 0;
	memcpy(base, name, bl);
	base[bl] = '\0';
	if (p->snap->n == 0 || bsearch(&key, p->snap->names, p->snap->n, sizeof(char *), cmp_name) == NULL)
		return 0;   /* arrived after the job started: kept */
	if (!bsnprintf(path, sizeof(path), "%s%s%s/%s/%s", p->dir, *folder ? "/" : "", folder, sub, name))
		return 0;
	if (unlink(path) == 0) {
		p->bytes += (int64_t)st->st_size;
		p->j->done++;
	} else if (errno != ENOENT) {
		log_warn("jobs: purge %s", path);
		return -1;
	}
	if (jobs_progress(p->j, false) != 0) {
		p->lost = true;
		return 1;
	}
	return 0;
}

/* usage_bytes becomes what the mailbox holds now: 0 unless mail arrived meanwhile. The row
 * lock makes a delivery's increment wait for our commit, so a message that lands after our
 * recount is added on top of it, never overwritten by it. */
static int
set_usage(struct job *j, const char *dir, const char *domain)
{
	char bytes[24];
	int64_t remaining = 0;

	if (db_begin(j->db) != DB_OK || db_runv(j->db, &st_lock_account, NULL, j->account_id_s) != DB_OK)
		goto fail;
	if (dir != NULL && (remaining = mbox_bytes(dir)) < 0) {
		log_warn("jobs: size of %s", dir);
		goto fail;
	}
	bsnprintf(bytes, sizeof(bytes), "%lld", (long long)remaining);
	if (db_runv(j->db, &st_set_usage, NULL, j->account_id_s, bytes) != DB_OK ||
	    db_notify_domain(j->db, domain) != DB_OK || db_commit(j->db) != DB_OK)
		goto fail;
	json_object_set_new(j->result, "remaining_bytes", json_integer(remaining));
	return 0;
fail:
	db_rollback(j->db);
	return -1;
}

enum job_outcome
jobs_purge_mail(struct job *j)
{
	char dir[4096], domain[256], name[65];
	struct snapshot snap = { 0 };
	struct purge p;
	struct db_res *r = NULL;
	enum job_outcome o = JOB_FAILED;
	bool have_box = false;

	j->result = json_object();
	if (db_runv(j->db, &st_account, &r, j->account_id_s) != DB_OK) {
		jobs_error(j, "temporary", "database unavailable");
		goto out;
	}
	if (db_rows(r) != 1) {
		/* Deleted meanwhile: its delete_account job removes the mailbox. */
		json_object_set_new(j->result, "skipped", json_string("account_deleted"));
		o = JOB_DONE;
		goto out;
	}
	bstrcpy(domain, sizeof(domain), db_val(r, 0, 0));
	bstrcpy(name, sizeof(name), db_val(r, 0, 1));
	if (!mbox_path(j->cfg, domain, name, dir, sizeof(dir))) {
		jobs_error(j, "bad_path", "the mailbox path cannot be formed");
		goto out;
	}
	switch (mbox_owner(dir, j->account_id, true)) {
	case MBOX_OURS:
		have_box = true;
		break;
	case MBOX_ABSENT:
		break;
	case MBOX_FOREIGN:
		/* A deleted account's old mailbox: not this account's mail, left for its job. */
		json_object_set_new(j->result, "skipped", json_string("foreign_mailbox"));
		break;
	case MBOX_ERROR:
		log_warn("jobs: purge %s", dir);
		jobs_error(j, "disk", "the mailbox cannot be read");
		goto out;
	}
	if (have_box) {
		/* Only messages present now are deleted: one delivered while we work has a new
		 * unique name and stays, and one half-written sits in tmp/, which we never touch.
		 * A message renamed meanwhile (a flag change, new/ to cur/) keeps its unique part
		 * and is still found. */
		if (mbox_walk(dir, true, snap_add, &snap) != 0) {
			jobs_error(j, snap.oom ? "temporary" : "disk", "the mailbox cannot be read");
			goto out;
		}
		if (snap.n > 1)       /* an empty mailbox has no array: qsort(NULL, 0) is undefined */
			qsort(snap.names, snap.n, sizeof(char *), cmp_name);
		j->total = (int64_t)snap.n;
		j->done = 0;
		if (jobs_progress(j, true) != 0) {
			o = JOB_LOST;
			goto out;
		}
		memset(&p, 0, sizeof(p));
		p.j = j;
		p.snap = &snap;
		p.dir = dir;
		if (mbox_walk(dir, true, purge_one, &p) != 0) {
			if (p.lost) {
				o = JOB_LOST;
				goto out;
			}
			jobs_error(j, "disk", "some messages could not be deleted");
		}
		json_object_set_new(j->result, "deleted", json_integer(j->done));
		json_object_set_new(j->result, "bytes", json_integer(p.bytes));
	}
	if (set_usage(j, have_box ? dir : NULL, domain) != 0) {
		jobs_error(j, "temporary", "usage not updated");
		goto out;
	}
	o = json_array_size(j->errors) == 0 ? JOB_DONE : JOB_FAILED;
out:
	snap_free(&snap);
	db_res_free(&r);
	return o;
}

static int
exists(struct db *db, const struct db_stmt *st, const char *a, const char *b)
{
	struct db_res *r = NULL;
	const char *params[2] = { a, b };
	int rc = -1;

	if (db_run(db, st, &r, params) == DB_OK)
		rc = db_rows(r) > 0;
	db_res_free(&r);
	return rc;
}

/* Move the mailbox aside in one rename (a delivery for a new account of that name then
 * makes a fresh one), then remove it. The aside name is fixed per job, so a retry after a
 * crash finishes what the first attempt began. */
static int
remove_mailbox(struct job *j, const char *parent, const char *dir, const char *leaf)
{
	char aside[4096];

	if (!bsnprintf(aside, sizeof(aside), "%s/.yubin-deleted-%s-%s", parent, j->id_s, leaf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (dir != NULL && rename(dir, aside) != 0 && errno != ENOENT)
		return -1;
	return mbox_remove_tree(aside);
}

/* Whether the mailbox at parent/leaf belongs to no living account: 1 remove it, 0 keep it,
 * -1 database fault. With account_id 0 any dead owner qualifies (a whole domain's sweep). */
static int
dead_mailbox(struct job *j, const char *domain, const char *dir, const char *leaf)
{
	int64_t id = 0;
	char ids[24];
	int m = mbox_marker(dir, &id);

	if (m < 0)
		return 0;   /* unreadable marker: not ours to judge */
	if (m == 0) {    /* no marker: only if nobody has that name now */
		m = exists(j->db, &st_name_taken, domain, leaf);
		return m < 0 ? -1 : !m;
	}
	if (j->account_id != 0)
		return id == j->account_id;
	bsnprintf(ids, sizeof(ids), "%lld", (long long)id);
	m = exists(j->db, &st_id_exists, ids, NULL);
	return m < 0 ? -1 : !m;
}

/* The delivery code moves an old account's mailbox that it finds under a new account's name
 * to maildir_root/.trash/NAME@DOMAIN-ID-RANDOM (maild/maildir.c); those of the deleted account
 * (or, for a domain, of any account that is gone) are removed here too. */
static int
sweep_trash(struct job *j)
{
	char trash[4096], prefix[400], path[4096], ids[24];
	DIR *d;
	struct dirent *e;
	int errs = 0;

	if (!bsnprintf(trash, sizeof(trash), "%s/.trash", j->cfg->maildir_root))
		return -1;
	if (j->account[0] != '\0')
		bsnprintf(prefix, sizeof(prefix), "%s@%s-%s-", j->account, j->domain, j->account_id_s);
	else
		bsnprintf(prefix, sizeof(prefix), "@%s-", j->domain);
	d = opendir(trash);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		const char *at;
		size_t idlen;

		if (e->d_name[0] == '.')
			continue;
		if (j->account[0] != '\0') {
			if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
				continue;
		} else {
			/* NAME@DOMAIN-ID-RANDOM: this domain, and an id no account has now. */
			at = strrchr(e->d_name, '@');
			if (at == NULL || strncmp(at, prefix, strlen(prefix)) != 0)
				continue;
			at += strlen(prefix);
			idlen = strspn(at, "0123456789");
			if (idlen == 0 || idlen >= sizeof(ids))
				continue;
			memcpy(ids, at, idlen);
			ids[idlen] = '\0';
			if (exists(j->db, &st_id_exists, ids, NULL) != 0)
				continue;   /* alive, or unknown after a fault: kept */
		}
		if (!bsnprintf(path, sizeof(path), "%s/%s", trash, e->d_name) || mbox_remove_tree(path) != 0)
			errs++;
	}
	closedir(d);
	return errs ? -1 : 0;
}

enum job_outcome
jobs_delete_account(struct job *j)
{
	char parent[4096], dir[4096];
	struct stat st;
	int dead;

	j->result = json_object();
	j->total = 1;
	if (sweep_trash(j) != 0) {
		log_warn("jobs: %s/.trash", j->cfg->maildir_root);
		jobs_error(j, "disk", "an old mailbox moved aside could not be removed");
		return JOB_FAILED;
	}
	if (!mbox_path(j->cfg, j->domain, j->account[0] ? j->account : "x", dir, sizeof(dir)) ||
	    !bsnprintf(parent, sizeof(parent), "%s/%s", j->cfg->maildir_root, j->domain)) {
		jobs_error(j, "bad_path", "the mailbox path cannot be formed");
		return JOB_FAILED;
	}
	if (j->account[0] == '\0') {
		/* A deleted domain: every mailbox under it whose account is gone. */
		DIR *d = opendir(parent);
		struct dirent *e;
		int errs = 0;

		if (d == NULL) {
			j->done = 1;
			return errno == ENOENT ? JOB_DONE : JOB_FAILED;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || !bsnprintf(dir, sizeof(dir), "%s/%s", parent, e->d_name))
				continue;
			if ((dead = dead_mailbox(j, j->domain, dir, e->d_name)) < 0) {
				errs++;
				continue;
			}
			if (dead && remove_mailbox(j, parent, dir, e->d_name) != 0)
				errs++;
		}
		closedir(d);
		/* Only empty now if nothing new lives there; rmdir refuses otherwise. */
		if (exists(j->db, &st_domain_exists, j->domain, NULL) == 0)
			(void)rmdir(parent);
		if (errs > 0) {
			jobs_error(j, "disk", "some mailboxes could not be removed");
			return JOB_FAILED;
		}
		j->done = 1;
		return JOB_DONE;
	}
	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT)
			goto disk;
		/* Nothing at the name; finish a removal a crashed attempt left half done. */
		if (remove_mailbox(j, parent, NULL, j->account) != 0)
			goto disk;
		json_object_set_new(j->result, "removed", json_false());
		j->done = 1;
		return JOB_DONE;
	}
	dead = dead_mailbox(j, j->domain, dir, j->account);
	if (dead < 0) {
		jobs_error(j, "temporary", "database unavailable");
		return JOB_FAILED;
	}
	if (!dead) {
		/* A new account of the same name owns it now: its mail stays. */
		json_object_set_new(j->result, "removed", json_false());
		if (remove_mailbox(j, parent, NULL, j->account) != 0)
			goto disk;
		j->done = 1;
		return JOB_DONE;
	}
	if (remove_mailbox(j, parent, dir, j->account) != 0)
		goto disk;
	/* The last mailbox of a deleted domain takes the domain's folder with it (rmdir
	 * refuses while another remains). */
	if (exists(j->db, &st_domain_exists, j->domain, NULL) == 0)
		(void)rmdir(parent);
	json_object_set_new(j->result, "removed", json_true());
	j->done = 1;
	return JOB_DONE;
disk:
	log_warn("jobs: delete %s", dir);
	jobs_error(j, "disk", "the mailbox could not be removed");
	return JOB_FAILED;
}
