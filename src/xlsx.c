/* xlsx.c — one-sheet xlsx files in memory via libxlsxwriter. */
#include "xlsx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

struct xlsx_sheet {
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold;
	char path[64];
};

struct xlsx_sheet *xlsx_begin(const char *sheet_name)
{
	struct xlsx_sheet *x = xcalloc(1, sizeof *x);
	const char *tmp = getenv("TMPDIR");
	snprintf(x->path, sizeof x->path, "%s/cw-xlsx-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	int fd = mkstemp(x->path);
	if (fd < 0) {
		free(x);
		return NULL;
	}
	close(fd);
	lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
	x->wb = workbook_new_opt(x->path, &opt);
	if (!x->wb) {
		unlink(x->path);
		free(x);
		return NULL;
	}
	x->ws = workbook_add_worksheet(x->wb, sheet_name);
	x->bold = workbook_add_format(x->wb);
	format_set_bold(x->bold);
	format_set_bg_color(x->bold, 0xDDEBF7);
	worksheet_freeze_panes(x->ws, 1, 0);
	return x;
}

void xlsx_header(struct xlsx_sheet *x, size_t col, const char *text)
{
	if (!x)
		return;
	worksheet_write_string(x->ws, 0, (lxw_col_t)col, text, x->bold);
	worksheet_set_column(x->ws, (lxw_col_t)col, (lxw_col_t)col, strlen(text) > 12 ? 24 : 16, NULL);
}

void xlsx_text(struct xlsx_sheet *x, size_t row, size_t col, const char *text)
{
	if (x && text && *text)
		worksheet_write_string(x->ws, (lxw_row_t)row, (lxw_col_t)col, text, NULL);
}

void xlsx_number(struct xlsx_sheet *x, size_t row, size_t col, double v)
{
	if (x)
		worksheet_write_number(x->ws, (lxw_row_t)row, (lxw_col_t)col, v, NULL);
}

int xlsx_finish(struct xlsx_sheet *x, struct buf *out)
{
	int rc = -1;
	char chunk[65536];
	if (!x)
		return -1;
	lxw_error err = workbook_close(x->wb);
	x->wb = NULL;
	FILE *f = err == LXW_NO_ERROR ? fopen(x->path, "rb") : NULL;
	if (f) {
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(out, chunk, n);
		rc = ferror(f) ? -1 : 0;
		fclose(f);
	}
	unlink(x->path);
	free(x);
	return rc;
}

void xlsx_abort(struct xlsx_sheet *x)
{
	if (!x)
		return;
	if (x->wb)
		workbook_close(x->wb);
	unlink(x->path);
	free(x);
}
