/* demo_needs.c — the needs part of the demo: the partner 湖北省慈善总会 (its
 * user is ngo.hubei), a few difficulties, needs (one proposed from low stock),
 * offers and two pledges (one shipped). Everything in Wuhan and Xiaogan outside
 * 洪山区, audited like the API does; the pledge counters move by the database's
 * triggers. */
#include "demo.h"
#include "audit.h"
#include "clock.h"
#include "need.h"
#include <jansson.h>
#include <stdio.h>

static int txn_begin(db *d)
{
	return db_begin(d, 1);
}

static int txn_end(db *d, int rc)
{
	if (rc == 0)
		return db_commit(d);
	db_rollback(d);
	return rc;
}

int demo_partner(db *d, int64_t now, int64_t *id)
{
	int rc = txn_begin(d);
	if (rc == 0)
		rc = db_query_int64(d, id,
		                    "INSERT INTO partners(name, kind, division_code, contact_name, contact_phone, created_by, "
		                    "created_at) VALUES ('湖北省慈善总会', 'charity', '42', '刘会长', '027-87230000', 'demo', $1) "
		                    "RETURNING id",
		                    "I", now) == DB_ROW
		         ? 0
		         : DB_ERROR;
	if (rc == 0) {
		json_t *a = json_pack("{s:s,s:s,s:s}", "name", "湖北省慈善总会", "kind", "charity", "division_code", "42");
		rc = audit_write_id(d, NULL, now, "partner.create", "partner", *id, "42", NULL, a);
		json_decref(a);
	}
	return txn_end(d, rc);
}

static const struct {
	int inst; /* index into the demo institutions */
	const char *item, *urgency, *note;
	int quantity, days;
} needs[] = {
    {1, "antipyretic", "urgent", "院内发热老人增多，解热镇痛药告急", 200, 2},
    {1, "oximeter", "high", "夜间巡查需要血氧仪", 10, 5},
    {3, "children_antipyretic", "urgent", "儿童退烧药仅够两天", 300, 1},
    {4, "antigen_kit", "normal", "", 500, 7},
    {9, "oxygen_concentrator", "high", "重点老人需要吸氧", 5, 3},
};

static const struct {
	const char *item, *division, *note;
	int quantity, from_days;
} offers[] = {
    {"antipyretic", "42", "全省可调配", 1000, -1},
    {"antigen_kit", "4201", "武汉市内配送", 2000, 0},
    {"oximeter", "420102", "江岸区志愿者送达", 50, 0},
    {"children_antipyretic", "42", "", 200, 0},
};

static const struct {
	int need, offer, quantity;
	int shipped;
} pledges[] = {{0, 0, 120, 1}, {2, 3, 200, 0}};

static const struct {
	int inst;
	const char *category, *text, *status, *response;
} diffs[] = {
    {1, "staff", "护理员缺岗 3 人，封闭管理期间无法轮换，需协调志愿者支援", "open", ""},
    {3, "drugs", "儿童退烧药（布洛芬混悬液）库存紧张，药店购买困难", "coordinating", "已联系湖北省慈善总会，正在调配"},
    {9, "funds", "防疫物资支出增加，运营资金紧张", "open", ""},
};

