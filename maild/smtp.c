/* maild/smtp.c: the SMTP session: a command table {verb, flags, handler} with the policy (HELO first,
 * TLS before AUTH, AUTH only on submission) checked once in the dispatcher, replies batched for
 * PIPELINING (RFC 2920), recipients checked at RCPT time. */
#include "maild/smtp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/db.h"
#include "core/log.h"
#include "core/util.h"
#include "maild/deliver.h"
#include "maild/mailauth.h"
#include "maild/metrics.h"
#include "maild/rcpt.h"
#include "maild/smtp_auth.h"
#include "maild/smtp_data.h"
#include "maild/submit.h"

struct sess {
	struct conn *c;
	const struct smtp_server *srv;
	const struct config *cfg;
	bool greeted;              /* EHLO/HELO seen */
	bool esmtp;
	bool authed;
	bool quit;
	int errors;
	struct mailauth_user user;
	bool have_from;
	int64_t declared_size;
	struct envelope env;       /* the transaction */
	struct buf out;            /* replies not yet written (PIPELINING) */
	char line[SMTP_LINE_MAX];
};

enum {
	F_NEEDHELO = 1 << 0,   /* 503 5.5.1 before EHLO/HELO */
	F_NOARG    = 1 << 1,   /* 501 5.5.4 with an argument */
	F_SUBMIT   = 1 << 2,   /* only on submission ports */
};

struct command {
	const char *verb;
	int flags;
	void (*fn)(struct sess *s, const char *arg);
};

static void __attribute__((format(printf, 2, 3)))
reply(struct sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	buf_adds(&s->out, "\r\n");
}

/* Write the batched replies; with PIPELINING a client may send a group of commands, and
 * the replies go out together when no more input is waiting (RFC 2920 §3.2). */
static int
flush(struct sess *s, bool force)
{
	int rc = 0;

	if (s->out.len == 0)
		return 0;
	if (!force && conn_pending(s->c))
		return 0;
	rc = conn_write(s->c, s->out.data, s->out.len);
	buf_reset(&s->out);
	return rc;
}

static void
reset_tx(struct sess *s)
{
	s->have_from = false;
	s->declared_size = -1;
	s->env.from[0] = '\0';
	s->env.nrcpt = 0;
}

static void
new_tx_id(struct sess *s)
{
	char rnd[17];

	if (random_hex(rnd, sizeof(rnd), 8))
		bstrcpy(s->env.id, sizeof(s->env.id), rnd);
}

static void
cmd_ehlo(struct sess *s, const char *arg)
{
	bool tls = conn_is_tls(s->c);

	if (*arg == '\0') {
		reply(s, "501 5.5.4 EHLO needs a domain or address literal");
		return;
	}
	bstrcpy(s->env.helo, sizeof(s->env.helo), arg);
	s->env.helo[strcspn(s->env.helo, " ")] = '\0';
	reset_tx(s);
	s->greeted = true;
	s->esmtp = true;
	reply(s, "250-%s Hello %s", s->cfg->hostname, s->env.helo);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %lld", (long long)s->cfg->message_size_limit);
	reply(s, "250-8BITMIME");
	reply(s, "250-ENHANCEDSTATUSCODES");
	if (!tls && net_tls_available())
		reply(s, "250-STARTTLS");
	/* CONTRACT: AUTH is never offered before TLS (unless plaintext_auth), never on 25. */
	if (s->srv->mode == SMTP_SUBMISSION && !s->authed && (tls || s->cfg->plaintext_auth))
		reply(s, "250-AUTH PLAIN LOGIN");
	reply(s, "250 HELP");
}

static void
cmd_helo(struct sess *s, const char *arg)
{
	if (*arg == '\0') {
		reply(s, "501 5.5.4 HELO needs a domain");
		return;
	}
	bstrcpy(s->env.helo, sizeof(s->env.helo), arg);
	s->env.helo[strcspn(s->env.helo, " ")] = '\0';
	reset_tx(s);
	s->greeted = true;
	s->esmtp = false;
	reply(s, "250 %s", s->cfg->hostname);
}

