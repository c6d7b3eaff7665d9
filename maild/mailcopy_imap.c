/* maild/mailcopy_imap.c: the IMAP4rev1 client of the mail data copy (RFC 3501): TLS (OpenSSL) or plain
 * with STARTTLS, LOGIN, LIST, EXAMINE, UID FETCH with bodies streamed to disk, never to memory. */
#include "maild/mailcopy.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/sock.h"

#define CONNECT_TIMEOUT_S 20
#define IO_TIMEOUT_S 120

struct imap {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	const struct config *cfg;
	char host[256];
	char rbuf[16384];
	size_t rpos, rlen;
	unsigned tagn;
	char tag[16];
	struct buf resp;        /* the response being handled: line and literals, wire form */
	int sink_fd;            /* >= 0: a BODY[] literal goes here */
	int64_t sunk;
	bool got_body;
	bool literal_plus, starttls, logindisabled;
	bool broken;
};

/* ---- transport ---- */

static ssize_t
raw_read(struct imap *im, void *p, size_t n)
{
	if (im->ssl != NULL) {
		int r = SSL_read(im->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);

		return r > 0 ? r : -1;
	}
	for (;;) {
		ssize_t r = read(im->fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		return r > 0 ? r : -1;
	}
}

static int
raw_write(struct imap *im, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w;

		if (im->ssl != NULL) {
			int r = SSL_write(im->ssl, c, n > INT32_MAX ? INT32_MAX : (int)n);

			w = r > 0 ? r : -1;
		} else {
			w = write(im->fd, c, n);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0) {
			im->broken = true;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fill(struct imap *im)
{
	ssize_t n;

	if (im->rpos < im->rlen)
		return 0;
	n = raw_read(im, im->rbuf, sizeof(im->rbuf));
	if (n <= 0) {
		im->broken = true;
		return -1;
	}
	im->rpos = 0;
	im->rlen = (size_t)n;
	return 0;
}

/* Append one line (through its LF) to resp. */
static int
read_line(struct imap *im, size_t *start_r)
{
	*start_r = im->resp.len;
	for (;;) {
		char *nl;
		size_t take;

		if (fill(im) != 0)
			return -1;
		nl = memchr(im->rbuf + im->rpos, '\n', im->rlen - im->rpos);
		take = nl ? (size_t)(nl - (im->rbuf + im->rpos)) + 1 : im->rlen - im->rpos;
		if (im->resp.len + take > IMAP_RESP_MAX || !buf_add(&im->resp, im->rbuf + im->rpos, take)) {
			im->broken = true;
			return -1;
		}
		im->rpos += take;
		if (nl != NULL)
			return 0;
	}
}

/* Move n literal bytes to fd (sink) or to resp. */
static int
read_literal(struct imap *im, uint64_t n, int fd)
{
	while (n > 0) {
		size_t take;

		if (fill(im) != 0)
			return -1;
		take = im->rlen - im->rpos;
		if (take > n)
			take = (size_t)n;
		if (fd >= 0) {
			const char *p = im->rbuf + im->rpos;
			size_t left = take;

			while (left > 0) {
				ssize_t w = write(fd, p, left);

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					return -1;
				p += w;
				left -= (size_t)w;
			}
			im->sunk += (int64_t)take;
		} else if (im->resp.len + take > IMAP_RESP_MAX || !buf_add(&im->resp, im->rbuf + im->rpos, take)) {
			im->broken = true;
			return -1;
		}
		im->rpos += take;
		n -= take;
	}
	return 0;
}

/* One whole response: a line, and for every line ending in a literal {N} the N bytes and the
 * line that follows. A BODY[] literal goes to the sink and reads as NIL in resp. */
static int
read_response(struct imap *im)
{
	buf_reset(&im->resp);
	for (;;) {
		size_t start, len;
		char *line, *open;
		uint64_t n;
		int64_t v;

		if (read_line(im, &start) != 0)
			return -1;
		line = im->resp.data + start;
		len = im->resp.len - start;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0 || line[len - 1] != '}')
			return 0;
		open = memrchr(line, '{', len);
		if (open == NULL)
			return 0;
		{
			char num[24];
			size_t nl = (size_t)(line + len - 1 - (open + 1));

			if (nl > 0 && open[nl] == '+')
				nl--;
			if (nl == 0 || nl >= sizeof(num))
				return 0;
			memcpy(num, open + 1, nl);
			num[nl] = '\0';
			if (!parse_i64(num, 0, INT64_MAX, &v))
				return 0;
			n = (uint64_t)v;
		}
		if (im->sink_fd >= 0 && open - line >= 7 && strncasecmp(open - 7, "BODY[] ", 7) == 0) {
			/* Stream the message; in resp it becomes NIL. */
			size_t keep = (size_t)(open - im->resp.data);

			im->resp.len = keep;
			if (!buf_adds(&im->resp, "NIL"))
				return -1;
			im->got_body = true;
			if (read_literal(im, n, im->sink_fd) != 0)
				return -1;
		} else if (read_literal(im, n, -1) != 0) {
			return -1;
		}
	}
}

/* ---- tokens ---- */

enum imap_tok
imap_tk_next(struct imap_tk *t, const char **v, size_t *vlen, char *tmp, size_t tmpsz)
{
	const char *p = t->p;

	while (p < t->e && *p == ' ')
		p++;
	if (p >= t->e || *p == '\r' || *p == '\n') {
		t->p = p;
		return IMAP_T_END;
	}
	if (*p == '(' || *p == ')') {
		t->p = p + 1;
		return *p == '(' ? IMAP_T_LPAREN : IMAP_T_RPAREN;
	}
	if (*p == '"') {
		size_t n = 0;

		for (p++; p < t->e && *p != '"'; p++) {
			if (*p == '\\') {
				if (++p >= t->e)
					return IMAP_T_ERR;
			}
			if (*p == '\r' || *p == '\n' || n + 1 >= tmpsz)
				return IMAP_T_ERR;
			tmp[n++] = *p;
		}
		if (p >= t->e)
			return IMAP_T_ERR;
		tmp[n] = '\0';
		*v = tmp;
		*vlen = n;
		t->p = p + 1;
		return IMAP_T_STRING;
	}
	if (*p == '{') {
		uint64_t n = 0;
		int digits = 0;

		for (p++; p < t->e && isdigit((unsigned char)*p); p++, digits++) {
			if (n > (uint64_t)(t->e - t->p))
				return IMAP_T_ERR;
			n = n * 10 + (uint64_t)(*p - '0');
		}
		if (p < t->e && *p == '+')
			p++;
		if (digits == 0 || p + 3 > t->e || p[0] != '}' || p[1] != '\r' || p[2] != '\n')
			return IMAP_T_ERR;
		p += 3;
		if (n > (uint64_t)(t->e - p))
			return IMAP_T_ERR;
		*v = p;
		*vlen = (size_t)n;
		t->p = p + n;
		return IMAP_T_STRING;
	}
	*v = p;
	while (p < t->e && *p != ' ' && *p != '(' && *p != ')' && *p != '\r' && *p != '\n' && *p != '"')
		p++;
	*vlen = (size_t)(p - *v);
	t->p = p;
	if (*vlen == 3 && strncasecmp(*v, "NIL", 3) == 0)
		return IMAP_T_NIL;
	return IMAP_T_ATOM;
}

static bool
tok_is(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(v, word, n) == 0;
}

static bool
tok_u64(const char *v, size_t n, uint64_t *out)
{
	char num[24];
	int64_t x;

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, v, n);
	num[n] = '\0';
	if (!parse_i64(num, 0, INT64_MAX, &x))
		return false;
	*out = (uint64_t)x;
	return true;
}

/* Skip one value (atom, string, NIL or a parenthesised list). */
static bool
skip_value(struct imap_tk *t, char *tmp, size_t tmpsz)
{
	const char *v;
	size_t n;
	int depth = 0;

	do {
		switch (imap_tk_next(t, &v, &n, tmp, tmpsz)) {
		case IMAP_T_LPAREN: depth++; break;
		case IMAP_T_RPAREN: if (--depth < 0) return false; break;
		case IMAP_T_ATOM: case IMAP_T_STRING: case IMAP_T_NIL: break;
		case IMAP_T_END: case IMAP_T_ERR: return false;
		}
	} while (depth > 0);
	return true;
}

/* ---- commands ---- */

static bool
has_cap(const char *text, size_t len, const char *cap)
{
	size_t cl = strlen(cap), i;

	for (i = 0; i + cl <= len; i++) {
		if ((i == 0 || text[i - 1] == ' ' || text[i - 1] == '[') && strncasecmp(text + i, cap, cl) == 0 &&
		    (i + cl == len || text[i + cl] == ' ' || text[i + cl] == ']' || text[i + cl] == '\r'))
			return true;
	}
	return false;
}

static void
note_caps(struct imap *im)
{
	const char *d = im->resp.data;
	size_t n = im->resp.len;

	if (!has_cap(d, n, "CAPABILITY"))
		return;
	im->literal_plus = has_cap(d, n, "LITERAL+");
	im->starttls = has_cap(d, n, "STARTTLS");
	im->logindisabled = has_cap(d, n, "LOGINDISABLED");
}

static void
cmd_begin(struct imap *im, struct buf *cmd)
{
	bsnprintf(im->tag, sizeof(im->tag), "Y%u", ++im->tagn);
	buf_reset(cmd);
	buf_printf(cmd, "%s ", im->tag);
}

typedef void (*untagged_fn)(struct imap *im, void *arg);

/* Read responses to the command tagged im->tag: untagged ones go to cb. Returns 0 OK, 1 NO,
 * 2 BAD, -1 connection failure; with `until_plus` also 3 on a continuation request. */
static int
await(struct imap *im, untagged_fn cb, void *arg, bool until_plus)
{
	size_t tl = strlen(im->tag);

	for (;;) {
		const char *d;

		if (im->broken || read_response(im) != 0)
			return -1;
		d = im->resp.data;
		if (d[0] == '+' && until_plus)
			return 3;
		if (d[0] == '*') {
			if (strncasecmp(d, "* BYE", 5) == 0) {
				im->broken = true;
				return -1;
			}
			note_caps(im);
			if (cb != NULL)
				cb(im, arg);
			continue;
		}
		if (strncmp(d, im->tag, tl) == 0 && d[tl] == ' ') {
			note_caps(im);
			if (strncasecmp(d + tl + 1, "OK", 2) == 0)
				return 0;
			if (strncasecmp(d + tl + 1, "NO", 2) == 0)
				return 1;
			return 2;
		}
	}
}

/* An astring argument: quoted when it is printable ASCII, else a literal (RFC 3501 §4.3),
 * non-synchronising with LITERAL+ (RFC 7888), else after the server's "+". */
static int
add_string(struct imap *im, struct buf *cmd, const char *s)
{
	size_t i, n = strlen(s);
	bool quotable = n < 1000;
	int rc;

	for (i = 0; i < n && quotable; i++)
		quotable = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f;
	if (quotable) {
		buf_addc(cmd, '"');
		for (i = 0; i < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_addc(cmd, '\\');
			buf_addc(cmd, s[i]);
		}
		buf_addc(cmd, '"');
		return cmd->oom ? -1 : 0;
	}
	if (im->literal_plus) {
		buf_printf(cmd, "{%zu+}\r\n", n);
		buf_add(cmd, s, n);
		return cmd->oom ? -1 : 0;
	}
	buf_printf(cmd, "{%zu}\r\n", n);
	if (cmd->oom || raw_write(im, cmd->data, cmd->len) != 0)
		return -1;
	explicit_bzero(cmd->data, cmd->len);
	buf_reset(cmd);
	rc = await(im, NULL, NULL, true);
	if (rc != 3)
		return -1;
	return buf_add(cmd, s, n) ? 0 : -1;
}

static int
cmd_run(struct imap *im, struct buf *cmd, untagged_fn cb, void *arg)
{
	int rc;

	buf_adds(cmd, "\r\n");
	if (cmd->oom) {
		rc = -1;
		goto out;
	}
	rc = raw_write(im, cmd->data, cmd->len);
	if (rc == 0)
		rc = await(im, cb, arg, false);
out:
	/* Commands carry the source password: wipe them. */
	if (cmd->data != NULL)
		explicit_bzero(cmd->data, cmd->len);
	buf_free(cmd);
	return rc;
}

static int
simple(struct imap *im, const char *verb, untagged_fn cb, void *arg)
{
	struct buf cmd;

	buf_init(&cmd);
	cmd_begin(im, &cmd);
	buf_adds(&cmd, verb);
	return cmd_run(im, &cmd, cb, arg);
}

/* ---- connection ---- */

static void
log_tls(const char *what)
{
	unsigned long e;
	char msg[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		log_info("mailcopy: tls: %s: %s", what, msg);
	}
}

/* 0 done, 1 the handshake failed (not TLS there), 2 the certificate is not trusted. */
static int
tls_start(struct imap *im)
{
	bool ip = strspn(im->host, "0123456789.") == strlen(im->host) || strchr(im->host, ':') != NULL;

	if (im->ctx == NULL) {
		im->ctx = SSL_CTX_new(TLS_client_method());
		if (im->ctx == NULL)
			return 1;
		if (im->cfg->mailcopy_tls_verify) {
			SSL_CTX_set_verify(im->ctx, SSL_VERIFY_PEER, NULL);
			if (SSL_CTX_set_default_verify_paths(im->ctx) != 1)
				log_tls("default verify paths");
			if (im->cfg->mailcopy_ca_file[0] != '\0' &&
			    SSL_CTX_load_verify_locations(im->ctx, im->cfg->mailcopy_ca_file, NULL) != 1)
				log_tls(im->cfg->mailcopy_ca_file);
		}
	}
	im->ssl = SSL_new(im->ctx);
	if (im->ssl == NULL || SSL_set_fd(im->ssl, im->fd) != 1)
		return 1;
	if (!ip)
		(void)SSL_set_tlsext_host_name(im->ssl, im->host);
	if (im->cfg->mailcopy_tls_verify) {
		if (ip)
			(void)X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(im->ssl), im->host);
		else
			(void)SSL_set1_host(im->ssl, im->host);
	}
	if (SSL_connect(im->ssl) != 1) {
		long vr = SSL_get_verify_result(im->ssl);

		log_tls(im->host);
		SSL_free(im->ssl);
		im->ssl = NULL;
		return vr != X509_V_OK ? 2 : 1;
	}
	return 0;
}

