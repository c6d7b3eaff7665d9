/* core/db.c: libpq behind named statements, a capped pool, reconnect-and-retry on SQLSTATE class 08
 * (as OpenSMTPD's table-postgres does) and SQLSTATE mapped to db_status. */
#include "core/db.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define PREP_SLOTS 512   /* open-addressed set of prepared statements per connection */

struct db {
	char *conninfo;
	PGconn *conn;
	bool in_tx;
	bool tx_failed;
	char sqlstate[6];
	char errmsg[256];
	const struct db_stmt *prepared[PREP_SLOTS];
	int nprepared;
	struct db *next_free;
};

struct db_res {
	PGresult *r;
};

static pthread_mutex_t pool_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static struct db *pool_free;

struct db *
db_open(const char *conninfo)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->conninfo = strdup(conninfo);
	if (db->conninfo == NULL) {
		free(db);
		return NULL;
	}
	return db;
}

void
db_close(struct db **dbp)
{
	struct db *db;

	if (dbp == NULL || *dbp == NULL)
		return;
	db = *dbp;
	if (db->conn)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
	*dbp = NULL;
}

int
db_pool_init(const char *conninfo, int size)
{
	int i;

	for (i = 0; i < size; i++) {
		struct db *db = db_open(conninfo);

		if (db == NULL)
			return -1;
		db->next_free = pool_free;
		pool_free = db;
	}
	return 0;
}

struct db *
db_pool_get(void)
{
	struct db *db;

	pthread_mutex_lock(&pool_mtx);
	while (pool_free == NULL)
		pthread_cond_wait(&pool_cv, &pool_mtx);
	db = pool_free;
	pool_free = db->next_free;
	pthread_mutex_unlock(&pool_mtx);
	db->next_free = NULL;
	return db;
}

void
db_pool_put(struct db **dbp)
{
	struct db *db;

	if (dbp == NULL || *dbp == NULL)
		return;
	db = *dbp;
	if (db->in_tx)
		db_rollback(db);
	pthread_mutex_lock(&pool_mtx);
	db->next_free = pool_free;
	pool_free = db;
	pthread_cond_signal(&pool_cv);
	pthread_mutex_unlock(&pool_mtx);
	*dbp = NULL;
}

static void
note_error(struct db *db, const PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);

	bstrcpy(db->sqlstate, sizeof(db->sqlstate), st ? st : "");
	bstrcpy(db->errmsg, sizeof(db->errmsg), msg ? msg : "");
	db->errmsg[strcspn(db->errmsg, "\n")] = '\0';
}

static void
disconnect(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	memset(db->prepared, 0, sizeof(db->prepared));
	db->nprepared = 0;
	db->in_tx = false;
	db->tx_failed = false;
}

static void
quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("db: %s", msg);
}

bool
db_ensure(struct db *db, bool *reconnected_r)
{
	/* Generic plans for every prepared statement: with the default (auto), PostgreSQL kept
	 * planning the account list afresh on each call (0.5 ms, more than running it) because
	 * its custom plans looked cheaper on paper, and ran them slower. Our statements are
	 * parameterised lookups written for their generic plan (see api/accounts.c st_list). */
	static const char *const kw[] = { "connect_timeout", "application_name", "options", "dbname", NULL };
	const char *vals[] = { "5", "yubin", "-c plan_cache_mode=force_generic_plan", db->conninfo, NULL };

	if (reconnected_r)
		*reconnected_r = false;
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return true;
	disconnect(db);
	/* expand_dbname: the conninfo string given as dbname is parsed, and its own
	 * settings win over the defaults listed before it. */
	db->conn = PQconnectdbParams(kw, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		bstrcpy(db->sqlstate, sizeof(db->sqlstate), "08006");
		bstrcpy(db->errmsg, sizeof(db->errmsg), db->conn ? PQerrorMessage(db->conn) : "out of memory");
		db->errmsg[strcspn(db->errmsg, "\n")] = '\0';
		log_warnx("db: connect failed: %s", db->errmsg);
		disconnect(db);
		return false;
	}
	/* Server notices (e.g. "already exists, skipping") are not ours to print. */
	PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
	if (reconnected_r)
		*reconnected_r = true;
	return true;
}

