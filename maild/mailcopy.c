/* maild/mailcopy.c: the mail_copy job (SPEC §8): every folder of a source IMAP server into the account's
 * Maildir++, resumable through mail_copy_seen, 100 MB cap, quota checked first, report mailed at the end. */
#include "maild/mailcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/jobs.h"
#include "maild/jobs_mbox.h"
#include "maild/maildir.h"

static const struct db_stmt st_account = {
	"mailcopy_account",
	"SELECT a.quota_mb::bigint * 1048576, a.usage_bytes, d.name, a.name "
	"FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = $1::bigint", 1
};

/* One copy per account at a time (the panel queues every request as its own job): a session
 * advisory lock on the runner's connection, released when the job ends. */
static const struct db_stmt st_trylock = {
	"mailcopy_trylock", "SELECT pg_try_advisory_lock(hashtextextended('yubin_mail_copy:' || $1, 0))", 1
};
static const struct db_stmt st_unlock = {
	"mailcopy_unlock", "SELECT pg_advisory_unlock(hashtextextended('yubin_mail_copy:' || $1, 0))", 1
};
static const struct db_stmt st_requeue = {
	"mailcopy_requeue",
	"UPDATE jobs SET state = 'queued', worker = NULL, heartbeat_at = NULL, attempts = attempts - 1 "
	"WHERE id = $1::bigint AND worker = $2 AND state = 'running'", 2
};

static const struct db_stmt st_seen_list = {
	"mailcopy_seen_list",
	"SELECT uid FROM mail_copy_seen WHERE account_id = $1::bigint AND source_host = $2 AND folder = $3 "
	"AND uidvalidity = $4::bigint ORDER BY uid", 4
};
static const struct db_stmt st_seen_add = {
	"mailcopy_seen_add",
	"INSERT INTO mail_copy_seen (account_id, source_host, folder, uidvalidity, uid) "
	"VALUES ($1::bigint, $2, $3, $4::bigint, $5::bigint) ON CONFLICT DO NOTHING", 5
};
static const struct db_stmt st_usage_add = {
	"mailcopy_usage_add",
	"UPDATE accounts SET usage_bytes = usage_bytes + $2::bigint, updated_at = now() WHERE id = $1::bigint", 2
};

struct mc_msg {
	uint64_t uid, size;
	unsigned flags;
	time_t date;
	bool copy;
};

struct mc_folder {
	char raw[1024];          /* the name on the source, as LIST gave it */
	char utf8[1024];         /* decoded: the key in mail_copy_seen and the name in reports */
	char target[1100];       /* "" (inbox) or ".Name.Sub" here */
	char delim;
	unsigned attrs;
	uint64_t uidvalidity;
	struct mc_msg *msgs;
	size_t n, cap;
};

struct mc {
	struct job *j;
	struct mc_folder *f;
	size_t nf, capf;
	struct mc_folder *cur;
	bool oom;
};

static void
on_folder(void *arg, const char *name, char delim, unsigned attrs)
{
	struct mc *c = arg;
	struct mc_folder *f;

	if (attrs & (IMAP_L_NOSELECT | IMAP_L_VIRTUAL))
		return;   /* not a mailbox, or a view (\All, \Flagged) that would copy mail twice */
	if (c->nf == c->capf) {
		size_t cap = c->capf ? c->capf * 2 : 16;
		struct mc_folder *p = realloc(c->f, cap * sizeof(*p));

		if (p == NULL) {
			c->oom = true;
			return;
		}
		c->f = p;
		c->capf = cap;
	}
	f = &c->f[c->nf];
	memset(f, 0, sizeof(*f));
	if (!bstrcpy(f->raw, sizeof(f->raw), name))
		return;
	(void)mutf7_decode(name, f->utf8, sizeof(f->utf8));
	f->delim = delim;
	f->attrs = attrs;
	c->nf++;
}

static void
on_message(void *arg, uint64_t uid, uint64_t size, unsigned flags, time_t date)
{
	struct mc *c = arg;
	struct mc_folder *f = c->cur;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct mc_msg *p = realloc(f->msgs, cap * sizeof(*p));

		if (p == NULL) {
			c->oom = true;
			return;
		}
		f->msgs = p;
		f->cap = cap;
	}
	f->msgs[f->n].uid = uid;
	f->msgs[f->n].size = size;
	f->msgs[f->n].flags = flags;
	f->msgs[f->n].date = date;
	f->msgs[f->n].copy = false;
	f->n++;
}

