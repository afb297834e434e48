/* checkpoint.c — the background WAL checkpointer (see checkpoint.h). */
#include "checkpoint.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

int db_sqlite_autocheckpoint = 1; /* read by db_sqlite.c when it opens a connection */

static pthread_t thread;
static int running;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stopping;
/* the WAL length, in frames of this file's pages, that starts it over */
static _Atomic int64_t restart_frames = RESTART_BYTES / 4096;
static atomic_int woken; /* a wake-up is pending: one signal per round */

void checkpointer_wal_grew(int frames)
{
	if (frames < atomic_load(&restart_frames) || atomic_exchange(&woken, 1))
		return;
	pthread_mutex_lock(&mu);
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

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
static int checkpoint(db *d, int64_t page_size)
{
	int64_t frames = 0;
	if (passive(d, &frames) != 0)
		return -1;
	if (frames * page_size < RESTART_BYTES)
		return 0;
	db_writer_lock();
	int rc = passive(d, &frames);
	db_writer_unlock();
	return rc;
}

/* *t = now + ms on the clock pthread_cond_timedwait reads. */
static void in_ms(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_REALTIME, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += ms % 1000 * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* A failed round closes the connection and the next opens a fresh one: a
 * connection kept open since the file was read-only would stay read-only, and
 * keep the file's shared memory read-only for every connection of the process
 * after the file is fixed. */
static void *loop(void *arg)
{
	db *d = arg;
	char err[512];
	int64_t page_size = 0; /* the file's, read once per connection: frames are pages */
	pthread_mutex_lock(&mu);
	while (!stopping) {
		struct timespec until, soonest;
		in_ms(&until, CHECKPOINT_MS);
		in_ms(&soonest, CHECKPOINT_MIN_MS);
		/* a wake-up (checkpointer_wal_grew) ends the wait, but not before
		 * CHECKPOINT_MIN_MS: a WAL that cannot start over yet (a long
		 * reader) does not keep the thread spinning */
		while (!stopping && pthread_cond_timedwait(&cv, &mu, atomic_load(&woken) ? &soonest : &until) != ETIMEDOUT)
			;
		atomic_store(&woken, 0);
		pthread_mutex_unlock(&mu);
		if (!d) {
			d = db_open(cfg.db, err, sizeof err);
			page_size = 0;
		}
		if (d && !page_size) {
			if (db_query_int64(d, &page_size, "PRAGMA page_size", "") != DB_ROW || page_size <= 0)
				page_size = 0;
			else
				atomic_store(&restart_frames, RESTART_BYTES / page_size);
		}
		if (d && (!page_size || checkpoint(d, page_size) != 0)) {
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
