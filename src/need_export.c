/* need_export.c — the needs list for the government (紧急药品物资需求清单):
 * active needs in scope summed by division (the level below the one asked
 * for) and item — requested, pledged, in transit, received, outstanding — or
 * one row per need; as xlsx or CSV with Chinese headers. Used by
 * GET /api/v1/needs/export and `carewatch export needs`. */
#include "handlers.h"
#include "http.h"
#include "need.h"
#include "scope.h"
#include "table.h"
#include <stdio.h>
#include <string.h>

static int export_sums(db *d, const char *div, int64_t only, struct table *tab, int64_t *rows)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	size_t dl = strlen(div);
	int len = dl == 0 ? 2 : dl == 2 ? 4 : dl == 4 ? 6 : 9;
	static const char *h[] = {"区划代码", "地区", "物资", "单位", "需求条数", "需求数量", "已认捐", "运输中", "已到货", "缺口"};
	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
		table_header(tab, h[i]);
	table_end_row(tab);
	scope_range(div, lo, hi);
	db_stmt *st = db_prepare(d, "SELECT g.code, COALESCE(dv.name, ''), it.name_zh, it.unit, g.k, g.q, g.c, g.t, g.rv "
	                            "FROM (SELECT substr(n.division_code, 1, $3) AS code, n.item AS item, COUNT(*) AS k, "
	                            "SUM(n.quantity) AS q, SUM(n.committed) AS c, SUM(n.in_transit) AS t, "
	                            "SUM(n.received) AS rv FROM needs n WHERE n.division_code >= $1 AND n.division_code < $2 "
	                            "AND n.state = 'active' AND ($4 = 0 OR n.institution_id = $4) "
	                            "GROUP BY substr(n.division_code, 1, $3), n.item) g JOIN items it ON it.code = g.item "
	                            "LEFT JOIN divisions dv ON dv.code = g.code ORDER BY g.code, it.sort");
	int rc = st ? db_bindf(st, "ttiI", lo, hi, len, only) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		for (int i = 0; i < 4; i++)
			table_text(tab, db_column_text(st, i));
		int64_t q = db_column_int64(st, 5), c = db_column_int64(st, 6);
		table_num(tab, (double)db_column_int64(st, 4));
		table_num(tab, (double)q);
		table_num(tab, (double)c);
		table_num(tab, (double)db_column_int64(st, 7));
		table_num(tab, (double)db_column_int64(st, 8));
		table_num(tab, (double)(q - c));
		table_end_row(tab);
		(*rows)++;
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

static int export_lines(db *d, const char *div, int64_t only, struct table *tab, int64_t *rows)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	static const char *h[] = {"需求编号", "机构名称", "区划代码", "物资", "单位", "需求数量", "紧急程度", "需要日期",
	                          "已认捐", "运输中", "已到货", "缺口", "状态", "来源"};
	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
		table_header(tab, h[i]);
	table_end_row(tab);
	scope_range(div, lo, hi);
	db_stmt *st = db_prepare(d, "SELECT COALESCE(n.ref, ''), i.name, n.division_code, it.name_zh, it.unit, n.quantity, "
	                            "n.urgency, n.needed_by, n.committed, n.in_transit, n.received, " NEED_STATUS_SQL ", "
	                            "n.source FROM needs n JOIN institutions i ON i.id = n.institution_id "
	                            "JOIN items it ON it.code = n.item WHERE n.division_code >= $1 AND n.division_code < $2 "
	                            "AND n.state = 'active' AND ($3 = 0 OR n.institution_id = $3) "
	                            "ORDER BY n.division_code, CASE n.urgency WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, "
	                            "n.needed_by, n.id");
	int rc = st ? db_bindf(st, "ttI", lo, hi, only) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		for (int i = 0; i < 5; i++)
			table_text(tab, db_column_text(st, i));
		int64_t q = db_column_int64(st, 5), c = db_column_int64(st, 8);
		table_num(tab, (double)q);
		table_text(tab, need_label(db_column_text(st, 6)));
		table_text(tab, db_column_text(st, 7));
		table_num(tab, (double)c);
		table_num(tab, (double)db_column_int64(st, 9));
		table_num(tab, (double)db_column_int64(st, 10));
		table_num(tab, (double)(q - c));
		table_text(tab, need_label(db_column_text(st, 11)));
		table_text(tab, !strcmp(db_column_text(st, 12), "supply") ? "库存预警" : "机构上报");
		table_end_row(tab);
		(*rows)++;
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

int need_export(db *d, const struct user *u, const char *division, int xlsx, int per_need, struct buf *out,
                int64_t *rows, struct cw_err *e)
{
	struct table tab;
	memset(e, 0, sizeof *e);
	*rows = 0;
	if (u && !scope_contains(u->scope, division)) {
		err_set(e, 404, "not_found", "division", "该区划不在您的权限范围内");
		return -1;
	}
	int64_t only = u && u->role == ROLE_REPORTER ? u->institution_id : 0;
	if (table_begin(&tab, xlsx, per_need ? "需求明细" : "需求清单", out) != 0) {
		err_set(e, 500, "export_failed", NULL, "生成 Excel 文件失败");
		return -1;
	}
	int rc = per_need ? export_lines(d, division, only, &tab, rows) : export_sums(d, division, only, &tab, rows);
	if (rc != 0) {
		table_abort(&tab);
		err_db(e, rc);
		return -1;
	}
	return table_finish(&tab, e);
}

int h_needs_export(struct req *r)
{
	char div[SCOPE_MAX];
	struct cw_err e;
	struct buf out = {0};
	int64_t rows;
	const char *fmt = req_query(r, "format"), *detail = req_query(r, "detail");
	if (!fmt)
		fmt = "xlsx";
	if (strcmp(fmt, "csv") && strcmp(fmt, "xlsx"))
		return reply_error(r, 400, "invalid_query", "format 只能是 csv 或 xlsx", "format");
	if (detail && strcmp(detail, "0") && strcmp(detail, "1"))
		return reply_error(r, 400, "invalid_query", "detail 只能是 0 或 1", "detail");
	if (req_division_or_reply(r, "division", div) != 0)
		return 0;
	int xlsx = !strcmp(fmt, "xlsx"), per_need = detail && !strcmp(detail, "1");
	if (need_export(r->db, &r->user, div, xlsx, per_need, &out, &rows, &e) != 0) {
		buf_free(&out);
		return reply_err(r, &e);
	}
	char name[80];
	snprintf(name, sizeof name, "需求清单%s%s%s.%s", per_need ? "明细" : "", *div ? "-" : "", div, fmt);
	reply_file(r, xlsx, &out, name);
	buf_free(&out);
	return 0;
}