/* A Maildir++ component: '.' is the hierarchy separator and '/' the path's, so both become
 * '_' inside a name; Japanese and other UTF-8 stay as they are (Dovecot reads the tree with
 * its UTF-8 option, contrib/dovecot). */
static bool
add_component(char *out, size_t outsz, size_t *o, const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return true;
	if (*o + n + 2 >= outsz)
		return false;
	out[(*o)++] = '.';
	for (i = 0; i < n; i++)
		out[(*o)++] = (s[i] == '.' || s[i] == '/' || (unsigned char)s[i] < 0x20) ? '_' : s[i];
	out[*o] = '\0';
	return true;
}

static bool
map_target(struct mc_folder *f)
{
	static const struct { const char *name; const char *target; } known[] = {
		{ "Trash", ".Trash" }, { "Deleted Items", ".Trash" }, { "Deleted Messages", ".Trash" },
		{ "Junk", ".Junk" }, { "Spam", ".Junk" }, { "Junk E-mail", ".Junk" }, { "Archive", ".Archive" },
		{ "Sent", ".Sent" }, { "Sent Items", ".Sent" }, { "Sent Messages", ".Sent" }, { "Drafts", ".Drafts" },
	};
	const char *name = f->utf8, *p, *q;
	size_t o = 0, i;

	f->target[0] = '\0';
	if (strcasecmp(name, "INBOX") == 0)
		return true;
	if (f->attrs & IMAP_L_TRASH)
		return bstrcpy(f->target, sizeof(f->target), ".Trash");
	if (f->attrs & IMAP_L_JUNK)
		return bstrcpy(f->target, sizeof(f->target), ".Junk");
	if (f->attrs & IMAP_L_ARCHIVE)
		return bstrcpy(f->target, sizeof(f->target), ".Archive");
	if (f->attrs & IMAP_L_SENT)
		return bstrcpy(f->target, sizeof(f->target), ".Sent");
	if (f->attrs & IMAP_L_DRAFTS)
		return bstrcpy(f->target, sizeof(f->target), ".Drafts");
	/* Courier-style servers keep every folder under INBOX (INBOX.Sent). */
	if (f->delim != 0 && strncasecmp(name, "INBOX", 5) == 0 && name[5] == f->delim)
		name += 6;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcasecmp(name, known[i].name) == 0)
			return bstrcpy(f->target, sizeof(f->target), known[i].target);
	for (p = name; ; p = q + 1) {
		q = f->delim ? strchr(p, f->delim) : NULL;
		if (q == NULL)
			q = p + strlen(p);
		if (!add_component(f->target, sizeof(f->target), &o, p, (size_t)(q - p)))
			return false;
		if (*q == '\0')
			break;
	}
	return o > 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The UIDs of this folder copied by earlier runs (SPEC §8: a rerun never duplicates). */
static int
load_seen(struct job *j, const char *host, const struct mc_folder *f, uint64_t **uids_r, size_t *n_r)
{
	char uv[24];
	struct db_res *r = NULL;
	int i, n;

	*uids_r = NULL;
	*n_r = 0;
	bsnprintf(uv, sizeof(uv), "%llu", (unsigned long long)f->uidvalidity);
	if (db_runv(j->db, &st_seen_list, &r, j->account_id_s, host, f->utf8, uv) != DB_OK)
		return -1;
	n = db_rows(r);
	if (n > 0) {
		*uids_r = malloc((size_t)n * sizeof(uint64_t));
		if (*uids_r == NULL) {
			db_res_free(&r);
			return -1;
		}
		for (i = 0; i < n; i++)
			(*uids_r)[i] = (uint64_t)db_i64(r, i, 0);
	}
	*n_r = (size_t)n;
	db_res_free(&r);
	return 0;
}

static void
maildir_flags(unsigned flags, char out[8])
{
	size_t n = 0;

	/* Maildir flags in ASCII order. */
	if (flags & IMAP_F_DRAFT)
		out[n++] = 'D';
	if (flags & IMAP_F_FLAGGED)
		out[n++] = 'F';
	if (flags & IMAP_F_ANSWERED)
		out[n++] = 'R';
	if (flags & IMAP_F_SEEN)
		out[n++] = 'S';
	if (flags & IMAP_F_DELETED)
		out[n++] = 'T';
	out[n] = '\0';
}

