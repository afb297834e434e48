/* table.h — one writer for tabular exports, as CSV (UTF-8 with BOM) or xlsx.
 * Callers write a header row, then rows of cells; the writer knows the format. */
#ifndef CW_TABLE_H
#define CW_TABLE_H
#include <stddef.h>
#include "buf.h"
#include "xlsx.h"

struct table {
	int xlsx;
	struct xlsx_sheet *xs;
	struct buf *out;
	size_t row, col;
};

/* Starts a table appending to out. 0, or -1 when the workbook cannot be made. */
int table_begin(struct table *t, int xlsx, const char *sheet, struct buf *out);
void table_header(struct table *t, const char *text);
void table_text(struct table *t, const char *text);
void table_num(struct table *t, double v);
void table_end_row(struct table *t);
/* Finishes the file (xlsx: writes the workbook into out). 0, or -1 with e
 * filled (500 export_failed). */
struct cw_err;
int table_finish(struct table *t, struct cw_err *e);
/* Discards an unfinished table. */
void table_abort(struct table *t);

#endif
