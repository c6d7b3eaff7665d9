/* bench/maild/smtpload.c: SMTP load generator: N threads, one connection each, one message per transaction, no pipelining. */
/*
 * smtpload HOST PORT THREADS TOTAL [SIZE]
 * Each thread opens one connection, says EHLO once, then sends TOTAL/THREADS messages of about
 * SIZE bytes (default 10240) as MAIL, RCPT, DATA, body, each step waiting for its reply.
 * Recipient k of thread t is b%04d@example.test with (t * per + k) % 1000.
 * Prints "sent=N failed=N seconds=S rate=R" and exits 1 when any message was not accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int fd;
	char buf[8192];
	size_t len, off;
};

struct job {
	pthread_t tid;
	int index, per, ok, failed;
};

static struct sockaddr_in target;
static char *body;
static size_t bodylen;

static int
writeall(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line into line[]; 0, or -1 on EOF/error. */
static int
readline(struct conn *c, char *line, size_t sz)
{
	size_t n = 0;

	for (;;) {
		if (c->off == c->len) {
			ssize_t r = read(c->fd, c->buf, sizeof(c->buf));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			c->len = (size_t)r;
			c->off = 0;
		}
		char ch = c->buf[c->off++];

		if (n + 1 < sz)
			line[n++] = ch;
		if (ch == '\n') {
			line[n] = '\0';
			return 0;
		}
	}
}

/* The reply code of a (possibly multi-line) reply, or -1. */
static int
reply(struct conn *c)
{
	char line[1024];

	for (;;) {
		if (readline(c, line, sizeof(line)) != 0 || strlen(line) < 4)
			return -1;
		if (line[3] == ' ' || line[3] == '\r' || line[3] == '\n')
			return atoi(line);
	}
}

static int
command(struct conn *c, const char *cmd)
{
	if (writeall(c->fd, cmd, strlen(cmd)) != 0)
		return -1;
	return reply(c);
}

static void *
run(void *arg)
{
	struct job *j = arg;
	struct conn c = { .fd = -1 };
	char cmd[256];
	int k, one = 1;

	c.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&target, sizeof(target)) != 0) {
		j->failed = j->per;
		if (c.fd >= 0)
			close(c.fd);
		return NULL;
	}
	(void)setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (reply(&c) != 220 || command(&c, "EHLO load.test\r\n") != 250) {
		j->failed = j->per;
		close(c.fd);
		return NULL;
	}
	for (k = 0; k < j->per; k++) {
		int n = snprintf(cmd, sizeof(cmd), "RCPT TO:<b%04d@example.test>\r\n",
		                 (j->index * j->per + k) % 1000);

		if (n < 0 || (size_t)n >= sizeof(cmd) ||
		    command(&c, "MAIL FROM:<bench@remote.test>\r\n") != 250 ||
		    command(&c, cmd) != 250 || command(&c, "DATA\r\n") != 354 ||
		    writeall(c.fd, body, bodylen) != 0 || reply(&c) != 250) {
			j->failed++;
			if (command(&c, "RSET\r\n") != 250)
				break;
			continue;
		}
		j->ok++;
	}
	j->failed += j->per - j->ok - j->failed;
	(void)command(&c, "QUIT\r\n");
	close(c.fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct job *jobs;
	int threads, total, size = 10240, i, ok = 0, failed = 0;
	size_t off;
	double secs;

	if (argc < 5) {
		fprintf(stderr, "usage: smtpload HOST PORT THREADS TOTAL [SIZE]\n");
		return 2;
	}
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	threads = atoi(argv[3]);
	total = atoi(argv[4]);
	if (argc > 5)
		size = atoi(argv[5]);
	if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1 || threads < 1 || total < threads ||
	    size < 100) {
		fprintf(stderr, "smtpload: bad arguments\n");
		return 2;
	}
	/* Headers, then 78 x's and CRLF per line up to SIZE, then the terminator. */
	body = malloc((size_t)size + 200);
	jobs = calloc((size_t)threads, sizeof(*jobs));
	if (body == NULL || jobs == NULL)
		return 1;
	off = (size_t)snprintf(body, 200, "From: bench@remote.test\r\nTo: bench@example.test\r\n"
	                       "Subject: bench\r\n\r\n");
	while (off + 80 <= (size_t)size) {
		memset(body + off, 'x', 78);
		memcpy(body + off + 78, "\r\n", 2);
		off += 80;
	}
	memcpy(body + off, ".\r\n", 3);
	bodylen = off + 3;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < threads; i++) {
		jobs[i].index = i;
		jobs[i].per = total / threads;
		if (pthread_create(&jobs[i].tid, NULL, run, &jobs[i]) != 0)
			return 1;
	}
	for (i = 0; i < threads; i++) {
		pthread_join(jobs[i].tid, NULL);
		ok += jobs[i].ok;
		failed += jobs[i].failed;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("sent=%d failed=%d seconds=%.3f rate=%.1f\n", ok, failed, secs, ok / secs);
	free(body);
	free(jobs);
	return failed ? 1 : 0;
}