/* Fetch one message into the folder (maild/maildir.c's tmp/ file and unique name), fsync, its
 * INTERNALDATE as mtime (Dovecot's received date, and what retention counts from), rename
 * into cur/ with its flags; then recorded as copied together with the usage it adds. 0, 1
 * gone at the source, -1 failure (MC_TEMP). */
static int
copy_one(struct job *j, struct imap *im, const char *host, const struct mc_folder *f,
         const struct mc_msg *m, const char *dir)
{
	char dst[MAILDIR_PATH], cur[MAILDIR_PATH], fl[8], uv[24], uid[24], len_s[24];
	struct maildir_msg mm;
	int64_t len = 0;
	int rc;

	maildir_flags(m->flags, fl);
	if (maildir_open(&mm, dir, f->target) != 0)
		return -1;
	rc = imap_fetch_body(im, m->uid, mm.fd, &len);
	if (rc == 0 && fsync(mm.fd) != 0)
		rc = -1;
	if (rc == 0 && m->date != 0) {
		struct timespec ts[2] = { { m->date, 0 }, { m->date, 0 } };

		(void)futimens(mm.fd, ts);
	}
	if (close(mm.fd) != 0 && rc == 0)
		rc = -1;
	mm.fd = -1;
	if (rc == 0 && (!bsnprintf(cur, sizeof(cur), "%s/cur", mm.dir) ||
	    !bsnprintf(dst, sizeof(dst), "%s/%s,S=%lld:2,%s", cur, mm.base, (long long)len, fl) ||
	    rename(mm.tmp, dst) != 0 || maildir_fsync_dir(cur) != 0))
		rc = -1;
	if (rc != 0) {
		maildir_abort(&mm);
		return rc;
	}
	bsnprintf(uv, sizeof(uv), "%llu", (unsigned long long)f->uidvalidity);
	bsnprintf(uid, sizeof(uid), "%llu", (unsigned long long)m->uid);
	bsnprintf(len_s, sizeof(len_s), "%lld", (long long)len);
	if (db_begin(j->db) != DB_OK ||
	    db_runv(j->db, &st_seen_add, NULL, j->account_id_s, host, f->utf8, uv, uid) != DB_OK ||
	    db_runv(j->db, &st_usage_add, NULL, j->account_id_s, len_s) != DB_OK || db_commit(j->db) != DB_OK) {
		/* Unrecorded, it would be copied again by the next run: take it back. */
		db_rollback(j->db);
		(void)unlink(dst);
		return -1;
	}
	return 0;
}

struct params {
	const char *host, *login, *password, *notify;
	int port;
};

static bool
read_params(struct job *j, struct params *p)
{
	json_t *port = json_object_get(j->params, "source_port");

	memset(p, 0, sizeof(*p));
	p->host = json_string_value(json_object_get(j->params, "source_host"));
	p->login = json_string_value(json_object_get(j->params, "source_login"));
	p->password = json_string_value(json_object_get(j->params, "source_password"));
	p->notify = json_string_value(json_object_get(j->params, "notify_address"));
	if (json_is_integer(port) && json_integer_value(port) > 0 && json_integer_value(port) < 65536)
		p->port = (int)json_integer_value(port);
	else if (json_is_string(port))
		p->port = atoi(json_string_value(port));
	return p->host != NULL && *p->host != '\0' && p->password != NULL;
}

static void
free_folders(struct mc *c)
{
	size_t i;

	for (i = 0; i < c->nf; i++)
		free(c->f[i].msgs);
	free(c->f);
	c->f = NULL;
	c->nf = c->capf = 0;
}

