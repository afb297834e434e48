/* db.c — engine-independent part of the storage layer: engine choice,
 * statement cache, binding helpers, transaction runner, migrations. */
#include "db.h"
#include "assets.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int db_is_pg_uri(const char *uri)
{
	return strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "postgresql://", 13) == 0;
}

db *db_open(const char *uri, char *err, size_t errlen)
{
	db *d = xcalloc(1, sizeof *d);
	if (db_is_pg_uri(uri)) {
		d->ops = &db_pg_ops;
		d->engine = DB_PG;
	} else {
		d->ops = &db_sqlite_ops;
		d->engine = DB_SQLITE;
	}
	d->uri = xstrdup(uri);
	if (d->ops->open(d, uri) != 0) {
		snprintf(err, errlen, "%s", d->err[0] ? d->err : "cannot open database");
		free(d->uri);
		free(d);
		return NULL;
	}
	return d;
}

void db_close(db *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ncache; i++) {
		d->ops->finalize(d->cache[i].st);
		free(d->cache[i].sql);
	}
	free(d->cache);
	d->ops->close(d);
	free(d->uri);
	free(d);
}

/* One connection per worker thread, closed by the key's destructor when the
 * thread exits. */
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_db_free(void *p)
{
	db_close(p);
}

static void thread_key_init(void)
{
	pthread_key_create(&thread_key, thread_db_free);
}

db *db_thread(void)
{
	pthread_once(&thread_once, thread_key_init);
	db *d = pthread_getspecific(thread_key);
	if (d && !d->reopen)
		return d;
	if (d) { /* the engine asked for a fresh connection (e.g. the file was read-only) */
		db_close(d);
		pthread_setspecific(thread_key, NULL);
	}
	char err[512];
	d = db_open(cfg.db, err, sizeof err);
	if (!d)
		log_msg(LOG_ERROR, "database connection failed: %s", err);
	else
		pthread_setspecific(thread_key, d);
	return d;
}

void db_thread_release(void)
{
	pthread_once(&thread_once, thread_key_init);
	db *d = pthread_getspecific(thread_key);
	if (d && d->reopen) {
		db_close(d);
		pthread_setspecific(thread_key, NULL);
	}
}

void db_thread_close(void)
{
	pthread_once(&thread_once, thread_key_init);
	db_close(pthread_getspecific(thread_key));
	pthread_setspecific(thread_key, NULL);
}

/* Statements are cached by SQL text. The cache is small (tens of entries) and
 * lookups compare the pointer first, so static strings hit at once. */
db_stmt *db_prepare(db *d, const char *sql)
{
	for (size_t i = 0; i < d->ncache; i++)
		if (d->cache[i].sql == sql || strcmp(d->cache[i].sql, sql) == 0) {
			d->ops->reset(d->cache[i].st);
			return d->cache[i].st;
		}
	db_stmt *st = NULL;
	int rc = d->ops->prepare(d, sql, &st);
	if (rc != 0) {
		if (rc == DB_UNAVAILABLE)
			log_msg(LOG_WARN, "prepare failed, database unavailable: %s", d->err);
		else
			log_bug("prepare failed: %s -- %s", d->err, sql);
		return NULL;
	}
	if (d->ncache == d->capcache) {
		d->capcache = d->capcache ? d->capcache * 2 : 32;
		d->cache = xrealloc(d->cache, d->capcache * sizeof *d->cache);
	}
	d->cache[d->ncache].sql = xstrdup(sql);
	d->cache[d->ncache].st = st;
	d->ncache++;
	return st;
}

/* Every engine's struct db_stmt begins with its `db *` (see db_sqlite.c and
 * db_pg.c), so the owner is found without knowing the engine. */
db *db_stmt_db(db_stmt *st)
{
	return *(db **)st;
}

