/* maild/maildir.h: Maildir++ mailboxes at maildir_root/DOMAIN/ACCOUNT/: creation with the standard
 * folders, the .yubin-id marker that keeps a deleted account's mail out of a new one, durable writes. */
#ifndef YUBIN_MAILD_MAILDIR_H
#define YUBIN_MAILD_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAILDIR_PATH 1024
/* The folders every mailbox gets (SPEC §8), besides the inbox. */
extern const char *const maildir_folders[];

/* The mailbox of account `id` (domain/name as stored, lower case) into path_r, created with
 * cur/new/tmp and the standard folders when missing. A directory there that carries another
 * account's marker (an old deleted account of the same name) is first moved aside to
 * maildir_root/.trash/, so old mail never shows in the new account (SPEC §2). 0, or -1 on a
 * filesystem fault (tempfail, logged). */
int maildir_ensure(const char *root, const char *domain, const char *name, int64_t id,
                   char *path_r, size_t pathsz);

/* A message being written into a mailbox folder's tmp/. */
struct maildir_msg {
	int fd;
	char tmp[MAILDIR_PATH];
	char dir[MAILDIR_PATH];     /* the folder: mailbox or mailbox/.Junk */
	char base[256];             /* unique name without the ,S= size */
	int64_t size;
	bool synced;                /* maildir_sync done: commit skips the file's fsync */
};

/* Open a new file in folder (NULL or "" = the inbox, else ".Junk" etc.) of mailbox `path`.
 * 0 or -1 (logged). */
int maildir_open(struct maildir_msg *m, const char *path, const char *folder);
int maildir_write(struct maildir_msg *m, const void *p, size_t n);
/* fsync the file now (may run on another thread while the caller does other work); the
 * file stays open. 0 or -1 (logged; the caller then aborts). */
int maildir_sync(struct maildir_msg *m);
/* fsync the file (unless maildir_sync did), close it, rename it into new/ with ,S=SIZE and
 * fsync new/: the message is then durable (SPEC §8). 0 or -1 (the temporary file is removed). */
int maildir_commit(struct maildir_msg *m);
/* Give up: close and unlink the temporary file. Safe after a failed commit. */
void maildir_abort(struct maildir_msg *m);
/* fsync a directory; 0 or -1. */
int maildir_fsync_dir(const char *dir);
/* mkdir -p with mode 0700 for the last component and 0755 above; 0 or -1. */
int maildir_mkdirs(const char *path);

#endif
