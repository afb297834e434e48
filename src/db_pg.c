/* db_pg.c — the PostgreSQL implementation of the db interface (libpq).
 *
 * Statements are server-side prepared once per connection (named "cwN") with
 * text parameters; the server infers their types from the SQL. Results are
 * fetched whole (text format) by the first step after a reset.
 *
 * Errors map by SQLSTATE: 40001/40P01/55P03 → DB_BUSY (retry), class 23 →
 * DB_CONSTRAINT, connection trouble (a broken connection, class 08, 57P0x,
 * class 53, 25006 read-only) → DB_UNAVAILABLE, the rest → DB_ERROR. d->err
 * always gets "SQLSTATE: message".
 *
 * Lost connections: ping() resets the connection and bumps a generation
 * counter, so every cached statement re-prepares itself on its next step.
 * Outside a transaction a broken connection is repaired before a statement is
 * sent (and a read that failed because the server went away is tried once
 * more on a fresh connection); inside one, DB_UNAVAILABLE goes up to db_txn().
 * Nothing blocks forever: connect_timeout (5 s unless the URI says otherwise)
 * and TCP keepalives / user timeout bound every wait on a dead peer.
 */
#include "db.h"
#include "buf.h"
#include "log.h"
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pg {
	PGconn *conn;
	unsigned gen;     /* bumped when the connection is re-established */
	unsigned next_id; /* statement names */
};

struct db_stmt {
	db *d; /* first, as db.c requires */
	char *sql;
	char name[24];
	unsigned gen; /* the connection generation it was prepared in */
	int nparam;
	char **vals; /* nparam text values; NULL entry = SQL NULL */
	PGresult *res;
	int executed; /* res holds this execution's result */
	int row, nrows;
	int64_t changes;
};

static int pg_ping(db *d);

static PGconn *conn_of(db *d)
{
	return ((struct pg *)d->impl)->conn;
}

/* Copies "prefix: msg" into d->err without libpq's trailing newlines. */
static void set_err(db *d, const char *prefix, const char *msg)
{
	snprintf(d->err, sizeof d->err, "%s%s%s", prefix ? prefix : "", prefix ? ": " : "", msg ? msg : "");
	size_t n = strlen(d->err);
	while (n && (d->err[n - 1] == '\n' || d->err[n - 1] == ' '))
		d->err[--n] = 0;
}

/* The DB_* code for a SQLSTATE (NULL: no answer from the server). */
static int code_of(const char *state)
{
	if (!state)
		return DB_UNAVAILABLE;
	if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
		return DB_BUSY;
	if (!strncmp(state, "23", 2))
		return DB_CONSTRAINT;
	if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strncmp(state, "57P", 3) || !strcmp(state, "25006"))
		return DB_UNAVAILABLE;
	return DB_ERROR;
}

/* Maps a failed result (or, res NULL, a failure with no result) to a DB_*
 * code, fills d->err and marks d->unavailable for outages. */
static int map_err(db *d, const PGresult *res)
{
	PGconn *c = conn_of(d);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	set_err(d, state, msg && *msg ? msg : PQerrorMessage(c));
	int rc = PQstatus(c) == CONNECTION_BAD ? DB_UNAVAILABLE : code_of(state);
	if (rc == DB_UNAVAILABLE) {
		d->unavailable = 1;
		d->fault = state && !strcmp(state, "53100")   ? DB_FAULT_FULL
		           : state && !strcmp(state, "25006") ? DB_FAULT_READONLY
		                                              : DB_FAULT_NONE;
	}
	return rc;
}