int db_bind_int64(db_stmt *st, int idx, int64_t v) { return db_stmt_db(st)->ops->bind_int64(st, idx, v); }
int db_bind_double(db_stmt *st, int idx, double v) { return db_stmt_db(st)->ops->bind_double(st, idx, v); }
int db_bind_null(db_stmt *st, int idx) { return db_stmt_db(st)->ops->bind_null(st, idx); }

int db_bind_text(db_stmt *st, int idx, const char *v)
{
	if (!v)
		return db_bind_null(st, idx);
	return db_stmt_db(st)->ops->bind_text(st, idx, v, strlen(v));
}

int db_bind_text_static(db_stmt *st, int idx, const char *v)
{
	const struct db_ops *ops = db_stmt_db(st)->ops;
	if (!v)
		return db_bind_null(st, idx);
	return (ops->bind_text_static ? ops->bind_text_static : ops->bind_text)(st, idx, v, strlen(v));
}

int db_bind_textn(db_stmt *st, int idx, const char *v, size_t len)
{
	return db_stmt_db(st)->ops->bind_text(st, idx, v, len);
}

static int vbindf(db_stmt *st, const char *fmt, va_list ap)
{
	int idx = 1, rc = 0;
	for (const char *f = fmt; f && *f && rc == 0; f++, idx++) {
		switch (*f) {
		case 'I': rc = db_bind_int64(st, idx, va_arg(ap, int64_t)); break;
		case 'i': rc = db_bind_int64(st, idx, (int64_t)va_arg(ap, int)); break;
		case 'd': rc = db_bind_double(st, idx, va_arg(ap, double)); break;
		case 't': rc = db_bind_text(st, idx, va_arg(ap, const char *)); break;
		case 'T': {
			const char *s = va_arg(ap, const char *);
			rc = (s && *s) ? db_bind_text(st, idx, s) : db_bind_null(st, idx);
			break;
		}
		case 'n': rc = db_bind_null(st, idx); break;
		default:
			log_bug("db_bindf: bad format char '%c'", *f);
			return DB_ERROR;
		}
	}
	return rc;
}

int db_bindf(db_stmt *st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vbindf(st, fmt, ap);
	va_end(ap);
	return rc;
}

int db_step(db_stmt *st) { return db_stmt_db(st)->ops->step(st); }
void db_reset(db_stmt *st) { if (st) db_stmt_db(st)->ops->reset(st); }
int db_column_count(db_stmt *st) { return db_stmt_db(st)->ops->column_count(st); }
int db_column_is_null(db_stmt *st, int c) { return db_stmt_db(st)->ops->column_is_null(st, c); }
int64_t db_column_int64(db_stmt *st, int c) { return db_stmt_db(st)->ops->column_int64(st, c); }
double db_column_double(db_stmt *st, int c) { return db_stmt_db(st)->ops->column_double(st, c); }
const char *db_column_text(db_stmt *st, int c) { return db_stmt_db(st)->ops->column_text(st, c); }
const char *db_column_name(db_stmt *st, int c) { return db_stmt_db(st)->ops->column_name(st, c); }
int64_t db_changes(db_stmt *st) { return db_stmt_db(st)->ops->changes(st); }

int db_exec(db *d, const char *sql)
{
	return d->ops->exec(d, sql);
}

int db_refresh_stats(db *d, const char *table)
{
	char sql[128];
	if (d->engine != DB_PG)
		return 0;
	snprintf(sql, sizeof sql, "ANALYZE %s", table);
	return db_exec(d, sql);
}

int64_t db_run(db *d, const char *sql, const char *fmt, ...)
{
	db_stmt *st = db_prepare(d, sql);
	if (!st)
		return DB_ERROR;
	va_list ap;
	va_start(ap, fmt);
	int rc = vbindf(st, fmt, ap);
	va_end(ap);
	int64_t out = rc;
	if (rc == 0) {
		while ((rc = db_step(st)) == DB_ROW)
			;
		out = rc == DB_DONE ? db_changes(st) : rc;
	}
	db_reset(st);
	return out;
}

