/* institution_io.c — CSV import (UTF-8 or GB18030, Chinese or English
 * headers) and CSV/xlsx export of the registry, shared by the API and the CLI. */
#include "institution_io.h"
#include "audit.h"
#include "csv.h"
#include "enums.h"
#include "handlers.h"
#include "import_rows.h"
#include "http.h"
#include "jspec.h"
#include "log.h"
#include "scope.h"
#include "table.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns: JSON field, export header, accepted import headers. */
static const struct col {
	const char *field, *zh;
	const char *aliases[4];
	const struct enum_val *values; /* coded column: export the label, import code or label */
} cols[] = {
    {"name", "机构名称", {"名称", "name", NULL}, NULL},
    {"uscc", "统一社会信用代码", {"信用代码", "uscc", NULL}, NULL},
    {"type", "机构类型", {"类型", "type", NULL}, inst_types},
    {"ownership", "举办性质", {"性质", "ownership", NULL}, inst_ownerships},
    {"division_code", "行政区划代码", {"区划代码", "division_code", NULL}, NULL},
    {"division_name", "所在区划", {"division_name", NULL}, NULL},
    {"address", "地址", {"详细地址", "address", NULL}, NULL},
    {"beds", "床位数", {"床位", "beds", NULL}, NULL},
    {"contact_name", "联系人", {"contact_name", NULL}, NULL},
    {"contact_phone", "联系电话", {"电话", "contact_phone", NULL}, NULL},
    {"medical", "医疗条件", {"医疗", "medical", NULL}, inst_medicals},
    {"status", "运营状态", {"状态", "status", NULL}, inst_statuses},
    {"risk_level", "风险等级", {"风险", "risk_level", NULL}, risk_levels},
};
#define NCOLS (sizeof cols / sizeof cols[0])

static int col_of(const char *header)
{
	for (size_t i = 0; i < NCOLS; i++) {
		if (!strcmp(cols[i].zh, header))
			return (int)i;
		for (int k = 0; k < 4 && cols[i].aliases[k]; k++)
			if (!strcmp(cols[i].aliases[k], header))
				return (int)i;
	}
	return -1;
}

/* Builds the JSON body of one CSV row; cells that cannot be typed are
 * reported. Returns the object (new) — always, so later checks can run. */
static json_t *row_object(const struct csv_table *t, size_t row, const int *map, json_t *problems, int *bad)
{
	json_t *o = json_object();
	long line = csv_row_line(t, row);
	for (size_t c = 0; c < csv_row_cols(t, row); c++) {
		int k = c < csv_row_cols(t, 0) ? map[c] : -1;
		const char *v = csv_cell(t, row, c);
		if (k < 0 || !*v || !strcmp(cols[k].field, "division_name"))
			continue;
		if (!strcmp(cols[k].field, "beds")) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (*end) {
				import_problem(problems, line, "beds", "invalid_type", "床位数必须是整数");
				*bad = 1;
			} else
				json_object_set_new(o, "beds", json_integer(n));
		} else if (cols[k].values) {
			const char *code = enum_parse(cols[k].values, v);
			json_object_set_new(o, cols[k].field, json_string(code ? code : v));
		} else
			json_object_set_new(o, cols[k].field, json_string(v));
	}
	return o;
}

struct import_ctx {
	const struct user *u;
	int64_t now;
	const struct csv_table *t;
	const int *map;
	int skip_invalid, dry_run;
	struct inst_import_result *res;
	json_t *later; /* audit rows, written together at the end */
};

/* Rebuilds inst_counts from the registry (the same as the fill in
 * sql/004_counts.sql), for an import that kept the trigger from doing it. */
static int recount(db *d)
{
	int rc = db_exec(d, "DELETE FROM inst_counts");
	if (rc == 0)
		rc = db_exec(d, "INSERT INTO inst_counts(division_code, type, n) SELECT p, type, COUNT(*) FROM ("
		                "SELECT '' AS p, type FROM institutions WHERE status <> 'suspended' "
		                "UNION ALL SELECT substr(division_code, 1, 2), type FROM institutions WHERE status <> 'suspended' "
		                "UNION ALL SELECT substr(division_code, 1, 4), type FROM institutions WHERE status <> 'suspended' "
		                "UNION ALL SELECT substr(division_code, 1, 6), type FROM institutions WHERE status <> 'suspended'"
		                ") x GROUP BY p, type");
	return rc;
}

