/* pledge.c — pledges: an official confirms a proposal (POST), everyone
 * concerned follows them (GET), and they move pledged → shipped → received
 * (with the quantity that arrived) or pledged → cancelled (PATCH).
 *
 * The counters of the need and the offer move in the database (triggers of
 * sql/005_needs.sql), whose CHECK constraints refuse over-pledging even when
 * requests race; the checks here only give the clear message first. */
#include "audit.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "need.h"
#include "scope.h"
#include <string.h>

#define PLEDGE_COLS                                                                                           \
	"p.id, p.need_id, COALESCE(n.ref, ''), n.institution_id, i.name, i.address, p.division_code, n.item, "     \
	"it.name_zh, it.unit, p.offer_id, p.partner_id, pa.name, p.quantity, p.status, p.received_quantity, "      \
	"p.created_at, p.shipped_at, p.received_at, p.cancelled_at, n.needed_by, n.urgency "
#define PLEDGE_FROM                                                                                           \
	"FROM pledges p JOIN needs n ON n.id = p.need_id JOIN institutions i ON i.id = n.institution_id "          \
	"JOIN items it ON it.code = n.item JOIN partners pa ON pa.id = p.partner_id "

static json_t *opt_int(db_stmt *st, int col)
{
	return db_column_is_null(st, col) ? json_null() : json_integer(db_column_int64(st, col));
}

static json_t *pledge_json(db_stmt *st)
{
	const char *status = db_column_text(st, 14), *ref = db_column_text(st, 2);
	json_t *j = json_pack("{s:I,s:I,s:o,s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)db_column_int64(st, 0),
	                      "need_id", (json_int_t)db_column_int64(st, 1), "need_ref", *ref ? json_string(ref) : json_null(),
	                      "institution_id", (json_int_t)db_column_int64(st, 3), "institution_name",
	                      db_column_text(st, 4), "institution_address", db_column_text(st, 5), "division_code",
	                      db_column_text(st, 6), "item", db_column_text(st, 7), "item_name", db_column_text(st, 8),
	                      "unit", db_column_text(st, 9));
	json_object_set_new(j, "offer_id", json_integer(db_column_int64(st, 10)));
	json_object_set_new(j, "partner_id", json_integer(db_column_int64(st, 11)));
	json_object_set_new(j, "partner_name", json_string(db_column_text(st, 12)));
	json_object_set_new(j, "quantity", json_integer(db_column_int64(st, 13)));
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "status_label", json_string(need_label(status)));
	json_object_set_new(j, "received_quantity", opt_int(st, 15));
	json_object_set_new(j, "created_at", json_integer(db_column_int64(st, 16)));
	json_object_set_new(j, "shipped_at", opt_int(st, 17));
	json_object_set_new(j, "received_at", opt_int(st, 18));
	json_object_set_new(j, "cancelled_at", opt_int(st, 19));
	json_object_set_new(j, "needed_by", json_string(db_column_text(st, 20)));
	json_object_set_new(j, "urgency", json_string(db_column_text(st, 21)));
	return j;
}

static int pledge_visible(const struct user *u, int64_t partner, int64_t inst, const char *div)
{
	if (u->role == ROLE_PARTNER)
		return u->partner_id == partner;
	return need_visible(u, inst, div);
}

