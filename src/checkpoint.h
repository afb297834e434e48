/* checkpoint.h — SQLite WAL checkpoints off the request path.
 *
 * By default SQLite checkpoints inside the commit that pushes the WAL past
 * 1,000 pages, so one unlucky submission waits for the copy and an fsync of
 * the database file. While the server runs, its connections do not checkpoint
 * on commit; one background thread runs a PASSIVE checkpoint (it never blocks
 * writers or readers) every CHECKPOINT_MS instead, and lets the WAL start over
 * once it is RESTART_FRAMES long. A no-op on PostgreSQL.
 */
#ifndef CW_CHECKPOINT_H
#define CW_CHECKPOINT_H

#define CHECKPOINT_MS 250
#define RESTART_FRAMES 4096 /* 16 MB of 4 KB pages: then the WAL starts over */

/* Starts the thread for cfg.db (SQLite only) and makes connections opened from
 * now on skip automatic checkpoints. 0, or -1 if the thread cannot start (then
 * connections keep checkpointing on commit). */
int checkpointer_start(void);
/* Stops the thread after a last checkpoint. Safe to call when not started. */
void checkpointer_stop(void);

#endif
