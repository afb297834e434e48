/* db_sqlite.c — the SQLite implementation of the db interface.
 *
 * Each connection: WAL journal, synchronous=FULL (a commit is on disk before it
 * is acknowledged), foreign keys on, a busy timeout, a 16 MB page cache. Placeholders $1..$n are
 * bound by name, mapped once at prepare time.
 */
#include "db.h"
#include "buf.h"
#include "checkpoint.h"
#include "rollup_sql.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct db_stmt {
	db *d; /* first, as db.c requires */
	sqlite3_stmt *s;
	int nparam;
	int *map; /* map[k] = sqlite index of "$k", k = 1..nparam */
	int64_t changes;
};


static int map_rc(db *d, int rc)
{
	sqlite3 *h = d->impl;
	int ok = (rc & 0xff) == SQLITE_OK || (rc & 0xff) == SQLITE_ROW || (rc & 0xff) == SQLITE_DONE;
	if (h && !ok) /* only failures have a message worth keeping (this runs on every bind and step) */
		snprintf(d->err, sizeof d->err, "%s", sqlite3_errmsg(h));
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_BUSY;
	case SQLITE_CONSTRAINT:
		return DB_CONSTRAINT;
	case SQLITE_FULL:
		d->fault = DB_FAULT_FULL;
		return DB_UNAVAILABLE;
	case SQLITE_READONLY:
		/* a connection opened on a read-only file stays read-only: the
		 * next request gets a fresh one, so writes resume once it is fixed */
		d->fault = DB_FAULT_READONLY;
		d->reopen = 1;
		return DB_UNAVAILABLE;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_NOLFS:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		d->fault = DB_FAULT_NONE;
		return DB_UNAVAILABLE;
	default:
		return DB_ERROR;
	}
}

/* SQLite's own busy timeout sleeps 1, 2, 5, 10 … 100 ms between tries, far
 * longer than a commit here takes; wait in steps of 0.2 ms growing to 10 ms
 * instead, for about 5 s in all. */
static int busy_wait(void *arg, int count)
{
	(void)arg;
	useconds_t us = count < 20 ? 200 : count < 60 ? 1000 : 10000;
	if (count >= 60 + 480)
		return 0;
	usleep(us);
	return 1;
}

/* After each commit while checkpoint.c's thread runs: tells it how long the
 * WAL is, so a fast stream of commits wakes it before its next round. */
static int wal_grew(void *arg, sqlite3 *h, const char *name, int frames)
{
	(void)arg;
	(void)h;
	(void)name;
	checkpointer_wal_grew(frames);
	return SQLITE_OK;
}

static int lite_open(db *d, const char *uri)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(uri, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(d->err, sizeof d->err, "%s: %s", uri, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return DB_UNAVAILABLE;
	}
	d->impl = h;
	sqlite3_busy_handler(h, busy_wait, d);
	sqlite3_extended_result_codes(h, 1);
	rc = sqlite3_exec(h,
	                  /* a new database gets 16 KB pages (an existing one keeps
	                   * its size): a quarter of the leaves per index, so a bulk
	                   * import into a large registry dirties fewer pages (10
	                   * million people: 53,000 → 74,000-77,000/s), at ~15 % of
	                   * the dispatch's saturated submissions, whose small
	                   * commits now write 16 KB frames (docs/performance.md) */
	                  "PRAGMA page_size=16384;"
	                  "PRAGMA journal_mode=WAL;"
	                  "PRAGMA synchronous=FULL;"
	                  "PRAGMA foreign_keys=ON;"
	                  "PRAGMA temp_store=MEMORY;"
	                  /* a bigger page cache than the 2 MB default: a bulk
	                   * import's transaction touches many index pages (a memory
	                   * map was tried and dropped: every connection remaps it
	                   * each time a checkpoint grows the file) */
	                  "PRAGMA cache_size=-16384;",
	                  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = rollup_sql_register(h);
	if (rc == SQLITE_OK && !db_sqlite_autocheckpoint)
		sqlite3_wal_hook(h, wal_grew, NULL); /* instead of checkpointing at commit */
	if (rc == SQLITE_OK && sqlite3_db_readonly(h, "main") == 1)
		d->reopen = 1; /* the file is read-only now: used for one request only (db_thread_release) */
	if (rc != SQLITE_OK) {
		int r = map_rc(d, rc);
		snprintf(d->err, sizeof d->err, "%s: %s", uri, sqlite3_errmsg(h));
		sqlite3_close(h);
		d->impl = NULL;
		return r == DB_BUSY ? DB_BUSY : DB_UNAVAILABLE;
	}
	return 0;
}

static void lite_close(db *d)
{
	sqlite3_close(d->impl);
	d->impl = NULL;
}

static int lite_prepare(db *d, const char *sql, db_stmt **out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v3(d->impl, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK)
		return map_rc(d, rc);
	db_stmt *st = xcalloc(1, sizeof *st);
	st->d = d;
	st->s = s;
	int n = sqlite3_bind_parameter_count(s);
	st->map = xcalloc((size_t)n + 1, sizeof(int));
	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		if (name && name[0] == '$') {
			int k = atoi(name + 1);
			if (k >= 1 && k <= n)
				st->map[k] = i;
		}
	}
	st->nparam = n;
	*out = st;
	return 0;
}

