/* need.c — needs (紧急需求): create, list, get, edit, confirm or dismiss a
 * proposal, the summary by item and division, and needs proposed from
 * reports whose days of supply fall under the threshold. */
#include "need.h"
#include "audit.h"
#include "clock.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "scope.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NEED_COLS                                                                                             \
	"n.id, COALESCE(n.ref, ''), n.institution_id, i.name, n.division_code, n.item, it.name_zh, it.unit, "      \
	"n.quantity, n.urgency, n.needed_by, n.note, n.state, n.source, n.committed, n.in_transit, n.received, "   \
	NEED_STATUS_SQL ", n.created_by, n.created_at, n.updated_at, n.version "
#define NEED_FROM " FROM needs n JOIN institutions i ON i.id = n.institution_id JOIN items it ON it.code = n.item "

static const char *const urgencies[] = {"urgent", "high", "normal", NULL};
static const char *const need_actions[] = {"confirm", "dismiss", "cancel", NULL};

/* partner: no personal data (the note may name people; the creator is a login) */
static json_t *need_json(db_stmt *st, int partner)
{
	const char *ref = db_column_text(st, 1), *urg = db_column_text(st, 9), *status = db_column_text(st, 17);
	int64_t q = db_column_int64(st, 8), committed = db_column_int64(st, 14);
	json_t *j = json_pack("{s:I,s:o,s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)db_column_int64(st, 0), "ref",
	                      *ref ? json_string(ref) : json_null(), "institution_id", (json_int_t)db_column_int64(st, 2),
	                      "institution_name", db_column_text(st, 3), "division_code", db_column_text(st, 4), "item",
	                      db_column_text(st, 5), "item_name", db_column_text(st, 6), "unit", db_column_text(st, 7));
	json_object_set_new(j, "quantity", json_integer(q));
	json_object_set_new(j, "requested", json_integer(q));
	json_object_set_new(j, "pledged", json_integer(committed));
	json_object_set_new(j, "in_transit", json_integer(db_column_int64(st, 15)));
	json_object_set_new(j, "received", json_integer(db_column_int64(st, 16)));
	json_object_set_new(j, "outstanding", json_integer(q - committed));
	json_object_set_new(j, "urgency", json_string(urg));
	json_object_set_new(j, "urgency_label", json_string(need_label(urg)));
	json_object_set_new(j, "needed_by", json_string(db_column_text(st, 10)));
	json_object_set_new(j, "state", json_string(db_column_text(st, 12)));
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "status_label", json_string(need_label(status)));
	json_object_set_new(j, "source", json_string(db_column_text(st, 13)));
	if (!partner) {
		json_object_set_new(j, "note", json_string(db_column_text(st, 11)));
		json_object_set_new(j, "created_by", json_string(db_column_text(st, 18)));
	}
	json_object_set_new(j, "created_at", json_integer(db_column_int64(st, 19)));
	json_object_set_new(j, "updated_at", json_integer(db_column_int64(st, 20)));
	json_object_set_new(j, "version", json_integer(db_column_int64(st, 21)));
	return j;
}

/* Loads one need visible to u (new reference in *out, NULL when not found or
 * not visible). DB_ROW, DB_DONE or a DB_* error. */
static int need_load(db *d, const struct user *u, int64_t id, json_t **out)
{
	*out = NULL;
	db_stmt *st = db_prepare(d, "SELECT " NEED_COLS NEED_FROM "WHERE n.id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	if (rc == DB_ROW && need_visible(u, db_column_int64(st, 2), db_column_text(st, 4)) &&
	    (u->role != ROLE_PARTNER || !strcmp(db_column_text(st, 12), "active")))
		*out = need_json(st, u->role == ROLE_PARTNER);
	db_reset(st);
	if (rc == DB_ROW && !*out)
		rc = DB_DONE;
	return rc;
}

int need_next_ref(db *d, const char *division, char *out)
{
	char county[7];
	snprintf(county, sizeof county, "%.6s", division);
	int64_t seq = 0;
	int rc = db_query_int64(d, &seq,
	                        "INSERT INTO need_counters(county, seq) VALUES ($1, 1) ON CONFLICT (county) "
	                        "DO UPDATE SET seq = need_counters.seq + 1 RETURNING seq",
	                        "t", county);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	snprintf(out, 32, "%s-%05lld", county, (long long)seq);
	return 0;
}

