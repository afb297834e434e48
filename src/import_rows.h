/* import_rows.h — the row loop the CSV imports share (institutions, people).
 *
 * Each data row of the table becomes a JSON object (row), is checked against
 * the import's JSON spec and then by its own rules (check), and every problem
 * is reported with the row's line; a clean row is written (insert). All of it
 * runs inside the caller's one transaction; the caller decides afterwards
 * whether to keep it (skip_invalid) or roll everything back.
 */
#ifndef CW_IMPORT_ROWS_H
#define CW_IMPORT_ROWS_H
#include <jansson.h>
#include "csv.h"
#include "db.h"
#include "jspec.h"

struct import_rows {
	const struct csv_table *t;
	const struct jfield *spec;
	int spec_on_bad_rows; /* also check the spec of a row whose cells could not be typed */
	/* the row as an object (new reference; cells that cannot be typed go to
	 * problems and set *bad) */
	json_t *(*row)(void *ctx, size_t row, json_t *problems, int *bad);
	/* the import's own rules: problems appended to errs as {field, code,
	 * message}; 0, or a DB_* error that ends the import */
	int (*check)(db *d, void *ctx, json_t *o, json_t *errs);
	/* writes a clean row: 0 or a DB_* error that ends the import */
	int (*insert)(db *d, void *ctx, json_t *o);
	void *ctx;
	json_t *problems; /* [{line, field, code, message}], cleared first */
	int imported, rejected;
	/* optional, tried first: checks and writes a row straight from its
	 * cells, without its JSON. 1: clean and written (counts as imported);
	 * 0: not clean, or not sure — the row then goes the JSON way above, which
	 * reports its problems; or a DB_* error that ends the import. It must
	 * take only rows the JSON way takes, storing the same. */
	int (*fast)(db *d, void *ctx, size_t row);
	/* optional: the data rows (1 .. nrows-1, each once) in the order to take
	 * them; NULL: file order. problems stay in line order either way. */
	const size_t *order;
};

/* Runs every data row as above. 0, or the DB_* error of check or insert. */
int import_rows_run(db *d, struct import_rows *ir);
/* Appends one problem {line, field, code, message} to problems. */
void import_problem(json_t *problems, long line, const char *field, const char *code, const char *msg);

#endif
