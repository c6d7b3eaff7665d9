/* core/config.h: the `key = value` configuration file shared by yubin-maild, yubin-panel and yubinctl. */
#ifndef YUBIN_CORE_CONFIG_H
#define YUBIN_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_STR 512

struct config {
	char db[CFG_STR];
	char hostname[256];
	char maildir_root[CFG_STR];
	char smtp_listen[128];
	char submission_listen[128];
	char smtps_listen[128];
	char pop3_listen[128];
	char pop3s_listen[128];
	char tls_cert[CFG_STR];
	char tls_key[CFG_STR];
	char relay[256];
	char spam[CFG_STR];          /* "rspamd URL" | "spamd HOST:PORT" | "header" | "none" */
	char metrics_listen[128];
	char virus[256];             /* "clamd HOST:PORT" | "none" */
	char queue_dir[CFG_STR];     /* outgoing queue; default maildir_root/.queue */
	char dns_server[128];        /* resolver for MX lookups ("" = system) */
	int64_t mx_port;             /* port of the MX hosts (25; tests point it elsewhere) */
	int64_t message_size_limit;
	bool plaintext_auth;
	int64_t send_limit_per_day;
	int64_t aliases_per_account;
	int64_t lock_threshold;      /* failed authentications in a row that lock a login */
	int64_t lock_minutes;
	int64_t ip_fail_per_minute;  /* failed panel sign-ins per client address per minute */
	int64_t argon2_m_kib;
	int64_t argon2_t;
	int64_t argon2_p;
	int64_t session_hours;
	int64_t retention_inbox_days;
	int64_t retention_trash_days;
	int64_t retention_interval;  /* seconds between retention sweeps (tests: 1) */
	bool mailcopy_tls_verify;    /* mail copy: verify the source's certificate (default yes) */
	char mailcopy_ca_file[CFG_STR]; /* mail copy: extra CA certificates to trust ("" = system only) */
	int64_t max_connections;
	int64_t workers;             /* panel worker threads (FastCGI) */
	/* What the user panel publishes as mail client settings (SPEC §9). */
	char imap_host[256];
	char pop3_host[256];
	char smtp_host[256];
	int64_t imap_port, imaps_port, pop3_port, pop3s_port, submission_port, smtps_port;
	char templates_dir[CFG_STR];
	char static_dir[CFG_STR];
};

/* Defaults, SPEC/CONTRACT values. */
void config_defaults(struct config *c);
/* Read FILE over the current values. Returns 0, or -1 with a message "file:line: why". */
int config_load(struct config *c, const char *path, char *err, size_t errsz);
/* Set one key; -1 when unknown or the value is malformed. */
int config_set(struct config *c, const char *key, const char *value);
/* The database connection string by CONTRACT order: --db, YUBIN_DB, config file. */
void config_pick_db(struct config *c, const char *cli_db);

#endif
