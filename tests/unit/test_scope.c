/* test_scope.c — division-code prefix arithmetic used by every scoped query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "scope.h"

static void levels_and_shapes(void **state)
{
	(void)state;
	assert_int_equal(code_level(""), 0);
	assert_int_equal(code_level("42"), 1);
	assert_int_equal(code_level("4201"), 2);
	assert_int_equal(code_level("420102"), 3);
	assert_int_equal(code_level("420102001"), 4);
	assert_int_equal(code_level("4"), -1);
	assert_int_equal(code_level("42010"), -1);
	assert_int_equal(code_level("4201020011"), -1);
	assert_int_equal(code_level("42a1"), -1);
	assert_true(code_shape_ok("420102"));
	assert_false(code_shape_ok("42 1"));
}

static void contains(void **state)
{
	(void)state;
	assert_true(scope_contains("", "420102001"));
	assert_true(scope_contains("42", "420102"));
	assert_true(scope_contains("420102", "420102"));
	assert_false(scope_contains("420102", "420103001"));
	assert_false(scope_contains("4201", "42"));   /* a parent is not inside its child */
	assert_false(scope_contains("42", "4"));
	assert_false(scope_contains("11", "42"));
}

/* The SQL range [lo, hi) must hold exactly the codes scope_contains accepts. */
static void range_matches_prefix(void **state)
{
	(void)state;
	const char *scopes[] = {"", "42", "49", "4201", "4209", "420102", "420199", "420102009"};
	const char *codes[] = {"11", "41", "42", "4201", "420102", "420102001", "420103", "4202", "43", "49", "4909",
	                       "50", "4209", "420901", "4210", "420199", "420199001", "4201990", "420102009", "42010201"};
	for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++) {
		char lo[SCOPE_MAX], hi[SCOPE_MAX];
		scope_range(scopes[i], lo, hi);
		for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
			int in_range = strcmp(codes[k], lo) >= 0 && strcmp(codes[k], hi) < 0;
			assert_int_equal(in_range, scope_contains(scopes[i], codes[k]));
		}
	}
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	scope_range("4209", lo, hi);
	assert_string_equal(lo, "4209");
	assert_string_equal(hi, "420:"); /* '9' + 1 sorts after every digit */
	scope_range("", lo, hi);
	assert_string_equal(lo, "");
}

static void parents(void **state)
{
	(void)state;
	char p[SCOPE_MAX];
	code_parent("420102001", p);
	assert_string_equal(p, "420102");
	code_parent("420102", p);
	assert_string_equal(p, "4201");
	code_parent("4201", p);
	assert_string_equal(p, "42");
	code_parent("42", p);
	assert_string_equal(p, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(levels_and_shapes), cmocka_unit_test(contains),
	    cmocka_unit_test(range_matches_prefix), cmocka_unit_test(parents),
	};
	return cmocka_run_group_tests_name("scope", tests, NULL, NULL);
}
