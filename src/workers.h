/* workers.h — the request workers: a fixed pool of threads that run
 * requests handed over by libmicrohttpd's threads (http.c). */
#ifndef CW_WORKERS_H
#define CW_WORKERS_H

/* Starts n threads that call run(item) for each pushed item, in order of
 * arrival. 0, or -1 when no thread could be started. */
int workers_start(int n, void (*run)(void *item));

/* Queues item for the next free worker. Never blocks on the work itself.
 * 0, or -1 once workers_stop() has begun (the caller runs it itself). */
int workers_push(void *item);

/* Lets the workers finish every queued item, then joins them. */
void workers_stop(void);

#endif
