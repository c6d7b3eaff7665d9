/* maild/metrics.c: a fixed registry of counters and gauges and a tiny HTTP server for the Prometheus text format. */
#include "maild/metrics.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "maild/sock.h"

#define METRICS_MAX 256

struct series {
	const char *name;
	int64_t value;
};

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static struct series table[METRICS_MAX];
static int nseries;
static int dropped;

static struct series *
find(const char *name)
{
	int i;

	for (i = 0; i < nseries; i++)
		if (table[i].name == name || strcmp(table[i].name, name) == 0)
			return &table[i];
	if (nseries == METRICS_MAX) {
		if (!dropped++)
			log_warnx("metrics: registry full, dropping %s", name);
		return NULL;
	}
	table[nseries].name = name;
	table[nseries].value = 0;
	return &table[nseries++];
}

void
metrics_add(const char *series, int64_t delta)
{
	struct series *s;

	pthread_mutex_lock(&mtx);
	s = find(series);
	if (s != NULL)
		s->value += delta;
	pthread_mutex_unlock(&mtx);
}

void
metrics_inc(const char *series)
{
	metrics_add(series, 1);
}

void
metrics_set(const char *series, int64_t value)
{
	struct series *s;

	pthread_mutex_lock(&mtx);
	s = find(series);
	if (s != NULL)
		s->value = value;
	pthread_mutex_unlock(&mtx);
}

/* The metric's family name: the series name up to its labels. */
static size_t
family_len(const char *name)
{
	return strcspn(name, "{");
}

char *
metrics_render(void)
{
	struct buf b;
	int i, j;

	buf_init(&b);
	pthread_mutex_lock(&mtx);
	for (i = 0; i < nseries; i++) {
		size_t fl = family_len(table[i].name);
		bool first = true;
		const char *type;

		for (j = 0; j < i; j++)
			if (family_len(table[j].name) == fl && strncmp(table[j].name, table[i].name, fl) == 0)
				first = false;
		if (!first)
			continue;
		type = fl > 6 && strncmp(table[i].name + fl - 6, "_total", 6) == 0 ? "counter" : "gauge";
		buf_printf(&b, "# TYPE %.*s %s\n", (int)fl, table[i].name, type);
		for (j = i; j < nseries; j++)
			if (family_len(table[j].name) == fl && strncmp(table[j].name, table[i].name, fl) == 0)
				buf_printf(&b, "%s %lld\n", table[j].name, (long long)table[j].value);
	}
	pthread_mutex_unlock(&mtx);
	if (b.oom) {
		buf_free(&b);
		return NULL;
	}
	if (b.data == NULL)
		buf_adds(&b, "");
	return buf_steal(&b, NULL);
}

static void
serve_one(int fd)
{
	char req[2048];
	size_t n = 0;
	char *body = NULL;
	char head[256];
	struct pollfd pfd = { .fd = fd, .events = POLLIN, .revents = 0 };

	/* Read the request head (we answer every path the same way). */
	while (n < sizeof(req) - 1 && poll(&pfd, 1, 5000) > 0) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
			break;
	}
	body = metrics_render();
	if (body == NULL)
		return;
	if (snprintf(head, sizeof(head),
	             "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	             "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body)) < (int)sizeof(head) &&
	    sock_write_all(fd, head, strlen(head)) == 0)
		(void)sock_write_all(fd, body, strlen(body));
	free(body);
}

static void *
metrics_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			usleep(100000);
			continue;
		}
		serve_one(fd);
		close(fd);
	}
	return NULL;
}

int
metrics_listen(const char *addrport)
{
	pthread_t t;
	int fd = sock_listen(addrport);

	if (fd < 0)
		return -1;
	if (pthread_create(&t, NULL, metrics_thread, (void *)(intptr_t)fd) != 0) {
		close(fd);
		return -1;
	}
	(void)pthread_detach(t);
	log_info("metrics: listening on %s", addrport);
	return 0;
}
