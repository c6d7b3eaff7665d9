/* maild/pop3.c: POP3 sessions (RFC 1939, CAPA and response codes of RFC 2449, STLS of RFC 2595) on
 * pop3_listen (STLS) and pop3s_listen (implicit TLS); a command table drives both states. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/db.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/jobs_mbox.h"
#include "maild/mailauth.h"
#include "maild/metrics.h"
#include "maild/net.h"
#include "maild/pop3.h"
#include "maild/services.h"

/* RFC 1939 §3: an inactivity timer, if any, of at least 10 minutes. */
#define POP3_TIMEOUT_S 600
/* Failed sign-ins on one connection before it is closed (the counters of mailauth lock the
 * login itself; this only stops one client from trying forever on one connection). */
#define POP3_MAX_AUTH_FAILS 5
/* Replies are gathered while pipelined commands wait (RFC 2449 PIPELINING). */
#define POP3_OUT_MAX 16384

static const struct db_stmt st_usage = {
	"pop3_usage",
	"UPDATE accounts SET usage_bytes = greatest(0, usage_bytes - $2::bigint), updated_at = now() "
	"WHERE id = $1::bigint", 2
};

enum { ST_AUTH = 1, ST_TRANS = 2 };

struct sess {
	struct conn *c;
	const struct config *cfg;
	int state;
	bool implicit_tls;
	char user[330];
	bool have_user;
	int fails;
	struct mailauth_user u;
	struct pop3_box box;
	char out[POP3_OUT_MAX];
	size_t outlen;
	bool broken;
};

static void
flush(struct sess *s)
{
	if (!s->broken && s->outlen > 0 && conn_write(s->c, s->out, s->outlen) != 0)
		s->broken = true;
	s->outlen = 0;
}

