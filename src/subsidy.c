/* subsidy.c — monthly subsidies (补助资金) per person: amounts, payments,
 * unpaid months flagged (按时发放), lists in scope and the export. */
#include "audit.h"
#include "clock.h"
#include "csv.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "person.h"
#include "person_io.h"
#include "scope.h"
#include "table.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct jfield subsidy_spec[] = {
    {"amount", J_NUM, 1, 0, 1000000, NULL, "补助金额（元）", 0},
    {"paid_date", J_STR, 0, 10, 10, NULL, "发放日期", 1},
    {"note", J_STR, 0, 0, 200, NULL, "备注", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

/* 1 if s is a real month "YYYY-MM" (2000..2100). */
static int month_ok(const char *s)
{
	char d[11];
	int y, m, dd;
	if (!s || strlen(s) != 7)
		return 0;
	snprintf(d, sizeof d, "%s-01", s);
	return date_parse(d, &y, &m, &dd) == 0 && y >= 2000 && y <= 2100;
}

static json_t *subsidy_item(db_stmt *st, int col, const char *this_month)
{
	/* col: month, amount_cents, paid_date, note, updated_at */
	const char *month = db_column_text(st, col), *paid = db_column_text(st, col + 2);
	int unpaid = !*paid;
	json_t *j = json_pack("{s:s,s:f,s:I,s:b,s:b,s:s}", "month", month, "amount",
	                      (double)db_column_int64(st, col + 1) / 100.0, "amount_cents",
	                      (json_int_t)db_column_int64(st, col + 1), "unpaid", unpaid, "late",
	                      unpaid && strcmp(month, this_month) < 0, "note", db_column_text(st, col + 3));
	json_object_set_new(j, "paid_date", *paid ? json_string(paid) : json_null());
	return j;
}

static void this_month(int64_t now, char out[8])
{
	char d[11];
	clock_local_date(now, d);
	memcpy(out, d, 7);
	out[7] = 0;
}

int h_person_subsidies(struct req *r)
{
	int64_t id;
	json_t *p;
	char month[8];
	if (pii_ready_or_reply(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0 ||
	    person_load_or_reply(r, id, &p, NULL) != 0)
		return 0;
	json_decref(p);
	this_month(r->now, month);
	db_stmt *st = db_prepare(r->db, "SELECT month, amount_cents, COALESCE(paid_date, ''), note, updated_at "
	                                "FROM subsidies WHERE person_id = $1 ORDER BY month DESC");
	json_t *items = json_array();
	int rc = st ? db_bindf(st, "I", id) : DB_ERROR;
	int unpaid = 0;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_t *it = subsidy_item(st, 0, month);
		unpaid += json_is_true(json_object_get(it, "late"));
		json_array_append_new(items, it);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I,s:i}", "items", items, "total", (json_int_t)json_array_size(items),
	                                    "late", unpaid));
}

struct put_ctx {
	struct req *r;
	int64_t person;
	const char *month;
	int64_t cents;
	const char *paid;
	int created;
};

static int put_txn(db *d, void *vc)
{
	struct put_ctx *c = vc;
	struct req *r = c->r;
	char div[SCOPE_MAX];
	db_stmt *st = db_prepare(d, "SELECT division_code FROM persons WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", c->person);
	int rc = db_step(st), visible = 0;
	if (rc == DB_ROW && person_visible(&r->user, db_column_text(st, 0))) {
		visible = 1;
		cw_strlcpy(div, db_column_text(st, 0), sizeof div);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (!visible)
		return DB_DONE;
	json_t *before = NULL;
	st = db_prepare(d, "SELECT amount_cents, COALESCE(paid_date, ''), note FROM subsidies WHERE person_id = $1 AND month = $2");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "It", c->person, c->month);
	rc = db_step(st);
	if (rc == DB_ROW)
		before = json_pack("{s:I,s:s,s:s}", "amount_cents", (json_int_t)db_column_int64(st, 0), "paid_date",
		                   db_column_text(st, 1), "note", db_column_text(st, 2));
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	c->created = before == NULL;
	const char *note = jstr(r->json, "note");
	int64_t n = db_run(d, "INSERT INTO subsidies(person_id, division_code, month, amount_cents, paid_date, note, "
	                      "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id, month) DO UPDATE SET "
	                      "amount_cents = excluded.amount_cents, paid_date = excluded.paid_date, note = excluded.note, "
	                      "division_code = excluded.division_code, updated_at = excluded.updated_at",
	                   "IttITtI", c->person, div, c->month, c->cents, c->paid ? c->paid : "", note ? note : "", r->now);
	if (n < 0) {
		json_decref(before);
		return (int)n;
	}
	char oid[40];
	snprintf(oid, sizeof oid, "%lld/%s", (long long)c->person, c->month);
	json_t *after = json_pack("{s:I,s:s,s:s}", "amount_cents", (json_int_t)c->cents, "paid_date", c->paid ? c->paid : "",
	                          "note", note ? note : "");
	rc = audit_write(d, &r->user, r->now, "subsidy.set", "subsidy", oid, div, before, after);
	json_decref(before);
	json_decref(after);
	return rc;
}

