/* tests/fuzz/fuzz_pop3.c: libFuzzer target for what POP3 sends of a stored message (RETR and TOP): any
 * bytes in the file come out with CRLF line ends, dot-stuffed, ending in exactly one ".\r\n". */
#include "maild/pop3.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MUST(c) do { if (!(c)) __builtin_trap(); } while (0)

struct sink {
	char *p;
	size_t n, cap;
};

static int
collect(void *arg, const void *p, size_t n)
{
	struct sink *s = arg;

	if (s->n + n > s->cap) {
		size_t cap = (s->n + n) * 2;
		char *q = realloc(s->p, cap);

		if (q == NULL)
			return -1;
		s->p = q;
		s->cap = cap;
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	return 0;
}

/* The body between the status line and the terminator: CRLF only, no line that is a lone ".",
 * every line that starts with "." stuffed. */
static void
check(const struct sink *s)
{
	size_t i, start = 5;   /* "+OK\r\n" */

	MUST(s->n >= 8 && memcmp(s->p, "+OK\r\n", 5) == 0 && memcmp(s->p + s->n - 3, ".\r\n", 3) == 0);
	MUST(s->n == 8 || (s->p[s->n - 5] == '\r' && s->p[s->n - 4] == '\n'));
	for (i = start; i < s->n - 3; i++) {
		if (s->p[i] == '\n')
			MUST(i > 0 && s->p[i - 1] == '\r');
		if ((i == start || s->p[i - 1] == '\n') && s->p[i] == '.')
			MUST(i + 1 < s->n - 3 && s->p[i + 1] == '.');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/fuzz-pop3-XXXXXX";
	static int ready;
	struct pop3_box b;
	struct pop3_msg m;
	struct sink s = { 0 };
	char path[256];
	int fd;

	if (!ready) {
		char cur[300];

		if (mkdtemp(dir) == NULL)
			return 0;
		snprintf(cur, sizeof(cur), "%s/cur", dir);
		mkdir(cur, 0700);
		ready = 1;
	}
	snprintf(path, sizeof(path), "%s/cur/msg", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	close(fd);
	memset(&b, 0, sizeof(b));
	memset(&m, 0, sizeof(m));
	snprintf(b.dir, sizeof(b.dir), "%s", dir);
	b.lock = -1;
	m.base = strdup("msg");
	m.rel = strdup("cur/msg");
	b.msgs = &m;
	b.n = 1;
	if (m.base != NULL && m.rel != NULL) {
		if (pop3_box_send(&b, 0, -1, "+OK\r\n", collect, &s) == 0)
			check(&s);
		s.n = 0;
		if (pop3_box_send(&b, 0, size > 0 ? data[0] % 4 : 0, "+OK\r\n", collect, &s) == 0)
			check(&s);
	}
	free(m.base);
	free(m.rel);
	free(s.p);
	return 0;
}