static json_t *inst_row(void *ctx, size_t row, json_t *problems, int *bad)
{
	struct import_ctx *c = ctx;
	return row_object(c->t, row, c->map, problems, bad);
}

static int inst_row_check(db *d, void *ctx, json_t *o, json_t *errs)
{
	struct import_ctx *c = ctx;
	return inst_check(d, c->u, o, 0, errs);
}

static int inst_row_insert(db *d, void *ctx, json_t *o)
{
	struct import_ctx *c = ctx;
	int64_t id;
	return inst_insert(d, c->u, c->now, o, c->later, &id);
}

static int import_txn(db *d, void *vc)
{
	struct import_ctx *c = vc;
	struct inst_import_result *res = c->res;
	json_array_clear(c->later); /* a retried transaction starts afresh */
	int pg = d->engine == DB_PG;
	if (pg && db_exec(d, "SET LOCAL carewatch.bulk_counts = 'on'") != 0) /* sql/007_counts_bulk.sql */
		return DB_ERROR;
	struct import_rows ir = {c->t, inst_spec, 1, inst_row, inst_row_check, inst_row_insert, c, res->problems, 0, 0, NULL, NULL};
	int rows_rc = import_rows_run(d, &ir);
	res->imported = ir.imported;
	res->rejected = ir.rejected;
	if (rows_rc != 0)
		return rows_rc;
	if (c->dry_run || (res->rejected && !c->skip_invalid))
		return DB_APP; /* roll back: nothing imported */
	if (pg) {
		int rc = recount(d);
		if (rc != 0)
			return rc;
	}
	return audit_write_many(d, c->u, c->now, c->later);
}

int inst_import_csv(db *d, const struct user *u, int64_t now, const char *data, size_t len, int skip_invalid,
                    int dry_run, struct inst_import_result *res, struct cw_err *e)
{
	struct csv_table t;
	char err[300];
	int rc = -1;
	int *map = NULL;
	memset(res, 0, sizeof *res);
	memset(e, 0, sizeof *e);
	res->problems = json_array();
	res->ignored = json_array();
	if (csv_parse(data, len, &t, err, sizeof err) != 0) {
		err_set(e, 422, "invalid_csv", NULL, "CSV 文件无法读取：%s", err);
		return -1;
	}
	cw_strlcpy(res->encoding, t.encoding, sizeof res->encoding);
	if (t.nrows == 0) {
		err_set(e, 422, "empty_file", NULL, "文件为空：第一行应为表头");
		goto cleanup;
	}
	int have_name = 0, have_uscc = 0;
	map = xcalloc(csv_row_cols(&t, 0) + 1, sizeof *map);
	for (size_t c = 0; c < csv_row_cols(&t, 0); c++) {
		map[c] = col_of(csv_cell(&t, 0, c));
		if (map[c] < 0)
			json_array_append_new(res->ignored, json_string(csv_cell(&t, 0, c)));
		else if (!strcmp(cols[map[c]].field, "name"))
			have_name = 1;
		else if (!strcmp(cols[map[c]].field, "uscc"))
			have_uscc = 1;
	}
	if (!have_name || !have_uscc) {
		err_set(e, 422, "missing_columns", NULL, "表头缺少必需的列：机构名称、统一社会信用代码");
		goto cleanup;
	}
	res->rows = (int)t.nrows - 1;
	struct import_ctx c = {u, now, &t, map, skip_invalid, dry_run, res, json_array()};
	db_bulk_begin(d, 0); /* one transaction holds every row */
	int r = db_txn(d, 1, import_txn, &c);
	db_bulk_end(d);
	json_decref(c.later);
	if (r != 0 && r != DB_APP) {
		err_db(e, r);
		goto cleanup;
	}
	res->committed = r == 0;
	if (r == 0 && !dry_run && res->imported)
		db_refresh_stats(d, "institutions");
	rc = 0;
cleanup:
	free(map);
	csv_free(&t);
	return rc;
}

/* ---------- export ---------- */