static void
cmd_starttls(struct sess *s, const char *arg)
{
	(void)arg;
	if (conn_is_tls(s->c)) {
		reply(s, "503 5.5.1 TLS already active");
		return;
	}
	if (!net_tls_available()) {
		reply(s, "454 4.7.0 TLS not available");
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	if (flush(s, true) != 0 || conn_starttls(s->c) != 0) {
		s->quit = true;
		return;
	}
	/* RFC 3207 §4.2: forget everything learnt before the handshake. */
	s->greeted = false;
	s->esmtp = false;
	reset_tx(s);
}

static void
cmd_auth(struct sess *s, const char *arg)
{
	struct db *db;
	enum smtp_auth_result r;

	if (s->authed) {
		reply(s, "503 5.5.1 Already authenticated");
		return;
	}
	if (!conn_is_tls(s->c) && !s->cfg->plaintext_auth) {
		reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (s->have_from) {
		reply(s, "503 5.5.1 AUTH not permitted during a mail transaction");
		return;
	}
	if (flush(s, true) != 0) {
		s->quit = true;
		return;
	}
	db = db_pool_get();
	r = smtp_auth_exchange(s->c, db, s->cfg, arg, &s->user, s->line, sizeof(s->line));
	db_pool_put(&db);
	explicit_bzero(s->line, sizeof(s->line));
	switch (r) {
	case SA_OK:
		s->authed = true;
		metrics_inc("yubin_maild_auth_total{result=\"ok\"}");
		reply(s, "235 2.7.0 Authentication successful");
		log_info("smtp %s: authenticated as %s peer=%s", s->env.id, s->user.address, s->env.peer);
		return;
	case SA_BAD:
		metrics_inc("yubin_maild_auth_total{result=\"failed\"}");
		reply(s, "535 5.7.8 Authentication credentials invalid");
		break;
	case SA_LOCKED:
		/* The same texts as POP3 (maild/pop3.c); a lock is told for unknown logins too. */
		metrics_inc("yubin_maild_auth_total{result=\"failed\"}");
		reply(s, "535 5.7.8 Account locked after too many failed sign-ins; try again later");
		break;
	case SA_REFUSED:
		metrics_inc("yubin_maild_auth_total{result=\"failed\"}");
		reply(s, "535 5.7.8 Sign-in refused: set a new password in the mail panel first");
		break;
	case SA_TEMPFAIL:
		metrics_inc("yubin_maild_db_errors_total");
		reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	case SA_SYNTAX:
		reply(s, "501 5.5.2 Cannot decode the response");
		break;
	case SA_CANCEL:
		reply(s, "501 5.0.0 Authentication cancelled");
		break;
	case SA_MECH:
		reply(s, "504 5.5.4 Unrecognized authentication type");
		break;
	case SA_LOST:
		s->quit = true;
		return;
	}
	s->errors++;
}

static void
cmd_mail(struct sess *s, const char *arg)
{
	struct smtp_path p;
	int rc;

	if (s->srv->mode == SMTP_SUBMISSION && !s->authed) {
		reply(s, "530 5.7.0 Authentication required");
		return;
	}
	if (s->have_from) {
		reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	rc = smtp_parse_path(arg, "FROM", &p);
	if (rc == -1) {
		reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (rc == -2) {
		reply(s, "555 5.5.4 Unsupported MAIL parameter");
		return;
	}
	if (p.size > s->cfg->message_size_limit) {
		metrics_inc("yubin_maild_messages_refused_total{reason=\"size\"}");
		reply(s, "552 5.3.4 Message size exceeds fixed limit of %lld bytes",
		      (long long)s->cfg->message_size_limit);
		return;
	}
	if (s->srv->mode == SMTP_SUBMISSION) {
		struct db *db = db_pool_get();
		char why[128];
		enum submit_check ck = submit_check_sender(db, s->cfg, &s->user, p.addr, s->env.peer,
		    why, sizeof(why));

		db_pool_put(&db);
		switch (ck) {
		case SUBMIT_OK:
			break;
		case SUBMIT_NOT_OWN:
			metrics_inc("yubin_maild_messages_refused_total{reason=\"sender\"}");
			reply(s, "553 5.7.1 <%s>: sender address not owned by %s", p.addr, s->user.address);
			return;
		case SUBMIT_REFUSED:
			metrics_inc("yubin_maild_messages_refused_total{reason=\"send_refused\"}");
			reply(s, "550 5.7.1 Sending refused: %s", why);
			return;
		case SUBMIT_TEMPFAIL:
			metrics_inc("yubin_maild_db_errors_total");
			reply(s, "451 4.3.0 Temporary lookup failure");
			return;
		}
	}
	new_tx_id(s);
	bstrcpy(s->env.from, sizeof(s->env.from), p.addr);
	s->declared_size = p.size;
	s->have_from = true;
	s->env.nrcpt = 0;
	reply(s, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct sess *s, const char *arg)
{
	struct smtp_path p;
	char local[SMTP_PATH_MAX + 1], domain[SMTP_PATH_MAX + 1];
	struct rcpt_info *r;
	struct db *db;
	bool ours = false;
	enum lookup lk;

	if (!s->have_from) {
		reply(s, "503 5.5.1 Need MAIL command first");
		return;
	}
	if (smtp_parse_path(arg, "TO", &p) != 0 || p.addr[0] == '\0') {
		reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (s->env.nrcpt >= SMTP_RCPT_MAX) {
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (!smtp_addr_split(p.addr, local, sizeof(local), domain, sizeof(domain))) {
		reply(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	r = &s->env.rcpt[s->env.nrcpt];
	if (s->srv->mode == SMTP_SUBMISSION) {
		/* Signed-in senders may write anywhere; local addresses are checked when the queue
		 * hands the message to our own inbound side. */
		memset(r, 0, sizeof(*r));
		bstrcpy(s->env.addr[s->env.nrcpt], sizeof(s->env.addr[0]), p.addr);
		s->env.nrcpt++;
		reply(s, "250 2.1.5 Ok");
		return;
	}
	db = db_pool_get();
	lk = rcpt_lookup(db, local, domain, r, &ours);
	if (lk == LK_FOUND && rcpt_over_quota(r))
		rcpt_audit_over_quota(db, r, s->env.peer);
	db_pool_put(&db);
	switch (lk) {
	case LK_FOUND:
		break;
	case LK_NOTFOUND:
		if (ours) {
			metrics_inc("yubin_maild_messages_refused_total{reason=\"unknown_user\"}");
			reply(s, "550 5.1.1 <%s>: Recipient address rejected: no such mailbox", p.addr);
		} else {
			metrics_inc("yubin_maild_messages_refused_total{reason=\"relay\"}");
			reply(s, "550 5.7.1 <%s>: Relay access denied", p.addr);
		}
		return;
	case LK_TEMPFAIL:
		metrics_inc("yubin_maild_db_errors_total");
		metrics_inc("yubin_maild_messages_refused_total{reason=\"tempfail\"}");
		reply(s, "451 4.3.0 <%s>: Temporary lookup failure", p.addr);
		return;
	}
	if (rcpt_over_quota(r)) {
		metrics_inc("yubin_maild_messages_refused_total{reason=\"over_quota\"}");
		reply(s, "452 4.2.2 <%s>: Mailbox full", p.addr);
		return;
	}
	bstrcpy(s->env.addr[s->env.nrcpt], sizeof(s->env.addr[0]), p.addr);
	s->env.nrcpt++;
	reply(s, "250 2.1.5 Ok");
}

static void
cmd_data(struct sess *s, const char *arg)
{
	struct msg m;
	char spool[1024], res[512];
	enum data_result dr;

	(void)arg;
	if (!s->have_from) {
		reply(s, "503 5.5.1 Need MAIL command first");
		return;
	}
	if (s->env.nrcpt == 0) {
		reply(s, "554 5.5.1 No valid recipients");
		return;
	}
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	if (flush(s, true) != 0) {
		s->quit = true;
		return;
	}
	msg_init(&m);
	dr = smtp_read_data(s->c, deliver_spool_dir(s->cfg, spool, sizeof(spool)),
	                    s->cfg->message_size_limit, &m);
	switch (dr) {
	case DATA_OK:
		s->env.proto = s->authed ? "ESMTPSA" : conn_is_tls(s->c) ? "ESMTPS" : s->esmtp ? "ESMTP" : "SMTP";
		bstrcpy(res, sizeof(res), "451 4.3.0 Internal error");
		if (s->srv->mode == SMTP_SUBMISSION) {
			s->env.user = &s->user;
			deliver_submission(s->cfg, &s->env, &m, res, sizeof(res));
		} else {
			deliver_inbound(s->cfg, &s->env, &m, res, sizeof(res));
		}
		reply(s, "%s", res);
		break;
	case DATA_TOO_BIG:
		metrics_inc("yubin_maild_messages_refused_total{reason=\"size\"}");
		reply(s, "552 5.3.4 Message size exceeds fixed limit of %lld bytes",
		      (long long)s->cfg->message_size_limit);
		break;
	case DATA_LINE_TOO_LONG:
		metrics_inc("yubin_maild_messages_refused_total{reason=\"line_length\"}");
		reply(s, "500 5.5.2 Line too long");
		break;
	case DATA_LOCAL_ERROR:
		reply(s, "451 4.3.0 Local error in processing");
		break;
	case DATA_LOST:
		s->quit = true;
		break;
	}
	msg_free(&m);
	reset_tx(s);
}

static void
cmd_rset(struct sess *s, const char *arg)
{
	(void)arg;
	reset_tx(s);
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_noop(struct sess *s, const char *arg)
{
	(void)arg;
	reply(s, "250 2.0.0 Ok");
}

static void
cmd_vrfy(struct sess *s, const char *arg)
{
	(void)arg;
	/* RFC 5321 §3.5.3: 252 when we will not verify (it would let anyone list mailboxes). */
	reply(s, "252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery");
}

static void
cmd_help(struct sess *s, const char *arg)
{
	(void)arg;
	reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY STARTTLS%s",
	      s->srv->mode == SMTP_SUBMISSION ? " AUTH" : "");
}

static void
cmd_quit(struct sess *s, const char *arg)
{
	(void)arg;
	reply(s, "221 2.0.0 Bye");
	s->quit = true;
}

static const struct command commands[] = {
	{ "EHLO", 0, cmd_ehlo },
	{ "HELO", 0, cmd_helo },
	{ "STARTTLS", F_NOARG, cmd_starttls },
	{ "AUTH", F_NEEDHELO | F_SUBMIT, cmd_auth },
	{ "MAIL", F_NEEDHELO, cmd_mail },
	{ "RCPT", F_NEEDHELO, cmd_rcpt },
	{ "DATA", F_NEEDHELO | F_NOARG, cmd_data },
	{ "RSET", 0, cmd_rset },
	{ "NOOP", 0, cmd_noop },
	{ "VRFY", 0, cmd_vrfy },
	{ "HELP", 0, cmd_help },
	{ "QUIT", 0, cmd_quit },
	{ NULL, 0, NULL },
};

static void
dispatch(struct sess *s, const char *line)
{
	char verb[16];
	const char *arg;
	const struct command *cmd;

	if (!smtp_split(line, verb, &arg)) {
		reply(s, "500 5.5.2 Syntax error, command unrecognized");
		s->errors++;
		return;
	}
	for (cmd = commands; cmd->verb != NULL; cmd++)
		if (strcmp(cmd->verb, verb) == 0)
			break;
	/* RFC 4954 §3: port 25 never takes AUTH — as if the command did not exist there. */
	if (cmd->verb == NULL || ((cmd->flags & F_SUBMIT) && s->srv->mode != SMTP_SUBMISSION)) {
		reply(s, "500 5.5.2 Command unrecognized");
		s->errors++;
		return;
	}
	if ((cmd->flags & F_NEEDHELO) && !s->greeted) {
		reply(s, "503 5.5.1 Send EHLO or HELO first");
		s->errors++;
		return;
	}
	if ((cmd->flags & F_NOARG) && *arg != '\0') {
		reply(s, "501 5.5.4 No parameters allowed");
		s->errors++;
		return;
	}
	cmd->fn(s, arg);
}

void
smtp_session(struct conn *c, void *arg)
{
	struct sess *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return;
	s->c = c;
	s->srv = arg;
	s->cfg = s->srv->cfg;
	buf_init(&s->out);
	bstrcpy(s->env.peer, sizeof(s->env.peer), conn_peer(c));
	reset_tx(s);
	new_tx_id(s);
	reply(s, "220 %s ESMTP yubin-maild", s->cfg->hostname);
	if (flush(s, true) != 0)
		goto out;
	while (!s->quit) {
		ssize_t n = conn_getline(c, s->line, sizeof(s->line), SMTP_TIMEOUT);

		if (n == -1) {
			/* Timeout or disconnect: a last word when we can (RFC 5321 §4.5.3.2). */
			reply(s, "421 4.4.2 %s Error: timeout or connection lost", s->cfg->hostname);
			(void)flush(s, true);
			break;
		}
		if (n == -2) {
			reply(s, "500 5.5.2 Line too long");
			s->errors++;
		} else {
			dispatch(s, s->line);
		}
		if (s->errors >= SMTP_MAX_ERRORS) {
			reply(s, "421 4.7.0 %s Too many errors", s->cfg->hostname);
			s->quit = true;
		}
		if (flush(s, s->quit) != 0)
			break;
	}
out:
	buf_free(&s->out);
	explicit_bzero(s, sizeof(*s));
	free(s);
}
