/* maild/smtp_auth.c: the AUTH exchange (PLAIN with or without an initial response, LOGIN), secrets wiped. */
#include "maild/smtp_auth.h"

#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mime.h"
#include "core/util.h"
#include "maild/smtp.h"

#define AUTH_FIELD 1024

bool
smtp_auth_plain_split(const char *p, size_t n, char *login, size_t loginsz, char *password,
                      size_t passwordsz)
{
	const char *z1 = memchr(p, '\0', n), *z2;
	size_t al, ll, pl;

	if (z1 == NULL)
		return false;
	z2 = memchr(z1 + 1, '\0', n - (size_t)(z1 + 1 - p));
	if (z2 == NULL)
		return false;
	al = (size_t)(z1 - p);
	ll = (size_t)(z2 - z1 - 1);
	pl = n - (size_t)(z2 + 1 - p);
	if (ll == 0 || ll >= loginsz || pl >= passwordsz || memchr(z2 + 1, '\0', pl) != NULL)
		return false;
	memcpy(login, z1 + 1, ll);
	login[ll] = '\0';
	memcpy(password, z2 + 1, pl);
	password[pl] = '\0';
	/* An authorization identity other than the login would be acting as someone else. */
	if (al > 0 && (al != ll || strncasecmp(p, login, al) != 0))
		return false;
	return true;
}

/* One base64 line from the client (after a 334). */
static enum smtp_auth_result
read_answer(struct conn *c, char *line, size_t linesz, struct buf *out)
{
	ssize_t n;

	n = conn_getline(c, line, linesz, SMTP_TIMEOUT);
	if (n == -1)
		return SA_LOST;
	if (n < 0)
		return SA_SYNTAX;
	if (strcmp(line, "*") == 0)
		return SA_CANCEL;
	if (!mime_b64_decode(line, (size_t)n, out) || out->oom)
		return SA_SYNTAX;
	return SA_OK;
}

static enum smtp_auth_result
check(struct db *db, const struct config *cfg, struct conn *c, const char *login,
      const char *password, struct mailauth_user *u)
{
	switch (mailauth_check(db, cfg, "smtp", conn_peer(c), login, password, u)) {
	case MA_OK:
		return SA_OK;
	case MA_BAD:
		return SA_BAD;
	case MA_LOCKED:
		return SA_LOCKED;
	case MA_REFUSED:
		return SA_REFUSED;
	case MA_TEMPFAIL:
		return SA_TEMPFAIL;
	}
	return SA_TEMPFAIL;
}

enum smtp_auth_result
smtp_auth_exchange(struct conn *c, struct db *db, const struct config *cfg, const char *arg,
                   struct mailauth_user *u, char *scratch, size_t scratchsz)
{
	char mech[16], login[AUTH_FIELD], password[AUTH_FIELD];
	const char *init;
	struct buf dec;
	enum smtp_auth_result r = SA_SYNTAX;
	size_t ml = strcspn(arg, " ");

	buf_init(&dec);
	login[0] = password[0] = '\0';
	if (ml == 0 || ml >= sizeof(mech))
		return SA_MECH;
	memcpy(mech, arg, ml);
	mech[ml] = '\0';
	init = arg[ml] == ' ' ? arg + ml + 1 : NULL;
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (init == NULL || *init == '\0') {
			if (conn_printf(c, "334 \r\n") != 0) {
				r = SA_LOST;
				goto out;
			}
			r = read_answer(c, scratch, scratchsz, &dec);
			if (r != SA_OK)
				goto out;
		} else if (strcmp(init, "=") == 0) {
			/* RFC 4954 §4: "=" is an empty initial response. */
		} else if (!mime_b64_decode(init, strlen(init), &dec) || dec.oom) {
			r = SA_SYNTAX;
			goto out;
		}
		if (dec.data == NULL ||
		    !smtp_auth_plain_split(dec.data, dec.len, login, sizeof(login), password, sizeof(password))) {
			r = SA_SYNTAX;
			goto out;
		}
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		if (init != NULL && *init != '\0') {
			if (!mime_b64_decode(init, strlen(init), &dec) || dec.oom) {
				r = SA_SYNTAX;
				goto out;
			}
		} else {
			if (conn_printf(c, "334 VXNlcm5hbWU6\r\n") != 0) {
				r = SA_LOST;
				goto out;
			}
			r = read_answer(c, scratch, scratchsz, &dec);
			if (r != SA_OK)
				goto out;
		}
		if (dec.data == NULL || dec.len == 0 || dec.len >= sizeof(login) ||
		    memchr(dec.data, '\0', dec.len) != NULL) {
			r = SA_SYNTAX;
			goto out;
		}
		memcpy(login, dec.data, dec.len);
		login[dec.len] = '\0';
		explicit_bzero(dec.data, dec.len);
		buf_reset(&dec);
		if (conn_printf(c, "334 UGFzc3dvcmQ6\r\n") != 0) {
			r = SA_LOST;
			goto out;
		}
		r = read_answer(c, scratch, scratchsz, &dec);
		if (r != SA_OK)
			goto out;
		if (dec.len >= sizeof(password) || (dec.data && memchr(dec.data, '\0', dec.len) != NULL)) {
			r = SA_SYNTAX;
			goto out;
		}
		if (dec.len > 0)
			memcpy(password, dec.data, dec.len);
		password[dec.len] = '\0';
	} else {
		r = SA_MECH;
		goto out;
	}
	r = check(db, cfg, c, login, password, u);
out:
	if (dec.data != NULL)
		explicit_bzero(dec.data, dec.cap);
	buf_free(&dec);
	explicit_bzero(password, sizeof(password));
	return r;
}
