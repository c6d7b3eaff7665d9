/* maild/jobs_mbox.h: a mailbox on disk (Maildir++) as POP3, the jobs, retention and mail copy see it:
 * its path, the owner marker, walks over its folders, sizes, removal, a session lock. Creating a mailbox
 * and writing messages are maild/maildir.c's (maildir_ensure, maildir_open). */
#ifndef YUBIN_MAILD_JOBS_MBOX_H
#define YUBIN_MAILD_JOBS_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/config.h"

/* The file in a mailbox's top folder naming the account id it belongs to (the delivery code
 * writes it when it creates the mailbox), so a mailbox left by a deleted account is never
 * served to, or emptied for, a new account of the same name (SPEC §2). */
#define MBOX_MARKER ".yubin-id"
/* The POP3 session lock (flock) in the mailbox's top folder; the retention sweep skips a
 * mailbox while a session holds it. */
#define MBOX_LOCKFILE ".yubin-pop3.lock"

/* maildir_root/DOMAIN/NAME into out. False when a part is empty, starts with '.', holds '/',
 * or the path did not fit: such a name never reaches the disk. */
bool mbox_path(const struct config *cfg, const char *domain, const char *name, char *out, size_t outsz);

enum mbox_owner {
	MBOX_OURS,      /* the marker names this account */
	MBOX_ABSENT,    /* no mailbox folder yet */
	MBOX_FOREIGN,   /* the marker names another account (or is unreadable garbage) */
	MBOX_ERROR,     /* the disk failed (errno set) */
};
/* Whose mailbox `dir` is. A folder without a marker is claimed for account_id (the marker is
 * written) when `claim`, else reported MBOX_FOREIGN. */
enum mbox_owner mbox_owner(const char *dir, int64_t account_id, bool claim);
/* The account id in dir's marker: 1 found, 0 no marker, -1 error or unreadable. */
int mbox_marker(const char *dir, int64_t *id_r);
/* Create the Maildir++ folder `folder` (".Archive") with cur/new/tmp and `maildirfolder`. 0 or -1. */
int mbox_folder_create(const char *dir, const char *folder);

/* Called for each message file: folder "" (inbox) or ".Name", sub "new" or "cur", the file name
 * and its stat. A non-zero return stops the walk and is returned by mbox_walk. */
typedef int (*mbox_visit_fn)(const char *folder, const char *sub, const char *name,
                             const struct stat *st, void *arg);
/* Visit every message of the inbox (folders_too false) or of every folder. A folder that
 * vanishes while walking is skipped. 0, the callback's value, or -1 on a disk error. */
int mbox_walk(const char *dir, bool folders_too, mbox_visit_fn fn, void *arg);
/* Bytes of all messages in all folders (what accounts.usage_bytes counts); -1 on error. */
int64_t mbox_bytes(const char *dir);
/* Length of the unique part of a Maildir file name (before ",S=…" fields and ":2," flags):
 * stable across flag changes and new/ -> cur/ moves (Dovecot keys its uidlist on it too), so
 * POP3 uses it as the UIDL. */
size_t mbox_base_len(const char *name);
/* Find the file whose unique part is `base` in folder/new or folder/cur (it may have been
 * renamed by a flag change). Writes "sub/name" relative to the folder. 1 found, 0 not, -1 error. */
int mbox_find(const char *folderdir, const char *base, size_t baselen, char *rel, size_t relsz);

/* Remove dir and everything under it. 0, or -1 (errno; what could be removed is gone). */
int mbox_remove_tree(const char *dir);

/* Take the POP3 session lock of mailbox dir without waiting: an fd (>= 0), -2 when another
 * session holds it, -1 on error. mbox_unlock closes it. */
int mbox_lock(const char *dir);
void mbox_unlock(int *fd);

#endif