static void reply(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One reply line; CRLF is added here. */
static void
reply(struct sess *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	if (s->outlen + (size_t)n > sizeof(s->out))
		flush(s);
	memcpy(s->out + s->outlen, line, (size_t)n);
	s->outlen += (size_t)n;
}

static bool
auth_allowed(const struct sess *s)
{
	/* SPEC §8: no sign-in without TLS unless plaintext_auth = yes for legacy clients. */
	return conn_is_tls(s->c) || s->cfg->plaintext_auth;
}

/* A message number argument: 1..n of a message not marked deleted; else -ERR sent. */
static bool
msg_arg(struct sess *s, const char *arg, size_t *i_r)
{
	int64_t v;

	if (arg == NULL || !parse_i64(arg, 1, INT64_MAX, &v) || (uint64_t)v > s->box.n) {
		reply(s, "-ERR No such message");
		return false;
	}
	if (s->box.msgs[v - 1].deleted) {
		reply(s, "-ERR Message %lld already deleted", (long long)v);
		return false;
	}
	*i_r = (size_t)(v - 1);
	return true;
}

static void
totals(const struct sess *s, size_t *n_r, int64_t *octets_r)
{
	size_t i;

	*n_r = 0;
	*octets_r = 0;
	for (i = 0; i < s->box.n; i++) {
		if (!s->box.msgs[i].deleted) {
			(*n_r)++;
			*octets_r += s->box.msgs[i].octets;
		}
	}
}

static int
cmd_capa(struct sess *s, const char *arg)
{
	(void)arg;
	reply(s, "+OK Capability list follows");
	reply(s, "TOP");
	reply(s, "UIDL");
	reply(s, "RESP-CODES");
	reply(s, "AUTH-RESP-CODE");
	reply(s, "PIPELINING");
	if (s->state == ST_AUTH && auth_allowed(s))
		reply(s, "USER");
	if (s->state == ST_AUTH && !conn_is_tls(s->c) && net_tls_available())
		reply(s, "STLS");
	reply(s, "EXPIRE NEVER");
	reply(s, "IMPLEMENTATION yubin");
	reply(s, ".");
	return 0;
}

static int
cmd_stls(struct sess *s, const char *arg)
{
	(void)arg;
	if (conn_is_tls(s->c)) {
		reply(s, "-ERR Command not permitted when TLS active");
		return 0;
	}
	if (!net_tls_available()) {
		reply(s, "-ERR TLS not available");
		return 0;
	}
	reply(s, "+OK Begin TLS negotiation");
	flush(s);
	if (s->broken || conn_starttls(s->c) != 0) {
		log_info("pop3: STLS handshake failed peer=%s", conn_peer(s->c));
		return 1;
	}
	/* RFC 2595 §4: everything before the handshake is forgotten. */
	s->have_user = false;
	return 0;
}

static int
cmd_user(struct sess *s, const char *arg)
{
	if (!auth_allowed(s)) {
		reply(s, "-ERR [AUTH] Sign-in needs TLS: use STLS first (or port 995)");
		return 0;
	}
	if (arg == NULL || *arg == '\0' || !bstrcpy(s->user, sizeof(s->user), arg)) {
		s->have_user = false;
		reply(s, "-ERR [AUTH] Invalid user name");
		return 0;
	}
	s->have_user = true;
	reply(s, "+OK Send the password");
	return 0;
}

/* After the password was accepted: lock and read the maildrop. */
static int
enter_transaction(struct sess *s)
{
	char dir[4096];
	size_t n;
	int64_t octets;

	if (!mbox_path(s->cfg, s->u.domain, s->u.name, dir, sizeof(dir)))
		dir[0] = '\0';
	switch (pop3_box_open(&s->box, dir, s->u.account_id)) {
	case POP3_OPEN_OK:
		break;
	case POP3_OPEN_IN_USE:
		metrics_inc("yubin_maild_pop3_logins_total{result=\"in_use\"}");
		log_info("pop3: %s: maildrop in use peer=%s", s->u.address, conn_peer(s->c));
		reply(s, "-ERR [IN-USE] Mailbox is in use by another session");
		return 0;
	case POP3_OPEN_TEMPFAIL:
		reply(s, "-ERR [SYS/TEMP] Mailbox temporarily unavailable, try again later");
		return 0;
	}
	s->state = ST_TRANS;
	totals(s, &n, &octets);
	metrics_inc("yubin_maild_pop3_logins_total{result=\"ok\"}");
	log_info("pop3: %s signed in peer=%s tls=%d messages=%zu", s->u.address, conn_peer(s->c),
	    conn_is_tls(s->c), n);
	reply(s, "+OK Maildrop has %zu messages (%lld octets)", n, (long long)octets);
	return 0;
}

static int
cmd_pass(struct sess *s, const char *arg)
{
	struct db *db;
	enum mailauth_result res;
	char user[340];

	if (!auth_allowed(s)) {
		reply(s, "-ERR [AUTH] Sign-in needs TLS: use STLS first (or port 995)");
		return 0;
	}
	if (!s->have_user) {
		reply(s, "-ERR Send USER first");
		return 0;
	}
	s->have_user = false;
	flush(s);
	db = db_pool_get();
	res = mailauth_check(db, s->cfg, "pop3", conn_peer(s->c), s->user, arg ? arg : "", &s->u);
	db_pool_put(&db);
	log_untrusted(s->user, strlen(s->user), user, sizeof(user));
	switch (res) {
	case MA_OK:
		return enter_transaction(s);
	case MA_BAD:
		metrics_inc("yubin_maild_pop3_logins_total{result=\"bad\"}");
		log_info("pop3: sign-in failed user=%s peer=%s", user, conn_peer(s->c));
		reply(s, "-ERR [AUTH] Invalid user name or password");
		break;
	case MA_LOCKED:
		metrics_inc("yubin_maild_pop3_logins_total{result=\"locked\"}");
		log_info("pop3: sign-in refused (locked) user=%s peer=%s", user, conn_peer(s->c));
		reply(s, "-ERR [AUTH] Account locked after too many failed sign-ins; try again later");
		break;
	case MA_REFUSED:
		metrics_inc("yubin_maild_pop3_logins_total{result=\"refused\"}");
		log_info("pop3: sign-in refused (status) user=%s peer=%s", user, conn_peer(s->c));
		reply(s, "-ERR [AUTH] Sign-in refused: set a new password in the mail panel first");
		break;
	case MA_TEMPFAIL:
		metrics_inc("yubin_maild_pop3_logins_total{result=\"tempfail\"}");
		reply(s, "-ERR [SYS/TEMP] Temporary failure, try again later");
		return 0;
	}
	if (++s->fails >= POP3_MAX_AUTH_FAILS) {
		reply(s, "-ERR Too many failed sign-ins, closing");
		return 1;
	}
	return 0;
}

static int
cmd_stat(struct sess *s, const char *arg)
{
	size_t n;
	int64_t octets;

	(void)arg;
	totals(s, &n, &octets);
	reply(s, "+OK %zu %lld", n, (long long)octets);
	return 0;
}

static int
cmd_list(struct sess *s, const char *arg)
{
	size_t i, n;
	int64_t octets;

	if (arg != NULL) {
		if (msg_arg(s, arg, &i))
			reply(s, "+OK %zu %lld", i + 1, (long long)s->box.msgs[i].octets);
		return 0;
	}
	totals(s, &n, &octets);
	reply(s, "+OK %zu messages (%lld octets)", n, (long long)octets);
	for (i = 0; i < s->box.n; i++)
		if (!s->box.msgs[i].deleted)
			reply(s, "%zu %lld", i + 1, (long long)s->box.msgs[i].octets);
	reply(s, ".");
	return 0;
}

static int
cmd_uidl(struct sess *s, const char *arg)
{
	size_t i;

	if (arg != NULL) {
		if (msg_arg(s, arg, &i))
			reply(s, "+OK %zu %s", i + 1, s->box.msgs[i].uidl);
		return 0;
	}
	reply(s, "+OK Unique-ID listing follows");
	for (i = 0; i < s->box.n; i++)
		if (!s->box.msgs[i].deleted)
			reply(s, "%zu %s", i + 1, s->box.msgs[i].uidl);
	reply(s, ".");
	return 0;
}

static int
write_conn(void *arg, const void *p, size_t n)
{
	return conn_write(arg, p, n);
}

static int
send_msg(struct sess *s, size_t i, int64_t lines)
{
	char ok[64];
	int rc;

	flush(s);
	if (s->broken)
		return 1;
	bsnprintf(ok, sizeof(ok), "+OK %lld octets\r\n", (long long)s->box.msgs[i].octets);
	rc = pop3_box_send(&s->box, i, lines, ok, write_conn, s->c);
	if (rc == 1) {
		reply(s, "-ERR [SYS/TEMP] Message %zu is no longer there", i + 1);
		return 0;
	}
	if (rc < 0) {
		log_warnx("pop3: %s: sending message %zu failed", s->u.address, i + 1);
		s->broken = true;
		return 1;
	}
	return 0;
}

static int
cmd_retr(struct sess *s, const char *arg)
{
	size_t i;

	if (!msg_arg(s, arg, &i))
		return 0;
	return send_msg(s, i, -1);
}

static int
cmd_top(struct sess *s, const char *arg)
{
	char num[24];
	const char *sp = arg ? strchr(arg, ' ') : NULL;
	int64_t lines;
	size_t i;

	if (sp == NULL || (size_t)(sp - arg) >= sizeof(num) || !parse_i64(sp + 1, 0, INT64_MAX, &lines)) {
		reply(s, "-ERR Usage: TOP msg lines");
		return 0;
	}
	memcpy(num, arg, (size_t)(sp - arg));
	num[sp - arg] = '\0';
	if (!msg_arg(s, num, &i))
		return 0;
	return send_msg(s, i, lines);
}

static int
cmd_dele(struct sess *s, const char *arg)
{
	size_t i;

	if (!msg_arg(s, arg, &i))
		return 0;
	s->box.msgs[i].deleted = true;
	reply(s, "+OK Message %zu deleted", i + 1);
	return 0;
}

static int
cmd_noop(struct sess *s, const char *arg)
{
	(void)arg;
	reply(s, "+OK");
	return 0;
}

static int
cmd_rset(struct sess *s, const char *arg)
{
	size_t i, n;
	int64_t octets;

	(void)arg;
	for (i = 0; i < s->box.n; i++)
		s->box.msgs[i].deleted = false;
	totals(s, &n, &octets);
	reply(s, "+OK Maildrop has %zu messages (%lld octets)", n, (long long)octets);
	return 0;
}

/* RFC 1939 §6: QUIT in the TRANSACTION state enters UPDATE: deletions happen only now. */
static int
cmd_quit(struct sess *s, const char *arg)
{
	struct db *db;
	char id[24], freed_s[24];
	int64_t freed = 0;
	size_t i, ndel = 0;
	int rc;

	(void)arg;
	if (s->state != ST_TRANS) {
		reply(s, "+OK Bye");
		return 1;
	}
	for (i = 0; i < s->box.n; i++)
		ndel += s->box.msgs[i].deleted;
	rc = pop3_box_commit(&s->box, &freed);
	if (freed > 0) {
		bsnprintf(id, sizeof(id), "%lld", (long long)s->u.account_id);
		bsnprintf(freed_s, sizeof(freed_s), "%lld", (long long)freed);
		db = db_pool_get();
		if (db_begin(db) != DB_OK || db_runv(db, &st_usage, NULL, id, freed_s) != DB_OK ||
		    db_notify_domain(db, s->u.domain) != DB_OK || db_commit(db) != DB_OK) {
			db_rollback(db);
			log_warnx("pop3: %s: usage not lowered by %s bytes: %s", s->u.address, freed_s,
			    db_errmsg(db));
		}
		db_pool_put(&db);
	}
	s->state = ST_AUTH;
	log_info("pop3: %s signed off, %zu deleted (%lld bytes)", s->u.address, ndel, (long long)freed);
	if (rc != 0)
		reply(s, "-ERR [SYS/TEMP] Some deleted messages were not removed");
	else
		reply(s, "+OK Bye (%zu messages deleted)", ndel);
	return 1;
}

struct cmd {
	const char *verb;
	int states;
	bool arg_required;
	int (*fn)(struct sess *s, const char *arg);
};

static const struct cmd cmds[] = {
	{ "CAPA", ST_AUTH | ST_TRANS, false, cmd_capa },
	{ "STLS", ST_AUTH, false, cmd_stls },
	{ "USER", ST_AUTH, true, cmd_user },
	{ "PASS", ST_AUTH, false, cmd_pass },
	{ "QUIT", ST_AUTH | ST_TRANS, false, cmd_quit },
	{ "STAT", ST_TRANS, false, cmd_stat },
	{ "LIST", ST_TRANS, false, cmd_list },
	{ "UIDL", ST_TRANS, false, cmd_uidl },
	{ "RETR", ST_TRANS, true, cmd_retr },
	{ "TOP",  ST_TRANS, true, cmd_top },
	{ "DELE", ST_TRANS, true, cmd_dele },
	{ "NOOP", ST_TRANS, false, cmd_noop },
	{ "RSET", ST_TRANS, false, cmd_rset },
};

/* 1 when the session ends. */
static int
dispatch(struct sess *s, char *line)
{
	char *arg = NULL, *sp;
	size_t i, vlen;

	sp = strchr(line, ' ');
	vlen = sp ? (size_t)(sp - line) : strlen(line);
	if (sp != NULL) {
		arg = sp + 1;
		if (*arg == '\0')
			arg = NULL;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct cmd *c = &cmds[i];

		if (strlen(c->verb) != vlen || strncasecmp(c->verb, line, vlen) != 0)
			continue;
		if (!(c->states & s->state)) {
			reply(s, s->state == ST_AUTH ? "-ERR Sign in first" : "-ERR Already signed in");
			return 0;
		}
		if (c->arg_required && arg == NULL) {
			reply(s, "-ERR Missing argument");
			return 0;
		}
		return c->fn(s, arg);
	}
	reply(s, "-ERR Unknown command");
	return 0;
}

static void
session(struct conn *c, void *arg)
{
	struct sess *s = calloc(1, sizeof(*s));
	char line[POP3_LINE_MAX];
	ssize_t n;

	if (s == NULL)
		return;
	s->c = c;
	s->cfg = arg;
	s->state = ST_AUTH;
	s->box.lock = -1;
	metrics_inc("yubin_maild_pop3_sessions_total");
	reply(s, "+OK yubin POP3 ready");
	flush(s);
	while (!s->broken) {
		n = conn_getline(c, line, sizeof(line), POP3_TIMEOUT_S);
		if (n == -1)
			break;   /* gone or idle too long: no UPDATE state (RFC 1939 §6) */
		if (n == -2) {
			reply(s, "-ERR Line too long");
		} else {
			int end = dispatch(s, line);

			explicit_bzero(line, sizeof(line));   /* PASS lines */
			if (end)
				break;
		}
		if (!conn_pending(c))
			flush(s);
	}
	flush(s);
	pop3_box_close(&s->box);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

int
pop3_start(const struct config *cfg)
{
	if (cfg->pop3_listen[0] != '\0' &&
	    net_listen("pop3", cfg->pop3_listen, false, session, (void *)cfg) != 0)
		return -1;
	if (cfg->pop3s_listen[0] != '\0') {
		if (!net_tls_available()) {
			log_warnx("pop3s_listen needs tls_cert and tls_key");
			return -1;
		}
		if (net_listen("pop3s", cfg->pop3s_listen, true, session, (void *)cfg) != 0)
			return -1;
	}
	return 0;
}
