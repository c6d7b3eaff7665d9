/* core/config.c: `key = value` parsing with `#` comments, one table of keys and their types. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

enum ktype { K_STR, K_INT, K_BOOL };

struct key {
	const char *name;
	enum ktype type;
	size_t off;
	size_t size;     /* K_STR buffer size */
	int64_t min, max;
};

#define S(n) { #n, K_STR, offsetof(struct config, n), sizeof(((struct config *)0)->n), 0, 0 }
#define I(n, lo, hi) { #n, K_INT, offsetof(struct config, n), 0, lo, hi }
#define B(n) { #n, K_BOOL, offsetof(struct config, n), 0, 0, 0 }

static const struct key keys[] = {
	S(db), S(hostname), S(maildir_root), S(smtp_listen), S(submission_listen),
	S(smtps_listen), S(pop3_listen), S(pop3s_listen), S(tls_cert), S(tls_key),
	S(relay), S(spam), S(metrics_listen), S(virus), S(queue_dir), S(dns_server),
	I(mx_port, 1, 65535),
	I(message_size_limit, 1024, INT64_C(4294967295)),
	B(plaintext_auth),
	I(send_limit_per_day, 1, INT64_C(100000000)),
	I(aliases_per_account, 0, 100000),
	I(lock_threshold, 1, 1000),
	I(lock_minutes, 1, 100000),
	I(ip_fail_per_minute, 1, 1000000),
	I(argon2_m_kib, 8, 4194304),
	I(argon2_t, 1, 100),
	I(argon2_p, 1, 64),
	I(session_hours, 1, 8760),
	I(retention_inbox_days, 1, 36500),
	I(retention_trash_days, 1, 36500),
	I(retention_interval, 1, 604800),
	B(mailcopy_tls_verify), S(mailcopy_ca_file),
	I(max_connections, 1, 100000),
	I(workers, 1, 256),
	S(imap_host), S(pop3_host), S(smtp_host),
	I(imap_port, 1, 65535), I(imaps_port, 1, 65535), I(pop3_port, 1, 65535),
	I(pop3s_port, 1, 65535), I(submission_port, 1, 65535), I(smtps_port, 1, 65535),
	S(templates_dir), S(static_dir),
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	bstrcpy(c->db, sizeof(c->db), "host=/run/postgresql dbname=yubin");
	bstrcpy(c->hostname, sizeof(c->hostname), "mx.example.test");
	bstrcpy(c->maildir_root, sizeof(c->maildir_root), "/var/lib/yubin/mail");
	bstrcpy(c->spam, sizeof(c->spam), "none");
	bstrcpy(c->virus, sizeof(c->virus), "none");
	c->mx_port = 25;
	c->message_size_limit = 104857600;      /* SPEC §8: 100 MB */
	c->plaintext_auth = false;
	c->send_limit_per_day = 1000;            /* SPEC §6 */
	c->aliases_per_account = 50;             /* SPEC §10 */
	c->lock_threshold = 10;                  /* CONTRACT "Failed authentications" */
	c->lock_minutes = 30;
	c->ip_fail_per_minute = 20;
	c->argon2_m_kib = 19456;
	c->argon2_t = 2;
	c->argon2_p = 1;
	c->session_hours = 12;
	c->retention_inbox_days = 180;           /* SPEC §8 */
	c->retention_trash_days = 31;
	c->retention_interval = 3600;
	c->mailcopy_tls_verify = true;
	c->max_connections = 256;
	c->workers = 8;
	c->imap_port = 143;
	c->imaps_port = 993;
	c->pop3_port = 110;
	c->pop3s_port = 995;
	c->submission_port = 587;
	c->smtps_port = 465;
	bstrcpy(c->templates_dir, sizeof(c->templates_dir), YUBIN_SOURCE_DIR "/templates");
	bstrcpy(c->static_dir, sizeof(c->static_dir), YUBIN_SOURCE_DIR "/static");
}

int
config_set(struct config *c, const char *name, const char *value)
{
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		char *field = (char *)c + k->off;

		if (strcmp(k->name, name) != 0)
			continue;
		switch (k->type) {
		case K_STR:
			return bstrcpy(field, k->size, value) ? 0 : -1;
		case K_INT:
			if (!parse_i64(value, k->min, k->max, &v))
				return -1;
			memcpy(field, &v, sizeof(v));
			return 0;
		case K_BOOL:
			if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
				*(bool *)field = true;
			else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
				*(bool *)field = false;
			else
				return -1;
			return 0;
		}
	}
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(struct config *c, const char *path, char *err, size_t errsz)
{
	FILE *f;
	char line[2048];
	int lineno = 0, rc = -1;

	f = fopen(path, "r");
	if (f == NULL) {
		bsnprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash, *eq, *k, *v;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			bsnprintf(err, errsz, "%s:%d: line too long", path, lineno);
			goto out;
		}
		/* A '#' starts a comment only at the start or after white space, so
		 * values such as URLs with fragments are rare but survive. */
		for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash == line || isspace((unsigned char)hash[-1])) {
				*hash = '\0';
				break;
			}
		k = trim(line);
		if (*k == '\0')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL) {
			bsnprintf(err, errsz, "%s:%d: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (config_set(c, k, v) != 0) {
			bsnprintf(err, errsz, "%s:%d: unknown key or bad value for '%s'", path, lineno, k);
			goto out;
		}
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

void
config_pick_db(struct config *c, const char *cli_db)
{
	const char *env = getenv("YUBIN_DB");

	if (cli_db != NULL && *cli_db)
		bstrcpy(c->db, sizeof(c->db), cli_db);
	else if (env != NULL && *env)
		bstrcpy(c->db, sizeof(c->db), env);
}
