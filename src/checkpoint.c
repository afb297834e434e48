/* checkpoint.c — the background WAL checkpointer (see checkpoint.h). */
#include "checkpoint.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include <pthread.h>
#include <time.h>

int db_sqlite_autocheckpoint = 1; /* read by db_sqlite.c when it opens a connection */

static pthread_t thread;
static int running;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stopping;

/* A PASSIVE checkpoint; *frames gets the WAL's length in frames. 0 or -1. */
static int passive(db *d, int64_t *frames)
{
	db_stmt *st = db_prepare(d, "PRAGMA wal_checkpoint(PASSIVE)");
	int rc = st ? db_step(st) : DB_ERROR;
	*frames = rc == DB_ROW ? db_column_int64(st, 1) : 0;
	if (st)
		db_reset(st);
	if (rc != DB_ROW) {
		log_msg(LOG_WARN, "WAL checkpoint failed: %s", d->err);
		return -1;
	}
	return 0;
}

/* PASSIVE copies what no reader still needs and waits for nobody, but the
 * WAL only starts over from its beginning when a write transaction begins
 * with every frame copied — never while writers keep coming. So once the WAL
 * is long, a second pass runs under the writer lock: it copies only the
 * frames written since the first (a few milliseconds), and the next write
 * starts the WAL over. */
static int checkpoint(db *d)
{
	int64_t frames = 0;
	if (passive(d, &frames) != 0)
		return -1;
	if (frames < RESTART_FRAMES)
		return 0;
	db_writer_lock();
	int rc = passive(d, &frames);
	db_writer_unlock();
	return rc;
}

/* A failed round closes the connection and the next opens a fresh one: a
 * connection kept open since the file was read-only would stay read-only, and
 * keep the file's shared memory read-only for every connection of the process
 * after the file is fixed. */
static void *loop(void *arg)
{
	db *d = arg;
	char err[512];
	pthread_mutex_lock(&mu);
	while (!stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)CHECKPOINT_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cv, &mu, &until);
		pthread_mutex_unlock(&mu);
		if (!d)
			d = db_open(cfg.db, err, sizeof err);
		if (d && checkpoint(d) != 0) {
			db_close(d);
			d = NULL;
		}
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	if (d)
		db_close(d);
	return NULL;
}

int checkpointer_start(void)
{
	char err[512];
	if (db_is_pg_uri(cfg.db))
		return 0;
	db *d = db_open(cfg.db, err, sizeof err);
	if (!d) {
		log_msg(LOG_WARN, "no WAL checkpointer (%s): commits checkpoint as usual", err);
		return -1;
	}
	stopping = 0;
	if (pthread_create(&thread, NULL, loop, d) != 0) {
		db_close(d);
		return -1;
	}
	running = 1;
	db_sqlite_autocheckpoint = 0;
	return 0;
}

void checkpointer_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	running = 0;
	db_sqlite_autocheckpoint = 1;
}
