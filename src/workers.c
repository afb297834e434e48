/* workers.c — the request workers (workers.h).
 *
 * libmicrohttpd's threads only move bytes. A request whose body is in is
 * suspended and queued here; a worker (each holds its own database
 * connection, db_thread) runs it and resumes the connection, and MHD then
 * calls the access handler again, which queues the prepared answer (http.c).
 * A request that waits — for the group commit's fsync, for the writer lock —
 * so holds one worker and nothing else. Run inside MHD's threads instead, it
 * held up every other connection of its thread, and MHD hands a burst of new
 * connections to whichever thread accepts first: 32 clients were served by
 * two or three of 32 threads, each request waiting for its neighbours' commits.
 */
#include "workers.h"
#include "buf.h"
#include "log.h"
#include <pthread.h>
#include <stdlib.h>

struct item {
	void *p;
	struct item *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct item *head, **tail = &head;
static int stopping;
static pthread_t *threads;
static int nthreads;
static void (*run_fn)(void *);

static void *loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!head && !stopping)
			pthread_cond_wait(&cv, &mu);
		if (!head) /* stopping, and nothing left */
			break;
		struct item *it = head;
		head = it->next;
		if (!head)
			tail = &head;
		pthread_mutex_unlock(&mu);
		run_fn(it->p);
		free(it);
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int workers_start(int n, void (*run)(void *item))
{
	run_fn = run;
	stopping = 0;
	threads = xcalloc((size_t)n, sizeof *threads);
	for (nthreads = 0; nthreads < n; nthreads++)
		if (pthread_create(&threads[nthreads], NULL, loop, NULL) != 0) {
			log_msg(LOG_ERROR, "cannot start request worker %d of %d", nthreads + 1, n);
			break;
		}
	return nthreads ? 0 : -1;
}

int workers_push(void *p)
{
	struct item *it = xmalloc(sizeof *it);
	it->p = p;
	it->next = NULL;
	pthread_mutex_lock(&mu);
	int open = !stopping && nthreads > 0;
	if (open) {
		*tail = it;
		tail = &it->next;
		pthread_cond_signal(&cv);
	}
	pthread_mutex_unlock(&mu);
	if (!open)
		free(it);
	return open ? 0 : -1;
}

void workers_stop(void)
{
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	threads = NULL;
	nthreads = 0;
}