static int pledge_load(db *d, const struct user *u, int64_t id, json_t **out)
{
	*out = NULL;
	db_stmt *st = db_prepare(d, "SELECT " PLEDGE_COLS PLEDGE_FROM "WHERE p.id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	if (rc == DB_ROW && pledge_visible(u, db_column_int64(st, 11), db_column_int64(st, 3), db_column_text(st, 6)))
		*out = pledge_json(st);
	db_reset(st);
	return rc == DB_ROW && !*out ? DB_DONE : rc;
}

/* ---------- confirm a proposal ---------- */

static const struct jfield pledge_spec[] = {
    {"need_id", J_INT, 1, 1, INT64_MAX, NULL, "需求", 0},
    {"offer_id", J_INT, 1, 1, INT64_MAX, NULL, "捐赠意向", 0},
    {"quantity", J_INT, 1, 1, 1000000000, NULL, "认捐数量", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

struct pl_ctx {
	struct req *r;
	struct cw_err *e;
	int64_t id;
};

static int create_txn(db *d, void *vc)
{
	struct pl_ctx *c = vc;
	struct req *r = c->r;
	int64_t need_id = jint(r->json, "need_id", 0), offer_id = jint(r->json, "offer_id", 0), q = jint(r->json, "quantity", 0);
	char ndiv[SCOPE_MAX] = "", nitem[48] = "", nstate[16] = "", odiv[SCOPE_MAX] = "", oitem[48] = "", ostatus[16] = "";
	int64_t outstanding = 0, remaining = 0, partner = 0;
	db_stmt *st = db_prepare(d, "SELECT division_code, item, state, quantity - committed FROM needs WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", need_id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		cw_strlcpy(ndiv, db_column_text(st, 0), sizeof ndiv);
		cw_strlcpy(nitem, db_column_text(st, 1), sizeof nitem);
		cw_strlcpy(nstate, db_column_text(st, 2), sizeof nstate);
		outstanding = db_column_int64(st, 3);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (rc == DB_DONE || !scope_contains(r->user.scope, ndiv)) {
		err_set(c->e, 404, "not_found", "need_id", "未找到该需求，或不在您的权限范围内");
		return DB_APP;
	}
	st = db_prepare(d, "SELECT division_code, item, status, quantity - pledged, partner_id FROM offers WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", offer_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		cw_strlcpy(odiv, db_column_text(st, 0), sizeof odiv);
		cw_strlcpy(oitem, db_column_text(st, 1), sizeof oitem);
		cw_strlcpy(ostatus, db_column_text(st, 2), sizeof ostatus);
		remaining = db_column_int64(st, 3);
		partner = db_column_int64(st, 4);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (rc == DB_DONE)
		err_set(c->e, 404, "not_found", "offer_id", "未找到该捐赠意向");
	else if (strcmp(nstate, "active") != 0)
		err_set(c->e, 409, "need_not_active", "need_id", "该需求未确认或已关闭，不能认捐");
	else if (strcmp(ostatus, "open") != 0)
		err_set(c->e, 409, "offer_withdrawn", "offer_id", "该捐赠意向已撤回");
	else if (strcmp(nitem, oitem) != 0)
		err_set(c->e, 422, "item_mismatch", "offer_id", "捐赠物资与需求物资不一致");
	else if (!scope_contains(odiv, ndiv))
		err_set(c->e, 422, "out_of_area", "offer_id", "该捐赠意向的服务区域不包括该机构所在地");
	else if (q > outstanding)
		err_set(c->e, 409, "over_pledged", "quantity", "认捐数量超过需求缺口（尚缺 %lld）", (long long)outstanding);
	else if (q > remaining)
		err_set(c->e, 409, "over_pledged", "quantity", "认捐数量超过捐赠意向的剩余数量（剩余 %lld）", (long long)remaining);
	if (c->e->status)
		return DB_APP;
	rc = db_query_int64(d, &c->id,
	                    "INSERT INTO pledges(need_id, offer_id, partner_id, division_code, quantity, created_by, "
	                    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
	                    "IIItItI", need_id, offer_id, partner, ndiv, q, r->user.login, r->now);
	if (rc == DB_CONSTRAINT) { /* a racing pledge got there first: the CHECKs refused */
		err_set(c->e, 409, "over_pledged", "quantity", "认捐数量超过需求缺口或捐赠意向的剩余数量");
		return DB_APP;
	}
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	json_t *after = json_pack("{s:I,s:I,s:I}", "need_id", (json_int_t)need_id, "offer_id", (json_int_t)offer_id,
	                          "quantity", (json_int_t)q);
	rc = audit_write_id(d, &r->user, r->now, "pledge.create", "pledge", c->id, ndiv, NULL, after);
	json_decref(after);
	return rc;
}

int h_pledges_create(struct req *r)
{
	struct cw_err e = {0};
	if (jspec_check_or_reply(r, r->json, pledge_spec, 0) != 0)
		return 0;
	struct pl_ctx c = {r, &e, 0};
	if (db_txn_err(r->db, 1, create_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = pledge_load(r->db, &r->user, c.id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 201, j);
}

/* ---------- list ---------- */

static const char *const pledge_statuses[] = {"pledged", "shipped", "received", "cancelled", NULL};

int h_pledges_list(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	long limit, offset, need, offer;
	if (req_division_or_reply(r, "division", div) != 0 || req_paging_or_reply(r, 50, 1000, &limit, &offset) != 0 ||
	    req_query_long_or_reply(r, "need_id", 0, 0, INT32_MAX, &need) != 0 ||
	    req_query_long_or_reply(r, "offer_id", 0, 0, INT32_MAX, &offer) != 0)
		return 0;
	const char *status = req_query(r, "status");
	status = status ? status : "";
	int ok = !*status;
	for (int i = 0; pledge_statuses[i]; i++)
		ok |= !strcmp(status, pledge_statuses[i]);
	if (!ok)
		return reply_error(r, 400, "invalid_query", "查询参数 status 的取值无效", "status");
	int64_t partner = r->user.role == ROLE_PARTNER ? (r->user.partner_id ? r->user.partner_id : -1) : 0;
	int64_t inst = r->user.role == ROLE_REPORTER ? r->user.institution_id : 0;
	scope_range(div, lo, hi);
	/* a partner: its own pledges; everyone: inside the division asked for (default the scope) */
#define PLEDGE_WHERE                                                                                            \
	"WHERE ($1 = 0 OR p.partner_id = $1) AND p.division_code >= $2 AND p.division_code < $3 "                    \
	"AND ($4 = 0 OR n.institution_id = $4) AND ($5 = 0 OR p.need_id = $5) AND ($6 = 0 OR p.offer_id = $6) "      \
	"AND ($7 = '' OR p.status = $7) "
	db_stmt *st = db_prepare(r->db, "SELECT " PLEDGE_COLS PLEDGE_FROM PLEDGE_WHERE "ORDER BY p.id DESC LIMIT $8 OFFSET $9");
	int rc = st ? db_bindf(st, "IttIIItII", partner, lo, hi, inst, (int64_t)need, (int64_t)offer, status,
	                       (int64_t)limit, (int64_t)offset)
	            : DB_ERROR;
	json_t *items = json_array();
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, pledge_json(st));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	int64_t total = 0; /* all that match, not the page */
	rc = db_query_int64(r->db, &total, "SELECT COUNT(*) " PLEDGE_FROM PLEDGE_WHERE, "IttIIIt", partner, lo, hi, inst,
	                    (int64_t)need, (int64_t)offer, status);
	if (rc != DB_ROW) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)total));
}

/* ---------- ship, receive, cancel ---------- */

static const char *const patch_statuses[] = {"shipped", "received", "cancelled", NULL};
static const struct jfield pledge_patch_spec[] = {
    {"status", J_ENUM, 1, 0, 0, patch_statuses, "状态", 0},
    {"received_quantity", J_INT, 0, 0, 1000000000, NULL, "实收数量", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

static int patch_txn(db *d, void *vc)
{
	struct pl_ctx *c = vc;
	struct req *r = c->r;
	const struct user *u = &r->user;
	json_t *before = NULL;
	int rc = pledge_load(d, u, c->id, &before);
	if (rc == DB_DONE) {
		err_set(c->e, 404, "not_found", NULL, "未找到该认捐，或不在您的权限范围内");
		return DB_APP;
	}
	if (rc != DB_ROW)
		return rc;
	const char *to = jstr(r->json, "status"), *from = jstr(before, "status");
	int64_t q = json_integer_value(json_object_get(before, "quantity"));
	int64_t rq = jint(r->json, "received_quantity", q);
	const char *need_from = !strcmp(to, "received") ? "shipped" : "pledged";
	/* who: the partner ships or cancels its own; the institution receives;
	 * an official who matches does any of them */
	int official = (u->caps & CAP_MATCH) != 0, partner = u->role == ROLE_PARTNER, reporter = u->role == ROLE_REPORTER;
	int allowed = official || (partner && strcmp(to, "received") != 0) || (reporter && !strcmp(to, "received"));
	if (!allowed)
		err_set(c->e, 403, "forbidden", "status", "您不能将该认捐改为“%s”", need_label(to));
	else if (strcmp(from, need_from) != 0)
		err_set(c->e, 409, "invalid_transition", "status", "该认捐当前为“%s”，不能改为“%s”", need_label(from),
		        need_label(to));
	else if (json_object_get(r->json, "received_quantity") && strcmp(to, "received") != 0)
		err_set(c->e, 422, "invalid_value", "received_quantity", "只有到货时填写实收数量");
	else if (rq > q)
		err_set(c->e, 422, "invalid_value", "received_quantity", "实收数量不能超过认捐数量（%lld）", (long long)q);
	if (c->e->status) {
		json_decref(before);
		return DB_APP;
	}
	const char *col = !strcmp(to, "shipped") ? "shipped_at" : !strcmp(to, "received") ? "received_at" : "cancelled_at";
	char sql[300];
	snprintf(sql, sizeof sql,
	         "UPDATE pledges SET status = $1, received_quantity = $2, %s = $3, updated_at = $3 WHERE id = $4 "
	         "AND status = $5",
	         col);
	db_stmt *st = db_prepare(d, sql);
	rc = st ? db_bindf(st, "tnIIt", to, r->now, c->id, from) : DB_ERROR;
	if (rc == 0 && !strcmp(to, "received"))
		db_bind_int64(st, 2, rq);
	if (rc == 0 && (rc = db_step(st)) == DB_DONE && db_changes(st) == 0)
		rc = DB_APP; /* moved by someone else since we read it */
	db_reset(st);
	if (rc == DB_APP || rc == DB_CONSTRAINT) {
		err_set(c->e, 409, "invalid_transition", "status", "该认捐的状态已被他人更改，请刷新后重试");
		json_decref(before);
		return DB_APP;
	}
	if (rc != DB_DONE) {
		json_decref(before);
		return rc;
	}
	json_t *after = json_pack("{s:s}", "status", to);
	if (!strcmp(to, "received"))
		json_object_set_new(after, "received_quantity", json_integer(rq));
	json_t *bef = json_pack("{s:s}", "status", from);
	const char *act = !strcmp(to, "shipped") ? "pledge.ship" : !strcmp(to, "received") ? "pledge.receive" : "pledge.cancel";
	rc = audit_write_id(d, u, r->now, act, "pledge", c->id, jstr(before, "division_code"), bef, after);
	json_decref(after);
	json_decref(bef);
	json_decref(before);
	return rc;
}

int h_pledge_patch(struct req *r)
{
	int64_t id;
	struct cw_err e = {0};
	if (req_param_id_or_reply(r, 0, &id) != 0 || jspec_check_or_reply(r, r->json, pledge_patch_spec, 0) != 0)
		return 0;
	struct pl_ctx c = {r, &e, id};
	if (db_txn_err(r->db, 1, patch_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = pledge_load(r->db, &r->user, id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 200, j);
}