/* The copy itself; fills rep. */
static void
copy(struct job *j, struct mc *c, const struct params *p, const char *login, const char *dir,
     int64_t quota, int64_t usage, struct mc_report *rep)
{
	struct imap *im = NULL;
	size_t i, k;
	int64_t need = 0;

	rep->reason = imap_open(&im, j->cfg, p->host, p->port, rep->detail, sizeof(rep->detail));
	if (rep->reason != MC_OK)
		return;
	switch (imap_login(im, login, p->password)) {
	case 0:
		break;
	case 1:
		rep->reason = MC_LOGIN;
		goto out;
	default:
		rep->reason = MC_UNREACHABLE;
		bsnprintf(rep->detail, sizeof(rep->detail), "the connection failed during LOGIN");
		goto out;
	}
	if (imap_list(im, on_folder, c) != 0 || c->oom) {
		rep->reason = MC_TEMP;
		bsnprintf(rep->detail, sizeof(rep->detail), "LIST failed");
		goto out;
	}
	/* First every folder's messages, so the source's size is known before anything is
	 * written: a copy that cannot fit starts nothing (SPEC §8 reason "quota"). */
	for (i = 0; i < c->nf; i++) {
		struct mc_folder *f = &c->f[i];
		uint64_t exists = 0, *seen = NULL;
		size_t nseen = 0;
		int rc;

		if (!map_target(f))
			continue;
		rc = imap_examine(im, f->raw, &f->uidvalidity, &exists);
		if (rc == 1)
			continue;   /* the server refuses this one: the rest is still copied */
		if (rc < 0) {
			rep->reason = MC_TEMP;
			bsnprintf(rep->detail, sizeof(rep->detail), "EXAMINE %s failed", f->utf8);
			goto out;
		}
		if (exists == 0)
			continue;
		c->cur = f;
		if (imap_fetch_meta(im, on_message, c) != 0 || c->oom) {
			rep->reason = MC_TEMP;
			bsnprintf(rep->detail, sizeof(rep->detail), "FETCH in %s failed", f->utf8);
			goto out;
		}
		if (load_seen(j, p->host, f, &seen, &nseen) != 0) {
			rep->reason = MC_TEMP;
			bsnprintf(rep->detail, sizeof(rep->detail), "database unavailable");
			goto out;
		}
		rep->folders++;
		for (k = 0; k < f->n; k++) {
			struct mc_msg *m = &f->msgs[k];

			rep->source_messages++;
			if (m->size > MAILCOPY_MAX_MESSAGE)
				rep->too_large++;
			else if (nseen > 0 && bsearch(&m->uid, seen, nseen, sizeof(uint64_t), cmp_u64) != NULL)
				rep->skipped_seen++;
			else {
				m->copy = true;
				need += (int64_t)m->size;
				j->total++;
			}
		}
		free(seen);
	}
	if (rep->source_messages == 0) {
		rep->reason = MC_EMPTY;
		goto out;
	}
	rep->need_bytes = need;
	rep->free_bytes = quota > usage ? quota - usage : 0;
	if (need > rep->free_bytes) {
		rep->reason = MC_QUOTA;
		j->total = 0;
		goto out;
	}
	if (jobs_progress(j, true) != 0) {
		rep->reason = MC_TEMP;
		goto out;
	}
	for (i = 0; i < c->nf; i++) {
		struct mc_folder *f = &c->f[i];
		uint64_t uv, exists;
		bool any = false;

		for (k = 0; k < f->n && !any; k++)
			any = f->msgs[k].copy;
		if (!any)
			continue;
		if (*f->target && mbox_folder_create(dir, f->target) != 0) {
			log_warn("mailcopy: folder %s/%s", dir, f->target);
			rep->reason = MC_TEMP;
			bsnprintf(rep->detail, sizeof(rep->detail), "cannot create the folder %s", f->utf8);
			goto out;
		}
		if (imap_examine(im, f->raw, &uv, &exists) != 0 || uv != f->uidvalidity) {
			rep->reason = MC_TEMP;
			bsnprintf(rep->detail, sizeof(rep->detail), "%s changed at the source", f->utf8);
			goto out;
		}
		for (k = 0; k < f->n; k++) {
			int rc;

			if (!f->msgs[k].copy)
				continue;
			rc = copy_one(j, im, p->host, f, &f->msgs[k], dir);
			if (rc < 0) {
				rep->reason = MC_TEMP;
				bsnprintf(rep->detail, sizeof(rep->detail), "copying a message of %s failed", f->utf8);
				goto out;
			}
			if (rc == 0)
				rep->copied++;
			j->done++;
			if (jobs_progress(j, false) != 0) {
				rep->reason = MC_TEMP;
				goto out;
			}
		}
	}
	rep->reason = rep->too_large > 0 ? MC_TOO_LARGE : MC_OK;
out:
	if (im != NULL)
		imap_logout(im);
	imap_close(&im);
}

