/* maild/pop3_box.c: the POP3 maildrop on a Maildir++ inbox: locked snapshot, CRLF sizes, RETR/TOP
 * streaming with dot-stuffing, and the UPDATE state (deletions, seen flags). See maild/pop3.h. */
#include "maild/pop3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/jobs_mbox.h"

#define CHUNK 65536

static void
free_msgs(struct pop3_box *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->msgs[i].base);
		free(b->msgs[i].rel);
	}
	free(b->msgs);
	b->msgs = NULL;
	b->n = b->cap = 0;
}

/* mtimes alongside the snapshot while it is sorted (kept out of pop3_msg: only used here). */
struct collect {
	struct pop3_box *b;
	time_t *mtimes;
	bool oom;
};

static int
collect_one(const char *folder, const char *sub, const char *name, const struct stat *st, void *arg)
{
	struct collect *c = arg;
	struct pop3_box *b = c->b;
	struct pop3_msg *m;
	char rel[600];

	(void)folder;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct pop3_msg *p = realloc(b->msgs, cap * sizeof(*p));
		time_t *t = realloc(c->mtimes, cap * sizeof(*t));

		if (p != NULL)
			b->msgs = p;
		if (t != NULL)
			c->mtimes = t;
		if (p == NULL || t == NULL) {
			c->oom = true;
			return -1;
		}
		b->cap = cap;
	}
	if (!bsnprintf(rel, sizeof(rel), "%s/%s", sub, name))
		return 0;   /* a name no Maildir writer makes; not served */
	m = &b->msgs[b->n];
	memset(m, 0, sizeof(*m));
	m->base = strndup(name, mbox_base_len(name));
	m->rel = strdup(rel);
	if (m->base == NULL || m->rel == NULL) {
		free(m->base);
		free(m->rel);
		c->oom = true;
		return -1;
	}
	/* Provisional: the on-disk size; replaced by the CRLF size below. */
	m->octets = (int64_t)st->st_size;
	c->mtimes[b->n] = st->st_mtime;
	b->n++;
	return 0;
}

/* Oldest first, by delivery time, then by name, so numbering is stable between sessions. */
static void
sort_msgs(struct pop3_box *b, time_t *mt)
{
	size_t i, j;

	/* Insertion sort on a mostly ordered list (readdir of a Maildir is roughly in
	 * creation order); n is a mailbox's inbox. */
	for (i = 1; i < b->n; i++) {
		struct pop3_msg m = b->msgs[i];
		time_t t = mt[i];

		for (j = i; j > 0 && (mt[j - 1] > t || (mt[j - 1] == t && strcmp(b->msgs[j - 1].base, m.base) > 0)); j--) {
			b->msgs[j] = b->msgs[j - 1];
			mt[j] = mt[j - 1];
		}
		b->msgs[j] = m;
		mt[j] = t;
	}
}

static void
make_uidl(struct pop3_msg *m)
{
	size_t i, n = strlen(m->base);
	bool ok = n > 0 && n <= POP3_UIDL_MAX;
	char h[65];

	for (i = 0; ok && i < n; i++)
		ok = m->base[i] >= 0x21 && m->base[i] <= 0x7e;
	if (ok) {
		memcpy(m->uidl, m->base, n + 1);
		return;
	}
	/* A long host name makes a long unique part; its hash is as stable. */
	sha256_hex(m->base, h);
	(void)bsnprintf(m->uidl, sizeof(m->uidl), "h%.64s", h);
}

static int
open_msg(struct pop3_box *b, struct pop3_msg *m)
{
	char path[4096], rel[600];
	int fd;

	if (!bsnprintf(path, sizeof(path), "%s/%s", b->dir, m->rel))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	/* Renamed since the snapshot (a flag change by an IMAP client, new/ -> cur/). */
	if (mbox_find(b->dir, m->base, strlen(m->base), rel, sizeof(rel)) != 1)
		return -1;
	free(m->rel);
	m->rel = strdup(rel);
	if (m->rel == NULL || !bsnprintf(path, sizeof(path), "%s/%s", b->dir, rel))
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

/* Size in octets as sent: every bare LF becomes CRLF, and a last line without an end gets
 * one. Dovecot's ",W=" in the name already says it. -1 when the file cannot be read. */
static int64_t
crlf_size(struct pop3_box *b, struct pop3_msg *m)
{
	const char *w = strstr(m->rel, ",W=");
	char buf[CHUNK], prev = '\n';
	int64_t total = 0, extra = 0, v;
	ssize_t n, i;
	int fd;

	if (w != NULL) {
		char num[24];
		size_t len = strspn(w + 3, "0123456789");

		if (len > 0 && len < sizeof(num)) {
			memcpy(num, w + 3, len);
			num[len] = '\0';
			if (parse_i64(num, 0, INT64_MAX, &v))
				return v;
		}
	}
	fd = open_msg(b, m);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n' && prev != '\r')
				extra++;
			prev = buf[i];
		}
		total += n;
	}
	close(fd);
	if (n < 0)
		return -1;
	if (total > 0 && prev != '\n')
		extra += 2;
	return total + extra;
}

