/* db_pg.c — the PostgreSQL implementation of the db interface (libpq).
 *
 * Statements are server-side prepared once per connection (named "cwN") with
 * text parameters; the server infers their types from the SQL. A lost
 * connection is reported as DB_UNAVAILABLE; ping() resets it and bumps a
 * generation counter so every cached statement re-prepares itself on its next
 * step. SQLSTATE classes map to DB_* codes: 40001/40P01/55P03 → DB_BUSY (retry),
 * class 23 → DB_CONSTRAINT, connection, shutdown, resource and read-only
 * failures → DB_UNAVAILABLE.
 */
#include "db.h"
#include "buf.h"
#include "log.h"
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg {
	PGconn *conn;
	unsigned gen;     /* bumped when the connection is re-established */
	unsigned next_id; /* statement names */
};

struct db_stmt {
	db *d; /* first, as db.c requires */
	char *sql;
	char name[24];
	unsigned gen;
	int nparam;
	char **vals; /* NULL entry = SQL NULL */
	PGresult *res;
	int executed;
	int row, nrows;
	int64_t changes;
};

static PGconn *conn_of(db *d)
{
	return ((struct pg *)d->impl)->conn;
}

/* Maps a failed result (or a connection failure when res is NULL). */
static int map_err(db *d, PGresult *res)
{
	PGconn *c = conn_of(d);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
	snprintf(d->err, sizeof d->err, "%s%s%s", state ? state : "", state ? ": " : "", msg ? msg : "");
	size_t n = strlen(d->err);
	while (n && d->err[n - 1] == '\n')
		d->err[--n] = 0;
	if (PQstatus(c) == CONNECTION_BAD || !state) { /* no server answer: the connection broke */
		d->unavailable = 1;
		return DB_UNAVAILABLE;
	}
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return DB_BUSY;
	if (!strncmp(state, "23", 2))
		return DB_CONSTRAINT;
	if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strncmp(state, "57P", 3) ||
	    !strcmp(state, "25006")) {
		d->unavailable = 1;
		return DB_UNAVAILABLE;
	}
	return DB_ERROR;
}

static void notice(void *arg, const char *message)
{
	(void)arg;
	log_msg(LOG_DEBUG, "postgresql: %s", message);
}

static int pg_open(db *d, const char *uri)
{
	const char *keys[] = {"connect_timeout", "application_name", "client_encoding", "keepalives",
	                      "keepalives_idle", "dbname", NULL};
	const char *vals[] = {"5", "carewatch", "UTF8", "1", "30", uri, NULL};
	struct pg *p = xcalloc(1, sizeof *p);
	p->conn = PQconnectdbParams(keys, vals, 1);
	d->impl = p;
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		snprintf(d->err, sizeof d->err, "%s", p->conn ? PQerrorMessage(p->conn) : "out of memory");
		PQfinish(p->conn);
		free(p);
		d->impl = NULL;
		return DB_UNAVAILABLE;
	}
	PQsetNoticeProcessor(p->conn, notice, NULL);
	return 0;
}

static void pg_close(db *d)
{
	struct pg *p = d->impl;
	if (!p)
		return;
	PQfinish(p->conn);
	free(p);
	d->impl = NULL;
}

/* Prepares st on the server under its name. 0 or a DB_* error. */
static int server_prepare(db_stmt *st)
{
	struct pg *p = st->d->impl;
	PGresult *res = PQprepare(p->conn, st->name, st->sql, 0, NULL);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = map_err(st->d, res);
	PQclear(res);
	if (rc)
		return rc;
	res = PQdescribePrepared(p->conn, st->name);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = map_err(st->d, res);
	else
		st->nparam = PQnparams(res);
	PQclear(res);
	st->gen = p->gen;
	return rc;
}

static int pg_ping(db *d);

/* Outside a transaction a broken connection is repaired before use, so the
 * first request after a database restart does not fail. (Inside one, the
 * error goes up and db_txn() pings and retries the whole transaction.) */
static void repair_if_broken(db *d)
{
	struct pg *p = d->impl;
	if (!d->in_txn && PQstatus(p->conn) == CONNECTION_BAD)
		pg_ping(d);
}

static int pg_prepare(db *d, const char *sql, db_stmt **out)
{
	struct pg *p = d->impl;
	repair_if_broken(d);
	db_stmt *st = xcalloc(1, sizeof *st);
	st->d = d;
	st->sql = xstrdup(sql);
	snprintf(st->name, sizeof st->name, "cw%u", ++p->next_id);
	int rc = server_prepare(st);
	if (rc) {
		free(st->sql);
		free(st);
		return rc;
	}
	st->vals = xcalloc((size_t)st->nparam + 1, sizeof *st->vals);
	*out = st;
	return 0;
}

static void clear_vals(db_stmt *st)
{
	for (int i = 0; i < st->nparam; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
	}
}

static void pg_reset(db_stmt *st)
{
	PQclear(st->res);
	st->res = NULL;
	st->executed = 0;
	st->row = st->nrows = 0;
	clear_vals(st);
}

