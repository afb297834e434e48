/* test_need.c — a need's derived status from its counters (need.h), the
 * same rule as NEED_STATUS_SQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "need.h"

static void derived_status(void **state)
{
	(void)state;
	/* state, quantity, committed (pledged), in transit, received */
	assert_string_equal(need_status("active", 10, 0, 0, 0), "open");
	assert_string_equal(need_status("active", 10, 4, 0, 0), "partially_pledged");
	assert_string_equal(need_status("active", 10, 10, 0, 0), "pledged");
	assert_string_equal(need_status("active", 10, 10, 4, 0), "in_transit");
	assert_string_equal(need_status("active", 10, 9, 0, 3), "partially_received");
	assert_string_equal(need_status("active", 10, 9, 6, 3), "in_transit");
	assert_string_equal(need_status("active", 10, 10, 0, 10), "received");
	assert_string_equal(need_status("proposed", 10, 0, 0, 0), "proposed");
	assert_string_equal(need_status("dismissed", 10, 0, 0, 0), "dismissed");
	assert_string_equal(need_status("cancelled", 10, 0, 0, 0), "cancelled");
}

static void labels(void **state)
{
	(void)state;
	assert_string_equal(need_label("in_transit"), "运输中");
	assert_string_equal(need_label("urgent"), "紧急");
	assert_string_equal(need_label("coordinating"), "协调中");
	assert_string_equal(need_label("nonsense"), "");
	assert_string_equal(need_label(NULL), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(derived_status), cmocka_unit_test(labels)};
	return cmocka_run_group_tests_name("need", tests, NULL, NULL);
}
