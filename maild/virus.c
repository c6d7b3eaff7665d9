/* maild/virus.c: clamd INSTREAM (4-byte big-endian chunk lengths, a zero length ends) before the 250. */
#include "maild/virus.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/sock.h"

#define CHUNK 65536

struct stream {
	int fd;
	char buf[CHUNK];
	size_t len;
};

static int
send_chunk(struct stream *s)
{
	uint32_t n = htonl((uint32_t)s->len);

	if (s->len == 0)
		return 0;
	if (sock_write_all(s->fd, &n, 4) != 0 || sock_write_all(s->fd, s->buf, s->len) != 0)
		return -1;
	s->len = 0;
	return 0;
}

static int
feed(void *ctx, const void *p, size_t n)
{
	struct stream *s = ctx;
	const char *c = p;

	while (n > 0) {
		size_t take = CHUNK - s->len < n ? CHUNK - s->len : n;

		memcpy(s->buf + s->len, c, take);
		s->len += take;
		c += take;
		n -= take;
		if (s->len == CHUNK && send_chunk(s) != 0)
			return -1;
	}
	return 0;
}

enum virus_result
virus_scan(const struct config *cfg, const struct msg *m, char *name, size_t namesz)
{
	char host[256], port[32], answer[512];
	struct stream *s = NULL;
	enum virus_result res = VIRUS_TEMPFAIL;
	uint32_t end = 0;
	ssize_t n;
	size_t got = 0;

	name[0] = '\0';
	if (strcmp(cfg->virus, "none") == 0 || cfg->virus[0] == '\0')
		return VIRUS_CLEAN;
	if (strncmp(cfg->virus, "clamd ", 6) != 0 ||
	    !sock_split(cfg->virus + 6, host, sizeof(host), port, sizeof(port))) {
		log_warnx("virus: bad setting \"%s\"", cfg->virus);
		return VIRUS_TEMPFAIL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return VIRUS_TEMPFAIL;
	s->fd = sock_connect(host, port, 10, 120);
	if (s->fd < 0) {
		log_warn("virus: clamd %s:%s", host, port);
		goto out;
	}
	if (sock_write_all(s->fd, "zINSTREAM", 10) != 0 || msg_stream(m, feed, s) != 0 ||
	    send_chunk(s) != 0 || sock_write_all(s->fd, &end, 4) != 0) {
		/* clamd closes the stream when it is over its StreamMaxLength: read its word. */
		log_warn("virus: sending to clamd");
	}
	while (got + 1 < sizeof(answer) && (n = read(s->fd, answer + got, sizeof(answer) - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(answer, '\0', got) != NULL)
			break;
	}
	answer[got] = '\0';
	answer[strcspn(answer, "\n")] = '\0';
	if (strcmp(answer, "stream: OK") == 0) {
		res = VIRUS_CLEAN;
	} else if (strncmp(answer, "stream: ", 8) == 0 && got > 14 &&
	           strcmp(answer + strlen(answer) - 6, " FOUND") == 0) {
		size_t nl = strlen(answer) - 6 - 8;

		if (nl >= namesz)
			nl = namesz - 1;
		memcpy(name, answer + 8, nl);
		name[nl] = '\0';
		/* The name goes into an SMTP reply: keep it printable. */
		for (char *p = name; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
		res = VIRUS_FOUND;
	} else if (strstr(answer, "size limit exceeded") != NULL) {
		/* Bigger than clamd will scan (its StreamMaxLength): SPEC §8 still takes 100 MB. */
		log_warnx("virus: message larger than clamd scans, accepted unscanned");
		res = VIRUS_CLEAN;
	} else {
		log_warnx("virus: clamd answered \"%s\"", answer);
	}
out:
	if (s != NULL && s->fd >= 0)
		close(s->fd);
	free(s);
	return res;
}