static void pg_finalize(db_stmt *st)
{
	if (!st)
		return;
	pg_reset(st);
	struct pg *p = st->d->impl;
	if (p && PQstatus(p->conn) == CONNECTION_OK && st->gen == p->gen && !PQisBusy(p->conn)) {
		char sql[48];
		snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
		PQclear(PQexec(p->conn, sql));
	}
	free(st->vals);
	free(st->sql);
	free(st);
}

static int set_val(db_stmt *st, int k, char *v)
{
	if (k < 1 || k > st->nparam) {
		snprintf(st->d->err, sizeof st->d->err, "no parameter $%d in statement", k);
		free(v);
		return DB_ERROR;
	}
	free(st->vals[k - 1]);
	st->vals[k - 1] = v;
	return 0;
}

static int pg_bind_int64(db_stmt *st, int k, int64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "%lld", (long long)v);
	return set_val(st, k, xstrdup(b));
}

static int pg_bind_double(db_stmt *st, int k, double v)
{
	char b[40];
	snprintf(b, sizeof b, "%.17g", v);
	return set_val(st, k, xstrdup(b));
}

static int pg_bind_text(db_stmt *st, int k, const char *v, size_t len)
{
	return set_val(st, k, xstrndup(v, len));
}

static int pg_bind_null(db_stmt *st, int k)
{
	return set_val(st, k, NULL);
}

static int pg_step(db_stmt *st)
{
	struct pg *p = st->d->impl;
	for (int attempt = 0; !st->executed; attempt++) {
		repair_if_broken(st->d);
		if (st->gen != p->gen) {
			int rc = server_prepare(st);
			if (rc)
				return rc;
		}
		st->res = PQexecPrepared(p->conn, st->name, st->nparam, (const char *const *)st->vals, NULL, NULL, 0);
		ExecStatusType s = PQresultStatus(st->res);
		if (s == PGRES_TUPLES_OK) {
			st->nrows = PQntuples(st->res);
			st->changes = st->nrows;
		} else if (s == PGRES_COMMAND_OK) {
			st->nrows = 0;
			st->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
		} else {
			int rc = map_err(st->d, st->res);
			PQclear(st->res);
			st->res = NULL;
			/* Outside a transaction every statement we send is a read (writes
			 * run in db_txn), so one retry on a fresh connection is safe. */
			if (rc == DB_UNAVAILABLE && !st->d->in_txn && attempt == 0 && pg_ping(st->d) == 0)
				continue;
			return rc;
		}
		st->d->unavailable = 0;
		st->executed = 1;
		st->row = -1;
	}
	if (++st->row < st->nrows)
		return DB_ROW;
	return DB_DONE;
}

static int pg_column_count(db_stmt *st) { return st->res ? PQnfields(st->res) : 0; }

static int valid_cell(db_stmt *st, int c)
{
	return st->res && st->row >= 0 && st->row < st->nrows && c >= 0 && c < PQnfields(st->res);
}

static int pg_column_is_null(db_stmt *st, int c) { return !valid_cell(st, c) || PQgetisnull(st->res, st->row, c); }

static const char *pg_column_text(db_stmt *st, int c)
{
	return valid_cell(st, c) ? PQgetvalue(st->res, st->row, c) : "";
}

static int64_t pg_column_int64(db_stmt *st, int c)
{
	const char *s = pg_column_text(st, c);
	if (s[0] == 't' && s[1] == 0) /* a boolean expression */
		return 1;
	return strtoll(s, NULL, 10);
}

static double pg_column_double(db_stmt *st, int c) { return strtod(pg_column_text(st, c), NULL); }

static const char *pg_column_name(db_stmt *st, int c)
{
	const char *n = st->res ? PQfname(st->res, c) : NULL;
	return n ? n : "";
}

static int64_t pg_changes(db_stmt *st) { return st->changes; }

static int pg_exec(db *d, const char *sql)
{
	repair_if_broken(d);
	PGresult *res = PQexec(conn_of(d), sql);
	ExecStatusType s = PQresultStatus(res);
	int rc = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY) ? 0 : map_err(d, res);
	PQclear(res);
	return rc;
}

static int pg_ping(db *d)
{
	struct pg *p = d->impl;
	if (PQstatus(p->conn) == CONNECTION_OK) {
		PGresult *res = PQexec(p->conn, "SELECT 1");
		int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
		if (ok) {
			d->unavailable = 0;
			return 0;
		}
	}
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		snprintf(d->err, sizeof d->err, "%s", PQerrorMessage(p->conn));
		return DB_UNAVAILABLE;
	}
	p->gen++; /* a new backend: prepared statements are gone */
	d->in_txn = 0;
	d->unavailable = 0;
	log_msg(LOG_INFO, "postgresql connection re-established");
	return 0;
}

const struct db_ops db_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.column_count = pg_column_count,
	.column_is_null = pg_column_is_null,
	.column_int64 = pg_column_int64,
	.column_double = pg_column_double,
	.column_text = pg_column_text,
	.column_name = pg_column_name,
	.changes = pg_changes,
	.exec = pg_exec,
	.ping = pg_ping,
};
