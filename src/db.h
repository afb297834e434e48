/* db.h — the storage interface: one table of function pointers with a SQLite
 * (db_sqlite.c) and a PostgreSQL (db_pg.c) implementation.
 *
 * SQL is written once, in the subset both engines accept, with numbered
 * placeholders $1, $2, ... (SQLite binds them by name). Dates are ISO text or
 * integers computed in C; no engine date functions. Booleans are integers 0/1.
 *
 * Statements are prepared once per connection and cached by their SQL text;
 * db_prepare() hands out a reset statement. Always db_reset() it when done
 * (in the function's cleanup), so locks and cursors are released.
 *
 * Result codes: step returns DB_ROW or DB_DONE; errors are negative:
 *   DB_ERROR        a bug or unexpected failure (logged)
 *   DB_BUSY         lock contention / serialization failure: retry the transaction
 *   DB_CONSTRAINT   a unique, check or foreign-key constraint refused the write
 *   DB_UNAVAILABLE  the database cannot be reached or written (connection lost,
 *                   disk full, read-only file): answer 503, retry later
 *   DB_APP          reserved for transaction bodies: an application-level refusal
 */
#ifndef CW_DB_H
#define CW_DB_H
#include <stdint.h>
#include <stddef.h>

enum {
	DB_OK = 0,
	DB_ROW = 100,
	DB_DONE = 101,
	DB_ERROR = -1,
	DB_BUSY = -2,
	DB_CONSTRAINT = -3,
	DB_UNAVAILABLE = -4,
	DB_APP = -5,
};

enum db_engine { DB_SQLITE = 1, DB_PG = 2 };

/* What a DB_UNAVAILABLE was, when the engine can tell: the disk is full, or the
 * database (file, filesystem or server) accepts no writes. */
enum db_fault { DB_FAULT_NONE = 0, DB_FAULT_FULL = 1, DB_FAULT_READONLY = 2 };

typedef struct db db;
typedef struct db_stmt db_stmt;

struct db_ops {
	const char *name;
	/* Opens the connection described by uri into d->impl. 0 or a DB_* error. */
	int (*open)(db *d, const char *uri);
	void (*close)(db *d);
	/* Prepares one statement. 0 or a DB_* error. */
	int (*prepare)(db *d, const char *sql, db_stmt **out);
	void (*finalize)(db_stmt *st);
	int (*bind_int64)(db_stmt *st, int idx, int64_t v);
	int (*bind_double)(db_stmt *st, int idx, double v);
	int (*bind_text)(db_stmt *st, int idx, const char *v, size_t len);
	int (*bind_null)(db_stmt *st, int idx);
	/* Optional: binds text the caller keeps unchanged until the statement
	 * is reset (no copy). NULL: bind_text is used. */
	int (*bind_text_static)(db_stmt *st, int idx, const char *v, size_t len);
	int (*step)(db_stmt *st);
	void (*reset)(db_stmt *st);
	int (*column_count)(db_stmt *st);
	int (*column_is_null)(db_stmt *st, int col);
	int64_t (*column_int64)(db_stmt *st, int col);
	double (*column_double)(db_stmt *st, int col);
	/* Valid until the next step/reset. Never NULL ("" for NULL). */
	const char *(*column_text)(db_stmt *st, int col);
	const char *(*column_name)(db_stmt *st, int col);
	/* Rows changed by the last completed INSERT/UPDATE/DELETE of st. */
	int64_t (*changes)(db_stmt *st);
	/* Runs SQL text without parameters, possibly several statements. */
	int (*exec)(db *d, const char *sql);
	/* Checks the connection and repairs it if it was lost. 0 or DB_UNAVAILABLE. */
	int (*ping)(db *d);
};

struct stmt_slot {
	char *sql;
	db_stmt *st;
};

struct db {
	const struct db_ops *ops;
	enum db_engine engine;
	void *impl;
	char *uri;
	struct stmt_slot *cache;
	size_t ncache, capcache;
	int in_txn;
	int write_txn;
	int unavailable;  /* set by the engine when the database cannot be reached */
	int fault;        /* why the last DB_UNAVAILABLE: DB_FAULT_* (the HTTP error code tells it) */
	int reopen;       /* the engine asks for a fresh connection before the next request */
	char err[512];
};