int h_subsidy_put(struct req *r)
{
	int64_t id;
	int y, m, d;
	if (pii_ready_or_reply(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0 ||
	    jspec_check_or_reply(r, r->json, subsidy_spec, 0) != 0)
		return 0;
	const char *month = req_param(r, 1);
	if (!month_ok(month))
		return reply_error(r, 400, "invalid_month", "月份格式应为 YYYY-MM", "month");
	const char *paid = jstr(r->json, "paid_date");
	if (paid && date_parse(paid, &y, &m, &d) != 0)
		return reply_error(r, 422, "invalid_date", "发放日期格式应为 YYYY-MM-DD 且为真实日期", "paid_date");
	if (paid && y * 10000 + m * 100 + d > clock_local_ymd(r->now))
		return reply_error(r, 422, "future_date", "发放日期不能晚于今天", "paid_date");
	double amount = json_number_value(json_object_get(r->json, "amount"));
	struct put_ctx c = {r, id, month, (int64_t)llround(amount * 100.0), paid, 0};
	int rc = db_txn(r->db, 1, put_txn, &c);
	if (rc == DB_DONE)
		return reply_error(r, 404, "not_found", "未找到该服务对象，或不在您的权限范围内", NULL);
	if (rc != 0)
		return reply_db_error(r, rc);
	char tm[8];
	this_month(r->now, tm);
	json_t *j = json_pack("{s:I,s:s,s:f,s:I,s:b,s:b}", "person_id", (json_int_t)id, "month", month, "amount",
	                      (double)c.cents / 100.0, "amount_cents", (json_int_t)c.cents, "unpaid", paid == NULL, "late",
	                      paid == NULL && strcmp(month, tm) < 0);
	json_object_set_new(j, "paid_date", paid ? json_string(paid) : json_null());
	return reply_json(r, c.created ? 201 : 200, j);
}

#define SUB_COLS                                                                                                 \
	"s.person_id, p.name, s.division_code, COALESCE(dv.name, ''), p.categories, s.month, s.amount_cents, "       \
	"COALESCE(s.paid_date, ''), s.note, s.updated_at"
#define SUB_FROM                                                                                                 \
	" FROM subsidies s JOIN persons p ON p.id = s.person_id LEFT JOIN divisions dv ON dv.code = s.division_code "
#define SUB_WHERE                                                                                                \
	"WHERE s.division_code >= $1 AND s.division_code < $2 AND ($3 = '' OR s.month = $3) "                      \
	"AND ($4 = 0 OR s.paid_date IS NULL) "

static json_t *sub_row(db_stmt *st, const char *tm)
{
	json_t *j = subsidy_item(st, 5, tm);
	json_object_set_new(j, "person_id", json_integer(db_column_int64(st, 0)));
	json_object_set_new(j, "name", json_string(db_column_text(st, 1)));
	json_object_set_new(j, "division_code", json_string(db_column_text(st, 2)));
	json_object_set_new(j, "division_name", json_string(db_column_text(st, 3)));
	return j;
}

/* Reads ?division= ?month= ?unpaid=1; replies on bad input. */
static int sub_filters_or_reply(struct req *r, char *lo, char *hi, const char **month, int64_t *unpaid)
{
	char div[SCOPE_MAX];
	if (req_division_or_reply(r, "division", div) != 0)
		return -1;
	*month = req_query(r, "month");
	if (!*month)
		*month = "";
	if (**month && !month_ok(*month))
		return reply_error(r, 400, "invalid_query", "月份格式应为 YYYY-MM", "month"), -1;
	const char *u = req_query(r, "unpaid");
	*unpaid = u && !strcmp(u, "1");
	scope_range(div, lo, hi);
	return 0;
}

int h_subsidies_list(struct req *r)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX], tm[8];
	const char *month;
	int64_t unpaid, total = 0, late = 0;
	long limit, offset;
	if (pii_ready_or_reply(r) != 0 || sub_filters_or_reply(r, lo, hi, &month, &unpaid) != 0 ||
	    req_paging_or_reply(r, 50, 1000, &limit, &offset) != 0)
		return 0;
	this_month(r->now, tm);
	int rc = db_query_int64(r->db, &total, "SELECT COUNT(*) FROM subsidies s " SUB_WHERE, "tttI", lo, hi, month, unpaid);
	if (rc == DB_ROW)
		rc = db_query_int64(r->db, &late, "SELECT COUNT(*) FROM subsidies s " SUB_WHERE "AND s.paid_date IS NULL AND s.month < $5",
		                    "tttIt", lo, hi, month, unpaid, tm);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	db_stmt *st = db_prepare(r->db, "SELECT " SUB_COLS SUB_FROM SUB_WHERE "ORDER BY s.month DESC, s.division_code, "
	                                "s.person_id LIMIT $5 OFFSET $6");
	json_t *items = json_array();
	rc = st ? db_bindf(st, "tttIII", lo, hi, month, unpaid, (int64_t)limit, (int64_t)offset) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, sub_row(st, tm));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "total", (json_int_t)total, "late",
	                                    (json_int_t)late));
}

