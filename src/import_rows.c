/* import_rows.c — the shared CSV import row loop (see import_rows.h). */
#include "import_rows.h"
#include "buf.h"
#include <stdlib.h>

void import_problem(json_t *problems, long line, const char *field, const char *code, const char *msg)
{
	json_array_append_new(problems, json_pack("{s:I,s:s,s:s,s:s}", "line", (json_int_t)line, "field", field ? field : "",
	                                          "code", code, "message", msg));
}

struct lined {
	json_int_t line;
	size_t at;
	json_t *p;
};

static int by_line(const void *a, const void *b)
{
	const struct lined *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Puts problems back in line order (rows taken in another order), keeping
 * the order of one line's problems. */
static void sort_by_line(json_t *problems)
{
	size_t n = json_array_size(problems);
	if (n < 2)
		return;
	struct lined *v = xcalloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		v[i].p = json_incref(json_array_get(problems, i));
		v[i].line = json_integer_value(json_object_get(v[i].p, "line"));
		v[i].at = i;
	}
	qsort(v, n, sizeof *v, by_line);
	json_array_clear(problems);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(problems, v[i].p);
	free(v);
}

static int run_rows(db *d, struct import_rows *ir)
{
	for (size_t k = 1; k < ir->t->nrows; k++) {
		size_t row = ir->order ? ir->order[k - 1] : k;
		int bad = 0, rc = 0;
		if (ir->fast) {
			rc = ir->fast(d, ir->ctx, row);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				ir->imported++;
				continue;
			}
			rc = 0;
		}
		long line = csv_row_line(ir->t, row);
		json_t *o = ir->row(ir->ctx, row, ir->problems, &bad);
		json_t *errs = bad && !ir->spec_on_bad_rows ? json_array() : jspec_check(o, ir->spec, 0);
		if (!errs) { /* the spec holds: the import's own rules */
			errs = json_array();
			rc = ir->check(d, ir->ctx, o, errs);
		}
		size_t i;
		json_t *e;
		json_array_foreach(errs, i, e)
		{
			import_problem(ir->problems, line, json_string_value(json_object_get(e, "field")),
			               json_string_value(json_object_get(e, "code")),
			               json_string_value(json_object_get(e, "message")));
			bad = 1;
		}
		json_decref(errs);
		if (rc == 0 && bad)
			ir->rejected++;
		else if (rc == 0 && (rc = ir->insert(d, ir->ctx, o)) == 0)
			ir->imported++;
		json_decref(o);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int import_rows_run(db *d, struct import_rows *ir)
{
	json_array_clear(ir->problems);
	ir->imported = ir->rejected = 0;
	int rc = run_rows(d, ir);
	if (ir->order)
		sort_by_line(ir->problems);
	return rc;
}
