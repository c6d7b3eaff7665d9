/* maild/smtpc.c: a plain SMTP client for the queue runner: EHLO, MAIL, RCPT, DATA with dot-stuffing. */
#include "maild/smtpc.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "maild/sock.h"

#define OBUF 65536

/* The reply code of a (multi-line) reply; its last line into text. -1 when the connection
 * failed. */
static int
read_reply(int fd, char *text, size_t textsz)
{
	char line[1024];

	for (;;) {
		ssize_t n = sock_read_line(fd, line, sizeof(line));

		if (n < 0)
			return -1;
		if (n < 3)
			return -1;
		if (n == 3 || line[3] == ' ') {
			int code = atoi(line);

			bstrcpy(text, textsz, line);
			return code >= 200 && code < 600 ? code : -1;
		}
	}
}

/* Send "verb arg\r\n" (arg may be "") and read the reply. */
static int
cmd(int fd, char *text, size_t textsz, const char *verb, const char *arg)
{
	char line[600];

	if (!bsnprintf(line, sizeof(line), "%s%s\r\n", verb, arg) || sock_write_all(fd, line, strlen(line)) != 0)
		return -1;
	return read_reply(fd, text, textsz);
}

static enum smtpc_result
classify(int code, const char *text, const char *step, char *err, size_t errsz)
{
	if (code < 0) {
		snprintf(err, errsz, "4.4.2 connection lost during %s", step);
		return SMTPC_TEMP;
	}
	snprintf(err, errsz, "%s (in reply to %s)", text, step);
	return code >= 500 ? SMTPC_PERM : SMTPC_TEMP;
}

/* The message as CRLF lines, dot-stuffed (RFC 5321 §4.5.2). */
static int
send_body(int fd, const char *path)
{
	FILE *f = fopen(path, "re");
	char *obuf = malloc(OBUF);
	char *line = NULL;
	size_t cap = 0, olen = 0;
	ssize_t n;
	int rc = -1;

	if (f == NULL || obuf == NULL)
		goto out;
	while ((n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n;

		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (olen + len + 3 > OBUF) {
			if (sock_write_all(fd, obuf, olen) != 0)
				goto out;
			olen = 0;
		}
		if (len + 3 > OBUF) {
			if ((line[0] == '.' && sock_write_all(fd, ".", 1) != 0) ||
			    sock_write_all(fd, line, len) != 0 || sock_write_all(fd, "\r\n", 2) != 0)
				goto out;
			continue;
		}
		if (len > 0 && line[0] == '.')
			obuf[olen++] = '.';
		memcpy(obuf + olen, line, len);
		olen += len;
		obuf[olen++] = '\r';
		obuf[olen++] = '\n';
	}
	if (ferror(f))
		goto out;
	if (olen + 3 > OBUF) {
		if (sock_write_all(fd, obuf, olen) != 0)
			goto out;
		olen = 0;
	}
	memcpy(obuf + olen, ".\r\n", 3);
	olen += 3;
	rc = sock_write_all(fd, obuf, olen);
out:
	if (f != NULL)
		fclose(f);
	free(line);
	free(obuf);
	return rc;
}

enum smtpc_result
smtpc_send(const struct config *cfg, const char *host, const char *port, const char *from,
           const char *rcpt, const char *msgpath, char *err, size_t errsz)
{
	char text[1024], path[300];
	int fd, code;
	enum smtpc_result res = SMTPC_TEMP;

	fd = sock_connect(host, port, 30, 300);
	if (fd < 0) {
		snprintf(err, errsz, "4.4.1 cannot connect to %s:%s", host, port);
		return SMTPC_TEMP;
	}
	code = read_reply(fd, text, sizeof(text));
	if (code != 220) {
		res = classify(code, text, "the greeting", err, errsz);
		goto out;
	}
	code = cmd(fd, text, sizeof(text), "EHLO ", cfg->hostname);
	if (code != 250)
		code = cmd(fd, text, sizeof(text), "HELO ", cfg->hostname);
	if (code != 250) {
		res = classify(code, text, "HELO", err, errsz);
		goto out;
	}
	bsnprintf(path, sizeof(path), "<%s>", from);
	code = cmd(fd, text, sizeof(text), "MAIL FROM:", path);
	if (code != 250) {
		res = classify(code, text, "MAIL FROM", err, errsz);
		goto out;
	}
	bsnprintf(path, sizeof(path), "<%s>", rcpt);
	code = cmd(fd, text, sizeof(text), "RCPT TO:", path);
	if (code != 250 && code != 251) {
		res = classify(code, text, "RCPT TO", err, errsz);
		goto out;
	}
	code = cmd(fd, text, sizeof(text), "DATA", "");
	if (code != 354) {
		res = classify(code, text, "DATA", err, errsz);
		goto out;
	}
	if (send_body(fd, msgpath) != 0) {
		bstrcpy(err, errsz, "4.4.2 connection lost while sending the message");
		goto out;
	}
	code = read_reply(fd, text, sizeof(text));
	if (code != 250) {
		res = classify(code, text, "end of DATA", err, errsz);
		goto out;
	}
	res = SMTPC_OK;
	/* The message is delivered; a peer that never answers QUIT must not hold this queue
	 * runner (and the scan that waits for it) for the whole 300 s reply timeout. */
	{
		struct timeval tv = { .tv_sec = 5, .tv_usec = 0 };

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0)
			(void)cmd(fd, text, sizeof(text), "QUIT", "");
	}
out:
	close(fd);
	return res;
}