static int date_ok(const char *s)
{
	int y, m, dd;
	return s && strlen(s) == 10 && date_parse(s, &y, &m, &dd) == 0;
}

int inst_for_need(db *d, const struct user *u, int64_t inst, char *division, struct cw_err *e)
{
	db_stmt *st = db_prepare(d, "SELECT division_code FROM institutions WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", inst);
	int rc = db_step(st);
	if (rc == DB_ROW)
		cw_strlcpy(division, db_column_text(st, 0), SCOPE_MAX);
	db_reset(st);
	if (rc == DB_DONE || (rc == DB_ROW && !need_visible(u, inst, division))) {
		err_set(e, 404, "not_found", "institution_id", "未找到该机构，或不在您的权限范围内");
		return DB_APP;
	}
	return rc == DB_ROW ? 0 : rc;
}

static int item_or_err(db *d, const char *item, struct cw_err *e)
{
	int rc = item_find(d, item, NULL, NULL);
	if (rc == DB_DONE) {
		err_set(e, 422, "unknown_item", "item", "物资目录中没有该物资：%s", item);
		return DB_APP;
	}
	return rc == DB_ROW ? 0 : rc;
}

/* ---------- create ---------- */

static const struct jfield need_spec[] = {
    {"institution_id", J_INT, 1, 1, INT64_MAX, NULL, "机构", 0},
    {"item", J_STR, 1, 1, 40, NULL, "物资", 0},
    {"quantity", J_INT, 1, 1, 1000000000, NULL, "需求数量", 0},
    {"urgency", J_ENUM, 0, 0, 0, urgencies, "紧急程度", 0},
    {"needed_by", J_STR, 1, 10, 10, NULL, "需要日期", 0},
    {"note", J_STR, 0, 0, 500, NULL, "备注", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

struct create_ctx {
	struct req *r;
	struct cw_err *e;
	int64_t id;
};

static int create_txn(db *d, void *vc)
{
	struct create_ctx *c = vc;
	json_t *b = c->r->json;
	char division[SCOPE_MAX], ref[32];
	int64_t inst = jint(b, "institution_id", 0);
	int rc = inst_for_need(d, &c->r->user, inst, division, c->e);
	if (rc == 0)
		rc = item_or_err(d, jstr(b, "item"), c->e);
	if (rc == 0)
		rc = need_next_ref(d, division, ref);
	if (rc != 0)
		return rc;
	const char *urg = jstr(b, "urgency") ? jstr(b, "urgency") : "normal", *note = jstr(b, "note") ? jstr(b, "note") : "";
	rc = db_query_int64(d, &c->id,
	                    "INSERT INTO needs(ref, institution_id, division_code, item, quantity, urgency, needed_by, note, "
	                    "state, source, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	                    "'active', 'manual', $9, $10, $10) RETURNING id",
	                    "tIttIttttI", ref, inst, division, jstr(b, "item"), (int64_t)jint(b, "quantity", 0), urg,
	                    jstr(b, "needed_by"), note, c->r->user.login, c->r->now);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	json_t *after = json_pack("{s:s,s:I,s:s,s:I,s:s,s:s}", "ref", ref, "institution_id", (json_int_t)inst, "item",
	                          jstr(b, "item"), "quantity", (json_int_t)jint(b, "quantity", 0), "urgency", urg,
	                          "needed_by", jstr(b, "needed_by"));
	rc = audit_write_id(d, &c->r->user, c->r->now, "need.create", "need", c->id, division, NULL, after);
	json_decref(after);
	return rc;
}

int h_needs_create(struct req *r)
{
	struct cw_err e = {0};
	if (jspec_check_or_reply(r, r->json, need_spec, 0) != 0)
		return 0;
	if (!date_ok(jstr(r->json, "needed_by")))
		return reply_error(r, 422, "invalid_date", "需要日期应为 YYYY-MM-DD 格式的真实日期", "needed_by");
	struct create_ctx c = {r, &e, 0};
	if (db_txn_err(r->db, 1, create_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = need_load(r->db, &r->user, c.id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 201, j);
}

/* ---------- list, get ---------- */

static const char *const status_filters[] = {"open", "partially_pledged", "pledged", "in_transit", "partially_received",
                                             "received", "proposed", "dismissed", "cancelled", "outstanding", "all",
                                             NULL};

static int in_list(const char *const *l, const char *v)
{
	for (; *l; l++)
		if (!strcmp(*l, v))
			return 1;
	return 0;
}

/* $1 $2 division range, $3 item, $4 status filter, $5 institution (0 all),
 * $6 urgency, $7 partner (1: active needs only) */
#define NEED_WHERE                                                                                            \
	"WHERE n.division_code >= $1 AND n.division_code < $2 AND ($3 = '' OR n.item = $3) "                      \
	"AND ($4 = '' AND n.state <> 'dismissed' OR $4 = 'all' "                                                  \
	"OR $4 = 'outstanding' AND n.state = 'active' AND n.committed < n.quantity OR " NEED_STATUS_SQL " = $4) "  \
	"AND ($5 = 0 OR n.institution_id = $5) AND ($6 = '' OR n.urgency = $6) AND ($7 = 0 OR n.state = 'active') "

int h_needs_list(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	long limit, offset, inst;
	if (req_division_or_reply(r, "division", div) != 0 || req_paging_or_reply(r, 50, 1000, &limit, &offset) != 0 ||
	    req_query_long_or_reply(r, "institution_id", 0, 0, INT32_MAX, &inst) != 0)
		return 0;
	const char *item = req_query(r, "item"), *status = req_query(r, "status"), *urg = req_query(r, "urgency");
	item = item ? item : "";
	status = status ? status : "";
	urg = urg ? urg : "";
	if (*status && !in_list(status_filters, status))
		return reply_error(r, 400, "invalid_query", "查询参数 status 的取值无效", "status");
	if (*urg && !in_list(urgencies, urg))
		return reply_error(r, 400, "invalid_query", "查询参数 urgency 的取值无效", "urgency");
	if (strlen(item) > 40)
		return reply_error(r, 400, "invalid_query", "查询参数 item 的取值无效", "item");
	int64_t only = r->user.role == ROLE_REPORTER ? r->user.institution_id : inst;
	if (r->user.role == ROLE_REPORTER && inst && inst != r->user.institution_id)
		return reply_not_found(r);
	int partner = r->user.role == ROLE_PARTNER;
	scope_range(div, lo, hi);
	int64_t total = 0;
	int rc = db_query_int64(r->db, &total, "SELECT COUNT(*) FROM needs n " NEED_WHERE, "ttttIti", lo, hi, item, status,
	                        only, urg, partner);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	db_stmt *st = db_prepare(r->db, "SELECT " NEED_COLS NEED_FROM NEED_WHERE
	                                "ORDER BY CASE n.urgency WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, "
	                                "n.needed_by, n.id LIMIT $8 OFFSET $9");
	rc = st ? db_bindf(st, "ttttItiII", lo, hi, item, status, only, urg, partner, (int64_t)limit, (int64_t)offset)
	        : DB_ERROR;
	json_t *items = json_array();
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, need_json(st, partner));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)total));
}

