/* maild/mailcopy.h: the mail data copy of SPEC §8 — a small IMAP4rev1 client (RFC 3501) for the source
 * server, modified UTF-7 names (RFC 3501 §5.1.3), and the report mail sent when a copy ends. */
#ifndef YUBIN_MAILD_MAILCOPY_H
#define YUBIN_MAILD_MAILCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/config.h"
#include "core/db.h"

/* SPEC §8: messages over 100 MB are not copied. */
#define MAILCOPY_MAX_MESSAGE 104857600
/* A response line (with small literals) from the source, before it is refused. */
#define IMAP_RESP_MAX (1024 * 1024)

/* Why a copy could not finish: each has its own paragraph in the report (SPEC §8). */
enum mc_reason {
	MC_OK,
	MC_EMPTY,         /* the source holds no mail: nothing is copied */
	MC_QUOTA,         /* the mailbox's free space is smaller than the source's mail */
	MC_TOO_LARGE,     /* messages over 100 MB were left at the source */
	MC_UNREACHABLE,   /* no connection, not IMAP, or TLS that cannot be trusted */
	MC_LOGIN,         /* the source refused the login and password */
	MC_TEMP,          /* anything temporary: the server's load, our disk, our database */
};

/* Message flags (system flags of RFC 3501 §2.3.2) and mailbox attributes (RFC 3501, RFC 6154). */
enum {
	IMAP_F_SEEN = 1, IMAP_F_ANSWERED = 2, IMAP_F_FLAGGED = 4, IMAP_F_DELETED = 8, IMAP_F_DRAFT = 16,
};
enum {
	IMAP_L_NOSELECT = 1, IMAP_L_TRASH = 2, IMAP_L_JUNK = 4, IMAP_L_SENT = 8, IMAP_L_DRAFTS = 16,
	IMAP_L_ARCHIVE = 32, IMAP_L_VIRTUAL = 64,   /* \All, \Flagged: views of other folders */
};

struct imap;

/* Connect to host (port 0: 993 with TLS, then 143) and read the greeting. With a port, TLS
 * is tried first and plain IMAP (with STARTTLS when offered) after. A certificate that does
 * not verify (mailcopy_tls_verify) ends the attempt: no fallback to plain text then. MC_OK,
 * MC_UNREACHABLE (why set). */
enum mc_reason imap_open(struct imap **im_r, const struct config *cfg, const char *host, int port,
                         char *why, size_t whysz);
void imap_close(struct imap **im);
/* LOGIN: 0 accepted, 1 refused (NO), -1 connection or protocol failure. */
int imap_login(struct imap *im, const char *user, const char *password);
/* LIST "" "*": cb gets the raw (modified UTF-7) name, the hierarchy delimiter (0 for NIL)
 * and IMAP_L_* attributes. 0, or -1. */
int imap_list(struct imap *im, void (*cb)(void *arg, const char *name, char delim, unsigned attrs),
              void *arg);
/* EXAMINE (read-only: the copy never changes the source). 0, 1 refused (NO), -1 failure. */
int imap_examine(struct imap *im, const char *name, uint64_t *uidvalidity_r, uint64_t *exists_r);
/* UID FETCH 1:* (UID RFC822.SIZE FLAGS INTERNALDATE) of the examined folder. 0 or -1. */
int imap_fetch_meta(struct imap *im, void (*cb)(void *arg, uint64_t uid, uint64_t size, unsigned flags,
                    time_t internaldate), void *arg);
/* UID FETCH uid (BODY.PEEK[]) written to fd as it arrives. *len_r gets its length. 0, 1 the
 * message is gone (expunged meanwhile), -1 failure. */
int imap_fetch_body(struct imap *im, uint64_t uid, int fd, int64_t *len_r);
void imap_logout(struct imap *im);

/* Modified UTF-7 (RFC 3501 §5.1.3) to UTF-8. False when malformed (then out holds the raw name). */
bool mutf7_decode(const char *in, char *out, size_t outsz);
/* INTERNALDATE "17-Jul-1996 02:44:25 -0700" to time_t; false when malformed. */
bool imap_parse_date(const char *s, time_t *t);

/* The tokenizer behind the client, public for the unit test and the fuzz target: one
 * response (line plus literals in wire form) split into atoms, strings and parentheses. */
enum imap_tok { IMAP_T_ATOM, IMAP_T_STRING, IMAP_T_LPAREN, IMAP_T_RPAREN, IMAP_T_NIL, IMAP_T_END, IMAP_T_ERR };
struct imap_tk {
	const char *p, *e;
};
/* Next token; for atoms and strings v and vlen give its text (quoted strings unescaped
 * into tmp, literals in place). */
enum imap_tok imap_tk_next(struct imap_tk *t, const char **v, size_t *vlen, char *tmp, size_t tmpsz);

/* What a copy did, for the report. */
struct mc_report {
	enum mc_reason reason;
	const char *source_host;
	const char *source_login;
	const char *address;       /* the destination account */
	const char *notify;
	int64_t copied, skipped_seen, too_large, folders, source_messages;
	int64_t need_bytes, free_bytes;
	char detail[256];          /* e.g. the connection error, for the technical line */
	int64_t job_id;
};
/* The report mail (subject 「【重要】メールデータコピーが完了いたしました。」 on success,
 * 「【重要】メールデータコピーの再操作をお願いします。」 otherwise), queued for the notification
 * address from postmaster@<domain>. 0, or -1 (logged). */
int mailcopy_report(struct db *db, const struct config *cfg, const char *domain, const struct mc_report *r);
/* The English sentence for a reason (job errors, logs). */
const char *mailcopy_reason_text(enum mc_reason r);
const char *mailcopy_reason_code(enum mc_reason r);

#endif
