/* test_person_plan.c — the people queries reach the indexes an import
 * appends to (sql/011_persons_import_indexes.sql), on a migrated SQLite
 * database, through the very macros the handlers use (src/person.h):
 *  - a list by area seeks a range of persons_county and reads it in the
 *    list's order (no sort), a due list by area seeks it too;
 *  - an ID search and the duplicate count seek persons_cid_gen by
 *    generation and key;
 *  - the county bounds PERSON_IN_RANGE computes from a prefix are right for
 *    a province, a county and a township, and for the whole country. */
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
#include "person.h"
#include "unit_db.h"

static char path[64];

static int setup(void **state)
{
	char err[256];
	db *d = unit_db_fresh("plan", path, sizeof path);
	assert_int_equal(db_migrate(d, err, sizeof err), 0);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	db_close(*state);
	unit_db_remove(path);
	return 0;
}

/* The query plan of sql, its lines joined by " | ". */
static void plan(db *d, const char *sql, struct buf *out)
{
	struct buf q = {0};
	buf_puts(&q, "EXPLAIN QUERY PLAN ");
	buf_puts(&q, sql);
	db_stmt *st = db_prepare(d, buf_str(&q));
	assert_non_null(st);
	buf_reset(out);
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		buf_puts(out, db_column_text(st, 3));
		buf_puts(out, " | ");
	}
	assert_int_equal(rc, DB_DONE);
	db_reset(st);
	buf_free(&q);
}

static void lists_seek_the_county_index_in_order(void **state)
{
	db *d = *state;
	struct buf p = {0};
	plan(d, "SELECT p.id FROM persons p " PERSON_WHERE(PERSON_ANY_CID) "ORDER BY " PERSON_ORDER("p") " LIMIT 20", &p);
	assert_non_null(strstr(buf_str(&p), "persons_county (<expr>>? AND <expr><?)"));
	assert_null(strstr(buf_str(&p), "TEMP B-TREE")); /* the index's order is the list's */
	plan(d, "SELECT COUNT(*) FROM persons p WHERE " PERSON_IN_RANGE("p", "$1", "$2") " AND p.next_due < $3", &p);
	assert_non_null(strstr(buf_str(&p), "persons_county (<expr>>? AND <expr><?)"));
	buf_free(&p);
}

static void id_lookups_seek_every_generation(void **state)
{
	db *d = *state;
	struct buf p = {0};
	plan(d, "SELECT p.id FROM persons p " PERSON_WHERE(PERSON_BY_CID), &p);
	assert_non_null(strstr(buf_str(&p), "persons_cid_gen (<expr>=? AND cid_key=?)"));
	plan(d, "SELECT COUNT(*) FROM persons p WHERE " PERSON_CID_MATCH("p", "$1", "$2"), &p);
	assert_non_null(strstr(buf_str(&p), "persons_cid_gen (<expr>=? AND cid_key=?)"));
	buf_free(&p);
}

/* PERSON_IN_RANGE's county bounds for the prefix lo, as numbers. */
static void bounds(db *d, const char *lo, int64_t *first, int64_t *last)
{
	assert_int_equal(db_query_int64(d, first, "SELECT " PERSON_COUNTY_OF("$1", "000000"), "t", lo), DB_ROW);
	assert_int_equal(db_query_int64(d, last, "SELECT " PERSON_COUNTY_OF("$1", "999999"), "t", lo), DB_ROW);
}

static void county_bounds_cover_the_prefix(void **state)
{
	db *d = *state;
	int64_t a, b;
	bounds(d, "", &a, &b);
	assert_true(a == 0 && b == 999999);
	bounds(d, "42", &a, &b);
	assert_true(a == 420000 && b == 429999);
	bounds(d, "420102", &a, &b);
	assert_true(a == 420102 && b == 420102);
	bounds(d, "420102003", &a, &b);
	assert_true(a == 420102 && b == 420102);
	int64_t c = 0;
	assert_int_equal(db_query_int64(d, &c, "SELECT " PERSON_COUNTY("x") " FROM (SELECT '420102003' AS division_code) x", ""),
	                 DB_ROW);
	assert_int_equal(c, 420102);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lists_seek_the_county_index_in_order),
	    cmocka_unit_test(id_lookups_seek_every_generation),
	    cmocka_unit_test(county_bounds_cover_the_prefix),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
