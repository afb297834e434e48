/* test_rollup_merge.c — cw_merge's arithmetic (rollup_sql.h): sums plus or
 * minus a contribution, new keys, cancelling sums, sorted keys, integers kept
 * integral, PostgreSQL's spacing read, and text that is not a roll-up refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "rollup_sql.h"

static char *merged(const char *sums, const char *contrib, int sign)
{
	static char out[1024];
	struct buf b = {0};
	if (rollup_merge_text(sums, contrib, sign, &b) != 0) {
		buf_free(&b);
		return NULL;
	}
	snprintf(out, sizeof out, "%s", buf_str(&b));
	buf_free(&b);
	return out;
}

static void adds_and_subtracts(void **state)
{
	(void)state;
	assert_string_equal(merged("{}", "{\"b\":[80.0,1],\"a\":[3,1]}", 1), "{\"a\":[3,1],\"b\":[80,1]}");
	assert_string_equal(merged("{\"a\":[3,1],\"b\":[80,1]}", "{\"a\":[2,1]}", 1), "{\"a\":[5,2],\"b\":[80,1]}");
	assert_string_equal(merged("{\"a\":[5,2],\"b\":[80,1]}", "{\"a\":[2,1],\"b\":[80,1]}", -1), "{\"a\":[3,1],\"b\":[0,0]}");
	/* a fraction and its removal leave an exact zero, not float dust */
	assert_string_equal(merged("{\"x\":[0.30000000000000004,2]}", "{\"x\":[0.1,1]}", -1), "{\"x\":[0.20000000000000004,1]}");
	assert_string_equal(merged("{\"x\":[0.1,1]}", "{\"x\":[0.10000000000000001,1]}", -1), "{\"x\":[0,0]}");
	assert_string_equal(merged("{\"x\":[2.5,1]}", "{}", 1), "{\"x\":[2.5,1]}");
}

static void reads_postgresql_spacing(void **state)
{
	(void)state;
	assert_string_equal(merged("{\"ab\": [1, 1], \"a\": [2.5, 1]}", "{ \"a\" : [ 0.5 , 1 ] }", 1),
	                    "{\"a\":[3,2],\"ab\":[1,1]}");
}

static void refuses_other_text(void **state)
{
	(void)state;
	assert_null(merged("", "{}", 1));
	assert_null(merged("[]", "{}", 1));
	assert_null(merged("{\"a\":[1]}", "{}", 1));
	assert_null(merged("{\"a\":[1,\"x\"]}", "{}", 1));
	assert_null(merged("{\"a\":[1,1]} trailing", "{}", 1));
	assert_null(merged("{\"a\\u0041\":[1,1]}", "{}", 1));
	assert_null(merged("{\"a\":[1,1],}", "{}", 1));
	assert_null(merged("{}", "{\"a\":[1e999,1]}", 1));
	assert_null(merged("{\"a\":[1,1]", "{}", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(adds_and_subtracts),
	    cmocka_unit_test(reads_postgresql_spacing),
	    cmocka_unit_test(refuses_other_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
