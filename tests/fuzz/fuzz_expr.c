/* fuzz_expr.c — the rule expression parser and evaluator. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "expr.h"

static int look(void *ctx, const char *field, double *v)
{
	(void)ctx;
	if (field[0] == 'z')
		return -1; /* a field without a value */
	*v = (double)(strlen(field) % 7) - 3;
	return 0;
}

static void seen(void *ctx, const char *field)
{
	(void)ctx;
	(void)field;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[300];
	double out;
	memcpy(s, data, size);
	s[size] = 0;
	struct expr *e = expr_parse(s, err, sizeof err);
	if (e) {
		expr_eval(e, look, NULL, &out);
		expr_fields(e, seen, NULL);
		expr_free(e);
	} else if (!err[0])
		abort(); /* a refusal always says why */
	free(s);
	return 0;
}
