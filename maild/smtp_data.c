/* maild/smtp_data.c: the DATA section streamed to a spool file (RFC 5321 §4.5.2 transparency), never
 * held whole in memory, with the size limit enforced while reading (SPEC §8). */
#include "maild/smtp_data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/smtp.h"

#define WBUF (128 * 1024)

struct sink {
	int fd;
	char buf[WBUF];
	size_t len;
	bool failed;
	int64_t total;
};

static void
sink_flush(struct sink *s)
{
	size_t done = 0;

	while (!s->failed && done < s->len) {
		ssize_t w = write(s->fd, s->buf + done, s->len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("spool: write");
			s->failed = true;
			break;
		}
		done += (size_t)w;
	}
	s->len = 0;
}

static void
sink_add(struct sink *s, const char *p, size_t n)
{
	if (s->failed)
		return;
	s->total += (int64_t)n;
	if (n >= WBUF) {
		sink_flush(s);
		/* write straight through, without copying */
		{
			size_t done = 0;

			while (done < n) {
				ssize_t w = write(s->fd, p + done, n - done);

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					s->failed = true;
					break;
				}
				done += (size_t)w;
			}
		}
		return;
	}
	if (s->len + n > WBUF)
		sink_flush(s);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

enum data_result
smtp_read_data(struct conn *c, const char *spool_dir, int64_t limit, struct msg *m)
{
	char *line = malloc(SMTP_DATA_LINE_MAX);
	struct sink *s = calloc(1, sizeof(*s));
	enum data_result res = DATA_OK;
	int64_t received = 0;
	bool in_headers = true;

	if (line == NULL || s == NULL) {
		free(line);
		free(s);
		return DATA_LOST;   /* cannot even read: drop the connection */
	}
	s->fd = -1;
	if (!bsnprintf(m->body_path, sizeof(m->body_path), "%s/body.XXXXXX", spool_dir) ||
	    (s->fd = mkostemp(m->body_path, O_CLOEXEC)) < 0) {
		log_warn("spool: cannot create a file in %s", spool_dir);
		m->body_path[0] = '\0';
		res = DATA_LOCAL_ERROR;
	}
	for (;;) {
		ssize_t n = conn_getline(c, line, SMTP_DATA_LINE_MAX, SMTP_TIMEOUT);
		const char *p = line;

		if (n == -1) {
			res = DATA_LOST;
			break;
		}
		if (n == -2) {
			if (res == DATA_OK)
				res = DATA_LINE_TOO_LONG;
			received += SMTP_DATA_LINE_MAX;
			continue;
		}
		if (n == 1 && line[0] == '.')
			break;
		received += n + 2;
		if (limit > 0 && received > limit && res == DATA_OK)
			res = DATA_TOO_BIG;   /* keep reading to the dot, keep nothing */
		if (res != DATA_OK)
			continue;
		if (line[0] == '.') {   /* §4.5.2: remove the first dot of a line */
			p++;
			n--;
		}
		if (in_headers) {
			if (n == 0) {
				in_headers = false;
				m->has_body = true;
				continue;
			}
			if (m->hdr.len + (size_t)n + 1 <= MSG_HDR_MAX) {
				buf_add(&m->hdr, p, (size_t)n);
				buf_addc(&m->hdr, '\n');
				if (m->hdr.oom)
					res = DATA_LOCAL_ERROR;
				continue;
			}
			/* An enormous header section: the rest goes on in the body file as it came. */
			in_headers = false;
		}
		sink_add(s, p, (size_t)n);
		sink_add(s, "\n", 1);
		if (s->failed)
			res = DATA_LOCAL_ERROR;
	}
	if (s->fd >= 0) {
		sink_flush(s);
		if (s->failed && res == DATA_OK)
			res = DATA_LOCAL_ERROR;
	}
	m->body_fd = s->fd;
	m->body_size = s->total;
	free(s);
	free(line);
	return res;
}