static void lite_finalize(db_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->s);
	free(st->map);
	free(st);
}

static int idx_of(db_stmt *st, int k)
{
	if (k < 1 || k > st->nparam || !st->map[k]) {
		snprintf(st->d->err, sizeof st->d->err, "no parameter $%d in statement", k);
		return -1;
	}
	return st->map[k];
}

static int lite_bind_int64(db_stmt *st, int k, int64_t v)
{
	int i = idx_of(st, k);
	return i < 0 ? DB_ERROR : map_rc(st->d, sqlite3_bind_int64(st->s, i, v));
}

static int lite_bind_double(db_stmt *st, int k, double v)
{
	int i = idx_of(st, k);
	return i < 0 ? DB_ERROR : map_rc(st->d, sqlite3_bind_double(st->s, i, v));
}

static int lite_bind_text(db_stmt *st, int k, const char *v, size_t len)
{
	int i = idx_of(st, k);
	return i < 0 ? DB_ERROR : map_rc(st->d, sqlite3_bind_text(st->s, i, v, (int)len, SQLITE_TRANSIENT));
}

static int lite_bind_text_static(db_stmt *st, int k, const char *v, size_t len)
{
	int i = idx_of(st, k);
	return i < 0 ? DB_ERROR : map_rc(st->d, sqlite3_bind_text(st->s, i, v, (int)len, SQLITE_STATIC));
}

static int lite_bind_null(db_stmt *st, int k)
{
	int i = idx_of(st, k);
	return i < 0 ? DB_ERROR : map_rc(st->d, sqlite3_bind_null(st->s, i));
}

static int lite_step(db_stmt *st)
{
	int rc = sqlite3_step(st->s);
	if (rc == SQLITE_DONE)
		st->changes = sqlite3_changes64(st->d->impl);
	return map_rc(st->d, rc);
}

static void lite_reset(db_stmt *st)
{
	sqlite3_reset(st->s);
	sqlite3_clear_bindings(st->s);
}

static int lite_column_count(db_stmt *st) { return sqlite3_column_count(st->s); }
static int lite_column_is_null(db_stmt *st, int c) { return sqlite3_column_type(st->s, c) == SQLITE_NULL; }
static int64_t lite_column_int64(db_stmt *st, int c) { return sqlite3_column_int64(st->s, c); }
static double lite_column_double(db_stmt *st, int c) { return sqlite3_column_double(st->s, c); }

static const char *lite_column_text(db_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st->s, c);
	return t ? (const char *)t : "";
}

static const char *lite_column_name(db_stmt *st, int c)
{
	const char *n = sqlite3_column_name(st->s, c);
	return n ? n : "";
}

static int64_t lite_changes(db_stmt *st) { return st->changes; }

static int lite_exec(db *d, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(d->impl, sql, NULL, NULL, &msg);
	int r = map_rc(d, rc);
	if (msg) {
		snprintf(d->err, sizeof d->err, "%s", msg);
		sqlite3_free(msg);
	}
	return r;
}

/* Nothing to reconnect; a full disk or a read-only file is not worth an
 * immediate retry. */
static int lite_ping(db *d)
{
	return d->fault == DB_FAULT_NONE ? 0 : DB_UNAVAILABLE;
}

const struct db_ops db_sqlite_ops = {
	.name = "sqlite",
	.open = lite_open,
	.close = lite_close,
	.prepare = lite_prepare,
	.finalize = lite_finalize,
	.bind_int64 = lite_bind_int64,
	.bind_double = lite_bind_double,
	.bind_text = lite_bind_text,
	.bind_null = lite_bind_null,
	.bind_text_static = lite_bind_text_static,
	.step = lite_step,
	.reset = lite_reset,
	.column_count = lite_column_count,
	.column_is_null = lite_column_is_null,
	.column_int64 = lite_column_int64,
	.column_double = lite_column_double,
	.column_text = lite_column_text,
	.column_name = lite_column_name,
	.changes = lite_changes,
	.exec = lite_exec,
	.ping = lite_ping,
};
