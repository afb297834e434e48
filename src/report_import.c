/* report_import.c — reports from CSV. */
#include "report_import.h"
#include "csv.h"
#include "report.h"
#include "rollup.h"
#include "scope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COL_SKIP = -1, COL_INST = -2, COL_USCC = -3, COL_PERIOD = -4 };

static int column_of(const struct template *t, const char *h)
{
	if (!strcmp(h, "institution_id") || !strcmp(h, "机构编号"))
		return COL_INST;
	if (!strcmp(h, "uscc") || !strcmp(h, "统一社会信用代码"))
		return COL_USCC;
	if (!strcmp(h, "period") || !strcmp(h, "日期") || !strcmp(h, "填报日期"))
		return COL_PERIOD;
	for (int i = 0; i < t->nfields; i++)
		if (!strcmp(t->fields[i].code, h) || !strcmp(t->fields[i].label, h))
			return i;
	return COL_SKIP;
}

static void problem(json_t *p, long line, const char *field, const char *code, const char *msg)
{
	json_array_append_new(p, json_pack("{s:I,s:s,s:s,s:s}", "line", (json_int_t)line, "field", field, "code", code,
	                                   "message", msg));
}

/* Converts a cell to the field's JSON type; NULL (and a problem) when it cannot. */
static json_t *typed(const struct tfield *f, const char *v, long line, json_t *problems)
{
	char *end, msg[200];
	switch (f->type) {
	case FT_INT: {
		long long n = strtoll(v, &end, 10);
		if (*end)
			break;
		return json_integer(n);
	}
	case FT_DEC: {
		double x = strtod(v, &end);
		if (*end)
			break;
		return json_real(x);
	}
	case FT_BOOL:
		if (!strcmp(v, "是") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
			return json_true();
		if (!strcmp(v, "否") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
			return json_false();
		break;
	default:
		return json_string(v);
	}
	snprintf(msg, sizeof msg, "%s的值“%s”不是%s", f->label, v, f->type == FT_BOOL ? "是/否" : "数字");
	problem(problems, line, f->code, "invalid_type", msg);
	return NULL;
}

struct ictx {
	const struct user *u;
	int64_t now;
	const struct template *t;
	const struct csv_table *tab;
	const int *map;
	int skip_invalid;
	struct report_import_result *res;
	json_t *batch; /* roll-up contributions, written once at the end */
	json_t *later; /* audit rows, written after the roll-ups */
};

/* Finds the institution of a row by id or credit code. */
static int64_t row_institution(db *d, const struct csv_table *tab, size_t row, const int *map, int *rc)
{
	int64_t id = 0;
	*rc = DB_DONE;
	for (size_t c = 0; c < csv_row_cols(tab, row); c++) {
		const char *v = csv_cell(tab, row, c);
		if (map[c] == COL_INST && *v) {
			char *end;
			id = strtoll(v, &end, 10);
			if (*end || id <= 0)
				return 0;
			*rc = DB_ROW;
			return id;
		}
		if (map[c] == COL_USCC && *v) {
			*rc = db_query_int64(d, &id, "SELECT id FROM institutions WHERE uscc = $1", "t", v);
			return *rc == DB_ROW ? id : 0;
		}
	}
	return 0;
}

static int import_txn(db *d, void *vc)
{
	struct ictx *c = vc;
	struct report_import_result *res = c->res;
	json_array_clear(res->problems);
	json_object_clear(c->batch); /* a retried transaction starts afresh */
	json_array_clear(c->later);
	res->valid = res->rejected = res->warnings = 0;
	for (size_t row = 1; row < c->tab->nrows; row++) {
		long line = csv_row_line(c->tab, row);
		int rc, bad = 0;
		int64_t inst = row_institution(d, c->tab, row, c->map, &rc);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc;
		if (!inst) {
			problem(res->problems, line, "institution_id", "unknown_institution", "找不到该机构（机构编号或统一社会信用代码）");
			bad = 1;
		}
		const char *period = "";
		json_t *values = json_object();
		for (size_t col = 0; col < csv_row_cols(c->tab, row); col++) {
			const char *v = csv_cell(c->tab, row, col);
			if (c->map[col] == COL_PERIOD)
				period = v;
			else if (c->map[col] >= 0 && *v) {
				const struct tfield *f = &c->t->fields[c->map[col]];
				json_t *j = typed(f, v, line, res->problems);
				if (j)
					json_object_set_new(values, f->code, j);
				else
					bad = 1;
			}
		}
		if (report_period_ok(c->t, period) != 0) {
			problem(res->problems, line, "period", "invalid_period", "日期格式应为 YYYY-MM-DD 且为真实日期");
			bad = 1;
		}
		if (!bad) {
			json_t *details = json_array();
			int warnings = 0;
			int errors = report_check(c->t, values, 1, details, &warnings);
			size_t i;
			json_t *x;
			json_array_foreach(details, i, x)
			{
				if (strcmp(json_string_value(json_object_get(x, "severity")), "error"))
					continue;
				const char *fld = json_string_value(json_object_get(x, "field"));
				problem(res->problems, line, fld ? fld : json_string_value(json_object_get(x, "rule")),
				        json_string_value(json_object_get(x, "code")), json_string_value(json_object_get(x, "message")));
			}
			json_decref(details);
			bad = errors > 0;
			res->warnings += warnings;
		}
		if (!bad) {
			struct cw_err e;
			struct report_save s = {.t = c->t, .institution_id = inst, .period = period, .submit = 1, .values = values,
			                        .confirm_warnings = 1, .u = c->u, .now = c->now,
			                        .rollup_batch = c->batch, .audit_later = c->later};
			rc = report_store(d, &s, &e);
			if (rc == DB_APP) {
				problem(res->problems, line, "institution_id", e.code, e.msg);
				bad = 1;
			} else if (rc != 0) {
				json_decref(values);
				return rc;
			}
		}
		json_decref(values);
		if (bad)
			res->rejected++;
		else
			res->valid++;
	}
	if (res->rejected && !c->skip_invalid)
		return DB_APP;
	int rc = rollup_flush(d, c->t, c->batch);
	return rc ? rc : report_audit_flush(d, c->u, c->now, c->later);
}

int report_import_csv(db *d, const struct user *u, int64_t now, const struct template *t, const char *data,
                      size_t len, int skip_invalid, struct report_import_result *res, struct cw_err *e)
{
	struct csv_table tab;
	char err[300];
	int rc = -1, *map = NULL;
	memset(res, 0, sizeof *res);
	memset(e, 0, sizeof *e);
	res->problems = json_array();
	if (csv_parse(data, len, &tab, err, sizeof err) != 0) {
		err_set(e, 422, "invalid_csv", NULL, "CSV 文件无法读取：%s", err);
		return -1;
	}
	cw_strlcpy(res->encoding, tab.encoding, sizeof res->encoding);
	size_t ncol = csv_row_cols(&tab, 0);
	map = xcalloc(ncol + 1, sizeof *map);
	int has_inst = 0, has_period = 0;
	for (size_t c = 0; c < ncol; c++) {
		map[c] = column_of(t, csv_cell(&tab, 0, c));
		has_inst |= map[c] == COL_INST || map[c] == COL_USCC;
		has_period |= map[c] == COL_PERIOD;
	}
	if (!tab.nrows || !has_inst || !has_period) {
		err_set(e, 422, "missing_columns", NULL, "表头须包含机构编号（或统一社会信用代码）与日期两列");
		goto cleanup;
	}
	res->rows = (int)tab.nrows - 1;
	struct ictx c = {u, now, t, &tab, map, skip_invalid, res, rollup_batch_new(), json_array()};
	db_bulk_begin(d, 0); /* one transaction holds every row */
	int r = db_txn(d, 1, import_txn, &c);
	db_bulk_end(d);
	json_decref(c.batch);
	json_decref(c.later);
	if (r != 0 && r != DB_APP) {
		err_db(e, r);
		goto cleanup;
	}
	res->committed = r == 0;
	if (r == 0 && res->valid)
		db_refresh_stats(d, "reports");
	rc = 0;
cleanup:
	free(map);
	csv_free(&tab);
	return rc;
}