/* Picks the engine from the URI (postgres:// or postgresql:// → PostgreSQL,
 * anything else a SQLite path) and opens it. NULL on failure with a message
 * in err. */
db *db_open(const char *uri, char *err, size_t errlen);
void db_close(db *d);
int db_is_pg_uri(const char *uri);

/* Inside a write transaction that reads a row and then writes it back: locks
 * the row (table's `id` = id) so a concurrent writer waits instead of one
 * update being lost. PostgreSQL: SELECT … FOR UPDATE (read committed would let
 * both read the old row); SQLite: nothing, its one writer at a time already
 * serializes. table is a constant of the caller, never user data. 0 or a
 * DB_* error (DB_DONE counts as 0: the caller's own read reports a missing row). */
int db_lock_row(db *d, const char *table, int64_t id);

/* Around one transaction that writes many rows (a bulk import): on SQLite a
 * page cache of an eighth of the memory (64 MiB – 1 GiB) instead of the
 * connection's 16 MB, so the transaction's pages stay in memory rather than
 * spilling to the WAL half way, and its
 * commit leaves the checkpoint to the checkpointer (or the last close); back
 * after. Nothing on PostgreSQL.
 * refs_checked: the caller checks inside that transaction every reference it
 * writes (division codes, user ids) against its table, so SQLite's own
 * foreign-key checks are off until db_bulk_end. They are what makes SQLite
 * keep a statement journal for a multi-row INSERT even with OR FAIL
 * (db_insert_many): a copy of every page the statement changes that the
 * transaction had already changed, one random index leaf per person. Called
 * outside a transaction (the pragma is a no-op inside one). */
void db_bulk_begin(db *d, int refs_checked);
void db_bulk_end(db *d);

/* The verb of a multi-row INSERT whose failure the caller answers by rolling
 * back the whole transaction: "INSERT OR FAIL INTO " on SQLite, where a
 * failing row then stops the statement without undoing the rows before it and
 * SQLite keeps no statement journal for it (unless foreign keys are checked:
 * db_bulk_begin), and "INSERT INTO " on PostgreSQL, where a failed statement
 * fails the transaction anyway. */
const char *db_insert_many(const db *d);

/* The in-process SQLite writer lock every write transaction of this process
 * takes (db_txn.c); held, no writer of this process is between BEGIN and
 * COMMIT. For the WAL checkpointer (checkpoint.c). */
void db_writer_lock(void);
/* 1 when SQLite connections checkpoint at commit; 0 while checkpoint.c's
 * thread does it. */
extern int db_sqlite_autocheckpoint;
void db_writer_unlock(void);

/* Returns the calling thread's connection to cfg.db, opening it on first use
 * (one connection per worker thread). NULL if it cannot be opened. */
db *db_thread(void);
/* At the end of a request: closes the calling thread's connection when the
 * engine asked for a fresh one (d->reopen). SQLite shares a file's WAL index
 * among the connections of a process, read-only while any connection opened
 * on the read-only file lives; so such a connection never outlives its
 * request, and writes resume as soon as the file is writable again. */
void db_thread_release(void);
/* Closes the calling thread's connection (at thread exit). */
void db_thread_close(void);

db_stmt *db_prepare(db *d, const char *sql);
int db_bind_int64(db_stmt *st, int idx, int64_t v);
int db_bind_double(db_stmt *st, int idx, double v);
/* v may be NULL: binds SQL NULL. */
int db_bind_text(db_stmt *st, int idx, const char *v);
int db_bind_textn(db_stmt *st, int idx, const char *v, size_t len);
int db_bind_null(db_stmt *st, int idx);
/* As db_bind_text, for bulk writes: v must stay valid and unchanged until
 * db_reset(st) (SQLite then does not copy it). */
int db_bind_text_static(db_stmt *st, int idx, const char *v);
/* Binds $1.. in order by a format: 'I' int64_t, 'i' int, 't' text (NULL → NULL),
 * 'd' double, 'n' NULL (no argument), 'T' text where "" means NULL. */
