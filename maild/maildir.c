/* maild/maildir.c: Maildir++ creation, the account marker, and tmp → fsync → new → fsync(dir) writes. */
#include "maild/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

const char *const maildir_folders[] = { ".Junk", ".Trash", ".Archive", NULL };

#define MARKER ".yubin-id"

int
maildir_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
maildir_mkdirs(const char *path)
{
	char tmp[MAILDIR_PATH];
	char *p;

	if (!bstrcpy(tmp, sizeof(tmp), path))
		return -1;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int
make_subdirs(const char *dir)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	char p[MAILDIR_PATH];
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!bsnprintf(p, sizeof(p), "%s/%s", dir, sub[i]))
			return -1;
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* A complete Maildir++ tree under `dir` (which exists): inbox subdirs, the folders with
 * their maildirfolder files, and the marker written last, so a marker means "complete". */
static int
build_tree(const char *dir, int64_t id)
{
	char p[MAILDIR_PATH], idtxt[32];
	size_t i;
	int fd, len;

	if (make_subdirs(dir) != 0)
		return -1;
	for (i = 0; maildir_folders[i] != NULL; i++) {
		if (!bsnprintf(p, sizeof(p), "%s/%s", dir, maildir_folders[i]))
			return -1;
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return -1;
		if (make_subdirs(p) != 0)
			return -1;
		if (!bsnprintf(p, sizeof(p), "%s/%s/maildirfolder", dir, maildir_folders[i]))
			return -1;
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	len = snprintf(idtxt, sizeof(idtxt), "%" PRId64 "\n", id);
	if (!bsnprintf(p, sizeof(p), "%s/%s.tmp", dir, MARKER))
		return -1;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, idtxt, (size_t)len) != len || fsync(fd) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	{
		char final[MAILDIR_PATH];

		if (!bsnprintf(final, sizeof(final), "%s/%s", dir, MARKER) || rename(p, final) != 0)
			return -1;
	}
	return maildir_fsync_dir(dir);
}

/* The id in the marker: >0, 0 when there is no marker, -1 on a read fault. */
static int64_t
read_marker(const char *dir)
{
	char p[MAILDIR_PATH], txt[32];
	int fd;
	ssize_t n;
	int64_t id;

	if (!bsnprintf(p, sizeof(p), "%s/%s", dir, MARKER))
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, txt, sizeof(txt) - 1);
	close(fd);
	if (n < 0)
		return -1;
	txt[n] = '\0';
	txt[strcspn(txt, "\n")] = '\0';
	if (!parse_i64(txt, 1, INT64_MAX, &id))
		return 0;   /* a broken marker is as good as none: rewrite it */
	return id;
}

static pthread_mutex_t ensure_mtx = PTHREAD_MUTEX_INITIALIZER;

int
maildir_ensure(const char *root, const char *domain, const char *name, int64_t id,
               char *path_r, size_t pathsz)
{
	struct stat st;
	int64_t have;
	int rc = -1;

	if (!bsnprintf(path_r, pathsz, "%s/%s/%s", root, domain, name))
		return -1;
	have = read_marker(path_r);
	if (have == id)
		return 0;   /* the common case, without the lock */
	/* Creation and moving aside are serialised: two deliveries to a new mailbox at once
	 * must not both move the other's fresh tree away. */
	pthread_mutex_lock(&ensure_mtx);
	have = read_marker(path_r);
	if (have == id) {
		rc = 0;
		goto out;
	}
	if (have < 0)
		goto fail;
	if (stat(path_r, &st) == 0 && have > 0) {
		char trash[MAILDIR_PATH], dest[MAILDIR_PATH], rnd[17];

		/* An old account's mailbox under the same name: never show it in this one. */
		if (!bsnprintf(trash, sizeof(trash), "%s/.trash", root) || maildir_mkdirs(trash) != 0 ||
		    !random_hex(rnd, sizeof(rnd), 8) ||
		    !bsnprintf(dest, sizeof(dest), "%s/%s@%s-%" PRId64 "-%s", trash, name, domain, have, rnd))
			goto fail;
		if (rename(path_r, dest) != 0)
			goto fail;
		log_info("maildir: moved the old mailbox of %s@%s (account %" PRId64 ") to %s",
		         name, domain, have, dest);
	}
	if (maildir_mkdirs(path_r) != 0 || build_tree(path_r, id) != 0)
		goto fail;
	{
		char parent[MAILDIR_PATH];

		if (bsnprintf(parent, sizeof(parent), "%s/%s", root, domain))
			(void)maildir_fsync_dir(parent);
	}
	rc = 0;
	goto out;
fail:
	log_warn("maildir: cannot prepare %s", path_r);
out:
	pthread_mutex_unlock(&ensure_mtx);
	return rc;
}