int db_query_int64(db *d, int64_t *out, const char *sql, const char *fmt, ...)
{
	db_stmt *st = db_prepare(d, sql);
	if (!st)
		return DB_ERROR;
	va_list ap;
	va_start(ap, fmt);
	int rc = vbindf(st, fmt, ap);
	va_end(ap);
	if (rc == 0) {
		rc = db_step(st);
		if (rc == DB_ROW)
			*out = db_column_int64(st, 0);
	}
	db_reset(st);
	return rc;
}

static void reset_all(db *d)
{
	for (size_t i = 0; i < d->ncache; i++)
		d->ops->reset(d->cache[i].st);
}

/* The bulk transaction's commit does not also checkpoint: copying its WAL
 * into the database (hundreds of MB, and an fsync) is left to the server's
 * checkpointer when one runs (woken by the commit), or to this process's last
 * close of the file. */
/* The page cache of a bulk transaction, in KiB: an eighth of the machine's
 * memory, between 64 MiB and 1 GiB (SQLite allocates it only as pages are
 * touched, and gives it back at db_bulk_end). An import into a large registry
 * dirties a random leaf of each big index per row — 200,000 people into 10
 * million touch ~90,000 pages — and a cache smaller than that spills them
 * to the WAL and reads them back half way (~28,000 → 30,000–35,000 persons/s
 * there, docs/performance.md). */
static long bulk_cache_kib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	long long kib = pages > 0 && psz > 0 ? (long long)pages * psz / 1024 / 8 : 262144;
	return kib > 1048576 ? 1048576 : kib < 65536 ? 65536 : (long)kib;
}

void db_bulk_begin(db *d, int refs_checked)
{
	if (d->engine != DB_SQLITE)
		return;
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%ld%s", bulk_cache_kib(),
	         db_sqlite_autocheckpoint ? "; PRAGMA wal_autocheckpoint = 0" : "");
	db_exec(d, sql);
	if (refs_checked)
		db_exec(d, "PRAGMA foreign_keys = OFF");
}

void db_bulk_end(db *d)
{
	if (d->engine != DB_SQLITE)
		return;
	db_exec(d, "PRAGMA cache_size = -16384; PRAGMA foreign_keys = ON"); /* as db_sqlite.c opens it */
	if (db_sqlite_autocheckpoint)
		db_exec(d, "PRAGMA wal_autocheckpoint = 1000");
}

