/* table.c — CSV or xlsx rows behind one interface. */
#include "table.h"
#include "csv.h"
#include "err.h"
#include <stdio.h>
#include <string.h>

int table_begin(struct table *t, int xlsx, const char *sheet, struct buf *out)
{
	memset(t, 0, sizeof *t);
	t->xlsx = xlsx;
	t->out = out;
	if (xlsx) {
		t->xs = xlsx_begin(sheet);
		return t->xs ? 0 : -1;
	}
	csv_write_bom(out);
	return 0;
}

void table_header(struct table *t, const char *text)
{
	if (t->xlsx)
		xlsx_header(t->xs, t->col++, text);
	else
		csv_write_field(t->out, text);
}

void table_text(struct table *t, const char *text)
{
	if (t->xlsx)
		xlsx_text(t->xs, t->row, t->col++, text ? text : "");
	else
		csv_write_field(t->out, text ? text : "");
}

void table_num(struct table *t, double v)
{
	if (t->xlsx) {
		xlsx_number(t->xs, t->row, t->col++, v);
		return;
	}
	char b[40];
	if (v == (double)(long long)v)
		snprintf(b, sizeof b, "%lld", (long long)v);
	else
		snprintf(b, sizeof b, "%.2f", v);
	csv_write_field(t->out, b);
}

void table_end_row(struct table *t)
{
	if (!t->xlsx)
		csv_end_row(t->out);
	t->row++;
	t->col = 0;
}

int table_finish(struct table *t, struct cw_err *e)
{
	if (!t->xlsx)
		return 0;
	int rc = xlsx_finish(t->xs, t->out);
	t->xs = NULL;
	if (rc != 0)
		err_set(e, 500, "export_failed", NULL, "生成 Excel 文件失败");
	return rc;
}

void table_abort(struct table *t)
{
	if (t->xlsx)
		xlsx_abort(t->xs);
	t->xs = NULL;
}
