/* test_expr.c — rule expressions: precedence, parentheses, missing values,
 * division by zero, comparisons, and parse errors with their position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "expr.h"

struct kv {
	const char *k;
	double v;
};

static int look(void *ctx, const char *field, double *v)
{
	for (const struct kv *p = ctx; p->k; p++)
		if (!strcmp(p->k, field)) {
			*v = p->v;
			return 0;
		}
	return -1;
}

static double eval(const char *text, int *ok)
{
	static const struct kv vals[] = {{"a", 2}, {"b", 3}, {"c", 4}, {"zero", 0}, {"elderly_present", 40}, {NULL, 0}};
	char err[200];
	double out = -12345;
	struct expr *e = expr_parse(text, err, sizeof err);
	assert_non_null(e);
	*ok = expr_eval(e, look, (void *)vals, &out) == 0;
	expr_free(e);
	return out;
}

static void arithmetic(void **state)
{
	(void)state;
	int ok;
	assert_true(eval("a + b * c", &ok) == 14 && ok);
	assert_true(eval("(a + b) * c", &ok) == 20 && ok);
	assert_true(eval("c / a - b", &ok) == -1 && ok);
	assert_true(eval("-a + 10", &ok) == 8 && ok);
	assert_true(eval("- (a - c)", &ok) == 2 && ok);
	assert_true(eval("a - b - c", &ok) == -5 && ok); /* left associative */
	assert_true(eval("c / a / a", &ok) == 1 && ok);
	assert_true(eval("1.5 * a", &ok) == 3 && ok);
	assert_true(eval("elderly_present + 0", &ok) == 40 && ok);
}

static void cannot_judge(void **state)
{
	(void)state;
	int ok;
	eval("a + missing", &ok);
	assert_false(ok);
	eval("a / zero", &ok);
	assert_false(ok);
}

static void parse_errors(void **state)
{
	(void)state;
	char err[200];
	const char *bad[] = {"", "a +", "(a + b", "a b", "a + * b", "3..4", "A + b", "a + b)", "a $ b", NULL};
	for (const char **p = bad; *p; p++) {
		assert_null(expr_parse(*p, err, sizeof err));
		assert_true(strlen(err) > 0);
	}
	assert_null(expr_parse("a + * b", err, sizeof err));
	assert_non_null(strstr(err, "第 5 个字符"));
	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "(");
	assert_null(expr_parse(deep, err, sizeof err));
}

static void comparisons(void **state)
{
	(void)state;
	enum cmp_op op;
	assert_int_equal(cmp_parse("<=", &op), 0);
	assert_true(cmp_holds(op, 3, 3));
	assert_false(cmp_holds(op, 4, 3));
	assert_int_equal(cmp_parse("<", &op), 0);
	assert_false(cmp_holds(op, 3, 3));
	assert_int_equal(cmp_parse("==", &op), 0);
	assert_true(cmp_holds(op, 0.1 + 0.2, 0.3)); /* tolerant of float noise */
	assert_int_equal(cmp_parse("!=", &op), 0);
	assert_true(cmp_holds(op, 1, 2));
	assert_int_equal(cmp_parse(">=", &op), 0);
	assert_string_equal(cmp_text(op), "≥");
	assert_int_equal(cmp_parse("=>", &op), -1);
	assert_int_equal(cmp_parse(NULL, &op), -1);
}

static void collect(void *ctx, const char *field)
{
	strcat(ctx, field);
	strcat(ctx, ",");
}

static void fields_listed(void **state)
{
	(void)state;
	char err[200], seen[200] = "";
	struct expr *e = expr_parse("risk_red + risk_yellow * (risk_green - 1)", err, sizeof err);
	expr_fields(e, collect, seen);
	assert_string_equal(seen, "risk_red,risk_yellow,risk_green,");
	expr_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(arithmetic), cmocka_unit_test(cannot_judge), cmocka_unit_test(parse_errors),
	    cmocka_unit_test(comparisons), cmocka_unit_test(fields_listed),
	};
	return cmocka_run_group_tests_name("expr", tests, NULL, NULL);
}
