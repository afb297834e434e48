/* test_bulk.c — the SQLite side of bulk writes (db_bulk_begin/end,
 * db_insert_many): a multi-row INSERT OR FAIL that fails half way is undone
 * by the transaction's rollback, nothing of it stays; foreign keys are off
 * only between db_bulk_begin(d, 1) and db_bulk_end, and on again after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "db.h"
#include "unit_db.h"

static char path[64];

static db *open_fresh(void)
{
	db *d = unit_db_fresh("bulk", path, sizeof path);
	assert_int_equal(db_exec(d, "CREATE TABLE parent(code TEXT PRIMARY KEY);"
	                            "CREATE TABLE child(id INTEGER PRIMARY KEY, k INTEGER NOT NULL UNIQUE, "
	                            "code TEXT NOT NULL REFERENCES parent(code));"
	                            "INSERT INTO parent(code) VALUES ('a');"),
	                 0);
	return d;
}

static void close_fresh(db *d)
{
	db_close(d);
	unit_db_remove(path);
}

static int64_t count(db *d, const char *sql)
{
	int64_t n = -1;
	assert_int_equal(db_query_int64(d, &n, sql, ""), DB_ROW);
	return n;
}

/* Three rows in one statement, the third a duplicate of the first: the
 * statement fails after writing two rows (OR FAIL keeps them), and the
 * transaction's rollback takes them back. */
static void failed_insert_many_leaves_nothing(void **state)
{
	(void)state;
	db *d = open_fresh();
	assert_string_equal(db_insert_many(d), "INSERT OR FAIL INTO ");
	struct buf q = {0};
	buf_puts(&q, db_insert_many(d));
	buf_puts(&q, "child(k, code) VALUES ");
	char *sql = db_rows_sql(buf_str(&q), "($1, 'a')", 1, 3, "");
	buf_free(&q);
	assert_string_equal(sql, "INSERT OR FAIL INTO child(k, code) VALUES ($1, 'a'), ($2, 'a'), ($3, 'a')");
	assert_int_equal(db_begin(d, 1), 0);
	int64_t n = db_run(d, sql, "III", (int64_t)1, (int64_t)2, (int64_t)1);
	assert_int_equal(n, DB_CONSTRAINT);
	assert_int_equal(count(d, "SELECT COUNT(*) FROM child"), 2); /* what OR FAIL means */
	assert_int_equal(db_rollback(d), 0);
	assert_int_equal(count(d, "SELECT COUNT(*) FROM child"), 0);
	/* the same statement whole */
	assert_int_equal(db_begin(d, 1), 0);
	assert_int_equal(db_run(d, sql, "III", (int64_t)1, (int64_t)2, (int64_t)3), 3);
	assert_int_equal(db_commit(d), 0);
	assert_int_equal(count(d, "SELECT COUNT(*) FROM child"), 3);
	free(sql);
	close_fresh(d);
}

static void foreign_keys_off_only_inside_a_checked_bulk(void **state)
{
	(void)state;
	db *d = open_fresh();
	assert_int_equal(count(d, "PRAGMA foreign_keys"), 1);
	/* a bulk whose caller does not check references keeps SQLite's checks */
	db_bulk_begin(d, 0);
	assert_int_equal(count(d, "PRAGMA foreign_keys"), 1);
	assert_int_equal(db_run(d, "INSERT INTO child(k, code) VALUES (1, 'zz')", ""), DB_CONSTRAINT);
	db_bulk_end(d);
	/* a checked bulk: off inside (the caller vouches for every reference) */
	db_bulk_begin(d, 1);
	assert_int_equal(count(d, "PRAGMA foreign_keys"), 0);
	assert_int_equal(db_begin(d, 1), 0);
	assert_int_equal(db_run(d, "INSERT INTO child(k, code) VALUES (2, 'a')", ""), 1);
	assert_int_equal(db_commit(d), 0);
	db_bulk_end(d);
	/* on again after, for every later write of this connection */
	assert_int_equal(count(d, "PRAGMA foreign_keys"), 1);
	assert_int_equal(db_run(d, "INSERT INTO child(k, code) VALUES (3, 'zz')", ""), DB_CONSTRAINT);
	assert_int_equal(count(d, "SELECT COUNT(*) FROM child"), 1);
	close_fresh(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(failed_insert_many_leaves_nothing),
	    cmocka_unit_test(foreign_keys_off_only_inside_a_checked_bulk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
