/* checkpoint.h — SQLite WAL checkpoints off the request path.
 *
 * By default SQLite checkpoints inside the commit that pushes the WAL past
 * 1,000 pages, so one unlucky submission waits for the copy and an fsync of
 * the database file. While the server runs, its connections do not checkpoint
 * on commit; one background thread runs a PASSIVE checkpoint (it never blocks
 * writers or readers) every CHECKPOINT_MS instead — sooner when commits report
 * a long WAL — and lets the WAL start over once it holds RESTART_BYTES of
 * frames. A no-op on PostgreSQL.
 */
#ifndef CW_CHECKPOINT_H
#define CW_CHECKPOINT_H

#define CHECKPOINT_MS 250
#define CHECKPOINT_MIN_MS 10 /* between rounds, however often woken */
#define RESTART_BYTES (16L << 20) /* 16 MB of frames (4,096 of 4 KB, 1,024 of 16 KB): then the WAL starts over */

/* Starts the thread for cfg.db (SQLite only) and makes connections opened from
 * now on skip automatic checkpoints. 0, or -1 if the thread cannot start (then
 * connections keep checkpointing on commit). */
int checkpointer_start(void);
/* Called after each commit of a connection opened while the thread runs,
 * with the WAL's length in frames: wakes the thread at once when the WAL has
 * reached RESTART_BYTES, so it starts over about there however fast commits
 * come (each round otherwise waits CHECKPOINT_MS). Cheap: an atomic read. */
void checkpointer_wal_grew(int frames);
/* Stops the thread after a last checkpoint. Safe to call when not started. */
void checkpointer_stop(void);

#endif
