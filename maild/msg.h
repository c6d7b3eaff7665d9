/* maild/msg.h: a received message: its header section in memory (bounded), its body in a spool file,
 * and the header-field walk every later step uses. */
#ifndef YUBIN_MAILD_MSG_H
#define YUBIN_MAILD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The header section kept in memory; past it header lines go to the body file as they came. */
#define MSG_HDR_MAX (256 * 1024)

struct msg {
	struct buf hdr;          /* header fields, LF line ends, without the blank line */
	int body_fd;             /* spool file with the body (after the blank line) */
	char body_path[1024];
	int64_t body_size;
	bool has_body;           /* a blank line was seen */
};

struct hdr_field {
	const char *name;
	size_t namelen;
	const char *value;       /* after the colon and leading blanks, folded, without the last LF */
	size_t valuelen;
	const char *raw;         /* the whole field with its LF */
	size_t rawlen;
};

/* The field starting at offset pos of hdr; returns the offset after it, 0 at the end. */
size_t msg_hdr_next(const char *hdr, size_t len, size_t pos, struct hdr_field *f);
bool msg_hdr_is(const struct hdr_field *f, const char *name);
/* The first field called `name`, unfolded (CR/LF removed) into out (truncated to outsz).
 * False when there is none. */
bool msg_hdr_get(const struct msg *m, const char *name, char *out, size_t outsz);
/* Copy the body into fd from the start (copy_file_range, else read/write). 0 or -1. */
int msg_copy_body(const struct msg *m, int fd);
/* The whole message (headers, blank line, body) in chunks to fn; stops at fn's non-zero.
 * 0, or -1 when fn or a read failed. */
int msg_stream(const struct msg *m, int (*fn)(void *ctx, const void *p, size_t n), void *ctx);
/* Its size in bytes as msg_stream gives it. */
int64_t msg_size(const struct msg *m);
void msg_init(struct msg *m);
/* Close and unlink the spool file; free the header buffer. */
void msg_free(struct msg *m);

#endif