static void notice(void *arg, const char *message)
{
	(void)arg;
	log_msg(LOG_DEBUG, "postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

/* Opens uri. Settings listed before "dbname" are defaults: the URI, expanded
 * last, overrides them (e.g. its own connect_timeout). */
static int pg_open(db *d, const char *uri)
{
	const char *keys[] = {"connect_timeout", "application_name", "client_encoding", "keepalives",
	                      "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	                      "dbname", NULL};
	const char *vals[] = {"5", "carewatch", "UTF8", "1", "30", "10", "3", "30000", uri, NULL};
	struct pg *p = xcalloc(1, sizeof *p);
	d->impl = p;
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
		set_err(d, NULL, p->conn ? PQerrorMessage(p->conn) : "out of memory");
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

/* Sends "DEALLOCATE name", ignoring failure (the statement dies with its
 * backend anyway). */
static void deallocate(PGconn *c, const char *name)
{
	char sql[48];
	snprintf(sql, sizeof sql, "DEALLOCATE %s", name);
	PQclear(PQexec(c, sql));
}

/* Prepares st on the server under its name in the current generation and
 * learns its parameter count. 0 or a DB_* error. */
static int server_prepare(db_stmt *st)
{
	struct pg *p = st->d->impl;
	int rc = 0;
	PGresult *res = PQprepare(p->conn, st->name, st->sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = map_err(st->d, res);
		goto cleanup;
	}
	PQclear(res);
	res = PQdescribePrepared(p->conn, st->name);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = map_err(st->d, res);
		if (PQstatus(p->conn) == CONNECTION_OK)
			deallocate(p->conn, st->name);
		goto cleanup;
	}
	st->nparam = PQnparams(res);
	st->gen = p->gen;
cleanup:
	PQclear(res);
	return rc;
}

/* Outside a transaction a connection the server closed while it was idle (a
 * restart, pg_terminate_backend, idle timeout) is noticed and repaired before
 * a statement is sent, so it is not lost. Inside one, the error goes up and
 * db_txn() pings and retries. */
static void repair_if_broken(db *d)
{
	struct pg *p = d->impl;
	if (d->in_txn)
		return;
	if (PQstatus(p->conn) == CONNECTION_OK && !PQisBusy(p->conn)) {
		/* idle: anything readable is a notice, a FATAL message or EOF */
		struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
		for (int i = 0; i < 4 && pfd.fd >= 0 && poll(&pfd, 1, 0) == 1; i++)
			if (!PQconsumeInput(p->conn))
				break;
	}
	if (PQstatus(p->conn) != CONNECTION_OK)
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
	/* preparing has no effect on data: outside a transaction, one more try
	 * on a fresh connection if the server went away */
	if (rc == DB_UNAVAILABLE && !d->in_txn && pg_ping(d) == 0)
		rc = server_prepare(st);
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

/* Drops the result and the bound values: the statement is ready to bind and
 * run again. */
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
	if (p && PQstatus(p->conn) == CONNECTION_OK && st->gen == p->gen && !PQisBusy(p->conn))
		deallocate(p->conn, st->name);
	free(st->vals);
	free(st->sql);
	free(st);
}

/* Stores v (owned, NULL = SQL NULL) as the text of $k. */
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

/* Runs st once on the server and keeps its result. 0 or a DB_* error. */
static int execute(db_stmt *st)
{
	struct pg *p = st->d->impl;
	if (st->gen != p->gen) { /* a new backend since it was prepared */
		int rc = server_prepare(st);
		if (rc)
			return rc;
	}
	st->res = PQexecPrepared(p->conn, st->name, st->nparam, (const char *const *)st->vals, NULL, NULL, 0);
	switch (PQresultStatus(st->res)) {
	case PGRES_TUPLES_OK: /* SELECT, or a write with RETURNING */
		st->nrows = PQntuples(st->res);
		st->changes = st->nrows;
		break;
	case PGRES_COMMAND_OK:
	case PGRES_EMPTY_QUERY:
		st->nrows = 0;
		st->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
		break;
	default: {
		int rc = map_err(st->d, st->res);
		PQclear(st->res);
		st->res = NULL;
		return rc;
	}
	}
	st->d->unavailable = 0;
	st->executed = 1;
	st->row = -1;
	return 0;
}

static int pg_step(db_stmt *st)
{
	if (!st->executed) {
		repair_if_broken(st->d);
		int rc = execute(st);
		/* Outside a transaction every statement we send is a read (writes
		 * run in db_txn), so one more try on a fresh connection is safe. */
		if (rc == DB_UNAVAILABLE && !st->d->in_txn && pg_ping(st->d) == 0)
			rc = execute(st);
		if (rc)
			return rc;
	}
	if (st->row < st->nrows)
		st->row++;
	return st->row < st->nrows ? DB_ROW : DB_DONE;
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

/* Integers; a boolean reads as 1 ("t") or 0 ("f"); a numeric is truncated. */
static int64_t pg_column_int64(db_stmt *st, int c)
{
	const char *s = pg_column_text(st, c);
	if (s[0] == 't' && s[1] == 0)
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

/* Runs a parameterless script (several statements allowed; they stop at the
 * first error). A COMMIT of a transaction that had already failed comes back
 * from the server as "ROLLBACK": that is reported as DB_ERROR, never as 0. */
static int pg_exec(db *d, const char *sql)
{
	repair_if_broken(d);
	PGresult *res = PQexec(conn_of(d), sql);
	int rc = 0;
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		d->unavailable = 0;
		if (!strcasecmp(sql, "COMMIT") && !strcmp(PQcmdStatus(res), "ROLLBACK")) {
			set_err(d, NULL, "COMMIT rolled back: a statement of the transaction had failed");
			log_bug("%s", d->err);
			rc = DB_ERROR;
		}
		break;
	default:
		rc = map_err(d, res);
	}
	PQclear(res);
	return rc;
}

/* Checks the connection with a trivial query; if it is broken, reconnects
 * (blocking up to connect_timeout) and starts a new statement generation.
 * 0 or DB_UNAVAILABLE (d->err filled). */
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
		set_err(d, NULL, PQerrorMessage(p->conn));
		d->unavailable = 1;
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