static void
drop(struct imap *im)
{
	if (im->ssl != NULL) {
		(void)SSL_shutdown(im->ssl);
		SSL_free(im->ssl);
		im->ssl = NULL;
	}
	ERR_clear_error();
	if (im->fd >= 0)
		close(im->fd);
	im->fd = -1;
	im->rpos = im->rlen = 0;
	im->broken = false;
	im->literal_plus = im->starttls = im->logindisabled = false;
}

/* One attempt on one port. MC_OK; MC_UNREACHABLE with *final when no other attempt may follow. */
static enum mc_reason
attempt(struct imap *im, int port, bool tls, char *why, size_t whysz, bool *final)
{
	char ps[8];
	int t;

	bsnprintf(ps, sizeof(ps), "%d", port);
	im->fd = sock_connect(im->host, ps, CONNECT_TIMEOUT_S, IO_TIMEOUT_S);
	if (im->fd < 0) {
		bsnprintf(why, whysz, "%s:%d: %s", im->host, port, strerror(errno));
		return MC_UNREACHABLE;
	}
	if (tls && (t = tls_start(im)) != 0) {
		if (t == 2) {
			bsnprintf(why, whysz, "%s:%d: the server's TLS certificate could not be verified", im->host, port);
			*final = true;
		} else {
			bsnprintf(why, whysz, "%s:%d: no TLS", im->host, port);
		}
		drop(im);
		return MC_UNREACHABLE;
	}
	if (read_response(im) != 0 || (strncasecmp(im->resp.data, "* OK", 4) != 0 &&
	    strncasecmp(im->resp.data, "* PREAUTH", 9) != 0)) {
		bsnprintf(why, whysz, "%s:%d: not an IMAP server", im->host, port);
		drop(im);
		return MC_UNREACHABLE;
	}
	note_caps(im);
	if (simple(im, "CAPABILITY", NULL, NULL) != 0) {
		bsnprintf(why, whysz, "%s:%d: CAPABILITY refused", im->host, port);
		drop(im);
		return MC_UNREACHABLE;
	}
	if (!tls && im->starttls) {
		if (simple(im, "STARTTLS", NULL, NULL) != 0 || (t = tls_start(im)) != 0) {
			bsnprintf(why, whysz, "%s:%d: STARTTLS failed%s", im->host, port,
			    im->ssl == NULL && im->cfg->mailcopy_tls_verify ? " (certificate not verified?)" : "");
			*final = true;
			drop(im);
			return MC_UNREACHABLE;
		}
		im->rpos = im->rlen = 0;
		/* RFC 3501 §6.2.1: capabilities are asked again after TLS. */
		im->starttls = false;
		if (simple(im, "CAPABILITY", NULL, NULL) != 0) {
			drop(im);
			return MC_UNREACHABLE;
		}
	}
	return MC_OK;
}