enum pop3_open
pop3_box_open(struct pop3_box *b, const char *dir, int64_t account_id)
{
	struct collect c = { b, NULL, false };
	size_t i, kept;

	memset(b, 0, sizeof(*b));
	b->lock = -1;
	if (dir == NULL || *dir == '\0')
		return POP3_OPEN_OK;
	switch (mbox_owner(dir, account_id, true)) {
	case MBOX_OURS:
		break;
	case MBOX_ABSENT:
		return POP3_OPEN_OK;
	case MBOX_FOREIGN:
		log_warnx("pop3: %s belongs to another account: served as empty", dir);
		return POP3_OPEN_OK;
	case MBOX_ERROR:
		log_warn("pop3: %s", dir);
		return POP3_OPEN_TEMPFAIL;
	}
	if (!bstrcpy(b->dir, sizeof(b->dir), dir))
		return POP3_OPEN_TEMPFAIL;
	/* One session per maildrop (RFC 1939 §8 lets a server refuse a second one): the
	 * second gets [IN-USE] rather than a view that the first one's QUIT would change. */
	b->lock = mbox_lock(dir);
	if (b->lock == -2) {
		b->lock = -1;
		return POP3_OPEN_IN_USE;
	}
	if (b->lock < 0) {
		log_warn("pop3: lock %s", dir);
		return POP3_OPEN_TEMPFAIL;
	}
	/* The snapshot: messages delivered from now on are left for the next session. */
	if (mbox_walk(dir, false, collect_one, &c) != 0) {
		log_warn("pop3: read %s", dir);
		goto fail;
	}
	sort_msgs(b, c.mtimes);
	for (i = 0, kept = 0; i < b->n; i++) {
		struct pop3_msg *m = &b->msgs[i];
		int64_t sz = crlf_size(b, m);

		if (sz < 0) {
			if (errno == ENOENT) {   /* gone meanwhile */
				free(m->base);
				free(m->rel);
				continue;
			}
			log_warn("pop3: read %s/%s", dir, m->rel);
			for (size_t k = i; k < b->n; k++) {
				free(b->msgs[k].base);
				free(b->msgs[k].rel);
			}
			b->n = kept;
			goto fail;
		}
		m->octets = sz;
		make_uidl(m);
		b->msgs[kept++] = *m;
	}
	b->n = kept;
	free(c.mtimes);
	return POP3_OPEN_OK;
fail:
	free(c.mtimes);
	pop3_box_close(b);
	return POP3_OPEN_TEMPFAIL;
}

struct out {
	pop3_write_fn fn;
	void *arg;
	char buf[CHUNK + 8];
	size_t len;
	bool failed;
};

static void
out_flush(struct out *o)
{
	if (!o->failed && o->len > 0 && o->fn(o->arg, o->buf, o->len) != 0)
		o->failed = true;
	o->len = 0;
}

static void
out_put(struct out *o, const char *p, size_t n)
{
	while (n > 0 && !o->failed) {
		size_t room = CHUNK - o->len, take = n < room ? n : room;

		memcpy(o->buf + o->len, p, take);
		o->len += take;
		p += take;
		n -= take;
		if (o->len == CHUNK)
			out_flush(o);
	}
}

