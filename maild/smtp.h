/* maild/smtp.h: the SMTP server of RFC 5321 (inbound MX and submission), its limits, and the
 * command-line parsers the fuzz target drives. */
#ifndef YUBIN_MAILD_SMTP_H
#define YUBIN_MAILD_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "maild/net.h"

/* RFC 5321 §4.5.3.1: a command line is at most 512 octets; we take 2048 so that long
 * ESMTP parameter lists still parse, and refuse longer ones with 500 5.5.2. */
#define SMTP_LINE_MAX 2048
/* §4.5.3.1.3: a path is at most 256 octets. */
#define SMTP_PATH_MAX 256
/* §4.5.3.1.8: at least 100 recipients must be accepted; more get 452 4.5.3. */
#define SMTP_RCPT_MAX 100
/* Text lines (§4.5.3.1.6 says 1000; real mail exceeds it): we keep up to 64 KiB per line
 * and refuse a message with a longer one. */
#define SMTP_DATA_LINE_MAX 65536
/* §4.5.3.2: 5 minutes for commands and for each data block, 10 after the final dot. */
#define SMTP_TIMEOUT 300
/* Errors in one session before it is closed with 421 (a client looping on garbage). */
#define SMTP_MAX_ERRORS 20

enum smtp_mode { SMTP_INBOUND, SMTP_SUBMISSION };

struct smtp_server {
	const struct config *cfg;
	enum smtp_mode mode;
	const char *name;          /* "smtp", "submission", "smtps" for logs and metrics */
};

/* The conn_handler for net_listen; arg is a struct smtp_server. */
void smtp_session(struct conn *c, void *arg);

/* A MAIL FROM / RCPT TO argument. */
struct smtp_path {
	char addr[SMTP_PATH_MAX + 1];  /* without the angle brackets; "" for <> */
	int64_t size;                   /* SIZE=, -1 when absent */
	bool body_8bit;
};

/* The verb of a command line upper-cased into verb (at most 15 chars) and the argument
 * after one space (or "" when none). False when the verb is not letters only. */
bool smtp_split(const char *line, char verb[16], const char **arg_r);
/* Parse `KW:<path> [params]` (kw "FROM" or "TO", case-insensitive, a space after the colon
 * tolerated). 0 ok, -1 syntax error (501), -2 unknown or bad parameter (555). */
int smtp_parse_path(const char *arg, const char *kw, struct smtp_path *p);
/* Split local@domain: the domain lower-cased; the local part as given (quotes removed).
 * False when there is no '@', either side is empty, or something does not fit. */
bool smtp_addr_split(const char *addr, char *local, size_t localsz, char *domain, size_t domainsz);

#endif
