/* person_io.c — CSV import of the people registry and its CSV/xlsx export. */
#include "person_io.h"
#include "audit.h"
#include "import_rows.h"
#include "clock.h"
#include "csv.h"
#include "handlers.h"
#include "http.h"
#include "pii.h"
#include "scope.h"
#include "table.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct col {
	const char *field, *zh;
	const char *aliases[4];
	const struct enum_val *values;
} cols[] = {
    {"name", "姓名", {"name", NULL}, NULL},
    {"citizen_id", "公民身份号码", {"身份证号", "身份证号码", "citizen_id", NULL}, NULL},
    {"categories", "对象类别", {"类别", "categories", NULL}, NULL},
    {"division_code", "行政区划代码", {"乡镇代码", "区划代码", "division_code", NULL}, NULL},
    {"address", "住址", {"地址", "address", NULL}, NULL},
    {"phone", "联系电话", {"电话", "phone", NULL}, NULL},
    {"guardian", "监护人或联系人", {"监护人", "联系人", "guardian", NULL}, NULL},
    {"chronic_disease", "慢性病情况", {"慢性病", "chronic_disease", NULL}, person_chronic},
    {"vaccination", "疫苗接种情况", {"疫苗接种", "vaccination", NULL}, person_vaccination},
    {"situation", "生活状况", {"居住状况", "situation", NULL}, person_situations},
    {"worker_id", "责任人编号", {"worker_id", NULL}, NULL},
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

/* Splits a categories cell on 、 , ， ; ； | and spaces into codes. */
static json_t *categories_cell(const char *v, int *bad)
{
	json_t *a = json_array();
	char tok[64];
	const char *p = v;
	while (*p) {
		size_t skip = 0;
		if (*p == ',' || *p == ';' || *p == '|' || *p == ' ')
			skip = 1;
		else if (!strncmp(p, "、", 3) || !strncmp(p, "，", 3) || !strncmp(p, "；", 3))
			skip = 3;
		if (skip) {
			p += skip;
			continue;
		}
		size_t n = 0;
		while (p[n] && p[n] != ',' && p[n] != ';' && p[n] != '|' && p[n] != ' ' && strncmp(p + n, "、", 3) &&
		       strncmp(p + n, "，", 3) && strncmp(p + n, "；", 3))
			n++;
		snprintf(tok, sizeof tok, "%.*s", (int)(n < sizeof tok ? n : sizeof tok - 1), p);
		const char *code = enum_parse(person_categories, tok);
		if (!code)
			*bad = 1;
		json_array_append_new(a, json_string(code ? code : tok));
		p += n;
	}
	return a;
}

static json_t *row_object(const struct csv_table *t, size_t row, const int *map, json_t *problems, int *bad)
{
	json_t *o = json_object();
	long line = csv_row_line(t, row);
	for (size_t c = 0; c < csv_row_cols(t, row); c++) {
		int k = c < csv_row_cols(t, 0) ? map[c] : -1;
		const char *v = csv_cell(t, row, c);
		if (k < 0 || !*v)
			continue;
		if (!strcmp(cols[k].field, "worker_id")) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (*end || n <= 0) {
				import_problem(problems, line, "worker_id", "invalid_type", "责任人编号必须是正整数");
				*bad = 1;
			} else
				json_object_set_new(o, "worker_id", json_integer(n));
		} else if (!strcmp(cols[k].field, "categories")) {
			int cbad = 0;
			json_object_set_new(o, "categories", categories_cell(v, &cbad));
			if (cbad) {
				import_problem(problems, line, "categories", "invalid_category", "对象类别无效（应为孤寡老人、留守儿童等）");
				*bad = 1;
			}
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
	struct person_import_result *res;
	json_t *later;
	json_t *towns; /* townships found real in this import */
	int today;           /* YYYYMMDD, local */
	struct cid_info ci;  /* of the row just checked, for its insert */
};

static json_t *person_row(void *ctx, size_t row, json_t *problems, int *bad)
{
	struct import_ctx *c = ctx;
	return row_object(c->t, row, c->map, problems, bad);
}

static int person_row_check(db *d, void *ctx, json_t *o, json_t *errs)
{
	struct import_ctx *c = ctx;
	return person_check(d, c->u, o, c->today, errs, &c->ci, c->towns);
}

static int person_row_insert(db *d, void *ctx, json_t *o)
{
	struct import_ctx *c = ctx;
	int64_t id;
	int rc = person_insert(d, c->u, c->now, o, &c->ci, c->later, &id);
	/* audit rows go out in chunks: memory stays flat however long the file */
	if (rc == 0 && json_array_size(c->later) >= 4096) {
		rc = audit_write_many(d, c->u, c->now, c->later);
		json_array_clear(c->later);
	}
	return rc;
}

static int import_txn(db *d, void *vc)
{
	struct import_ctx *c = vc;
	struct person_import_result *res = c->res;
	c->today = clock_local_ymd(c->now);
	json_array_clear(c->later);
	struct import_rows ir = {c->t, person_spec, 0, person_row, person_row_check, person_row_insert, c, res->problems, 0, 0};
	int rows_rc = import_rows_run(d, &ir);
	res->imported = ir.imported;
	res->rejected = ir.rejected;
	if (rows_rc != 0)
		return rows_rc;
	if (c->dry_run || (res->rejected && !c->skip_invalid))
		return DB_APP;
	return audit_write_many(d, c->u, c->now, c->later);
}

int person_import_csv(db *d, const struct user *u, int64_t now, const char *data, size_t len, int skip_invalid,
                      int dry_run, struct person_import_result *res, struct cw_err *e)
{
	struct csv_table t;
	char err[300];
	int rc = -1;
	int *map = NULL;
	memset(res, 0, sizeof *res);
	memset(e, 0, sizeof *e);
	res->problems = json_array();
	res->ignored = json_array();
	if (!pii_ready()) {
		err_set(e, 503, "pii_key_unavailable", NULL, "个人信息密钥不可用，不能导入服务对象");
		return -1;
	}
	if (csv_parse(data, len, &t, err, sizeof err) != 0) {
		err_set(e, 422, "invalid_csv", NULL, "CSV 文件无法读取：%s", err);
		return -1;
	}
	cw_strlcpy(res->encoding, t.encoding, sizeof res->encoding);
	if (t.nrows == 0) {
		err_set(e, 422, "empty_file", NULL, "文件为空：第一行应为表头");
		goto cleanup;
	}
	int have = 0;
	map = xcalloc(csv_row_cols(&t, 0) + 1, sizeof *map);
	for (size_t c = 0; c < csv_row_cols(&t, 0); c++) {
		map[c] = col_of(csv_cell(&t, 0, c));
		if (map[c] < 0)
			json_array_append_new(res->ignored, json_string(csv_cell(&t, 0, c)));
		else if (map[c] <= 3)
			have |= 1 << map[c];
	}
	if (have != 15) {
		err_set(e, 422, "missing_columns", NULL, "表头缺少必需的列：姓名、公民身份号码、对象类别、行政区划代码");
		goto cleanup;
	}
	res->rows = (int)t.nrows - 1;
	struct import_ctx c = {u, now, &t, map, skip_invalid, dry_run, res, json_array(), json_object(), 0, {{0}, {0}, 0}};
	db_bulk_begin(d); /* one transaction holds every row */
	int r = db_txn(d, 1, import_txn, &c);
	db_bulk_end(d);
	json_decref(c.later);
	json_decref(c.towns);
	if (r != 0 && r != DB_APP) {
		err_db(e, r);
		goto cleanup;
	}
	res->committed = r == 0;
	if (r == 0 && !dry_run && res->imported)
		db_refresh_stats(d, "persons");
	rc = 0;
cleanup:
	free(map);
	csv_free(&t);
	return rc;
}

int h_persons_import(struct req *r)
{
	struct person_import_result res;
	struct cw_err e;
	const char *skip = req_query(r, "skip_invalid"), *dry = req_query(r, "dry_run");
	int is_dry = dry && !strcmp(dry, "1");
	if (pii_ready_or_reply(r) != 0)
		return 0;
	if (!r->body.len)
		return reply_error(r, 400, "empty_file", "请上传 CSV 文件内容", NULL);
	if (person_import_csv(r->db, &r->user, r->now, r->body.data, r->body.len, skip && !strcmp(skip, "1"), is_dry, &res,
	                      &e) != 0) {
		json_decref(res.problems);
		json_decref(res.ignored);
		return reply_err(r, &e);
	}
	json_t *j = json_pack("{s:s,s:i,s:i,s:i,s:i,s:b,s:b,s:o,s:o}", "encoding", res.encoding, "rows", res.rows,
	                      "imported", res.committed ? res.imported : 0, "valid", res.imported, "rejected", res.rejected,
	                      "dry_run", is_dry, "committed", res.committed, "problems", res.problems, "ignored_columns",
	                      res.ignored);
	int status = (res.rejected && !res.committed && !is_dry) ? 422 : 200;
	if (status == 422)
		json_object_set_new(j, "error", json_pack("{s:s,s:s}", "code", "invalid_rows", "message",
		                                          "文件中有无效行，未导入任何数据（可选择跳过无效行）"));
	return reply_json(r, status, j);
}

/* ---------- export ---------- */

int person_export(db *d, const struct person_filter *f, int unmask, int xlsx, struct buf *out, int64_t *count,
                  struct cw_err *e)
{
	struct table tab;
	int rc;
	*count = 0;
	db_stmt *st = db_prepare(d, "SELECT " PERSON_COLS PERSON_FROM
	                            "WHERE p.division_code >= $1 AND p.division_code < $2 AND ($3 = '' OR p.categories LIKE $3) "
	                            "AND ($4 = '' OR p.name LIKE $4 ESCAPE '\\') AND ($5 = '' OR p.cid_hash = $5) "
	                            "AND ($6 = 0 OR p.worker_id = $6) AND ($7 = '' OR p.risk_class = $7) "
	                            "ORDER BY p.division_code, p.id");
	if (!st) {
		err_db(e, DB_ERROR);
		return -1;
	}
	if (table_begin(&tab, xlsx, "服务对象", out) != 0) {
		err_set(e, 500, "export_failed", NULL, "生成 Excel 文件失败");
		return -1;
	}
	static const char *const heads[] = {"编号", "姓名", "对象类别", "公民身份号码", "性别", "出生日期", "行政区划代码",
	                                    "所在区划", "住址", "联系电话", "监护人或联系人", "责任人", "生活状况",
	                                    "慢性病情况", "疫苗接种情况", "风险等级", "风险原因", "登记日期", "最近走访",
	                                    "下次走访"};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		table_header(&tab, heads[i]);
	table_end_row(&tab);
	db_bindf(st, "tttttIt", f->lo, f->hi, f->category, f->name, f->cid_hash, f->worker, f->risk);
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *p = person_json(st, unmask);
		struct buf cats = {0}, why = {0};
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(p, "category_labels"), i, v)
			buf_printf(&cats, "%s%s", i ? "、" : "", json_string_value(v));
		json_array_foreach(json_object_get(p, "risk_reasons"), i, v)
			buf_printf(&why, "%s%s", i ? "；" : "", json_string_value(json_object_get(v, "message")));
		table_num(&tab, (double)json_integer_value(json_object_get(p, "id")));
		table_text(&tab, jstr(p, "name"));
		table_text(&tab, buf_str(&cats));
		table_text(&tab, jstr(p, "citizen_id"));
		table_text(&tab, !strcmp(jstr(p, "sex"), "M") ? "男" : "女");
		table_text(&tab, jstr(p, "birth_date"));
		table_text(&tab, jstr(p, "division_code"));
		table_text(&tab, jstr(p, "division_name"));
		table_text(&tab, jstr(p, "address"));
		table_text(&tab, jstr(p, "phone"));
		table_text(&tab, jstr(p, "guardian"));
		table_text(&tab, jstr(p, "worker_name"));
		table_text(&tab, jstr(p, "situation_label"));
		table_text(&tab, enum_label(person_chronic, jstr(p, "chronic_disease")));
		table_text(&tab, enum_label(person_vaccination, jstr(p, "vaccination")));
		table_text(&tab, jstr(p, "risk_label"));
		table_text(&tab, buf_str(&why));
		table_text(&tab, jstr(p, "registered"));
		table_text(&tab, jstr(p, "last_visit") ? jstr(p, "last_visit") : "");
		table_text(&tab, jstr(p, "next_due") ? jstr(p, "next_due") : "");
		table_end_row(&tab);
		buf_free(&cats);
		buf_free(&why);
		json_decref(p);
		(*count)++;
	}
	db_reset(st);
	if (rc != DB_DONE) {
		err_db(e, rc);
		table_abort(&tab);
		return -1;
	}
	return table_finish(&tab, e);
}