int subsidy_export(db *d, const char *lo, const char *hi, const char *month, int64_t unpaid, int64_t now, int xlsx,
                   struct buf *out, int64_t *count, struct cw_err *e)
{
	struct table tab;
	char tm[8];
	int rc;
	this_month(now, tm);
	*count = 0;
	db_stmt *st = db_prepare(d, "SELECT " SUB_COLS SUB_FROM SUB_WHERE "ORDER BY s.division_code, s.person_id, s.month");
	if (!st) {
		err_db(e, DB_ERROR);
		return -1;
	}
	if (table_begin(&tab, xlsx, "补助资金", out) != 0) {
		err_set(e, 500, "export_failed", NULL, "生成 Excel 文件失败");
		return -1;
	}
	static const char *const heads[] = {"对象编号", "姓名", "行政区划代码", "所在区划", "月份",
	                                    "补助金额（元）", "发放日期", "状态", "备注"};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		table_header(&tab, heads[i]);
	table_end_row(&tab);
	db_bindf(st, "tttI", lo, hi, month, unpaid);
	while ((rc = db_step(st)) == DB_ROW) {
		const char *m = db_column_text(st, 5), *paid = db_column_text(st, 7);
		table_num(&tab, (double)db_column_int64(st, 0));
		table_text(&tab, db_column_text(st, 1));
		table_text(&tab, db_column_text(st, 2));
		table_text(&tab, db_column_text(st, 3));
		table_text(&tab, m);
		table_num(&tab, (double)db_column_int64(st, 6) / 100.0);
		table_text(&tab, paid);
		table_text(&tab, *paid ? "已发放" : strcmp(m, tm) < 0 ? "逾期未发放" : "未发放");
		table_text(&tab, db_column_text(st, 8));
		table_end_row(&tab);
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

int h_subsidies_export(struct req *r)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	const char *month;
	int64_t unpaid, n = 0;
	struct cw_err e;
	struct buf out = {0};
	const char *fmt = req_query(r, "format");
	if (!fmt)
		fmt = "csv";
	if (strcmp(fmt, "csv") && strcmp(fmt, "xlsx"))
		return reply_error(r, 400, "invalid_query", "format 只能是 csv 或 xlsx", "format");
	if (pii_ready_or_reply(r) != 0 || sub_filters_or_reply(r, lo, hi, &month, &unpaid) != 0)
		return 0;
	int xlsx = !strcmp(fmt, "xlsx");
	memset(&e, 0, sizeof e);
	if (subsidy_export(r->db, lo, hi, month, unpaid, r->now, xlsx, &out, &n, &e) != 0) {
		buf_free(&out);
		return reply_err(r, &e);
	}
	json_t *after = json_pack("{s:s,s:I,s:s,s:b}", "format", fmt, "count", (json_int_t)n, "month", month, "unpaid",
	                          (int)unpaid);
	const char *div = req_query(r, "division");
	int rc = person_audit_view(r, "subsidy.export", "export", div && *div ? div : r->user.scope, after);
	json_decref(after);
	if (rc != 0) {
		buf_free(&out);
		return reply_db_error(r, rc);
	}
	reply_file(r, xlsx, &out, xlsx ? "补助资金.xlsx" : "补助资金.csv");
	buf_free(&out);
	return 0;
}
