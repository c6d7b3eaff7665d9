/* cli/yubinctl.c: the operator CLI — migrations, domains, admins, password resets, unlocks. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/db.h"
#include "core/domain.h"
#include "core/lockout.h"
#include "core/log.h"
#include "core/password.h"
#include "core/rules.h"
#include "core/util.h"

static const struct db_stmt st_applied = {
	"cli_applied", "SELECT 1 FROM schema_migrations WHERE version = $1", 1
};
static const struct db_stmt st_mark = {
	"cli_mark", "INSERT INTO schema_migrations (version) VALUES ($1)", 1
};
static const struct db_stmt st_domain_id = {
	"cli_domain_id", "SELECT id FROM domains WHERE name = $1", 1
};
static const struct db_stmt st_admin_add = {
	"cli_admin_add",
	"INSERT INTO admins (login, password_hash, role) VALUES ($1, $2, $3) "
	"ON CONFLICT (login) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, "
	"updated_at = now() RETURNING id", 3
};
static const struct db_stmt st_admin_domain = {
	"cli_admin_domain",
	"INSERT INTO admin_domains (admin_id, domain_id) VALUES ($1::bigint, $2::bigint) ON CONFLICT DO NOTHING", 2
};
static const struct db_stmt st_set_pw = {
	"cli_set_pw",
	"UPDATE accounts a SET password_hash = $3, must_change_password = false, temp_password = false, "
	" compromised = false, compromised_at = NULL, password_changed_at = now(), updated_at = now() "
	"FROM domains d WHERE d.id = a.domain_id AND d.name = $1 AND a.name = $2", 3
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: yubinctl [--db CONNINFO] [--config FILE] COMMAND\n"
	    "  migrate                                   apply sql/ migrations (idempotent)\n"
	    "  domain add NAME [--quota-mb N]            also creates postmaster@NAME\n"
	    "  admin add LOGIN --role superadmin|domain_admin|support [--domain NAME]... --password-stdin\n"
	    "  account unlock ADDRESS\n"
	    "  account set-password ADDRESS --password-stdin\n");
	exit(2);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (s = malloc((size_t)n + 1)) != NULL) {
		if (fread(s, 1, (size_t)n, f) != (size_t)n) {
			free(s);
			s = NULL;
		} else {
			s[n] = '\0';
		}
	}
	fclose(f);
	return s;
}

static int
cmd_migrate(struct db *db)
{
	const char *dir = getenv("YUBIN_SQL_DIR") ? getenv("YUBIN_SQL_DIR") : YUBIN_SOURCE_DIR "/sql";
	char *names[256], path[1024];
	struct dirent *de;
	DIR *d;
	int n = 0, i, rc = 1, applied = 0;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "yubinctl: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < 256) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".sql") == 0 && de->d_name[0] >= '0' && de->d_name[0] <= '9')
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmpstr);
	/* Migration text is the one place plain SQL is sent (DESIGN.md). The advisory lock
	 * keeps two concurrent `migrate` runs from applying a file twice. */
	if (db_plain(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, "
	    "applied_at timestamptz NOT NULL DEFAULT now())") != DB_OK ||
	    db_begin(db) != DB_OK || db_plain(db, "SELECT pg_advisory_xact_lock(7262)") != DB_OK)
		goto out;
	for (i = 0; i < n; i++) {
		struct db_res *r = NULL;
		char *sql;

		if (db_runv(db, &st_applied, &r, names[i]) != DB_OK)
			goto out;
		if (db_rows(r) > 0) {
			db_res_free(&r);
			continue;
		}
		db_res_free(&r);
		if (!bsnprintf(path, sizeof(path), "%s/%s", dir, names[i]) || (sql = slurp(path)) == NULL) {
			fprintf(stderr, "yubinctl: cannot read %s\n", path);
			goto out;
		}
		if (db_plain(db, sql) != DB_OK || db_runv(db, &st_mark, NULL, names[i]) != DB_OK) {
			fprintf(stderr, "yubinctl: %s failed: %s\n", names[i], db_errmsg(db));
			free(sql);
			goto out;
		}
		free(sql);
		applied++;
	}
	if (db_commit(db) != DB_OK)
		goto out;
	printf("migrate: %d applied, %d total\n", applied, n);
	rc = 0;
