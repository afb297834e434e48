/* test_group.c — group commit (db_txn_group) on SQLite: many threads' bodies
 * share commits; a failing body is rolled back alone, with no partial write;
 * every successful body is on disk when its call returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "db.h"
#include "unit_db.h"

#define THREADS 8
#define JOBS 150

static char path[64];

struct job {
	int64_t k;
	int dup; /* collides with a seeded key: must fail */
};

/* Writes a log row, then the keyed row; a duplicate key fails after the log
 * row was written, which the savepoint must take back. */
static int body(db *d, void *ctx)
{
	struct job *j = ctx;
	int64_t n = db_run(d, "INSERT INTO log(k) VALUES ($1)", "I", j->k);
	if (n < 0)
		return (int)n;
	n = db_run(d, "INSERT INTO t(k) VALUES ($1)", "I", j->dup ? (int64_t)1 : j->k);
	return n < 0 ? (int)n : 0;
}

struct worker {
	int id;
	int ok, failed, wrong;
};

static void *run(void *arg)
{
	struct worker *w = arg;
	char err[256];
	db *d = db_open(path, err, sizeof err);
	if (!d)
		return NULL;
	for (int i = 0; i < JOBS; i++) {
		struct job j = {1000 + (int64_t)w->id * JOBS + i, i % 7 == 3};
		int rc = db_txn_group(d, body, &j);
		if (rc == 0 && !j.dup)
			w->ok++;
		else if (rc == DB_CONSTRAINT && j.dup)
			w->failed++;
		else
			w->wrong++;
	}
	db_close(d);
	return NULL;
}

static void shared_commits_keep_each_result(void **state)
{
	(void)state;
	char err[256];
	db *d = unit_db_fresh("group", path, sizeof path);
	assert_int_equal(db_exec(d, "CREATE TABLE t(k INTEGER PRIMARY KEY); CREATE TABLE log(k INTEGER NOT NULL);"
	                            "INSERT INTO t(k) VALUES (1);"),
	                 0);
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){i, 0, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
	}
	int ok = 0, failed = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].wrong, 0);
		ok += w[i].ok;
		failed += w[i].failed;
	}
	int per = 0;
	for (int i = 0; i < JOBS; i++)
		per += i % 7 == 3;
	assert_int_equal(failed, THREADS * per);
	assert_int_equal(ok, THREADS * (JOBS - per));
	/* a fresh connection sees exactly the successful bodies, whole */
	db_close(d);
	d = db_open(path, err, sizeof err);
	assert_non_null(d);
	int64_t n = 0;
	assert_int_equal(db_query_int64(d, &n, "SELECT COUNT(*) FROM t", ""), DB_ROW);
	assert_int_equal(n, ok + 1);
	assert_int_equal(db_query_int64(d, &n, "SELECT COUNT(*) FROM log", ""), DB_ROW);
	assert_int_equal(n, ok);
	assert_int_equal(db_query_int64(d, &n, "SELECT COUNT(*) FROM log WHERE k NOT IN (SELECT k FROM t)", ""), DB_ROW);
	assert_int_equal(n, 0);
	db_close(d);
	unit_db_remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shared_commits_keep_each_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