int
pop3_box_send(struct pop3_box *b, size_t i, int64_t body_lines, const char *okline,
              pop3_write_fn fn, void *arg)
{
	static const char crlf[] = "\r\n";
	struct out *o;
	char buf[CHUNK];
	char prev = '\n';
	bool in_body = false, line_empty = true, done = false;
	int64_t lines = 0;
	ssize_t n, k;
	int fd, rc = -1;

	if (b->dir[0] == '\0' || i >= b->n)
		return 1;
	fd = open_msg(b, &b->msgs[i]);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	o = malloc(sizeof(*o));
	if (o == NULL) {
		close(fd);
		return -1;
	}
	o->fn = fn;
	o->arg = arg;
	o->len = 0;
	o->failed = false;
	out_put(o, okline, strlen(okline));
	if (body_lines == 0)
		in_body = false;
	while (!done && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (k = 0; k < n && !done; k++) {
			char ch = buf[k];

			if (prev == '\n') {
				/* A line starts: TOP stops after the header and body_lines lines. */
				if (in_body && body_lines >= 0 && lines >= body_lines) {
					done = true;
					break;
				}
				if (ch == '.')
					out_put(o, ".", 1);   /* RFC 1939 §3 byte-stuffing */
				line_empty = true;
			}
			if (ch == '\n') {
				if (prev != '\r')
					out_put(o, "\r", 1);
				out_put(o, "\n", 1);
				if (!in_body && line_empty)
					in_body = true;   /* the empty line ending the header */
				else if (in_body)
					lines++;
			} else {
				out_put(o, &ch, 1);
				if (ch != '\r')
					line_empty = false;
			}
			prev = ch;
		}
		if (o->failed)
			break;
	}
	if (!o->failed && (done || n == 0)) {
		if (prev != '\n')
			out_put(o, crlf, 2);
		out_put(o, ".\r\n", 3);
		out_flush(o);
		if (!o->failed) {
			b->msgs[i].retrieved = body_lines < 0 || b->msgs[i].retrieved;
			rc = 0;
		}
	}
	close(fd);
	free(o);
	return rc;
}

/* NAME with the S flag: "NAME:2,S", or the flags kept in ASCII order (Maildir: flags sorted). */
static bool
seen_name(const char *name, char *out, size_t outsz)
{
	const char *info = strstr(name, ":2,");
	size_t baselen, i;
	char flags[64];
	size_t nf = 0;
	bool put = false;

	if (info == NULL)
		return bsnprintf(out, outsz, "%s:2,S", name);
	if (strchr(info + 3, 'S') != NULL)
		return false;   /* already seen */
	baselen = (size_t)(info - name);
	for (i = 0; info[3 + i] != '\0' && nf < sizeof(flags) - 2; i++) {
		if (info[3 + i] > 'S' && !put) {
			flags[nf++] = 'S';
			put = true;
		}
		flags[nf++] = info[3 + i];
	}
	if (!put)
		flags[nf++] = 'S';
	flags[nf] = '\0';
	return bsnprintf(out, outsz, "%.*s:2,%s", (int)baselen, name, flags);
}

int
pop3_box_commit(struct pop3_box *b, int64_t *freed_r)
{
	char path[4096], dst[4096], name[600];
	struct stat st;
	size_t i;
	int rc = 0;

	*freed_r = 0;
	for (i = 0; i < b->n && b->dir[0] != '\0'; i++) {
		struct pop3_msg *m = &b->msgs[i];
		char rel[600];
		int f;

		if (!m->deleted && !m->retrieved)
			continue;
		if (!bsnprintf(path, sizeof(path), "%s/%s", b->dir, m->rel))
			continue;
		if (lstat(path, &st) != 0) {
			/* Renamed since: look it up by its unique part. */
			f = mbox_find(b->dir, m->base, strlen(m->base), rel, sizeof(rel));
			if (f != 1 || !bsnprintf(path, sizeof(path), "%s/%s", b->dir, rel) || lstat(path, &st) != 0)
				continue;   /* already gone: nothing to do */
			free(m->rel);
			m->rel = strdup(rel);
			if (m->rel == NULL)
				continue;
		}
		if (m->deleted) {
			if (unlink(path) == 0) {
				*freed_r += (int64_t)st.st_size;
			} else if (errno != ENOENT) {
				log_warn("pop3: delete %s", path);
				rc = -1;
			}
			continue;
		}
		/* Retrieved: seen, as an IMAP client of the same mailbox will show it. */
		if (!seen_name(strchr(m->rel, '/') + 1, name, sizeof(name)))
			continue;
		if (bsnprintf(dst, sizeof(dst), "%s/cur/%s", b->dir, name) && rename(path, dst) != 0 &&
		    errno != ENOENT)
			log_warn("pop3: mark seen %s", path);
	}
	pop3_box_close(b);
	return rc;
}

void
pop3_box_close(struct pop3_box *b)
{
	mbox_unlock(&b->lock);
	free_msgs(b);
}