enum mc_reason
imap_open(struct imap **im_r, const struct config *cfg, const char *host, int port, char *why, size_t whysz)
{
	struct imap *im = calloc(1, sizeof(*im));
	struct { int port; bool tls; } tries[2];
	bool final = false;
	int i;

	*im_r = NULL;
	if (im == NULL) {
		bsnprintf(why, whysz, "out of memory");
		return MC_TEMP;
	}
	im->fd = -1;
	im->sink_fd = -1;
	im->cfg = cfg;
	buf_init(&im->resp);
	if (!bstrcpy(im->host, sizeof(im->host), host)) {
		free(im);
		bsnprintf(why, whysz, "host name too long");
		return MC_UNREACHABLE;
	}
	tries[0].port = port > 0 ? port : 993;
	tries[0].tls = true;
	tries[1].port = port > 0 ? port : 143;
	tries[1].tls = false;
	for (i = 0; i < 2 && !final; i++) {
		if (attempt(im, tries[i].port, tries[i].tls, why, whysz, &final) == MC_OK) {
			*im_r = im;
			return MC_OK;
		}
	}
	imap_close(&im);
	return MC_UNREACHABLE;
}

void
imap_close(struct imap **imp)
{
	struct imap *im = *imp;

	if (im == NULL)
		return;
	drop(im);
	SSL_CTX_free(im->ctx);
	buf_free(&im->resp);
	free(im);
	*imp = NULL;
}

