/* maild/jobs_mbox.c: Maildir++ mailboxes on disk for POP3, jobs, retention and mail copy (see jobs_mbox.h). */
#include "maild/jobs_mbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/util.h"
#include "maild/maildir.h"

static bool
safe_part(const char *s)
{
	return s != NULL && *s != '\0' && *s != '.' && strchr(s, '/') == NULL;
}

bool
mbox_path(const struct config *cfg, const char *domain, const char *name, char *out, size_t outsz)
{
	if (!safe_part(domain) || !safe_part(name) || cfg->maildir_root[0] == '\0')
		return false;
	return bsnprintf(out, outsz, "%s/%s/%s", cfg->maildir_root, domain, name);
}

int
mbox_marker(const char *dir, int64_t *id_r)
{
	char path[4096], buf[32];
	ssize_t n;
	int fd;

	if (!bsnprintf(path, sizeof(path), "%s/%s", dir, MBOX_MARKER)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, " \t\r\n")] = '\0';
	if (!parse_i64(buf, 1, INT64_MAX, id_r)) {
		errno = EINVAL;
		return -1;
	}
	return 1;
}

/* Write the marker under a temporary name and link() it into place: link fails when another
 * writer got there first, so two claimants never both believe they won. */
static int
write_marker(const char *dir, int64_t account_id)
{
	char tmp[4096], path[4096], text[32];
	int fd, rc = -1, len;

	len = snprintf(text, sizeof(text), "%lld\n", (long long)account_id);
	if (len < 0 || !bsnprintf(tmp, sizeof(tmp), "%s/%s.%ld.tmp", dir, MBOX_MARKER, (long)getpid()) ||
	    !bsnprintf(path, sizeof(path), "%s/%s", dir, MBOX_MARKER)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)len) == len && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
		rc = -1;
	(void)unlink(tmp);
	if (rc == 0)
		rc = maildir_fsync_dir(dir);
	return rc;
}

enum mbox_owner
mbox_owner(const char *dir, int64_t account_id, bool claim)
{
	struct stat st;
	int64_t id = 0;
	int m;

	if (lstat(dir, &st) != 0)
		return errno == ENOENT ? MBOX_ABSENT : MBOX_ERROR;
	if (!S_ISDIR(st.st_mode))
		return MBOX_FOREIGN;
	m = mbox_marker(dir, &id);
	if (m == 0 && claim) {
		if (write_marker(dir, account_id) != 0)
			return MBOX_ERROR;
		m = mbox_marker(dir, &id);
	}
	if (m < 0)
		return errno == EINVAL ? MBOX_FOREIGN : MBOX_ERROR;
	if (m == 0)
		return MBOX_FOREIGN;
	return id == account_id ? MBOX_OURS : MBOX_FOREIGN;
}

static int
make_subdirs(const char *dir)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char p[4096];
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!bsnprintf(p, sizeof(p), "%s/%s", dir, subs[i])) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

int
mbox_folder_create(const char *dir, const char *folder)
{
	char p[4096];
	int fd;

	if (!bsnprintf(p, sizeof(p), "%s/%s", dir, folder)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		return -1;
	if (make_subdirs(p) != 0)
		return -1;
	/* Maildir++: the empty file marks a sub folder (Courier and Dovecot look for it). */
	if (!bsnprintf(p, sizeof(p), "%s/%s/maildirfolder", dir, folder)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
walk_folder(const char *dir, const char *folder, mbox_visit_fn fn, void *arg)
{
	static const char *const subs[] = { "new", "cur" };
	char p[4096];
	size_t i;
	int rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		DIR *d;
		struct dirent *e;
		int dfd;

		if (!bsnprintf(p, sizeof(p), "%s%s%s/%s", dir, *folder ? "/" : "", folder, subs[i])) {
			errno = ENAMETOOLONG;
			return -1;
		}
		d = opendir(p);
		if (d == NULL) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return -1;
		}
		dfd = dirfd(d);
		while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
			struct stat st;

			if (e->d_name[0] == '.')
				continue;
			if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				if (errno == ENOENT)
					continue;   /* moved or removed meanwhile */
				rc = -1;
				break;
			}
			if (S_ISREG(st.st_mode))
				rc = fn(folder, subs[i], e->d_name, &st, arg);
		}
		if (rc == 0 && e == NULL && errno != 0)
			rc = -1;
		closedir(d);
	}
	return rc;
}

int
mbox_walk(const char *dir, bool folders_too, mbox_visit_fn fn, void *arg)
{
	DIR *d;
	struct dirent *e;
	int rc;

	rc = walk_folder(dir, "", fn, arg);
	if (rc != 0 || !folders_too)
		return rc;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		rc = walk_folder(dir, e->d_name, fn, arg);
	}
	closedir(d);
	return rc;
}

static int
add_size(const char *folder, const char *sub, const char *name, const struct stat *st, void *arg)
{
	(void)folder;
	(void)sub;
	(void)name;
	*(int64_t *)arg += (int64_t)st->st_size;
	return 0;
}

int64_t
mbox_bytes(const char *dir)
{
	int64_t total = 0;

	if (mbox_walk(dir, true, add_size, &total) != 0)
		return -1;
	return total;
}

size_t
mbox_base_len(const char *name)
{
	return strcspn(name, ",:");
}

int
mbox_find(const char *folderdir, const char *base, size_t baselen, char *rel, size_t relsz)
{
	static const char *const subs[] = { "cur", "new" };
	char p[4096];
	size_t i;

	for (i = 0; i < 2; i++) {
		DIR *d;
		struct dirent *e;
		int found = 0;

		if (!bsnprintf(p, sizeof(p), "%s/%s", folderdir, subs[i])) {
			errno = ENAMETOOLONG;
			return -1;
		}
		d = opendir(p);
		if (d == NULL) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] != '.' && mbox_base_len(e->d_name) == baselen &&
			    memcmp(e->d_name, base, baselen) == 0) {
				found = bsnprintf(rel, relsz, "%s/%s", subs[i], e->d_name) ? 1 : -1;
				break;
			}
		}
		closedir(d);
		if (found != 0)
			return found;
	}
	return 0;
}

/* Remove `name` under the open folder dfd, not following symbolic links. */
static int
remove_at(int dfd, const char *name)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (remove_at(dirfd(d), e->d_name) != 0)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int
mbox_remove_tree(const char *dir)
{
	return remove_at(AT_FDCWD, dir);
}

int
mbox_lock(const char *dir)
{
	char p[4096];
	int fd;

	if (!bsnprintf(p, sizeof(p), "%s/%s", dir, MBOX_LOCKFILE)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	/* flock locks belong to the open file description, so two sessions in one process
	 * (each opening the file) exclude each other as two processes do. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;

		close(fd);
		return busy ? -2 : -1;
	}
	return fd;
}

void
mbox_unlock(int *fd)
{
	if (*fd >= 0) {
		(void)flock(*fd, LOCK_UN);
		close(*fd);
	}
	*fd = -1;
}