int h_need_get(struct req *r)
{
	int64_t id;
	json_t *j;
	if (req_param_id_or_reply(r, 0, &id) != 0)
		return 0;
	int rc = need_load(r->db, &r->user, id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	if (r->user.role != ROLE_PARTNER) {
		/* its pledges, newest first */
		db_stmt *st = db_prepare(r->db, "SELECT p.id, p.offer_id, pa.name, p.quantity, p.status, "
		                                "COALESCE(p.received_quantity, 0), p.created_at FROM pledges p "
		                                "JOIN partners pa ON pa.id = p.partner_id WHERE p.need_id = $1 ORDER BY p.id DESC");
		json_t *pl = json_array();
		rc = st ? db_bindf(st, "I", id) : DB_ERROR;
		while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
			json_array_append_new(
			    pl, json_pack("{s:I,s:I,s:s,s:I,s:s,s:s,s:I,s:I}", "id", (json_int_t)db_column_int64(st, 0), "offer_id",
			                  (json_int_t)db_column_int64(st, 1), "partner_name", db_column_text(st, 2), "quantity",
			                  (json_int_t)db_column_int64(st, 3), "status", db_column_text(st, 4), "status_label",
			                  need_label(db_column_text(st, 4)), "received_quantity",
			                  (json_int_t)db_column_int64(st, 5), "created_at", (json_int_t)db_column_int64(st, 6)));
		db_reset(st);
		if (rc != DB_DONE) {
			json_decref(pl);
			json_decref(j);
			return reply_db_error(r, rc);
		}
		json_object_set_new(j, "pledges", pl);
	}
	return reply_json(r, 200, j);
}

/* ---------- edit, confirm, dismiss, cancel ---------- */

static const struct jfield need_patch_spec[] = {
    {"action", J_ENUM, 0, 0, 0, need_actions, "操作", 0},
    {"quantity", J_INT, 0, 1, 1000000000, NULL, "需求数量", 0},
    {"urgency", J_ENUM, 0, 0, 0, urgencies, "紧急程度", 0},
    {"needed_by", J_STR, 0, 10, 10, NULL, "需要日期", 0},
    {"note", J_STR, 0, 0, 500, NULL, "备注", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

struct patch_ctx {
	struct req *r;
	struct cw_err *e;
	int64_t id;
};

static int patch_txn(db *d, void *vc)
{
	struct patch_ctx *c = vc;
	struct req *r = c->r;
	json_t *b = r->json, *before = NULL;
	int rc = db_lock_row(d, "needs", c->id); /* read, then written back */
	if (rc == 0)
		rc = need_load(d, &r->user, c->id, &before);
	if (rc == DB_DONE) {
		err_set(c->e, 404, "not_found", NULL, "未找到该需求，或不在您的权限范围内");
		return DB_APP;
	}
	if (rc != DB_ROW)
		return rc;
	const char *state = jstr(before, "state"), *action = jstr(b, "action");
	const char *new_state = state;
	char ref[32] = "";
	cw_strlcpy(ref, json_is_string(json_object_get(before, "ref")) ? jstr(before, "ref") : "", sizeof ref);
	if (strcmp(state, "proposed") != 0 && strcmp(state, "active") != 0) {
		err_set(c->e, 409, "need_closed", NULL, "该需求已%s，不能再修改", need_label(state));
		rc = DB_APP;
		goto cleanup;
	}
	if (action && !strcmp(action, "confirm")) {
		if (strcmp(state, "proposed") != 0) {
			err_set(c->e, 409, "not_proposed", "action", "只有系统建议的需求需要确认");
			rc = DB_APP;
			goto cleanup;
		}
		new_state = "active";
		if ((rc = need_next_ref(d, jstr(before, "division_code"), ref)) != 0)
			goto cleanup;
	} else if (action && !strcmp(action, "dismiss")) {
		if (strcmp(state, "proposed") != 0) {
			err_set(c->e, 409, "not_proposed", "action", "只有系统建议的需求可以忽略；已确认的需求请取消");
			rc = DB_APP;
			goto cleanup;
		}
		new_state = "dismissed";
	} else if (action && !strcmp(action, "cancel")) {
		if (json_integer_value(json_object_get(before, "pledged")) > 0) {
			err_set(c->e, 409, "need_has_pledges", "action", "该需求已有认捐，请先取消认捐再取消需求");
			rc = DB_APP;
			goto cleanup;
		}
		new_state = "cancelled";
	}
	int64_t q = jint(b, "quantity", json_integer_value(json_object_get(before, "quantity")));
	if (q < json_integer_value(json_object_get(before, "pledged"))) {
		err_set(c->e, 409, "below_pledged", "quantity", "需求数量不能少于已认捐数量（%lld）",
		        (long long)json_integer_value(json_object_get(before, "pledged")));
		rc = DB_APP;
		goto cleanup;
	}
	const char *urg = jstr(b, "urgency") ? jstr(b, "urgency") : jstr(before, "urgency");
	const char *nb = jstr(b, "needed_by") ? jstr(b, "needed_by") : jstr(before, "needed_by");
	const char *note = jstr(b, "note") ? jstr(b, "note") : jstr(before, "note");
	int64_t n = db_run(d, "UPDATE needs SET quantity = $1, urgency = $2, needed_by = $3, note = $4, state = $5, "
	                      "ref = $6, updated_at = $7, version = version + 1 WHERE id = $8",
	                   "IttttTII", q, urg, nb, note, new_state, ref, r->now, c->id);
	if (n < 0) {
		rc = (int)n;
		goto cleanup;
	}
	json_t *after = json_pack("{s:I,s:s,s:s,s:s,s:s}", "quantity", (json_int_t)q, "urgency", urg, "needed_by", nb,
	                          "state", new_state, "ref", ref);
	json_t *bef = json_pack("{s:O,s:O,s:O,s:O,s:O}", "quantity", json_object_get(before, "quantity"), "urgency",
	                        json_object_get(before, "urgency"), "needed_by", json_object_get(before, "needed_by"),
	                        "state", json_object_get(before, "state"), "ref", json_object_get(before, "ref"));
	const char *act = !action ? "need.update" : !strcmp(action, "confirm") ? "need.confirm"
	                                           : !strcmp(action, "dismiss") ? "need.dismiss" : "need.cancel";
	rc = audit_write_id(d, &r->user, r->now, act, "need", c->id, jstr(before, "division_code"), bef, after);
	json_decref(after);
	json_decref(bef);
cleanup:
	json_decref(before);
	return rc;
}

int h_need_patch(struct req *r)
{
	int64_t id;
	struct cw_err e = {0};
	if (req_param_id_or_reply(r, 0, &id) != 0 || jspec_check_or_reply(r, r->json, need_patch_spec, 1) != 0)
		return 0;
	if (json_object_size(r->json) == 0)
		return reply_error(r, 422, "nothing_to_change", "请求中没有要修改的内容", NULL);
	if (jstr(r->json, "needed_by") && !date_ok(jstr(r->json, "needed_by")))
		return reply_error(r, 422, "invalid_date", "需要日期应为 YYYY-MM-DD 格式的真实日期", "needed_by");
	struct patch_ctx c = {r, &e, id};
	if (db_txn_err(r->db, 1, patch_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = need_load(r->db, &r->user, id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 200, j);
}

/* ---------- summary ---------- */

static int next_len(const char *div)
{
	size_t n = strlen(div);
	return n == 0 ? 2 : n == 2 ? 4 : n == 4 ? 6 : 9;
}

static json_t *totals_json(db_stmt *st, int c0)
{
	int64_t q = db_column_int64(st, c0), committed = db_column_int64(st, c0 + 1);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "needs", (json_int_t)db_column_int64(st, c0 + 4), "requested",
	                 (json_int_t)q, "pledged", (json_int_t)committed, "in_transit",
	                 (json_int_t)db_column_int64(st, c0 + 2), "received", (json_int_t)db_column_int64(st, c0 + 3),
	                 "outstanding", (json_int_t)(q - committed));
}

#define SUMS "SUM(n.quantity), SUM(n.committed), SUM(n.in_transit), SUM(n.received), COUNT(*) "

int h_needs_summary(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	if (req_division_or_reply(r, "division", div) != 0)
		return 0;
	scope_range(div, lo, hi);
	int64_t only = r->user.role == ROLE_REPORTER ? r->user.institution_id : 0;
	json_t *by_item = json_array(), *by_div = json_array(), *by_status = json_object(), *total = NULL;
	int rc = 0;
	db_stmt *st = db_prepare(r->db, "SELECT n.item, it.name_zh, it.unit, " SUMS "FROM needs n JOIN items it ON it.code = n.item "
	                                "WHERE n.division_code >= $1 AND n.division_code < $2 AND n.state = 'active' "
	                                "AND ($3 = 0 OR n.institution_id = $3) GROUP BY n.item, it.name_zh, it.unit, it.sort "
	                                "ORDER BY it.sort");
	rc = st ? db_bindf(st, "ttI", lo, hi, only) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_t *t = totals_json(st, 3);
		json_object_set_new(t, "item", json_string(db_column_text(st, 0)));
		json_object_set_new(t, "item_name", json_string(db_column_text(st, 1)));
		json_object_set_new(t, "unit", json_string(db_column_text(st, 2)));
		json_array_append_new(by_item, t);
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	st = db_prepare(r->db, "SELECT g.code, COALESCE(dv.name, ''), g.q, g.c, g.t, g.rv, g.k FROM (SELECT "
	                       "substr(n.division_code, 1, $4) AS code, SUM(n.quantity) AS q, SUM(n.committed) AS c, "
	                       "SUM(n.in_transit) AS t, SUM(n.received) AS rv, COUNT(*) AS k FROM needs n "
	                       "WHERE n.division_code >= $1 AND n.division_code < $2 AND n.state = 'active' "
	                       "AND ($3 = 0 OR n.institution_id = $3) GROUP BY substr(n.division_code, 1, $4)) g "
	                       "LEFT JOIN divisions dv ON dv.code = g.code ORDER BY g.code");
	rc = st ? db_bindf(st, "ttIi", lo, hi, only, next_len(div)) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_t *t = totals_json(st, 2);
		json_object_set_new(t, "code", json_string(db_column_text(st, 0)));
		json_object_set_new(t, "name", json_string(db_column_text(st, 1)));
		json_array_append_new(by_div, t);
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	st = db_prepare(r->db, "SELECT " NEED_STATUS_SQL ", COUNT(*) FROM needs n WHERE n.division_code >= $1 "
	                       "AND n.division_code < $2 AND ($3 = 0 OR n.institution_id = $3) AND n.state <> 'dismissed' "
	                       "AND ($4 = 0 OR n.state = 'active') GROUP BY " NEED_STATUS_SQL);
	rc = st ? db_bindf(st, "ttIi", lo, hi, only, r->user.role == ROLE_PARTNER) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_object_set_new(by_status, db_column_text(st, 0), json_integer(db_column_int64(st, 1)));
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	st = db_prepare(r->db, "SELECT " SUMS "FROM needs n WHERE n.division_code >= $1 AND n.division_code < $2 "
	                       "AND n.state = 'active' AND ($3 = 0 OR n.institution_id = $3)");
	rc = st ? db_bindf(st, "ttI", lo, hi, only) : DB_ERROR;
	if (rc == 0 && (rc = db_step(st)) == DB_ROW)
		total = totals_json(st, 0);
	db_reset(st);
	if (!total)
		goto fail;
	return reply_json(r, 200, json_pack("{s:s,s:o,s:o,s:o,s:o}", "division", div, "total", total, "by_item", by_item,
	                                    "by_division", by_div, "by_status", by_status));
fail:
	json_decref(by_item);
	json_decref(by_div);
	json_decref(by_status);
	return reply_db_error(r, rc == DB_ROW || rc == DB_DONE ? DB_ERROR : rc);
}

/* ---------- proposals from reports ---------- */

int need_propose_from_report(db *d, int64_t institution_id, const char *division, const char *period,
                             json_t *derived, int64_t now, json_t *audit_rows)
{
	json_t *low = json_object_get(derived, "low"), *supply = json_object_get(derived, "supply"), *v;
	size_t i;
	json_array_foreach(low, i, v)
	{
		const char *item = json_string_value(v);
		json_t *s = json_object_get(supply, item);
		double avg = json_number_value(json_object_get(s, "avg_use")), stock = json_number_value(json_object_get(s, "stock"));
		double days = json_number_value(json_object_get(s, "days"));
		if (!item || avg <= 0)
			continue;
		int64_t q = (int64_t)ceil(avg * 7 - stock);
		if (q < 1)
			q = 1;
		char by[11];
		if (date_add_days(period, (int)floor(days > 0 ? days : 0), by) != 0)
			continue;
		const char *urg = days < 1 ? "urgent" : "high";
		char note[160];
		snprintf(note, sizeof note, "可保障天数 %.1f 天，低于 %ld 天（%s 报表）", days, cfg.supply_days, period);
		int64_t id = 0;
		int rc = db_query_int64(d, &id,
		                        "INSERT INTO needs(institution_id, division_code, item, quantity, urgency, needed_by, "
		                        "note, state, source, source_period, created_by, created_at, updated_at) "
		                        "SELECT $1, $2, $3, $4, $5, $6, $7, 'proposed', 'supply', $8, 'system', $9, $9 "
		                        "FROM items WHERE code = $3 AND NOT EXISTS (SELECT 1 FROM needs n WHERE "
		                        "n.institution_id = $1 AND n.item = $3 AND (n.state = 'proposed' OR n.state = 'active' "
		                        "AND n.received < n.quantity OR n.source_period = $8)) RETURNING id",
		                        "IttIttttI", institution_id, division, item, q, urg, by, note, period, now);
		if (rc == DB_DONE)
			continue;
		if (rc != DB_ROW)
			return rc;
		json_array_append_new(audit_rows, json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:I,s:s,s:s}}", "action", "need.propose",
		                                            "object_type", "need", "object_id", (json_int_t)id, "division",
		                                            division, "after", "item", item, "quantity", (json_int_t)q,
		                                            "needed_by", by, "source_period", period));
	}
	return 0;
}
