/* db_txn.c — the transaction runner: retries with back-off, one writer at a
 * time on SQLite, and group commit of write transactions on SQLite.
 *
 * SQLite has one writer at a time and its busy handler waits by sleeping, so
 * threads of this process that all want to write would sleep and retry while
 * the lock sits free; instead they queue on a mutex and the next starts the
 * moment the previous commit is done. Other processes (the CLI beside a
 * running server) still meet the busy handler.
 *
 * Group commit: with synchronous=FULL every commit costs an fsync, which is
 * most of a small report's transaction. Writers that arrive while a commit is
 * under way queue; the first of them then runs all queued bodies in one
 * transaction, each inside a savepoint, commits once and wakes the others with
 * their own results. A body that failed was rolled back to its savepoint and
 * returns its error; if the shared commit fails, every body that had succeeded
 * runs again on its own (db_txn), so no caller sees another's failure.
 *
 * Batches run on one connection kept for them (not the leading thread's): a
 * SQLite connection drops its whole page cache when another connection wrote
 * since its last transaction, so 32 threads leading in turn would each read
 * the hot pages back from the file; the writer connection keeps them.
 */
#include "db.h"
#include "log.h"
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TXN_ATTEMPTS 40
#define GROUP_MAX 64
#define RUN_ALONE 1 /* a job's result: not done in the group, run it alone */

static pthread_mutex_t sqlite_writer = PTHREAD_MUTEX_INITIALIZER;

static void writer_lock(db *d, int write)
{
	if (write && d->engine == DB_SQLITE)
		pthread_mutex_lock(&sqlite_writer);
}

static void writer_unlock(db *d, int write)
{
	if (write && d->engine == DB_SQLITE)
		pthread_mutex_unlock(&sqlite_writer);
}

/* One attempt: begin, fn, commit (or roll back). */
void db_writer_lock(void)
{
	pthread_mutex_lock(&sqlite_writer);
}

void db_writer_unlock(void)
{
	pthread_mutex_unlock(&sqlite_writer);
}

static int txn_once(db *d, int write, db_txn_fn fn, void *ctx)
{
	writer_lock(d, write);
	int rc = db_begin(d, write);
	if (rc != 0)
		goto cleanup;
	rc = fn(d, ctx);
	if (rc == 0) {
		rc = db_commit(d);
		if (rc != 0)
			db_rollback(d);
	} else
		db_rollback(d);
cleanup:
	writer_unlock(d, write);
	return rc;
}

int db_txn(db *d, int write, db_txn_fn fn, void *ctx)
{
	int rc = DB_BUSY;
	unsigned seed = (unsigned)(uintptr_t)d ^ (unsigned)time(NULL);
	if (d->in_txn) {
		log_bug("nested transaction");
		return DB_ERROR;
	}
	for (int attempt = 0; attempt < TXN_ATTEMPTS; attempt++) {
		if (attempt > 0) {
			/* randomized back-off: 1..(2^min(attempt,7)) ms */
			int cap = 1 << (attempt < 7 ? attempt : 7);
			usleep((useconds_t)(1000 * (1 + rand_r(&seed) % cap)));
		}
		rc = txn_once(d, write, fn, ctx);
		if (rc == 0)
			return 0;
		if (rc == DB_BUSY)
			continue;
		/* a connection lost before COMMIT committed nothing: reconnect, retry */
		if (rc == DB_UNAVAILABLE && d->ops->ping(d) == 0)
			continue;
		return db_error_of(d, rc);
	}
	return rc;
}

