/* unit_db.h — a throwaway SQLite database for a unit test: a fresh file
 * under /tmp named after the test and the process, removed with its WAL and
 * shared-memory files afterwards. Include after <cmocka.h> and "db.h". */
#ifndef CW_UNIT_DB_H
#define CW_UNIT_DB_H

#include <stdio.h>
#include <unistd.h>

/* Opens /tmp/cw-<name>-<pid>.db, removed first if a run left one; its path
 * goes to path (n bytes). Fails the test when it cannot be opened. */
static db *unit_db_fresh(const char *name, char *path, size_t n)
{
	char err[256];
	snprintf(path, n, "/tmp/cw-%s-%d.db", name, (int)getpid());
	unlink(path);
	db *d = db_open(path, err, sizeof err);
	assert_non_null(d);
	return d;
}

/* Removes the database file at path and its -wal and -shm files. */
static void unit_db_remove(const char *path)
{
	char p[300];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

#endif
