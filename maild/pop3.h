/* maild/pop3.h: the POP3 maildrop (RFC 1939) as a session sees it: a snapshot of the inbox taken at
 * sign-in under the mailbox lock, messages sent CRLF and dot-stuffed, deletions applied at QUIT. */
#ifndef YUBIN_MAILD_POP3_H
#define YUBIN_MAILD_POP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* RFC 1939 §3 keeps a command line within 255 octets (RFC 2449 §4: 255 with the CRLF). */
#define POP3_LINE_MAX 512
/* RFC 2449 §8: a UIDL is 1 to 70 characters from 0x21 to 0x7E. */
#define POP3_UIDL_MAX 70

struct pop3_msg {
	char *base;              /* the Maildir unique part: survives flag renames and new/ -> cur/ */
	char *rel;               /* "new/NAME" or "cur/NAME" as last seen */
	char uidl[POP3_UIDL_MAX + 1];
	int64_t octets;          /* its size with CRLF line ends, what LIST and STAT report */
	bool deleted;
	bool retrieved;
};

struct pop3_box {
	char dir[4096];          /* the mailbox; "" when the account has none (an empty maildrop) */
	int lock;                /* mbox_lock fd, -1 when none */
	struct pop3_msg *msgs;
	size_t n, cap;
};

/* Write callback for sending a message: 0 or -1 (connection gone). */
typedef int (*pop3_write_fn)(void *arg, const void *p, size_t n);

enum pop3_open {
	POP3_OPEN_OK,
	POP3_OPEN_IN_USE,        /* another session holds the lock: -ERR [IN-USE] */
	POP3_OPEN_TEMPFAIL,      /* the disk failed: -ERR [SYS/TEMP] */
};

/* Lock the mailbox of account id at dir (as mbox_path formed it) and take the snapshot. A
 * mailbox that does not exist, or that belongs to another (deleted) account, is an empty
 * maildrop: old mail is never served to a new account of the same name (SPEC §2). */
enum pop3_open pop3_box_open(struct pop3_box *b, const char *dir, int64_t account_id);
/* Send `okline` (the "+OK ...\r\n" status), then message i (0-based) with CRLF line ends,
 * dot-stuffed, ending with ".\r\n": all of it (body_lines < 0) or the header and body_lines
 * lines of the body (TOP). 0 sent; 1 the message vanished (an IMAP client deleted it) and
 * nothing was sent; -1 the connection or the disk failed part-way (close the session). */
int pop3_box_send(struct pop3_box *b, size_t i, int64_t body_lines, const char *okline,
                  pop3_write_fn fn, void *arg);
/* The UPDATE state: delete the marked messages, mark the retrieved ones seen (new/ -> cur/
 * with S), release the lock. *freed_r gets the bytes removed from disk. 0, or -1 when some
 * deletion failed (the rest still happened). */
int pop3_box_commit(struct pop3_box *b, int64_t *freed_r);
/* Release the lock and free the snapshot without touching any message. */
void pop3_box_close(struct pop3_box *b);

#endif
