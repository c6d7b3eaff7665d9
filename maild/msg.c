/* maild/msg.c: header-field walking and body copying for a received message. */
#include "maild/msg.h"

#include <errno.h>
#include <strings.h>
#include <string.h>
#include <unistd.h>

void
msg_init(struct msg *m)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->hdr);
	m->body_fd = -1;
}

void
msg_free(struct msg *m)
{
	if (m->body_fd >= 0)
		close(m->body_fd);
	m->body_fd = -1;
	if (m->body_path[0] != '\0')
		(void)unlink(m->body_path);
	m->body_path[0] = '\0';
	buf_free(&m->hdr);
}

size_t
msg_hdr_next(const char *hdr, size_t len, size_t pos, struct hdr_field *f)
{
	size_t i = pos, colon = 0, end;

	if (hdr == NULL || pos >= len)
		return 0;
	/* The field runs to the LF that is not followed by a blank (folding). */
	for (end = pos; end < len; end++) {
		if (hdr[end] == '\n' && (end + 1 >= len || (hdr[end + 1] != ' ' && hdr[end + 1] != '\t')))
			break;
	}
	f->raw = hdr + pos;
	f->rawlen = (end < len ? end + 1 : len) - pos;
	while (i < end && hdr[i] != ':' && hdr[i] != '\n')
		i++;
	if (i < end && hdr[i] == ':')
		colon = i;
	if (colon == 0 && hdr[pos] != ':') {
		/* Not a field (garbage line): no name, the whole line as value. */
		f->name = hdr + pos;
		f->namelen = 0;
		f->value = hdr + pos;
		f->valuelen = end - pos;
	} else {
		f->name = hdr + pos;
		f->namelen = colon - pos;
		while (f->namelen > 0 && (hdr[pos + f->namelen - 1] == ' ' || hdr[pos + f->namelen - 1] == '\t'))
			f->namelen--;
		i = colon + 1;
		while (i < end && (hdr[i] == ' ' || hdr[i] == '\t'))
			i++;
		f->value = hdr + i;
		f->valuelen = end - i;
	}
	if (f->valuelen > 0 && f->value[f->valuelen - 1] == '\r')
		f->valuelen--;
	return end < len ? end + 1 : len;
}

bool
msg_hdr_is(const struct hdr_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->namelen == n && strncasecmp(f->name, name, n) == 0;
}

bool
msg_hdr_get(const struct msg *m, const char *name, char *out, size_t outsz)
{
	struct hdr_field f;
	size_t pos = 0, next;

	if (outsz == 0)
		return false;
	while ((next = msg_hdr_next(m->hdr.data, m->hdr.len, pos, &f)) != 0) {
		pos = next;
		if (msg_hdr_is(&f, name)) {
			size_t o = 0, i;

			for (i = 0; i < f.valuelen && o + 1 < outsz; i++)
				if (f.value[i] != '\r' && f.value[i] != '\n')
					out[o++] = f.value[i];
			out[o] = '\0';
			return true;
		}
	}
	out[0] = '\0';
	return false;
}

int
msg_copy_body(const struct msg *m, int fd)
{
	off_t off = 0;
	int64_t left = m->body_size;
	char tmp[65536];

	while (left > 0) {
		ssize_t n = copy_file_range(m->body_fd, &off, fd, NULL, (size_t)left, 0);

		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		left -= n;
	}
	while (left > 0) {
		ssize_t n = pread(m->body_fd, tmp, sizeof(tmp), off), w, done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		while (done < n) {
			w = write(fd, tmp + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			done += w;
		}
		off += n;
		left -= n;
	}
	return 0;
}

int64_t
msg_size(const struct msg *m)
{
	return (int64_t)m->hdr.len + (m->has_body ? 1 : 0) + m->body_size;
}

int
msg_stream(const struct msg *m, int (*fn)(void *ctx, const void *p, size_t n), void *ctx)
{
	char tmp[65536];
	off_t off = 0;

	if (m->hdr.len > 0 && fn(ctx, m->hdr.data, m->hdr.len) != 0)
		return -1;
	if (m->has_body && fn(ctx, "\n", 1) != 0)
		return -1;
	while (off < m->body_size) {
		ssize_t n = pread(m->body_fd, tmp, sizeof(tmp), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (fn(ctx, tmp, (size_t)n) != 0)
			return -1;
		off += n;
	}
	return 0;
}