void
imap_logout(struct imap *im)
{
	if (!im->broken)
		(void)simple(im, "LOGOUT", NULL, NULL);
}

int
imap_login(struct imap *im, const char *user, const char *password)
{
	struct buf cmd;
	int rc;

	if (im->logindisabled)
		return 1;
	buf_init(&cmd);
	cmd_begin(im, &cmd);
	buf_adds(&cmd, "LOGIN ");
	if (add_string(im, &cmd, user) != 0 || !buf_addc(&cmd, ' ') || add_string(im, &cmd, password) != 0) {
		if (cmd.data != NULL)
			explicit_bzero(cmd.data, cmd.len);
		buf_free(&cmd);
		return -1;
	}
	rc = cmd_run(im, &cmd, NULL, NULL);
	return rc == 0 ? 0 : rc == 1 || rc == 2 ? 1 : -1;
}

struct list_ctx {
	void (*cb)(void *arg, const char *name, char delim, unsigned attrs);
	void *arg;
};

static void
on_list(struct imap *im, void *arg)
{
	struct list_ctx *lc = arg;
	struct imap_tk t = { im->resp.data, im->resp.data + im->resp.len };
	char tmp[1024], name[1024];
	const char *v;
	size_t n;
	unsigned attrs = 0;
	char delim = 0;
	enum imap_tok k;

	if (imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_ATOM ||
	    imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_ATOM || !tok_is(v, n, "LIST") ||
	    imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_LPAREN)
		return;
	while ((k = imap_tk_next(&t, &v, &n, tmp, sizeof(tmp))) == IMAP_T_ATOM) {
		if (tok_is(v, n, "\\Noselect") || tok_is(v, n, "\\NonExistent"))
			attrs |= IMAP_L_NOSELECT;
		else if (tok_is(v, n, "\\Trash"))
			attrs |= IMAP_L_TRASH;
		else if (tok_is(v, n, "\\Junk"))
			attrs |= IMAP_L_JUNK;
		else if (tok_is(v, n, "\\Sent"))
			attrs |= IMAP_L_SENT;
		else if (tok_is(v, n, "\\Drafts"))
			attrs |= IMAP_L_DRAFTS;
		else if (tok_is(v, n, "\\Archive"))
			attrs |= IMAP_L_ARCHIVE;
		else if (tok_is(v, n, "\\All") || tok_is(v, n, "\\Flagged"))
			attrs |= IMAP_L_VIRTUAL;
	}
	if (k != IMAP_T_RPAREN)
		return;
	k = imap_tk_next(&t, &v, &n, tmp, sizeof(tmp));
	if (k == IMAP_T_STRING && n == 1)
		delim = v[0];
	else if (k != IMAP_T_NIL)
		return;
	k = imap_tk_next(&t, &v, &n, tmp, sizeof(tmp));
	if ((k != IMAP_T_ATOM && k != IMAP_T_STRING) || n == 0 || n >= sizeof(name) || memchr(v, '\0', n))
		return;
	memcpy(name, v, n);
	name[n] = '\0';
	lc->cb(lc->arg, name, delim, attrs);
}

