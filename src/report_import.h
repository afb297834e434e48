/* report_import.h — bulk import of reports from CSV (a provincial system's
 * day, or a spreadsheet): the same checks as the API, one transaction. */
#ifndef CW_REPORT_IMPORT_H
#define CW_REPORT_IMPORT_H
#include <jansson.h>
#include "auth.h"
#include "db.h"
#include "err.h"
#include "template.h"

struct report_import_result {
	char encoding[16];
	int rows, valid, rejected, warnings, committed;
	json_t *problems; /* [{line, field, code, message}] — caller decrefs */
};

/* Columns: institution_id (or 统一社会信用代码 / uscc), period (or 日期), then
 * field codes or their Chinese labels. Booleans as 是/否, true/false or 1/0.
 * Rows are submitted reports; warnings are accepted (counted), errors reject
 * the row; with a rejected row nothing is stored unless skip_invalid. u is the
 * acting user (scope applies). 0 (see res) or -1 with e for a file-level
 * problem or a database failure. */
int report_import_csv(db *d, const struct user *u, int64_t now, const struct template *t, const char *data,
                      size_t len, int skip_invalid, struct report_import_result *res, struct cw_err *e);

#endif
