/* csv.h — reading CSV for imports and writing CSV for exports.
 *
 * Reading detects the encoding: bytes that are valid UTF-8 (a BOM is
 * stripped) are UTF-8, anything else is converted from GB18030 (what Excel in
 * China saves) with glibc iconv. Parsing follows RFC 4180: commas, quoted
 * fields with "" escapes and embedded line breaks, CRLF or LF.
 */
#ifndef CW_CSV_H
#define CW_CSV_H
#include <stddef.h>
#include "buf.h"

#define CSV_MAX_ROWS 1000000
#define CSV_MAX_COLS 500
#define CSV_MAX_FIELD 65536

struct csv_row {
	char **cells;
	size_t ncells;
	long line;     /* physical line where the row starts (1-based) */
};

struct csv_table {
	struct csv_row *rows;
	size_t nrows;
	char encoding[16]; /* "UTF-8" or "GB18030" */
	char *text;        /* the UTF-8 text cells point into */
};

/* Parses data into t (rows[0] is the header; header cells are trimmed).
 * 0, or -1 with err naming the line; t needs csv_free() only on success. */
int csv_parse(const char *data, size_t len, struct csv_table *t, char *err, size_t errlen);
void csv_free(struct csv_table *t);
/* Accessors: a missing cell reads as "". */
const char *csv_cell(const struct csv_table *t, size_t row, size_t col);
size_t csv_row_cols(const struct csv_table *t, size_t row);
long csv_row_line(const struct csv_table *t, size_t row);

/* Writing: a UTF-8 BOM (so Excel opens UTF-8), fields quoted as needed, cells
 * that a spreadsheet would run as formulas (= + - @ at the start, unless a
 * plain number) prefixed with an apostrophe, CRLF row ends. */
void csv_write_bom(struct buf *b);
void csv_write_field(struct buf *b, const char *s);
void csv_end_row(struct buf *b);

#endif