int db_bindf(db_stmt *st, const char *fmt, ...);
int db_step(db_stmt *st);
void db_reset(db_stmt *st);
int db_column_count(db_stmt *st);
int db_column_is_null(db_stmt *st, int col);
int64_t db_column_int64(db_stmt *st, int col);
double db_column_double(db_stmt *st, int col);
const char *db_column_text(db_stmt *st, int col);
const char *db_column_name(db_stmt *st, int col);
int64_t db_changes(db_stmt *st);
db *db_stmt_db(db_stmt *st);

/* The text of a multi-row statement: prefix, then rows copies of row joined
 * by ", ", then suffix. row names its parameters $1..$params; copy r gets
 * them renumbered $(r*params+1).. (so "($1, $2, $2)" twice with params 2 is
 * "($1, $2, $2), ($3, $4, $4)"). Both engines accept `INSERT … VALUES (…),
 * (…) RETURNING …`. The caller frees the result. */
char *db_rows_sql(const char *prefix, const char *row, int params, int rows, const char *suffix);

/* Runs a parameterless SQL script. 0 or DB_* error. */
int db_exec(db *d, const char *sql);
/* After a bulk change of a table (an import): refreshes the planner's
 * statistics on PostgreSQL (ANALYZE) so the next reads do not plan with the
 * counts of an empty table (seen: completeness 10 ms → 800 ms until
 * autovacuum came by). SQLite plans by its indexes without statistics: no-op.
 * table is a constant. 0 or a DB_* error (callers may ignore it). */
int db_refresh_stats(db *d, const char *table);
/* Prepares, binds by fmt (as db_bindf), steps to the end, resets.
 * Returns the number of changed rows (>= 0) or a DB_* error. */
int64_t db_run(db *d, const char *sql, const char *fmt, ...);
/* Runs a query whose first row's first column is an integer. Returns DB_ROW with
 * *out set, DB_DONE when there is no row, or a DB_* error. */
int db_query_int64(db *d, int64_t *out, const char *sql, const char *fmt, ...);

int db_begin(db *d, int write);
int db_commit(db *d);
int db_rollback(db *d);

/* A transaction body: returns 0 to commit, DB_BUSY to retry, or any other
 * negative DB_* code to roll back and return that code. */
typedef int (*db_txn_fn)(db *d, void *ctx);
/* Runs fn in a transaction, retrying on DB_BUSY (with a growing randomized
 * back-off) up to a bounded number of attempts. Returns 0 or the error. */
int db_txn(db *d, int write, db_txn_fn fn, void *ctx);
/* As db_txn(d, 1, fn, ctx), but on SQLite the body may run on another
 * connection kept for group commits, inside one transaction shared with other callers' bodies
 * (group commit: one fsync for all of them), each in its own savepoint so a
 * failing body leaves the others intact. fn must therefore touch the database
 * only through the d it is given. Returns when the commit is on disk. */
int db_txn_group(db *d, db_txn_fn fn, void *ctx);

/* Closes the connection group commits run on (db_txn.c), at shutdown. */
void db_group_close(void);

/* Applies the numbered migrations built into the binary, each in its own
 * transaction, recorded in schema_migrations. 0 or a DB_* error (err filled). */
int db_migrate(db *d, char *err, size_t errlen);

/* Rewrites engine-neutral DDL markers for the engine (used by migrations):
 *   @ID@   → an auto-increment 64-bit primary key
 *   @CODE@ → a text column that sorts bytewise (division codes)
 *   @BLOB@ → a binary column
 * and keeps only lines of the engine's sections (--@sqlite / --@pg / --@all).
 * The caller frees the result. */
char *db_dialect(enum db_engine e, const char *sql);

/* Implementations. */
extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* The error to report for rc: DB_ERROR becomes DB_UNAVAILABLE when the
 * failure came from losing the database (e.g. a prepare that could not reach
 * the server), so outages answer 503, not 500. */
int db_error_of(db *d, int rc);

/* Maps a DB_* error to the HTTP status and stable code that reports it.
 * (503 db_unavailable, 503 db_busy, 409 conflict, 500 internal) */
int db_error_http(int rc, const char **code, const char **message);

#endif