static size_t
slot_of(const struct db_stmt *st)
{
	uintptr_t h = (uintptr_t)st;

	h ^= h >> 17;
	h *= (uintptr_t)0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 7) % PREP_SLOTS;
}

static bool
is_prepared(const struct db *db, const struct db_stmt *st)
{
	size_t i = slot_of(st), n;

	for (n = 0; n < PREP_SLOTS; n++, i = (i + 1) % PREP_SLOTS) {
		if (db->prepared[i] == st)
			return true;
		if (db->prepared[i] == NULL)
			return false;
	}
	return false;
}

static void
mark_prepared(struct db *db, const struct db_stmt *st)
{
	size_t i = slot_of(st), n;

	if (db->nprepared >= PREP_SLOTS - 1)
		fatalx("db: more than %d statements", PREP_SLOTS - 1);
	for (n = 0; n < PREP_SLOTS; n++, i = (i + 1) % PREP_SLOTS)
		if (db->prepared[i] == NULL) {
			db->prepared[i] = st;
			db->nprepared++;
			return;
		}
}

static enum db_status
map_state(const char *st)
{
	if (st == NULL || *st == '\0')
		return DB_TEMPFAIL;               /* no answer at all: the server went away */
	if (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
	    strcmp(st, "57P03") == 0 || strcmp(st, "53300") == 0 || strncmp(st, "40", 2) == 0 ||
	    strcmp(st, "55P03") == 0 || strcmp(st, "57014") == 0)
		return DB_TEMPFAIL;
	if (strcmp(st, "23505") == 0)
		return DB_CONFLICT;
	if (strcmp(st, "23503") == 0)
		return DB_FKEY;
	if (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0)
		return DB_CHECK;
	return DB_ERROR;
}

/* One attempt: prepare if needed, execute. */
static enum db_status
run_once(struct db *db, const struct db_stmt *st, PGresult **out, const char *const *params)
{
	PGresult *r;
	ExecStatusType es;

	*out = NULL;
	if (!db_ensure(db, NULL))
		return DB_TEMPFAIL;
	if (!is_prepared(db, st)) {
		r = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			enum db_status s;

			note_error(db, r);
			s = map_state(db->sqlstate);
			/* 42P05: already prepared on this session (a statement name shared by
			 * two tables would be our bug, but a lost bookkeeping entry is not). */
			if (strcmp(db->sqlstate, "42P05") == 0) {
				PQclear(r);
				mark_prepared(db, st);
				goto exec;
			}
			if (s != DB_TEMPFAIL)
				log_warnx("db: prepare %s: %s", st->name, db->errmsg);
			PQclear(r);
			if (db->in_tx)
				db->tx_failed = true;
			return s;
		}
		PQclear(r);
		mark_prepared(db, st);
	}
exec:
	r = PQexecPrepared(db->conn, st->name, st->nparams, params, NULL, NULL, 0);
	es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
		*out = r;
		return DB_OK;
	}
	note_error(db, r);
	PQclear(r);
	if (db->in_tx)
		db->tx_failed = true;
	return map_state(db->sqlstate);
}

static bool
connection_lost(struct db *db)
{
	return db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	    strncmp(db->sqlstate, "08", 2) == 0 || db->sqlstate[0] == '\0' ||
	    strncmp(db->sqlstate, "57P0", 4) == 0;
}

enum db_status
db_run(struct db *db, const struct db_stmt *st, struct db_res **res_r, const char *const *params)
{
	PGresult *r = NULL;
	enum db_status s;

	if (res_r)
		*res_r = NULL;
	s = run_once(db, st, &r, params);
	if (s == DB_TEMPFAIL && connection_lost(db)) {
		bool was_tx = db->in_tx;

		disconnect(db);
		/* Retry once, only outside a transaction: inside one the work so far is gone. */
		if (!was_tx)
			s = run_once(db, st, &r, params);
	}
	if (s == DB_ERROR)
		log_warnx("db: %s: SQLSTATE %s: %s", st->name, db->sqlstate, db->errmsg);
	if (s == DB_OK && res_r) {
		struct db_res *res = malloc(sizeof(*res));

		if (res == NULL) {
			PQclear(r);
			return DB_TEMPFAIL;
		}
		res->r = r;
		*res_r = res;
	} else {
		PQclear(r);
	}
	return s;
}