int demo_needs(db *d, const int64_t *inst_ids, const char *const *inst_divs, int64_t partner, int64_t now)
{
	char today[11], day[11];
	int64_t need_ids[sizeof needs / sizeof needs[0]], offer_ids[sizeof offers / sizeof offers[0]], id = 0;
	clock_local_date(now, today);
	int rc = txn_begin(d);
	json_t *rows = json_array();
	for (size_t i = 0; rc == 0 && i < sizeof diffs / sizeof diffs[0]; i++) {
		const char *div = inst_divs[diffs[i].inst];
		rc = db_query_int64(d, &id,
		                    "INSERT INTO difficulties(institution_id, division_code, category, text, status, response, "
		                    "created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'demo', $7, $7) RETURNING id",
		                    "ItttttI", inst_ids[diffs[i].inst], div, diffs[i].category, diffs[i].text, diffs[i].status,
		                    diffs[i].response, now) == DB_ROW
		         ? 0
		         : DB_ERROR;
		if (rc == 0)
			json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:s}}", "action", "difficulty.create",
			                                      "object_type", "difficulty", "object_id", (json_int_t)id, "division",
			                                      div, "after", "category", diffs[i].category, "text", diffs[i].text));
	}
	for (size_t i = 0; rc == 0 && i < sizeof needs / sizeof needs[0]; i++) {
		char ref[32];
		const char *div = inst_divs[needs[i].inst];
		date_add_days(today, needs[i].days, day);
		rc = need_next_ref(d, div, ref);
		if (rc == 0)
			rc = db_query_int64(d, &need_ids[i],
			                    "INSERT INTO needs(ref, institution_id, division_code, item, quantity, urgency, needed_by, "
			                    "note, state, source, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
			                    "$6, $7, $8, 'active', 'manual', 'demo', $9, $9) RETURNING id",
			                    "tIttIttt" "I", ref, inst_ids[needs[i].inst], div, needs[i].item,
			                    (int64_t)needs[i].quantity, needs[i].urgency, day, needs[i].note, now) == DB_ROW
			         ? 0
			         : DB_ERROR;
		if (rc == 0)
			json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:s,s:i}}", "action", "need.create",
			                                      "object_type", "need", "object_id", (json_int_t)need_ids[i],
			                                      "division", div, "after", "ref", ref, "item", needs[i].item,
			                                      "quantity", needs[i].quantity));
	}
	/* one proposal from low stock, for the reporter of 大智街敬老院 to confirm or dismiss */
	if (rc == 0) {
		const char *div = inst_divs[1];
		date_add_days(today, 1, day);
		rc = db_query_int64(d, &id,
		                    "INSERT INTO needs(institution_id, division_code, item, quantity, urgency, needed_by, note, "
		                    "state, source, source_period, created_by, created_at, updated_at) VALUES ($1, $2, "
		                    "'mask_n95', 120, 'high', $3, '可保障天数 1.5 天，低于 3 天（系统根据日报库存生成）', "
		                    "'proposed', 'supply', $4, 'system', $5, $5) RETURNING id",
		                    "IttTI", inst_ids[1], div, day, today, now) == DB_ROW
		         ? 0
		         : DB_ERROR;
		if (rc == 0)
			json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:i}}", "action", "need.propose",
			                                      "object_type", "need", "object_id", (json_int_t)id, "division", div,
			                                      "after", "item", "mask_n95", "quantity", 120));
	}
	for (size_t i = 0; rc == 0 && i < sizeof offers / sizeof offers[0]; i++) {
		date_add_days(today, offers[i].from_days, day);
		rc = db_query_int64(d, &offer_ids[i],
		                    "INSERT INTO offers(partner_id, item, quantity, division_code, available_from, note, "
		                    "created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'demo', $7, $7) "
		                    "RETURNING id",
		                    "ItItttI", partner, offers[i].item, (int64_t)offers[i].quantity, offers[i].division, day,
		                    offers[i].note, now) == DB_ROW
		         ? 0
		         : DB_ERROR;
		if (rc == 0)
			json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:i}}", "action", "offer.create",
			                                      "object_type", "offer", "object_id", (json_int_t)offer_ids[i],
			                                      "division", offers[i].division, "after", "item", offers[i].item,
			                                      "quantity", offers[i].quantity));
	}
	for (size_t i = 0; rc == 0 && i < sizeof pledges / sizeof pledges[0]; i++) {
		const char *div = inst_divs[needs[pledges[i].need].inst];
		rc = db_query_int64(d, &id,
		                    "INSERT INTO pledges(need_id, offer_id, partner_id, division_code, quantity, created_by, "
		                    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'demo', $6, $6) RETURNING id",
		                    "IIItII", need_ids[pledges[i].need], offer_ids[pledges[i].offer], partner, div,
		                    (int64_t)pledges[i].quantity, now) == DB_ROW
		         ? 0
		         : DB_ERROR;
		if (rc == 0)
			json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:s,s:{s:I,s:I,s:i}}", "action", "pledge.create",
			                                      "object_type", "pledge", "object_id", (json_int_t)id, "division", div,
			                                      "after", "need_id", (json_int_t)need_ids[pledges[i].need], "offer_id",
			                                      (json_int_t)offer_ids[pledges[i].offer], "quantity",
			                                      pledges[i].quantity));
		if (rc == 0 && pledges[i].shipped) {
			rc = db_run(d, "UPDATE pledges SET status = 'shipped', shipped_at = $1 WHERE id = $2", "II", now, id) == 1
			         ? 0
			         : DB_ERROR;
			if (rc == 0)
				json_array_append_new(rows, json_pack("{s:s,s:s,s:I,s:s,s:{s:s}}", "action", "pledge.ship",
				                                      "object_type", "pledge", "object_id", (json_int_t)id, "division",
				                                      div, "after", "status", "shipped"));
		}
	}
	if (rc == 0)
		rc = audit_write_many(d, NULL, now, rows);
	json_decref(rows);
	return txn_end(d, rc);
}
