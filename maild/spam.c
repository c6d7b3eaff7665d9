/* maild/spam.c: verdicts from rspamd's /checkv2 (libcurl, the message streamed), spamd's SPAMC CHECK,
 * or the trusted X-Spam-Flag header; any action but "no action" is spam, and nothing is rejected. */
#include "maild/spam.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/sock.h"

bool
spam_config_ok(const char *s)
{
	char host[256], port[32];

	if (strcmp(s, "none") == 0 || strcmp(s, "header") == 0)
		return true;
	if (strncmp(s, "rspamd ", 7) == 0)
		return strncmp(s + 7, "http://", 7) == 0 || strncmp(s + 7, "https://", 8) == 0;
	if (strncmp(s, "spamd ", 6) == 0)
		return sock_split(s + 6, host, sizeof(host), port, sizeof(port));
	return false;
}

/* libcurl pulls the message through this: headers from memory, then the body file. */
struct reader {
	const struct msg *m;
	int64_t off;     /* position in the whole message */
};

static size_t
read_cb(char *dst, size_t size, size_t nitems, void *arg)
{
	struct reader *r = arg;
	const struct msg *m = r->m;
	size_t want = size * nitems, done = 0;
	int64_t hl = (int64_t)m->hdr.len, sep = m->has_body ? 1 : 0;

	while (done < want) {
		if (r->off < hl) {
			size_t n = (size_t)(hl - r->off);

			if (n > want - done)
				n = want - done;
			memcpy(dst + done, m->hdr.data + r->off, n);
			done += n;
			r->off += (int64_t)n;
		} else if (r->off < hl + sep) {
			dst[done++] = '\n';
			r->off++;
		} else if (r->off < hl + sep + m->body_size) {
			ssize_t n = pread(m->body_fd, dst + done, want - done, r->off - hl - sep);

			if (n <= 0)
				return CURL_READFUNC_ABORT;
			done += (size_t)n;
			r->off += n;
		} else {
			break;
		}
	}
	return done;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > 1024 * 1024)
		return 0;   /* no verdict is that long */
	return buf_add(b, p, size * n) ? size * n : 0;
}

static int
rspamd(const char *base, const struct msg *m, struct spam_verdict *v)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct reader rd = { m, 0 };
	struct buf body;
	char url[1024];
	json_t *js = NULL, *action, *score;
	long code = 0;
	int rc = -1;

	buf_init(&body);
	if (c == NULL)
		return -1;
	if (!bsnprintf(url, sizeof(url), "%s%scheckv2", base, base[strlen(base) - 1] == '/' ? "" : "/"))
		goto out;
	hdrs = curl_slist_append(hdrs, "Content-Type: message/rfc822");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)msg_size(m));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (curl_easy_perform(c) != CURLE_OK) {
		log_warnx("spam: rspamd %s unreachable", url);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200 || body.data == NULL) {
		log_warnx("spam: rspamd answered HTTP %ld", code);
		goto out;
	}
	js = json_loadb(body.data, body.len, 0, NULL);
	action = json_object_get(js, "action");
	score = json_object_get(js, "score");
	if (!json_is_string(action)) {
		log_warnx("spam: rspamd answer without an action");
		goto out;
	}
	v->checked = true;
	v->spam = strcmp(json_string_value(action), "no action") != 0;
	v->score = json_is_number(score) ? json_number_value(score) : 0.0;
	rc = 0;
out:
	json_decref(js);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	buf_free(&body);
	return rc;
}

static int
fd_write(void *ctx, const void *p, size_t n)
{
	return sock_write_all(*(int *)ctx, p, n);
}

/* SPAMC/1.5 CHECK: "Spam: True ; 15.0 / 5.0" in the answer. */
static int
spamd(const char *hostport, const struct msg *m, struct spam_verdict *v)
{
	char host[256], port[32], head[128], line[512];
	int fd, rc = -1;
	bool status_ok = false, got = false;

	if (!sock_split(hostport, host, sizeof(host), port, sizeof(port)))
		return -1;
	fd = sock_connect(host, port, 10, 120);
	if (fd < 0) {
		log_warn("spam: spamd %s", hostport);
		return -1;
	}
	if (!bsnprintf(head, sizeof(head), "CHECK SPAMC/1.5\r\nContent-length: %lld\r\n\r\n",
	               (long long)msg_size(m)) ||
	    sock_write_all(fd, head, strlen(head)) != 0 || msg_stream(m, fd_write, &fd) != 0 ||
	    shutdown(fd, SHUT_WR) != 0)
		goto out;
	while (sock_read_line(fd, line, sizeof(line)) >= 0) {
		if (strncmp(line, "SPAMD/", 6) == 0)
			status_ok = strstr(line, " 0 EX_OK") != NULL;
		else if (strncasecmp(line, "Spam:", 5) == 0) {
			char *semi = strchr(line, ';');

			v->spam = strstr(line, "True") != NULL || strstr(line, "Yes") != NULL;
			v->score = semi ? strtod(semi + 1, NULL) : 0.0;
			got = true;
		} else if (line[0] == '\0') {
			break;
		}
	}
	if (!status_ok || !got) {
		log_warnx("spam: spamd gave no verdict");
		goto out;
	}
	v->checked = true;
	rc = 0;
out:
	close(fd);
	return rc;
}

int
spam_check(const struct config *cfg, const struct msg *m, struct spam_verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (strcmp(cfg->spam, "none") == 0 || cfg->spam[0] == '\0')
		return 0;
	if (strcmp(cfg->spam, "header") == 0) {
		char flag[64], score[64];

		v->checked = true;
		if (msg_hdr_get(m, "X-Spam-Flag", flag, sizeof(flag)))
			v->spam = strncasecmp(flag, "YES", 3) == 0;
		if (msg_hdr_get(m, "X-Spam-Score", score, sizeof(score)))
			v->score = strtod(score, NULL);
		return 0;
	}
	if (strncmp(cfg->spam, "rspamd ", 7) == 0)
		return rspamd(cfg->spam + 7, m, v);
	if (strncmp(cfg->spam, "spamd ", 6) == 0)
		return spamd(cfg->spam + 6, m, v);
	log_warnx("spam: bad setting \"%s\"", cfg->spam);
	return -1;
}
