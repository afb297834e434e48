/* item.c — the item catalogue (GET /api/v1/items) and the small rules the
 * needs files share: labels, the derived need status, visibility. */
#include "handlers.h"
#include "http.h"
#include "need.h"
#include "scope.h"
#include <string.h>

static const struct {
	const char *code, *zh;
} labels[] = {
    {"open", "待对接"}, {"partially_pledged", "部分认捐"}, {"pledged", "已认捐"}, {"in_transit", "运输中"},
    {"partially_received", "部分到货"}, {"received", "已到货"}, {"proposed", "系统建议（待确认）"},
    {"dismissed", "已忽略"}, {"cancelled", "已取消"}, {"active", "有效"}, {"urgent", "紧急"}, {"high", "较急"},
    {"normal", "一般"}, {"medical", "医疗救治"}, {"drugs", "药品"}, {"supplies", "物资"}, {"staff", "人员短缺"},
    {"funds", "运营资金"}, {"other", "其他"}, {"coordinating", "协调中"}, {"resolved", "已解决"},
    {"charity", "慈善组织"}, {"social_work", "社会工作服务机构"}, {"volunteer", "志愿服务队伍"},
    {"shipped", "已发货"}, {"withdrawn", "已撤回"},
};

const char *need_label(const char *code)
{
	for (size_t i = 0; code && i < sizeof labels / sizeof labels[0]; i++)
		if (!strcmp(labels[i].code, code))
			return labels[i].zh;
	return "";
}

const char *need_status(const char *state, int64_t quantity, int64_t committed, int64_t in_transit, int64_t received)
{
	if (strcmp(state, "active") != 0)
		return state;
	if (received >= quantity)
		return "received";
	if (in_transit > 0)
		return "in_transit";
	if (committed >= quantity)
		return "pledged";
	if (received > 0)
		return "partially_received";
	if (committed > 0)
		return "partially_pledged";
	return "open";
}

int need_visible(const struct user *u, int64_t institution_id, const char *division)
{
	if (u->role == ROLE_REPORTER)
		return u->institution_id == institution_id;
	return scope_contains(u->scope, division);
}

int item_find(db *d, const char *code, char *name_zh, char *unit)
{
	db_stmt *st = db_prepare(d, "SELECT name_zh, unit FROM items WHERE code = $1");
	if (!st)
		return DB_ERROR;
	int rc = db_bindf(st, "t", code);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW) {
		if (name_zh)
			cw_strlcpy(name_zh, db_column_text(st, 0), 64);
		if (unit)
			cw_strlcpy(unit, db_column_text(st, 1), 16);
	}
	db_reset(st);
	return rc;
}

int h_items_list(struct req *r)
{
	db_stmt *st = db_prepare(r->db, "SELECT code, name_zh, name_en, category, unit FROM items ORDER BY sort, code");
	if (!st)
		return reply_db_error(r, DB_ERROR);
	json_t *items = json_array();
	static const struct {
		const char *code, *zh;
	} cats[] = {{"drug", "药品"}, {"test", "检测试剂"}, {"device", "医疗器械"}, {"protective", "防护用品"}, {"living", "生活物资"}};
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *cat = db_column_text(st, 3), *cl = "";
		for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
			if (!strcmp(cats[i].code, cat))
				cl = cats[i].zh;
		json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "code", db_column_text(st, 0), "name_zh",
		                                       db_column_text(st, 1), "name_en", db_column_text(st, 2), "category",
		                                       cat, "category_label", cl, "unit", db_column_text(st, 4)));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}
