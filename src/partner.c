/* partner.c — partners (慈善组织、社会工作机构、志愿者) and their offers.
 *
 * An official sees the partners and offers that serve some part of the scope:
 * their division lies inside the scope or contains it (a provincial charity
 * serves every county of the province). A partner user sees its own
 * organisation and offers only; reporters see neither. */
#include "audit.h"
#include "clock.h"
#include "division.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "need.h"
#include "scope.h"
#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {"charity", "social_work", "volunteer", NULL};

/* The five prefixes of a scope (national, province, city, county, itself). */
static void prefixes(const char *scope, char p[5][SCOPE_MAX])
{
	static const int lens[] = {0, 2, 4, 6, 9};
	for (int i = 0; i < 5; i++)
		snprintf(p[i], SCOPE_MAX, "%.*s", (int)strlen(scope) < lens[i] ? (int)strlen(scope) : lens[i], scope);
}

/* 1 if an official with scope u may see something serving division div (an
 * area inside the scope, or one that holds it). Reads only: an official
 * writes only what lies inside the scope. */
static int serves_scope(const struct user *u, const char *div)
{
	return scope_contains(u->scope, div) || scope_contains(div, u->scope);
}

static int refuse_reporter(struct req *r)
{
	if (r->user.role != ROLE_REPORTER)
		return 0;
	reply_forbidden(r);
	return -1;
}

/* ---------- partners ---------- */

#define PARTNER_COLS "p.id, p.name, p.kind, p.division_code, COALESCE(dv.name, ''), p.contact_name, p.contact_phone, p.created_at "
#define PARTNER_FROM "FROM partners p LEFT JOIN divisions dv ON dv.code = p.division_code "

static json_t *partner_json(db_stmt *st)
{
	const char *kind = db_column_text(st, 2);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)db_column_int64(st, 0), "name",
	                      db_column_text(st, 1), "kind", kind, "kind_label", need_label(kind), "division_code",
	                      db_column_text(st, 3), "division_name", db_column_text(st, 4), "contact_name",
	                      db_column_text(st, 5), "contact_phone", db_column_text(st, 6));
	json_object_set_new(j, "created_at", json_integer(db_column_int64(st, 7)));
	return j;
}

static int partner_visible(const struct user *u, int64_t id, const char *div)
{
	if (u->role == ROLE_PARTNER)
		return u->partner_id == id;
	if (u->role == ROLE_REPORTER)
		return 0;
	return serves_scope(u, div);
}

