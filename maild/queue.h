/* maild/queue.h: the durable outgoing queue (forwards, autoreplies, bounces, submission): fsync'd
 * message and envelope files under queue_dir, a runner thread that delivers to the relay or the
 * recipient's MX with retries and backoff, and DSN bounces on permanent failure. */
#ifndef YUBIN_MAILD_QUEUE_H
#define YUBIN_MAILD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

struct queue_msg {
	int fd;
	char path[1024];           /* the message file, in queue_dir/msg/ */
	char id[40];
	int64_t size;
};

/* Start a message (LF line ends, as in Maildir). 0 or -1. */
int queue_open(const struct config *cfg, struct queue_msg *q);
int queue_write(struct queue_msg *q, const void *p, size_t n);
/* Make it durable: fsync the message, then one fsync'd envelope per recipient. After 0 the
 * runner owns it. -1: nothing was queued (files removed). */
int queue_commit(const struct config *cfg, struct queue_msg *q, const char *from,
                 const char *const *rcpts, int nrcpt);
void queue_abort(struct queue_msg *q);
/* Start the runner thread. 0 or -1. */
int queue_start(const struct config *cfg);
/* Ask the runner to look now (after a commit). */
void queue_kick(void);
/* Entries waiting (for metrics and tests). */
int64_t queue_size(void);
/* The folder: queue_dir, else maildir_root/.queue. */
const char *queue_dir(const struct config *cfg, char *out, size_t outsz);

#endif