struct gjob {
	db_txn_fn fn;
	void *ctx;
	int rc;
	int done;
	struct gjob *next;
	pthread_cond_t cv; /* its thread sleeps here: woken when done, or to lead */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gjob *g_head, **g_tail = &g_head;
static int g_leader; /* a batch is running */

static db *g_writer; /* the batches' connection; under sqlite_writer */

/* The connection batches run on, opened on first use (sqlite_writer held);
 * d itself when it cannot be opened. */
static db *batch_conn(db *d)
{
	if (g_writer && (g_writer->reopen || g_writer->unavailable)) {
		db_close(g_writer); /* read-only file, lost disk: a fresh one next */
		g_writer = NULL;
	}
	if (!g_writer) {
		char err[512];
		g_writer = db_open(d->uri, err, sizeof err);
		if (!g_writer)
			log_msg(LOG_WARN, "group commit connection: %s", err);
	}
	return g_writer ? g_writer : d;
}

void db_group_close(void)
{
	pthread_mutex_lock(&sqlite_writer);
	db_close(g_writer);
	g_writer = NULL;
	pthread_mutex_unlock(&sqlite_writer);
}

/* One statement without parameters or rows, prepared once per connection
 * (the savepoints of every job: parsing them each time showed in profiles). */
static int run_cached(db *d, const char *sql)
{
	db_stmt *st = db_prepare(d, sql);
	if (!st)
		return DB_ERROR;
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : (rc == DB_ROW ? DB_ERROR : rc);
}

/* Runs a batch on the writer connection (or d); sets each job's rc (0, its
 * error, or RUN_ALONE). */
static void run_batch(db *d, struct gjob *batch)
{
	struct gjob *j;
	int broken = 0; /* the shared transaction can no longer be trusted */
	writer_lock(d, 1);
	d = batch_conn(d);
	if (db_begin(d, 1) != 0)
		broken = 1;
	for (j = batch; j; j = j->next) {
		if (broken) {
			j->rc = RUN_ALONE;
			continue;
		}
		if (run_cached(d, "SAVEPOINT g") != 0) {
			broken = 1;
			j->rc = RUN_ALONE;
			continue;
		}
		int rc = j->fn(d, j->ctx);
		if (rc == 0) {
			j->rc = run_cached(d, "RELEASE g") == 0 ? 0 : (broken = 1, RUN_ALONE);
			continue;
		}
		/* undo this body only; an engine that dropped the whole transaction
		 * (out of memory, I/O) fails ROLLBACK TO, and then nobody stays */
		if (run_cached(d, "ROLLBACK TO g") != 0 || run_cached(d, "RELEASE g") != 0)
			broken = 1;
		j->rc = rc == DB_BUSY || rc == DB_UNAVAILABLE || broken ? RUN_ALONE : db_error_of(d, rc);
	}
	if (!broken && db_commit(d) != 0)
		broken = 1;
	if (broken) {
		if (d->in_txn)
			db_rollback(d);
		for (j = batch; j; j = j->next)
			if (j->rc == 0)
				j->rc = RUN_ALONE;
	}
	writer_unlock(d, 1);
}

int db_txn_group(db *d, db_txn_fn fn, void *ctx)
{
	if (d->engine != DB_SQLITE || d->in_txn)
		return db_txn(d, 1, fn, ctx);
	struct gjob me = {fn, ctx, 0, 0, NULL, PTHREAD_COND_INITIALIZER};
	pthread_mutex_lock(&g_mu);
	*g_tail = &me;
	g_tail = &me.next;
	while (!me.done) {
		if (g_leader) {
			/* only this job's completion, or a call to lead, wakes this
			 * thread: not every batch of every other thread */
			pthread_cond_wait(&me.cv, &g_mu);
			continue;
		}
		/* lead: take up to GROUP_MAX queued jobs from the head (this one
		 * among them, unless the queue is longer: then it leads again) */
		g_leader = 1;
		struct gjob *batch = g_head, *last = g_head;
		for (int n = 1; n < GROUP_MAX && last->next; n++)
			last = last->next;
		g_head = last->next;
		if (!g_head)
			g_tail = &g_head;
		last->next = NULL;
		pthread_mutex_unlock(&g_mu);
		run_batch(d, batch);
		pthread_mutex_lock(&g_mu);
		for (struct gjob *j = batch, *nx; j; j = nx) {
			nx = j->next; /* read before j's thread may return and free it */
			j->done = 1;
			if (j != &me)
				pthread_cond_signal(&j->cv);
		}
		g_leader = 0;
		if (g_head && g_head != &me) /* the next batch: its first job's thread leads */
			pthread_cond_signal(&g_head->cv);
	}
	pthread_mutex_unlock(&g_mu);
	pthread_cond_destroy(&me.cv);
	return me.rc == RUN_ALONE ? db_txn(d, 1, fn, ctx) : me.rc;
}
