/* dispatch_export.c — the day's roll-up, the missing list and the raw reports
 * as CSV or xlsx with Chinese headers, in the layout officials hand on. */
#include "clock.h"
#include "dashboard.h"
#include "handlers.h"
#include "http.h"
#include "report.h"
#include "scope.h"
#include "table.h"
#include <stdio.h>
#include <string.h>

static void field_header(struct table *tab, const struct tfield *f)
{
	char h[200];
	if (f->unit)
		snprintf(h, sizeof h, "%s（%s）", f->label, f->unit);
	else
		snprintf(h, sizeof h, "%s", f->label);
	table_header(tab, h);
}

static void cell(struct table *tab, const struct tfield *f, json_t *v)
{
	if (!v || json_is_null(v))
		table_text(tab, "");
	else if (json_is_number(v))
		table_num(tab, json_number_value(v));
	else if (json_is_boolean(v))
		table_text(tab, json_is_true(v) ? "是" : "否");
	else
		table_text(tab, json_string_value(v));
	(void)f;
}

static void rollup_row_out(struct table *tab, const struct template *t, json_t *comp, json_t *roll)
{
	table_text(tab, json_string_value(json_object_get(comp, "code")));
	table_text(tab, json_string_value(json_object_get(comp, "name")));
	static const char *k[] = {"expected", "submitted", "on_time", "late", "missing"};
	for (int i = 0; i < 5; i++)
		table_num(tab, (double)json_integer_value(json_object_get(comp, k[i])));
	json_t *vals = json_object_get(roll, "values");
	for (int i = 0; i < t->nfields; i++)
		if (t->fields[i].agg != AGG_NONE)
			cell(tab, &t->fields[i], json_object_get(vals, t->fields[i].code));
	for (int i = 0; i < t->nratios; i++) {
		json_t *v = json_object_get(vals, t->ratios[i].code);
		if (json_is_number(v))
			table_num(tab, json_number_value(v));
		else
			table_text(tab, "");
	}
	table_end_row(tab);
}

static json_t *find_code(json_t *arr, const char *code)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) if (!strcmp(json_string_value(json_object_get(x, "code")), code)) return x;
	return NULL;
}

static int export_rollup(db *d, const struct template *t, const char *period, const char *div, struct table *tab,
                         struct cw_err *e)
{
	int rc = 0;
	json_t *comp = completeness_build(d, t, period, div, 0, &rc), *roll = comp ? rollups_build(d, t, period, div, 0, &rc) : NULL;
	if (!comp || !roll) {
		json_decref(comp);
		err_db(e, rc);
		return -1;
	}
	static const char *h[] = {"区划代码", "地区", "应报", "已报", "按时", "迟报", "未报"};
	for (int i = 0; i < 7; i++)
		table_header(tab, h[i]);
	for (int i = 0; i < t->nfields; i++)
		if (t->fields[i].agg != AGG_NONE)
			field_header(tab, &t->fields[i]);
	for (int i = 0; i < t->nratios; i++) {
		char hd[200];
		snprintf(hd, sizeof hd, "%s%s%s%s", t->ratios[i].label, t->ratios[i].unit ? "（" : "",
		         t->ratios[i].unit ? t->ratios[i].unit : "", t->ratios[i].unit ? "）" : "");
		table_header(tab, hd);
	}
	table_end_row(tab);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(comp, "children"), i, c)
	{
		json_t *rr = find_code(json_object_get(roll, "children"), json_string_value(json_object_get(c, "code")));
		rollup_row_out(tab, t, c, rr);
	}
	json_t *total = json_deep_copy(json_object_get(comp, "division"));
	json_object_set_new(total, "name", json_pack("s+", json_string_value(json_object_get(total, "name")), "（合计）"));
	rollup_row_out(tab, t, total, json_object_get(roll, "division"));
	json_decref(total);
	json_decref(comp);
	json_decref(roll);
	return 0;
}

static int export_missing(db *d, const struct template *t, const char *period, const char *div, struct table *tab,
                          struct cw_err *e)
{
	int rc = 0;
	json_t *comp = completeness_build(d, t, period, div, INT64_MAX, &rc); /* the whole list */
	if (!comp) {
		err_db(e, rc);
		return -1;
	}
	static const char *h[] = {"机构名称", "区划代码", "联系人", "联系电话"};
	for (int i = 0; i < 4; i++)
		table_header(tab, h[i]);
	table_end_row(tab);
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(comp, "missing"), i, m)
	{
		table_text(tab, json_string_value(json_object_get(m, "name")));
		table_text(tab, json_string_value(json_object_get(m, "division_code")));
		table_text(tab, json_string_value(json_object_get(m, "contact_name")));
		table_text(tab, json_string_value(json_object_get(m, "contact_phone")));
		table_end_row(tab);
	}
	json_decref(comp);
	return 0;
}

