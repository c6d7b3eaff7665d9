/* maild/deliver.h: what happens to a received message after DATA: virus scan, spam verdict, local
 * delivery with the account's toggles, forwards, autoreplies (inbound), or the queue (submission). */
#ifndef YUBIN_MAILD_DELIVER_H
#define YUBIN_MAILD_DELIVER_H

#include <stddef.h>

#include "core/config.h"
#include "maild/mailauth.h"
#include "maild/msg.h"
#include "maild/rcpt.h"
#include "maild/smtp.h"

struct envelope {
	char id[32];                         /* transaction id for logs and Received */
	char from[SMTP_PATH_MAX + 1];        /* "" for the null sender */
	char helo[256];
	char peer[64];
	const char *proto;                   /* "ESMTP", "ESMTPS", "ESMTPSA" (RFC 3848) */
	int nrcpt;
	struct rcpt_info rcpt[SMTP_RCPT_MAX];            /* inbound: resolved local recipients */
	char addr[SMTP_RCPT_MAX][SMTP_PATH_MAX + 1];     /* every recipient as given */
	const struct mailauth_user *user;    /* submission: who signed in */
};

/* The final reply to DATA, without CRLF, into reply: "250 2.0.0 …" only when every
 * recipient's copy, forward and reply is durably on disk; 4xx for every temporary fault
 * (engine or database unreachable, disk), 554 5.7.1 for a virus. */
void deliver_inbound(const struct config *cfg, const struct envelope *env, struct msg *m,
                     char *reply, size_t replysz);
/* Submission: Received header added, the message queued for every recipient (local ones
 * go to our own inbound through the queue); counts the send for the send lock. */
void deliver_submission(const struct config *cfg, const struct envelope *env, struct msg *m,
                        char *reply, size_t replysz);
/* "Received:" field text for env (and `for <rcpt>` when rcpt is not NULL), ending in LF. */
void deliver_received(const struct config *cfg, const struct envelope *env, const char *rcpt,
                      struct buf *out);
/* The spool folder (maildir_root/.spool), created at start-up. */
const char *deliver_spool_dir(const struct config *cfg, char *out, size_t outsz);

#endif
