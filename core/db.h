/* core/db.h: PostgreSQL access: named statements prepared once per connection, a capped pool,
 * one retry on connection loss, SQLSTATE mapped to what callers act on. Only core/db.c sees libpq. */
#ifndef YUBIN_CORE_DB_H
#define YUBIN_CORE_DB_H

#include <stdbool.h>
#include <stdint.h>

/* A statement every module declares as `static const struct db_stmt`; prepared on a
 * connection the first time it is used there, and again after a reconnect. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

enum db_status {
	DB_OK,
	DB_CONFLICT,   /* 23505 unique violation (409 exists) */
	DB_FKEY,       /* 23503 foreign key violation */
	DB_CHECK,      /* 23514 / 22xxx: data refused by a constraint (a bug in our checks) */
	DB_TEMPFAIL,   /* connection lost, server down, serialization/deadlock: try later */
	DB_ERROR,      /* anything else: our bug; logged */
};

struct db;
struct db_res;

/* A connection that connects lazily and reconnects by itself. NULL only when out of memory. */
struct db *db_open(const char *conninfo);
void db_close(struct db **db);
/* The pool for multi-threaded programs: `size` connections at most. */
int db_pool_init(const char *conninfo, int size);
/* Blocks until a connection is free. */
struct db *db_pool_get(void);
void db_pool_put(struct db **db);

/* Run a statement with nparams text parameters (NULL = SQL NULL). *res_r (may be NULL
 * when the caller needs no rows) receives the result on DB_OK. Outside a transaction a
 * lost connection is re-established and the statement retried once. */
enum db_status db_run(struct db *db, const struct db_stmt *st, struct db_res **res_r,
                      const char *const *params);
/* The same with the parameters as arguments; exactly st->nparams of them. */
enum db_status db_runv(struct db *db, const struct db_stmt *st, struct db_res **res_r, ...);

enum db_status db_begin(struct db *db);
enum db_status db_commit(struct db *db);
/* Always safe to call, also when no transaction is open or the connection is gone. */
void db_rollback(struct db *db);
bool db_in_tx(const struct db *db);

int db_rows(const struct db_res *r);
int db_cols(const struct db_res *r);
/* "" for NULL; never NULL for a valid row/col. */
const char *db_val(const struct db_res *r, int row, int col);
bool db_null(const struct db_res *r, int row, int col);
int64_t db_i64(const struct db_res *r, int row, int col);
bool db_bool(const struct db_res *r, int row, int col);
/* Rows affected by an INSERT/UPDATE/DELETE. */
int64_t db_affected(const struct db_res *r);
void db_res_free(struct db_res **r);

/* Plain SQL text, for migration files and LISTEN only (DESIGN.md). */
enum db_status db_plain(struct db *db, const char *sql);
/* Last SQLSTATE seen on this connection ("" if none) and the server's message (for logs only). */
const char *db_sqlstate(const struct db *db);
const char *db_errmsg(const struct db *db);

/* LISTEN support for maild: the socket to poll (-1 if not connected), and a call that
 * consumes input and hands each notification's channel and payload to cb. Returns the
 * number handled, or -1 when the connection was lost (call db_ensure to reconnect). */
int db_socket(struct db *db);
int db_notifications(struct db *db, void (*cb)(const char *channel, const char *payload, void *arg), void *arg);
/* Connect now if not connected. Returns true when connected; `reconnected_r` tells whether
 * a new session was made (LISTENs must be repeated). */
bool db_ensure(struct db *db, bool *reconnected_r);

/* NOTIFY yubin_config with the domain, inside the caller's transaction (CONTRACT.md). */
enum db_status db_notify_domain(struct db *db, const char *domain);

#endif