static int export_reports(db *d, const struct template *t, const char *period, const char *div, struct table *tab,
                          struct cw_err *e)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	static const char *h[] = {"机构名称", "区划代码", "状态", "提交时间", "是否按时"};
	static const struct {
		const char *code, *zh;
	} st_labels[] = {{"draft", "草稿"}, {"submitted", "已提交"}, {"approved", "审核通过"}, {"returned", "已退回"}};
	for (int i = 0; i < 5; i++)
		table_header(tab, h[i]);
	for (int i = 0; i < t->nfields; i++)
		field_header(tab, &t->fields[i]);
	table_end_row(tab);
	scope_range(div, lo, hi);
	db_stmt *st = db_prepare(d, "SELECT i.name, r.division_code, r.status, COALESCE(r.submitted_at, 0), r.on_time, r.vals "
	                            "FROM reports r JOIN institutions i ON i.id = r.institution_id WHERE r.template_code = $1 "
	                            "AND r.period = $2 AND r.division_code >= $3 AND r.division_code < $4 "
	                            "ORDER BY r.division_code, r.institution_id");
	int rc = st ? db_bindf(st, "tttt", t->code, period, lo, hi) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		char when[20] = "";
		const char *status = db_column_text(st, 2);
		int64_t sub = db_column_int64(st, 3);
		table_text(tab, db_column_text(st, 0));
		table_text(tab, db_column_text(st, 1));
		for (size_t k = 0; k < 4; k++)
			if (!strcmp(st_labels[k].code, status))
				status = st_labels[k].zh;
		table_text(tab, status);
		if (sub)
			clock_local_datetime(sub, when);
		table_text(tab, when);
		table_text(tab, sub ? (db_column_int64(st, 4) ? "是" : "否") : "");
		json_t *vals = json_loads(db_column_text(st, 5), 0, NULL);
		for (int i = 0; i < t->nfields; i++)
			cell(tab, &t->fields[i], json_object_get(vals, t->fields[i].code));
		json_decref(vals);
		table_end_row(tab);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		err_db(e, rc);
		return -1;
	}
	return 0;
}

int dispatch_export(db *d, const struct user *u, const char *kind, const struct template *t, const char *period,
                    const char *div, int xlsx, struct buf *out, struct cw_err *e)
{
	struct table tab;
	int rc;
	(void)u;
	memset(e, 0, sizeof *e);
	if (strcmp(kind, "rollup") && strcmp(kind, "missing") && strcmp(kind, "reports")) {
		err_set(e, 404, "unknown_export", NULL, "导出类型只能是 rollup、missing 或 reports");
		return -1;
	}
	if (strlen(div) > 6) {
		err_set(e, 400, "invalid_division", "division", "导出按县级及以上区划");
		return -1;
	}
	if (table_begin(&tab, xlsx, !strcmp(kind, "rollup") ? "汇总" : !strcmp(kind, "missing") ? "未报机构" : "报表明细",
	                out) != 0) {
		err_set(e, 500, "export_failed", NULL, "生成 Excel 文件失败");
		return -1;
	}
	if (!strcmp(kind, "rollup"))
		rc = export_rollup(d, t, period, div, &tab, e);
	else if (!strcmp(kind, "missing"))
		rc = export_missing(d, t, period, div, &tab, e);
	else
		rc = export_reports(d, t, period, div, &tab, e);
	if (rc != 0) {
		table_abort(&tab);
		return -1;
	}
	return table_finish(&tab, e);
}

int h_dispatch_export(struct req *r)
{
	char div[SCOPE_MAX];
	struct cw_err e;
	struct buf out = {0};
	const char *kind = req_param(r, 0), *fmt = req_query(r, "format"), *period = req_query(r, "period");
	const struct template *t = template_find(req_query(r, "template"));
	if (!fmt)
		fmt = "xlsx";
	if (strcmp(fmt, "csv") && strcmp(fmt, "xlsx"))
		return reply_error(r, 400, "invalid_query", "format 只能是 csv 或 xlsx", "format");
	if (!t)
		return reply_error(r, 404, "unknown_template", "报表模板不存在", "template");
	if (!period || report_period_ok(t, period) != 0)
		return reply_error(r, 400, "invalid_period", "期次应为 YYYY-MM-DD 格式的真实日期", "period");
	if (req_division_or_reply(r, "division", div) != 0)
		return 0;
	int xlsx = !strcmp(fmt, "xlsx");
	if (dispatch_export(r->db, &r->user, kind, t, period, div, xlsx, &out, &e) != 0) {
		buf_free(&out);
		return reply_err(r, &e);
	}
	char name[200];
	snprintf(name, sizeof name, "%s-%s-%s%s%s.%s", t->code, kind, period, *div ? "-" : "", div, fmt);
	reply_file(r, xlsx, &out, name);
	buf_free(&out);
	return 0;
}
