/* fuzz_csv.c — CSV import parsing: encoding detection (UTF-8 / GB18030),
 * quoting, limits. Every accepted table must be self-consistent. */
#include <stdint.h>
#include <string.h>
#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_table t;
	char err[300];
	if (csv_parse((const char *)data, size, &t, err, sizeof err) != 0)
		return 0;
	for (size_t r = 0; r < t.nrows; r++)
		for (size_t c = 0; c < csv_row_cols(&t, r) + 1; c++)
			(void)strlen(csv_cell(&t, r, c));
	struct buf b = {0};
	for (size_t c = 0; t.nrows && c < csv_row_cols(&t, 0); c++)
		csv_write_field(&b, csv_cell(&t, 0, c));
	buf_free(&b);
	csv_free(&t);
	return 0;
}