out:
	if (db_in_tx(db))
		db_rollback(db);
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

static int
read_password(char *out, size_t outsz)
{
	size_t l;

	if (fgets(out, (int)outsz, stdin) == NULL)
		return -1;
	l = strcspn(out, "\r\n");
	out[l] = '\0';
	return 0;
}

static int
cmd_domain_add(struct db *db, int argc, char **argv)
{
	char name[256];
	int64_t quota = 1024, id;
	int i;
	enum db_status s;

	if (argc < 1 || !rule_lower(argv[0], name, sizeof(name)) || !rule_domain_name(name))
		usage();
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quota-mb") && i + 1 < argc) {
			if (!parse_i64(argv[++i], 1, 100000000, &quota))
				usage();
		} else {
			usage();
		}
	}
	s = domain_add(db, name, quota, &id);
	if (s == DB_CONFLICT) {
		fprintf(stderr, "yubinctl: domain %s exists\n", name);
		return 1;
	}
	if (s != DB_OK) {
		fprintf(stderr, "yubinctl: database error: %s\n", db_errmsg(db));
		return 1;
	}
	printf("domain %s added (postmaster@%s)\n", name, name);
	return 0;
}

static int
cmd_admin_add(struct db *db, int argc, char **argv)
{
	const char *role = NULL, *domains[64];
	char login[330], pw[256], hash[PW_HASH_MAX];
	struct db_res *r = NULL;
	int i, nd = 0, rc = 1;
	bool stdin_pw = false;
	struct rule_errs errs = { .n = 0 };

	if (argc < 1 || !rule_lower(argv[0], login, sizeof(login)) || login[0] == '\0')
		usage();
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc)
			role = argv[++i];
		else if (!strcmp(argv[i], "--domain") && i + 1 < argc && nd < 64)
			domains[nd++] = argv[++i];
		else if (!strcmp(argv[i], "--password-stdin"))
			stdin_pw = true;
		else
			usage();
	}
	if (role == NULL || !stdin_pw || (strcmp(role, "superadmin") && strcmp(role, "domain_admin") &&
	    strcmp(role, "support")))
		usage();
	if (read_password(pw, sizeof(pw)) != 0) {
		fprintf(stderr, "yubinctl: no password on standard input\n");
		return 1;
	}
	if (!rule_password(pw, login, NULL, NULL, "password", &errs)) {
		for (size_t k = 0; k < errs.n; k++)
			fprintf(stderr, "yubinctl: password: %s\n", rule_message_field("password", errs.e[k].code, "en"));
		goto out;
	}
	if (pw_hash(pw, hash) != 0 || db_begin(db) != DB_OK ||
	    db_runv(db, &st_admin_add, &r, login, hash, role) != DB_OK)
		goto dberr;
	for (i = 0; i < nd; i++) {
		struct db_res *d = NULL;
		char dn[256];

		if (!rule_lower(domains[i], dn, sizeof(dn)) || db_runv(db, &st_domain_id, &d, dn) != DB_OK)
			goto dberr;
		if (db_rows(d) != 1) {
			fprintf(stderr, "yubinctl: no domain %s\n", dn);
			db_res_free(&d);
			goto out;
		}
		if (db_runv(db, &st_admin_domain, NULL, db_val(r, 0, 0), db_val(d, 0, 0)) != DB_OK) {
			db_res_free(&d);
			goto dberr;
		}
		db_res_free(&d);
	}
	if (db_commit(db) != DB_OK)
		goto dberr;
	printf("admin %s (%s) saved\n", login, role);
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "yubinctl: database error: %s\n", db_errmsg(db));
out:
	if (db_in_tx(db))
		db_rollback(db);
	explicit_bzero(pw, sizeof(pw));
	db_res_free(&r);
	return rc;
}