static pthread_mutex_t seq_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t seq;

int
maildir_open(struct maildir_msg *m, const char *path, const char *folder)
{
	struct timeval tv;
	char host[128];
	uint64_t n;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!bsnprintf(m->dir, sizeof(m->dir), "%s%s%s", path, folder && *folder ? "/" : "",
	               folder ? folder : ""))
		return -1;
	gettimeofday(&tv, NULL);
	pthread_mutex_lock(&seq_mtx);
	n = ++seq;
	pthread_mutex_unlock(&seq_mtx);
	if (gethostname(host, sizeof(host)) != 0)
		bstrcpy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* '/' and ':' cannot appear in a Maildir base name. */
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	if (!bsnprintf(m->base, sizeof(m->base), "%lld.M%06ldP%dQ%llu.%s", (long long)tv.tv_sec,
	               (long)tv.tv_usec, (int)getpid(), (unsigned long long)n, host) ||
	    !bsnprintf(m->tmp, sizeof(m->tmp), "%s/tmp/%s", m->dir, m->base))
		return -1;
	m->fd = open(m->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (m->fd < 0) {
		log_warn("maildir: open %s", m->tmp);
		return -1;
	}
	return 0;
}

int
maildir_write(struct maildir_msg *m, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(m->fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("maildir: write %s", m->tmp);
			return -1;
		}
		s += w;
		n -= (size_t)w;
		m->size += w;
	}
	return 0;
}

int
maildir_sync(struct maildir_msg *m)
{
	if (fsync(m->fd) != 0) {
		log_warn("maildir: fsync %s", m->tmp);
		return -1;
	}
	m->synced = true;
	return 0;
}

int
maildir_commit(struct maildir_msg *m)
{
	char final[MAILDIR_PATH], newdir[MAILDIR_PATH];

	if (!m->synced && fsync(m->fd) != 0) {
		log_warn("maildir: fsync %s", m->tmp);
		goto fail;
	}
	if (close(m->fd) != 0) {
		m->fd = -1;
		log_warn("maildir: close %s", m->tmp);
		goto fail;
	}
	m->fd = -1;
	if (!bsnprintf(final, sizeof(final), "%s/new/%s,S=%lld", m->dir, m->base, (long long)m->size) ||
	    !bsnprintf(newdir, sizeof(newdir), "%s/new", m->dir))
		goto fail;
	if (rename(m->tmp, final) != 0) {
		log_warn("maildir: rename %s", m->tmp);
		goto fail;
	}
	if (maildir_fsync_dir(newdir) != 0) {
		log_warn("maildir: fsync %s", newdir);
		/* Renamed but not provably durable: take it back so the sender retries. */
		(void)unlink(final);
		return -1;
	}
	m->tmp[0] = '\0';
	return 0;
fail:
	maildir_abort(m);
	return -1;
}

void
maildir_abort(struct maildir_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->tmp[0] != '\0')
		(void)unlink(m->tmp);
	m->tmp[0] = '\0';
}