int db_lock_row(db *d, const char *table, int64_t id)
{
	if (d->engine != DB_PG)
		return 0;
	struct buf q = {0};
	buf_printf(&q, "SELECT 1 FROM %s WHERE id = $1 FOR UPDATE", table);
	int64_t one = 0;
	int rc = db_query_int64(d, &one, buf_str(&q), "I", id);
	buf_free(&q);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

int db_begin(db *d, int write)
{
	const char *sql = d->engine == DB_SQLITE ? (write ? "BEGIN IMMEDIATE" : "BEGIN")
	                                         : (write ? "BEGIN" : "BEGIN READ ONLY");
	int rc = d->ops->exec(d, sql);
	if (rc == 0) {
		d->in_txn = 1;
		d->write_txn = write;
	}
	return rc;
}

int db_commit(db *d)
{
	reset_all(d);
	int rc = d->ops->exec(d, "COMMIT");
	if (rc == 0)
		d->in_txn = 0;
	return rc;
}

int db_rollback(db *d)
{
	reset_all(d);
	int rc = d->ops->exec(d, "ROLLBACK");
	d->in_txn = 0;
	return rc;
}

char *db_dialect(enum db_engine e, const char *sql)
{
	struct buf out = {0};
	int keep = 1;
	const char *p = sql;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (strncmp(p, "--@sqlite", 9) == 0)
			keep = e == DB_SQLITE;
		else if (strncmp(p, "--@pg", 5) == 0)
			keep = e == DB_PG;
		else if (strncmp(p, "--@all", 6) == 0)
			keep = 1;
		else if (keep) {
			for (size_t i = 0; i < n; i++) {
				if (p[i] == '@' && strncmp(p + i, "@ID@", 4) == 0) {
					buf_puts(&out, e == DB_SQLITE ? "INTEGER PRIMARY KEY"
					                             : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
					i += 3;
				} else if (p[i] == '@' && strncmp(p + i, "@CODE@", 6) == 0) {
					buf_puts(&out, e == DB_SQLITE ? "TEXT" : "TEXT COLLATE \"C\"");
					i += 5;
				} else if (p[i] == '@' && strncmp(p + i, "@BLOB@", 6) == 0) {
					buf_puts(&out, e == DB_SQLITE ? "BLOB" : "BYTEA");
					i += 5;
				} else
					buf_putc(&out, p[i]);
			}
		}
		p += n;
	}
	return buf_steal(&out);
}

struct mig_ctx {
	const struct asset *a;
	int64_t version;
	char *err;
	size_t errlen;
};

static int apply_one(db *d, void *vctx)
{
	struct mig_ctx *m = vctx;
	char *sql = db_dialect(d->engine, (const char *)m->a->data);
	int rc = db_exec(d, sql);
	free(sql);
	if (rc != 0) {
		snprintf(m->err, m->errlen, "%s: %s", m->a->name, d->err);
		return rc;
	}
	int64_t n = db_run(d, "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)", "ItI",
	                   m->version, m->a->name, (int64_t)time(NULL));
	return n < 0 ? (int)n : 0;
}

int db_migrate(db *d, char *err, size_t errlen)
{
	int rc = db_exec(d, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
	if (rc != 0) {
		snprintf(err, errlen, "schema_migrations: %s", d->err);
		return rc;
	}
	for (size_t i = 0; i < cw_assets_count; i++) {
		const struct asset *a = &cw_assets[i];
		if (strncmp(a->name, "sql/", 4) != 0)
			continue;
		int64_t version = strtoll(a->name + 4, NULL, 10), have = 0;
		if (version <= 0)
			continue;
		rc = db_query_int64(d, &have, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1", "I", version);
		if (rc != DB_ROW) {
			snprintf(err, errlen, "schema_migrations: %s", d->err);
			return rc < 0 ? rc : DB_ERROR;
		}
		if (have)
			continue;
		struct mig_ctx m = {a, version, err, errlen};
		rc = db_txn(d, 1, apply_one, &m);
		if (rc != 0)
			return rc;
		log_msg(LOG_INFO, "applied migration %s", a->name);
	}
	return 0;
}

int db_error_of(db *d, int rc)
{
	return rc == DB_ERROR && d && d->unavailable ? DB_UNAVAILABLE : rc;
}

int db_error_http(int rc, const char **code, const char **message)
{
	switch (rc) {
	case DB_UNAVAILABLE:
		*code = "db_unavailable";
		*message = "数据库暂时不可用，请稍后重试";
		return 503;
	case DB_BUSY:
		*code = "db_busy";
		*message = "系统繁忙，请稍后重试";
		return 503;
	case DB_CONSTRAINT:
		*code = "conflict";
		*message = "数据冲突：记录已存在或被引用";
		return 409;
	default:
		*code = "internal";
		*message = "服务器内部错误";
		return 500;
	}
}

const char *db_insert_many(const db *d)
{
	return d->engine == DB_SQLITE ? "INSERT OR FAIL INTO " : "INSERT INTO ";
}

char *db_rows_sql(const char *prefix, const char *row, int params, int rows, const char *suffix)
{
	struct buf b = {0};
	buf_puts(&b, prefix);
	for (int r = 0; r < rows; r++) {
		if (r)
			buf_puts(&b, ", ");
		for (const char *p = row; *p; p++) {
			if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
				char *end;
				long n = strtol(p + 1, &end, 10);
				buf_printf(&b, "$%ld", n + (long)r * params);
				p = end - 1;
			} else
				buf_putc(&b, *p);
		}
	}
	buf_puts(&b, suffix);
	return buf_steal(&b);
}