static const char *cell_text(json_t *item, const struct col *c, char *tmp, size_t n)
{
	json_t *v = json_object_get(item, c->field);
	if (json_is_integer(v)) {
		snprintf(tmp, n, "%lld", (long long)json_integer_value(v));
		return tmp;
	}
	const char *s = json_string_value(v);
	if (!s)
		return "";
	return c->values ? enum_label(c->values, s) : s;
}

int inst_export(db *d, const struct user *u, const char *division, int xlsx, struct buf *out, int64_t *count,
                struct cw_err *e)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX], tmp[32];
	int rc;
	int64_t only = u && u->role == ROLE_REPORTER ? u->institution_id : 0;
	struct table tab;
	memset(e, 0, sizeof *e);
	*count = 0;
	scope_range(division, lo, hi);
	db_stmt *st = db_prepare(d, "SELECT " INST_COLS INST_FROM "WHERE i.division_code >= $1 AND i.division_code < $2 "
	                            "AND ($3 = 0 OR i.id = $3) ORDER BY i.division_code, i.id");
	if (!st) {
		err_db(e, DB_ERROR);
		return -1;
	}
	if (table_begin(&tab, xlsx, "机构底数", out) != 0) {
		err_set(e, 500, "export_failed", NULL, "生成 Excel 文件失败");
		return -1;
	}
	for (size_t c = 0; c < NCOLS; c++)
		table_header(&tab, cols[c].zh);
	table_end_row(&tab);
	db_bindf(st, "ttI", lo, hi, only);
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *item = inst_json(st);
		(*count)++;
		for (size_t c = 0; c < NCOLS; c++) {
			if (!strcmp(cols[c].field, "beds"))
				table_num(&tab, (double)json_integer_value(json_object_get(item, "beds")));
			else
				table_text(&tab, cell_text(item, &cols[c], tmp, sizeof tmp));
		}
		table_end_row(&tab);
		json_decref(item);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		err_db(e, rc);
		table_abort(&tab);
		return -1;
	}
	return table_finish(&tab, e);
}

int h_institutions_export(struct req *r)
{
	char div[SCOPE_MAX];
	struct cw_err e;
	struct buf out = {0};
	int64_t n;
	const char *fmt = req_query(r, "format");
	if (!fmt)
		fmt = "csv";
	if (strcmp(fmt, "csv") && strcmp(fmt, "xlsx"))
		return reply_error(r, 400, "invalid_query", "format 只能是 csv 或 xlsx", "format");
	if (req_division_or_reply(r, "division", div) != 0)
		return 0;
	int xlsx = !strcmp(fmt, "xlsx");
	if (inst_export(r->db, &r->user, div, xlsx, &out, &n, &e) != 0) {
		buf_free(&out);
		return reply_err(r, &e);
	}
	reply_file(r, xlsx, &out, xlsx ? "机构底数.xlsx" : "机构底数.csv");
	buf_free(&out);
	return 0;
}

static const char *flag(struct req *r, const char *name)
{
	const char *v = req_query(r, name);
	return v ? v : "";
}

int h_institutions_import(struct req *r)
{
	struct inst_import_result res;
	struct cw_err e;
	const char *skip = flag(r, "skip_invalid"), *dry = flag(r, "dry_run");
	if (!r->body.len)
		return reply_error(r, 400, "empty_file", "请上传 CSV 文件内容", NULL);
	if (inst_import_csv(r->db, &r->user, r->now, r->body.data, r->body.len, !strcmp(skip, "1"), !strcmp(dry, "1"),
	                    &res, &e) != 0) {
		json_decref(res.problems);
		json_decref(res.ignored);
		return reply_err(r, &e);
	}
	json_t *j = json_pack("{s:s,s:i,s:i,s:i,s:i,s:b,s:b,s:o,s:o}", "encoding", res.encoding, "rows", res.rows,
	                      "imported", res.committed ? res.imported : 0, "valid", res.imported, "rejected",
	                      res.rejected, "dry_run",
	                      !strcmp(dry, "1"), "committed", res.committed, "problems", res.problems, "ignored_columns",
	                      res.ignored);
	int status = (res.rejected && !res.committed && strcmp(dry, "1")) ? 422 : 200;
	if (status == 422) {
		json_object_set_new(j, "error", json_pack("{s:s,s:s}", "code", "invalid_rows", "message",
		                                          "文件中有无效行，未导入任何数据（可选择跳过无效行）"));
	}
	return reply_json(r, status, j);
}