enum job_outcome
mailcopy_run(struct job *j)
{
	struct params p;
	struct mc c;
	struct mc_report rep;
	struct db_res *r = NULL;
	char dir[MAILDIR_PATH], domain[256], name[65], address[330];
	const char *login;
	int64_t quota, usage;
	enum job_outcome o = JOB_FAILED;
	bool locked = false;

	memset(&c, 0, sizeof(c));
	memset(&rep, 0, sizeof(rep));
	c.j = j;
	j->result = json_object();
	if (db_runv(j->db, &st_trylock, &r, j->account_id_s) != DB_OK || db_rows(r) != 1) {
		jobs_error(j, "temporary", "database unavailable");
		goto out;
	}
	locked = db_bool(r, 0, 0);
	db_res_free(&r);
	if (!locked) {
		/* Another copy of this account runs: this one waits its turn. */
		if (db_runv(j->db, &st_requeue, NULL, j->id_s, j->worker) != DB_OK)
			log_warnx("mailcopy: job %s not requeued: %s", j->id_s, db_errmsg(j->db));
		o = JOB_REQUEUED;
		goto out;
	}
	if (db_runv(j->db, &st_account, &r, j->account_id_s) != DB_OK) {
		jobs_error(j, "temporary", "database unavailable");
		goto out;
	}
	if (db_rows(r) != 1) {
		json_object_set_new(j->result, "skipped", json_string("account_deleted"));
		o = JOB_DONE;
		goto out;
	}
	quota = db_i64(r, 0, 0);
	usage = db_i64(r, 0, 1);
	bstrcpy(domain, sizeof(domain), db_val(r, 0, 2));
	bstrcpy(name, sizeof(name), db_val(r, 0, 3));
	db_res_free(&r);
	bsnprintf(address, sizeof(address), "%s@%s", name, domain);

	if (!read_params(j, &p)) {
		/* The password is wiped when a job ends; a copy without one cannot run. */
		rep.reason = MC_TEMP;
		bsnprintf(rep.detail, sizeof(rep.detail), "the request is incomplete");
	} else if (maildir_ensure(j->cfg->maildir_root, domain, name, j->account_id, dir, sizeof(dir)) != 0) {
		log_warn("mailcopy: mailbox of %s", address);
		rep.reason = MC_TEMP;
		bsnprintf(rep.detail, sizeof(rep.detail), "the destination mailbox is not available");
	} else {
		login = p.login != NULL && *p.login != '\0' ? p.login : address;
		rep.source_login = login;
		copy(j, &c, &p, login, dir, quota, usage, &rep);
		if (rep.copied > 0 && db_notify_domain(j->db, domain) != DB_OK)
			log_warnx("mailcopy: NOTIFY after the copy: %s", db_errmsg(j->db));
	}
	rep.source_host = p.host ? p.host : "";
	if (rep.source_login == NULL)
		rep.source_login = p.login ? p.login : address;
	rep.address = address;
	rep.notify = p.notify;
	rep.job_id = j->id;
	json_object_set_new(j->result, "reason", json_string(mailcopy_reason_code(rep.reason)));
	json_object_set_new(j->result, "copied", json_integer(rep.copied));
	json_object_set_new(j->result, "skipped_already_copied", json_integer(rep.skipped_seen));
	json_object_set_new(j->result, "too_large", json_integer(rep.too_large));
	json_object_set_new(j->result, "folders", json_integer(rep.folders));
	json_object_set_new(j->result, "source_messages", json_integer(rep.source_messages));
	if (rep.reason != MC_OK)
		jobs_error(j, mailcopy_reason_code(rep.reason), mailcopy_reason_text(rep.reason));
	log_info("mailcopy: job %s %s <- %s: %s, %lld copied, %lld already, %lld over 100 MB%s%s", j->id_s,
	    address, rep.source_host, mailcopy_reason_code(rep.reason), (long long)rep.copied,
	    (long long)rep.skipped_seen, (long long)rep.too_large, rep.detail[0] ? ": " : "", rep.detail);
	if (p.notify != NULL && *p.notify != '\0' && mailcopy_report(j->db, j->cfg, domain, &rep) != 0)
		jobs_error(j, "report", "the report mail could not be queued");
	/* Messages left at the source for their size: the copy did all it can (state done), the
	 * report asks the user to move them by other means. */
	o = rep.reason == MC_OK || rep.reason == MC_TOO_LARGE ? JOB_DONE : JOB_FAILED;
out:
	if (locked && db_runv(j->db, &st_unlock, NULL, j->account_id_s) != DB_OK)
		log_warnx("mailcopy: advisory unlock: %s", db_errmsg(j->db));
	free_folders(&c);
	db_res_free(&r);
	return o;
}