int
imap_list(struct imap *im, void (*cb)(void *arg, const char *name, char delim, unsigned attrs), void *arg)
{
	struct list_ctx lc = { cb, arg };

	return simple(im, "LIST \"\" \"*\"", on_list, &lc) == 0 ? 0 : -1;
}

struct examine_ctx {
	uint64_t uidvalidity, exists;
};

static void
on_examine(struct imap *im, void *arg)
{
	struct examine_ctx *ec = arg;
	const char *d = im->resp.data, *u;
	uint64_t v;
	char *end;

	if ((u = strstr(d, "[UIDVALIDITY ")) != NULL) {
		v = strtoull(u + 13, &end, 10);
		if (end != u + 13)
			ec->uidvalidity = v;
		return;
	}
	v = strtoull(d + 2, &end, 10);
	if (end != d + 2 && strncasecmp(end, " EXISTS", 7) == 0)
		ec->exists = v;
}

int
imap_examine(struct imap *im, const char *name, uint64_t *uidvalidity_r, uint64_t *exists_r)
{
	struct examine_ctx ec = { 0, 0 };
	struct buf cmd;
	int rc;

	buf_init(&cmd);
	cmd_begin(im, &cmd);
	buf_adds(&cmd, "EXAMINE ");
	if (add_string(im, &cmd, name) != 0) {
		buf_free(&cmd);
		return -1;
	}
	rc = cmd_run(im, &cmd, on_examine, &ec);
	*uidvalidity_r = ec.uidvalidity;
	*exists_r = ec.exists;
	return rc == 0 ? 0 : rc == 1 || rc == 2 ? 1 : -1;
}