enum db_status
db_runv(struct db *db, const struct db_stmt *st, struct db_res **res_r, ...)
{
	const char *params[64];
	va_list ap;
	int i;

	if (st->nparams > 64)
		fatalx("db: %s has too many parameters", st->name);
	va_start(ap, res_r);
	for (i = 0; i < st->nparams; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	return db_run(db, st, res_r, params);
}

static enum db_status
simple(struct db *db, const char *sql)
{
	PGresult *r;
	ExecStatusType es;

	if (!db_ensure(db, NULL))
		return DB_TEMPFAIL;
	r = PQexec(db->conn, sql);
	es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
		PQclear(r);
		return DB_OK;
	}
	note_error(db, r);
	PQclear(r);
	if (connection_lost(db))
		disconnect(db);
	return map_state(db->sqlstate);
}

enum db_status
db_begin(struct db *db)
{
	enum db_status s;

	if (db->in_tx)
		fatalx("db: nested transaction");
	s = simple(db, "BEGIN");
	if (s == DB_TEMPFAIL && db->conn == NULL)
		s = simple(db, "BEGIN");
	if (s == DB_OK) {
		db->in_tx = true;
		db->tx_failed = false;
	}
	return s;
}

enum db_status
db_commit(struct db *db)
{
	enum db_status s;

	if (!db->in_tx)
		fatalx("db: commit outside a transaction");
	if (db->tx_failed) {
		db_rollback(db);
		return DB_ERROR;
	}
	s = simple(db, "COMMIT");
	db->in_tx = false;
	return s;
}

void
db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	db->in_tx = false;
	db->tx_failed = false;
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		(void)simple(db, "ROLLBACK");
}

bool
db_in_tx(const struct db *db)
{
	return db->in_tx;
}

int
db_rows(const struct db_res *r)
{
	return r ? PQntuples(r->r) : 0;
}

int
db_cols(const struct db_res *r)
{
	return r ? PQnfields(r->r) : 0;
}

const char *
db_val(const struct db_res *r, int row, int col)
{
	if (r == NULL || row >= PQntuples(r->r) || col >= PQnfields(r->r))
		return "";
	return PQgetvalue(r->r, row, col);
}

bool
db_null(const struct db_res *r, int row, int col)
{
	if (r == NULL || row >= PQntuples(r->r) || col >= PQnfields(r->r))
		return true;
	return PQgetisnull(r->r, row, col) != 0;
}

int64_t
db_i64(const struct db_res *r, int row, int col)
{
	return strtoll(db_val(r, row, col), NULL, 10);
}

bool
db_bool(const struct db_res *r, int row, int col)
{
	return db_val(r, row, col)[0] == 't';
}

int64_t
db_affected(const struct db_res *r)
{
	const char *s = r ? PQcmdTuples(r->r) : "";

	return *s ? strtoll(s, NULL, 10) : 0;
}

void
db_res_free(struct db_res **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	PQclear((*rp)->r);
	free(*rp);
	*rp = NULL;
}

enum db_status
db_plain(struct db *db, const char *sql)
{
	enum db_status s = simple(db, sql);

	if (s != DB_OK)
		log_warnx("db: SQLSTATE %s: %s", db->sqlstate, db->errmsg);
	return s;
}

const char *
db_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

const char *
db_errmsg(const struct db *db)
{
	return db->errmsg;
}

int
db_socket(struct db *db)
{
	return db->conn ? PQsocket(db->conn) : -1;
}

int
db_notifications(struct db *db, void (*cb)(const char *, const char *, void *), void *arg)
{
	PGnotify *n;
	int count = 0;

	if (db->conn == NULL)
		return -1;
	if (PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK) {
		disconnect(db);
		return -1;
	}
	while ((n = PQnotifies(db->conn)) != NULL) {
		cb(n->relname, n->extra, arg);
		PQfreemem(n);
		count++;
	}
	return count;
}

static const struct db_stmt st_notify = {
	"db_notify", "SELECT pg_notify('yubin_config', $1)", 1
};

enum db_status
db_notify_domain(struct db *db, const char *domain)
{
	return db_runv(db, &st_notify, NULL, domain);
}