/* Loads a partner visible to u. DB_ROW (*out set), DB_DONE or an error. */
static int partner_load(db *d, const struct user *u, int64_t id, json_t **out)
{
	*out = NULL;
	db_stmt *st = db_prepare(d, "SELECT " PARTNER_COLS PARTNER_FROM "WHERE p.id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	if (rc == DB_ROW && partner_visible(u, id, db_column_text(st, 3)))
		*out = partner_json(st);
	db_reset(st);
	return rc == DB_ROW && !*out ? DB_DONE : rc;
}

static const struct jfield partner_spec[] = {
    {"name", J_STR, 1, 2, 100, NULL, "组织名称", 0},
    {"kind", J_ENUM, 1, 0, 0, kinds, "组织类型", 0},
    {"division_code", J_STR, 1, 0, 9, NULL, "服务区域", 0},
    {"contact_name", J_STR, 0, 0, 50, NULL, "联系人", 0},
    {"contact_phone", J_STR, 0, 0, 20, NULL, "联系电话", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

struct pctx {
	struct req *r;
	struct cw_err *e;
	int64_t id;
};

/* partner_create's transaction: u, now and the checked body instead of a
 * request. */
struct create_ctx {
	const struct user *u;
	int64_t now;
	json_t *body;
	struct cw_err *e;
	int64_t id;
};

/* A division code that exists (or "" national) and lies in u's scope. */
static int area_ok(db *d, const struct user *u, const char *div, const char *field, struct cw_err *e)
{
	int level = 0, rc = DB_ROW;
	if (*div)
		rc = code_shape_ok(div) ? division_exists(d, div, &level) : DB_DONE;
	if (rc == DB_DONE) {
		err_set(e, 422, "unknown_division", field, "行政区划代码不存在");
		return DB_APP;
	}
	if (rc != DB_ROW)
		return rc;
	if (!scope_contains(u->scope, div)) {
		err_set(e, 422, "out_of_scope", field, "服务区域不在您的管辖范围内");
		return DB_APP;
	}
	return 0;
}

static int partner_create_txn(db *d, void *vc)
{
	struct create_ctx *c = vc;
	json_t *b = c->body;
	const char *div = jstr(b, "division_code");
	int rc = area_ok(d, c->u, div, "division_code", c->e);
	if (rc != 0)
		return rc;
	int64_t other = 0;
	rc = db_query_int64(d, &other, "SELECT id FROM partners WHERE name = $1", "t", jstr(b, "name"));
	if (rc == DB_ROW) {
		err_set(c->e, 409, "partner_exists", "name", "该组织已登记");
		return DB_APP;
	}
	if (rc != DB_DONE)
		return rc;
	rc = db_query_int64(d, &c->id,
	                    "INSERT INTO partners(name, kind, division_code, contact_name, contact_phone, created_by, "
	                    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
	                    "ttttttI", jstr(b, "name"), jstr(b, "kind"), div,
	                    jstr(b, "contact_name") ? jstr(b, "contact_name") : "",
	                    jstr(b, "contact_phone") ? jstr(b, "contact_phone") : "", c->u->login, c->now);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	json_t *after = json_pack("{s:s,s:s,s:s}", "name", jstr(b, "name"), "kind", jstr(b, "kind"), "division_code", div);
	rc = audit_write_id(d, c->u->id ? c->u : NULL, c->now, "partner.create", "partner", c->id, div, NULL, after);
	json_decref(after);
	return rc;
}

int partner_create(db *d, const struct user *u, int64_t now, json_t *body, int64_t *id, struct cw_err *e)
{
	static const struct user cli = {.login = "cli", .role = ROLE_ADMIN, .scope = ""};
	memset(e, 0, sizeof *e);
	json_t *errs = jspec_check(body, partner_spec, 0);
	if (errs) {
		json_t *first = json_array_get(errs, 0);
		err_set(e, 422, json_string_value(json_object_get(first, "code")),
		        json_string_value(json_object_get(first, "field")), "%s",
		        json_string_value(json_object_get(first, "message")));
		json_decref(errs);
		return -1;
	}
	struct create_ctx c = {u ? u : &cli, now, body, e, 0};
	if (db_txn_err(d, 1, partner_create_txn, &c, e) != 0)
		return -1;
	*id = c.id;
	return 0;
}

int h_partners_create(struct req *r)
{
	struct cw_err e = {0};
	if (jspec_check_or_reply(r, r->json, partner_spec, 0) != 0)
		return 0;
	int64_t id = 0;
	if (partner_create(r->db, &r->user, r->now, r->json, &id, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = partner_load(r->db, &r->user, id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 201, j);
}

int h_partners_list(struct req *r)
{
	char p[5][SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	if (refuse_reporter(r) != 0)
		return 0;
	prefixes(r->user.scope, p);
	scope_range(r->user.scope, lo, hi);
	db_stmt *st = db_prepare(r->db, "SELECT " PARTNER_COLS PARTNER_FROM
	                                "WHERE ($1 > 0 AND p.id = $1 OR $1 = 0 AND (p.division_code >= $2 AND "
	                                "p.division_code < $3 OR p.division_code IN ($4, $5, $6, $7, $8))) ORDER BY p.id");
	int rc = st ? db_bindf(st, "Ittttttt", r->user.role == ROLE_PARTNER ? (r->user.partner_id ? r->user.partner_id : -1) : 0,
	                       lo, hi, p[0], p[1], p[2], p[3], p[4])
	            : DB_ERROR;
	json_t *items = json_array();
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, partner_json(st));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}

int h_partner_get(struct req *r)
{
	int64_t id;
	json_t *j;
	if (refuse_reporter(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0)
		return 0;
	int rc = partner_load(r->db, &r->user, id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 200, j);
}

/* ---------- offers ---------- */

#define OFFER_COLS                                                                                            \
	"o.id, o.partner_id, pa.name, o.item, it.name_zh, it.unit, o.quantity, o.pledged, o.division_code, "       \
	"COALESCE(dv.name, ''), o.available_from, o.note, o.status, o.created_at, o.updated_at, pa.division_code "
#define OFFER_FROM                                                                                            \
	"FROM offers o JOIN partners pa ON pa.id = o.partner_id JOIN items it ON it.code = o.item "                \
	"LEFT JOIN divisions dv ON dv.code = o.division_code "

static json_t *offer_json(db_stmt *st)
{
	const char *status = db_column_text(st, 12);
	int64_t q = db_column_int64(st, 6), pl = db_column_int64(st, 7);
	json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id",
	                      (json_int_t)db_column_int64(st, 0), "partner_id", (json_int_t)db_column_int64(st, 1),
	                      "partner_name", db_column_text(st, 2), "item", db_column_text(st, 3), "item_name",
	                      db_column_text(st, 4), "unit", db_column_text(st, 5), "quantity", (json_int_t)q, "pledged",
	                      (json_int_t)pl, "remaining", (json_int_t)(q - pl), "division_code", db_column_text(st, 8),
	                      "division_name", db_column_text(st, 9), "available_from", db_column_text(st, 10), "note",
	                      db_column_text(st, 11), "status", status, "status_label", need_label(status));
	json_object_set_new(j, "created_at", json_integer(db_column_int64(st, 13)));
	json_object_set_new(j, "updated_at", json_integer(db_column_int64(st, 14)));
	return j;
}

static int offer_visible(const struct user *u, int64_t partner_id, const char *div)
{
	if (u->role == ROLE_PARTNER)
		return u->partner_id == partner_id;
	if (u->role == ROLE_REPORTER)
		return 0;
	return serves_scope(u, div);
}

static int offer_load(db *d, const struct user *u, int64_t id, json_t **out)
{
	*out = NULL;
	db_stmt *st = db_prepare(d, "SELECT " OFFER_COLS OFFER_FROM "WHERE o.id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	if (rc == DB_ROW && offer_visible(u, db_column_int64(st, 1), db_column_text(st, 8))) {
		*out = offer_json(st);
		json_object_set_new(*out, "partner_division", json_string(db_column_text(st, 15)));
	}
	db_reset(st);
	return rc == DB_ROW && !*out ? DB_DONE : rc;
}

/* Who may write offers: the partner itself, or an official who matches (CAP_MATCH). */
static int offer_writer(const struct user *u)
{
	return u->role == ROLE_PARTNER ? (u->caps & CAP_OFFER) != 0 : (u->caps & CAP_MATCH) != 0;
}

static int date_ok(const char *s)
{
	int y, m, dd;
	return s && strlen(s) == 10 && date_parse(s, &y, &m, &dd) == 0;
}

static const struct jfield offer_spec[] = {
    {"partner_id", J_INT, 1, 1, INT64_MAX, NULL, "组织", 0},
    {"item", J_STR, 1, 1, 40, NULL, "物资", 0},
    {"quantity", J_INT, 1, 1, 1000000000, NULL, "数量", 0},
    {"division_code", J_STR, 1, 0, 9, NULL, "可服务区域", 0},
    {"available_from", J_STR, 1, 10, 10, NULL, "可提供日期", 0},
    {"note", J_STR, 0, 0, 500, NULL, "备注", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

static int offer_create_txn(db *d, void *vc)
{
	struct pctx *c = vc;
	struct req *r = c->r;
	json_t *b = r->json, *partner = NULL;
	const char *div = jstr(b, "division_code"), *item = jstr(b, "item");
	int rc = partner_load(d, &r->user, jint(b, "partner_id", 0), &partner);
	if (rc == DB_DONE) {
		err_set(c->e, 404, "not_found", "partner_id", "未找到该组织，或不在您的权限范围内");
		return DB_APP;
	}
	if (rc != DB_ROW)
		return rc;
	/* the partner's own area bounds the offer; an official's scope too */
	int level = 0;
	rc = !*div ? DB_ROW : code_shape_ok(div) ? division_exists(d, div, &level) : DB_DONE;
	if (rc == DB_DONE)
		err_set(c->e, 422, "unknown_division", "division_code", "行政区划代码不存在");
	else if (rc == DB_ROW && !scope_contains(jstr(partner, "division_code"), div))
		err_set(c->e, 422, "out_of_area", "division_code", "可服务区域须在该组织的服务区域内");
	else if (rc == DB_ROW && r->user.role != ROLE_PARTNER && !scope_contains(r->user.scope, div))
		err_set(c->e, 422, "out_of_scope", "division_code", "可服务区域不在您的管辖范围内");
	else if (rc == DB_ROW && item_find(d, item, NULL, NULL) == DB_DONE)
		err_set(c->e, 422, "unknown_item", "item", "物资目录中没有该物资：%s", item);
	json_decref(partner);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (c->e->status)
		return DB_APP;
	rc = db_query_int64(d, &c->id,
	                    "INSERT INTO offers(partner_id, item, quantity, division_code, available_from, note, created_by, "
	                    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
	                    "ItItttTI", (int64_t)jint(b, "partner_id", 0), item, (int64_t)jint(b, "quantity", 0), div,
	                    jstr(b, "available_from"), jstr(b, "note") ? jstr(b, "note") : "", r->user.login, r->now);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	json_t *after = json_pack("{s:I,s:s,s:I,s:s,s:s}", "partner_id", (json_int_t)jint(b, "partner_id", 0), "item", item,
	                          "quantity", (json_int_t)jint(b, "quantity", 0), "division_code", div, "available_from",
	                          jstr(b, "available_from"));
	rc = audit_write_id(d, &r->user, r->now, "offer.create", "offer", c->id, div, NULL, after);
	json_decref(after);
	return rc;
}

int h_offers_create(struct req *r)
{
	struct cw_err e = {0};
	if (!offer_writer(&r->user))
		return reply_forbidden(r);
	if (jspec_check_or_reply(r, r->json, offer_spec, 0) != 0)
		return 0;
	if (!date_ok(jstr(r->json, "available_from")))
		return reply_error(r, 422, "invalid_date", "可提供日期应为 YYYY-MM-DD 格式的真实日期", "available_from");
	struct pctx c = {r, &e, 0};
	if (db_txn_err(r->db, 1, offer_create_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = offer_load(r->db, &r->user, c.id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 201, j);
}

int h_offers_list(struct req *r)
{
	char p[5][SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX], div[SCOPE_MAX];
	long limit, offset, partner;
	if (refuse_reporter(r) != 0 || req_paging_or_reply(r, 50, 1000, &limit, &offset) != 0 ||
	    req_query_long_or_reply(r, "partner_id", 0, 0, INT32_MAX, &partner) != 0 ||
	    req_division_or_reply(r, "division", div) != 0)
		return 0;
	const char *item = req_query(r, "item"), *status = req_query(r, "status");
	item = item ? item : "";
	status = status ? status : "";
	if (*status && strcmp(status, "open") && strcmp(status, "withdrawn"))
		return reply_error(r, 400, "invalid_query", "查询参数 status 的取值无效", "status");
	if (r->user.role == ROLE_PARTNER)
		partner = r->user.partner_id ? r->user.partner_id : -1;
	/* offers serving div (the caller's scope, or ?division= inside it): placed
	 * in it, or in one of the areas above it */
	prefixes(div, p);
	scope_range(div, lo, hi);
#define OFFER_WHERE                                                                                             \
	"WHERE ($1 <> 0 AND o.partner_id = $1 OR $1 = 0 AND (o.division_code >= $2 AND o.division_code < $3 OR "     \
	"o.division_code IN ($4, $5, $6, $7, $8))) AND ($9 = '' OR o.item = $9) AND ($10 = '' OR o.status = $10) "
	db_stmt *st = db_prepare(r->db, "SELECT " OFFER_COLS OFFER_FROM OFFER_WHERE "ORDER BY o.id DESC LIMIT $11 OFFSET $12");
	int rc = st ? db_bindf(st, "Ittttttttt" "II", (int64_t)partner, lo, hi, p[0], p[1], p[2], p[3], p[4], item, status,
	                       (int64_t)limit, (int64_t)offset)
	            : DB_ERROR;
	json_t *items = json_array();
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, offer_json(st));
	db_reset(st);
	int64_t total = 0; /* all that match, not the page */
	if (rc == DB_DONE) {
		int qrc = db_query_int64(r->db, &total, "SELECT COUNT(*) " OFFER_FROM OFFER_WHERE, "Ittttttttt", (int64_t)partner,
		                         lo, hi, p[0], p[1], p[2], p[3], p[4], item, status);
		rc = qrc == DB_ROW ? DB_DONE : qrc;
	}
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)total));
}

static const char *const offer_statuses[] = {"open", "withdrawn", NULL};
static const struct jfield offer_patch_spec[] = {
    {"quantity", J_INT, 0, 1, 1000000000, NULL, "数量", 0},
    {"available_from", J_STR, 0, 10, 10, NULL, "可提供日期", 0},
    {"note", J_STR, 0, 0, 500, NULL, "备注", 0},
    {"status", J_ENUM, 0, 0, 0, offer_statuses, "状态", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

static int offer_patch_txn(db *d, void *vc)
{
	struct pctx *c = vc;
	struct req *r = c->r;
	json_t *b = r->json, *before = NULL;
	int rc = db_lock_row(d, "offers", c->id); /* read, then written back */
	if (rc == 0)
		rc = offer_load(d, &r->user, c->id, &before);
	if (rc == DB_DONE) {
		err_set(c->e, 404, "not_found", NULL, "未找到该捐赠意向，或不在您的权限范围内");
		return DB_APP;
	}
	if (rc != DB_ROW)
		return rc;
	if (r->user.role != ROLE_PARTNER && !scope_contains(r->user.scope, jstr(before, "division_code"))) {
		/* a wider offer (a province's, the nation's) is visible to a county, not its to change */
		err_set(c->e, 403, "out_of_scope", "division_code", "该捐赠意向的服务区域超出您的管辖范围，只能查看");
		json_decref(before);
		return DB_APP;
	}
	int64_t q = jint(b, "quantity", json_integer_value(json_object_get(before, "quantity")));
	int64_t pledged = json_integer_value(json_object_get(before, "pledged"));
	if (q < pledged) {
		err_set(c->e, 409, "below_pledged", "quantity", "数量不能少于已认捐数量（%lld）", (long long)pledged);
		json_decref(before);
		return DB_APP;
	}
	const char *af = jstr(b, "available_from") ? jstr(b, "available_from") : jstr(before, "available_from");
	const char *note = jstr(b, "note") ? jstr(b, "note") : jstr(before, "note");
	const char *status = jstr(b, "status") ? jstr(b, "status") : jstr(before, "status");
	int64_t n = db_run(d, "UPDATE offers SET quantity = $1, available_from = $2, note = $3, status = $4, updated_at = $5 "
	                      "WHERE id = $6",
	                   "ItttII", q, af, note, status, r->now, c->id);
	if (n < 0) {
		json_decref(before);
		return (int)n;
	}
	json_t *after = json_pack("{s:I,s:s,s:s}", "quantity", (json_int_t)q, "available_from", af, "status", status);
	json_t *bef = json_pack("{s:O,s:O,s:O}", "quantity", json_object_get(before, "quantity"), "available_from",
	                        json_object_get(before, "available_from"), "status", json_object_get(before, "status"));
	rc = audit_write_id(d, &r->user, r->now, "offer.update", "offer", c->id, jstr(before, "division_code"), bef, after);
	json_decref(after);
	json_decref(bef);
	json_decref(before);
	return rc;
}

int h_offer_patch(struct req *r)
{
	int64_t id;
	struct cw_err e = {0};
	if (!offer_writer(&r->user))
		return reply_forbidden(r);
	if (req_param_id_or_reply(r, 0, &id) != 0 || jspec_check_or_reply(r, r->json, offer_patch_spec, 1) != 0)
		return 0;
	if (json_object_size(r->json) == 0)
		return reply_error(r, 422, "nothing_to_change", "请求中没有要修改的内容", NULL);
	if (jstr(r->json, "available_from") && !date_ok(jstr(r->json, "available_from")))
		return reply_error(r, 422, "invalid_date", "可提供日期应为 YYYY-MM-DD 格式的真实日期", "available_from");
	struct pctx c = {r, &e, id};
	if (db_txn_err(r->db, 1, offer_patch_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = offer_load(r->db, &r->user, id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 200, j);
}

int partner_exists(db *d, int64_t id, char *division)
{
	db_stmt *st = db_prepare(d, "SELECT division_code FROM partners WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	if (rc == DB_ROW && division)
		cw_strlcpy(division, db_column_text(st, 0), SCOPE_MAX);
	db_reset(st);
	return rc;
}
