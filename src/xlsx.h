/* xlsx.h — writing one-sheet spreadsheets with libxlsxwriter into memory.
 * The workbook is written to a private temporary file (libxlsxwriter writes
 * files), read back into a buffer and removed. */
#ifndef CW_XLSX_H
#define CW_XLSX_H
#include <stddef.h>
#include "buf.h"

struct xlsx_sheet;

/* Starts a workbook with one sheet; NULL on failure. */
struct xlsx_sheet *xlsx_begin(const char *sheet_name);
/* Row 0 header cell (bold, with a sensible column width). */
void xlsx_header(struct xlsx_sheet *x, size_t col, const char *text);
void xlsx_text(struct xlsx_sheet *x, size_t row, size_t col, const char *text);
void xlsx_number(struct xlsx_sheet *x, size_t row, size_t col, double v);
/* Closes the workbook and appends its bytes to out; frees x. 0 or -1. */
int xlsx_finish(struct xlsx_sheet *x, struct buf *out);
/* Discards an unfinished workbook (NULL is fine). */
void xlsx_abort(struct xlsx_sheet *x);

#endif