static int
split_address(const char *addr, char *name, size_t namesz, char *dom, size_t domsz)
{
	char low[330], *at;

	if (!rule_lower(addr, low, sizeof(low)) || (at = strrchr(low, '@')) == NULL)
		return -1;
	*at = '\0';
	if (!bstrcpy(name, namesz, low) || !bstrcpy(dom, domsz, at + 1))
		return -1;
	return 0;
}

static int
cmd_account(struct db *db, const struct config *cfg, int argc, char **argv)
{
	char name[128], dom[256], addr[400], pw[256], hash[PW_HASH_MAX];
	struct db_res *r = NULL;
	struct rule_errs errs = { .n = 0 };
	int rc = 1;

	(void)cfg;
	if (argc < 2 || split_address(argv[1], name, sizeof(name), dom, sizeof(dom)) != 0)
		usage();
	bsnprintf(addr, sizeof(addr), "%s@%s", name, dom);
	if (!strcmp(argv[0], "unlock") && argc == 2) {
		if (lockout_reset(db, addr) != 0) {
			fprintf(stderr, "yubinctl: database error\n");
			return 1;
		}
		printf("%s unlocked\n", addr);
		return 0;
	}
	if (strcmp(argv[0], "set-password") != 0 || argc != 3 || strcmp(argv[2], "--password-stdin") != 0)
		usage();
	if (read_password(pw, sizeof(pw)) != 0) {
		fprintf(stderr, "yubinctl: no password on standard input\n");
		return 1;
	}
	if (!rule_password(pw, name, dom, NULL, "password", &errs)) {
		for (size_t k = 0; k < errs.n; k++)
			fprintf(stderr, "yubinctl: password: %s\n", rule_message_field("password", errs.e[k].code, "en"));
		goto out;
	}
	if (pw_hash(pw, hash) != 0 || db_begin(db) != DB_OK ||
	    db_runv(db, &st_set_pw, &r, dom, name, hash) != DB_OK)
		goto dberr;
	if (db_affected(r) != 1) {
		fprintf(stderr, "yubinctl: no account %s\n", addr);
		goto out;
	}
	if (db_notify_domain(db, dom) != DB_OK || db_commit(db) != DB_OK)
		goto dberr;
	(void)lockout_reset(db, addr);
	printf("password of %s set\n", addr);
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "yubinctl: database error: %s\n", db_errmsg(db));
out:
	if (db_in_tx(db))
		db_rollback(db);
	explicit_bzero(pw, sizeof(pw));
	db_res_free(&r);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	const char *dbs = NULL, *cfile = NULL;
	char err[512];
	struct db *db;
	int i = 1, rc;

	log_init("yubinctl", getenv("YUBIN_DEBUG") != NULL);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			dbs = argv[++i];
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			cfile = argv[++i];
		else
			usage();
	}
	if (i >= argc)
		usage();
	config_defaults(&cfg);
	if (cfile && config_load(&cfg, cfile, err, sizeof(err)) != 0) {
		fprintf(stderr, "yubinctl: %s\n", err);
		return 1;
	}
	config_pick_db(&cfg, dbs);
	if (pw_init(cfg.argon2_m_kib, cfg.argon2_t, cfg.argon2_p) != 0)
		fatalx("argon2 init failed");
	db = db_open(cfg.db);
	if (db == NULL || !db_ensure(db, NULL)) {
		fprintf(stderr, "yubinctl: cannot connect to the database\n");
		return 1;
	}
	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "migrate") && argc == 1)
		rc = cmd_migrate(db);
	else if (!strcmp(argv[0], "domain") && argc >= 3 && !strcmp(argv[1], "add"))
		rc = cmd_domain_add(db, argc - 2, argv + 2);
	else if (!strcmp(argv[0], "admin") && argc >= 3 && !strcmp(argv[1], "add"))
		rc = cmd_admin_add(db, argc - 2, argv + 2);
	else if (!strcmp(argv[0], "account") && argc >= 2)
		rc = cmd_account(db, &cfg, argc - 1, argv + 1);
	else
		usage();
	db_close(&db);
	return rc;
}