struct fetch_ctx {
	void (*cb)(void *arg, uint64_t uid, uint64_t size, unsigned flags, time_t internaldate);
	void *arg;
	uint64_t want_uid;   /* body fetch: the UID asked for */
	bool matched;
};

/* "* N FETCH (KEY VALUE ...)": UID, RFC822.SIZE, FLAGS and INTERNALDATE read, the rest skipped. */
static void
on_fetch(struct imap *im, void *arg)
{
	struct fetch_ctx *fc = arg;
	struct imap_tk t = { im->resp.data, im->resp.data + im->resp.len };
	char tmp[1024];
	const char *v;
	size_t n;
	uint64_t uid = 0, size = 0, x;
	unsigned flags = 0;
	time_t date = 0;
	bool have_uid = false, have_size = false;
	enum imap_tok k;

	if (imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_ATOM ||
	    imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_ATOM || !tok_u64(v, n, &x) ||
	    imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_ATOM || !tok_is(v, n, "FETCH") ||
	    imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_LPAREN)
		return;
	while ((k = imap_tk_next(&t, &v, &n, tmp, sizeof(tmp))) == IMAP_T_ATOM) {
		if (tok_is(v, n, "UID")) {
			if (imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_ATOM || !tok_u64(v, n, &uid))
				return;
			have_uid = true;
		} else if (tok_is(v, n, "RFC822.SIZE")) {
			if (imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_ATOM || !tok_u64(v, n, &size))
				return;
			have_size = true;
		} else if (tok_is(v, n, "FLAGS")) {
			if (imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_LPAREN)
				return;
			while ((k = imap_tk_next(&t, &v, &n, tmp, sizeof(tmp))) == IMAP_T_ATOM) {
				if (tok_is(v, n, "\\Seen"))
					flags |= IMAP_F_SEEN;
				else if (tok_is(v, n, "\\Answered"))
					flags |= IMAP_F_ANSWERED;
				else if (tok_is(v, n, "\\Flagged"))
					flags |= IMAP_F_FLAGGED;
				else if (tok_is(v, n, "\\Deleted"))
					flags |= IMAP_F_DELETED;
				else if (tok_is(v, n, "\\Draft"))
					flags |= IMAP_F_DRAFT;
			}
			if (k != IMAP_T_RPAREN)
				return;
		} else if (tok_is(v, n, "INTERNALDATE")) {
			if (imap_tk_next(&t, &v, &n, tmp, sizeof(tmp)) != IMAP_T_STRING || !imap_parse_date(v, &date))
				date = 0;
		} else if (!skip_value(&t, tmp, sizeof(tmp))) {
			return;
		}
	}
	if (fc->cb != NULL) {
		if (have_uid && have_size)
			fc->cb(fc->arg, uid, size, flags, date);
	} else if (!have_uid || uid == fc->want_uid) {
		fc->matched = true;
	}
}

int
imap_fetch_meta(struct imap *im, void (*cb)(void *arg, uint64_t uid, uint64_t size, unsigned flags,
                time_t internaldate), void *arg)
{
	struct fetch_ctx fc = { cb, arg, 0, false };

	return simple(im, "UID FETCH 1:* (UID RFC822.SIZE FLAGS INTERNALDATE)", on_fetch, &fc) == 0 ? 0 : -1;
}

int
imap_fetch_body(struct imap *im, uint64_t uid, int fd, int64_t *len_r)
{
	struct fetch_ctx fc = { NULL, NULL, uid, false };
	struct buf cmd;
	int rc;

	buf_init(&cmd);
	cmd_begin(im, &cmd);
	buf_printf(&cmd, "UID FETCH %llu (BODY.PEEK[])", (unsigned long long)uid);
	im->sink_fd = fd;
	im->sunk = 0;
	im->got_body = false;
	rc = cmd_run(im, &cmd, on_fetch, &fc);
	im->sink_fd = -1;
	*len_r = im->sunk;
	if (rc != 0)
		return rc == 1 || rc == 2 ? 1 : -1;
	return im->got_body ? 0 : 1;
}