int h_persons_export(struct req *r)
{
	struct person_filter f;
	struct cw_err e;
	struct buf out = {0};
	int64_t n = 0;
	const char *fmt = req_query(r, "format");
	if (!fmt)
		fmt = "csv";
	if (strcmp(fmt, "csv") && strcmp(fmt, "xlsx"))
		return reply_error(r, 400, "invalid_query", "format 只能是 csv 或 xlsx", "format");
	if (pii_ready_or_reply(r) != 0 || person_filters_or_reply(r, &f) != 0)
		return 0;
	int xlsx = !strcmp(fmt, "xlsx"), unmask = person_unmask_wanted(r);
	memset(&e, 0, sizeof e);
	if (person_export(r->db, &f, unmask, xlsx, &out, &n, &e) != 0) {
		buf_free(&out);
		return reply_err(r, &e);
	}
	/* every export of personal data is audited, before it leaves */
	json_t *after = json_pack("{s:s,s:I,s:b,s:s}", "format", fmt, "count", (json_int_t)n, "unmasked", unmask,
	                          "division", f.division);
	int rc = person_audit_view(r, "person.export", "export", f.division, after);
	json_decref(after);
	if (rc != 0) {
		buf_free(&out);
		return reply_db_error(r, rc);
	}
	reply_file(r, xlsx, &out, xlsx ? "服务对象.xlsx" : "服务对象.csv");
	buf_free(&out);
	return 0;
}
