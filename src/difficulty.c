/* difficulty.c — difficulties (困难问题): raise, list with counts by category
 * and division, edit, respond, move open → coordinating → resolved. */
#include "audit.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "need.h"
#include "scope.h"
#include <string.h>

static const char *const categories[] = {"medical", "drugs", "supplies", "staff", "funds", "other", NULL};
static const char *const statuses[] = {"open", "coordinating", "resolved", NULL};

#define DIFF_COLS                                                                                             \
	"f.id, f.institution_id, i.name, f.division_code, f.category, f.text, f.status, f.response, f.created_by, " \
	"f.created_at, f.updated_at, f.version FROM difficulties f JOIN institutions i ON i.id = f.institution_id "

static json_t *diff_json(db_stmt *st)
{
	const char *cat = db_column_text(st, 4), *status = db_column_text(st, 6);
	json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)db_column_int64(st, 0),
	                      "institution_id", (json_int_t)db_column_int64(st, 1), "institution_name", db_column_text(st, 2),
	                      "division_code", db_column_text(st, 3), "category", cat, "category_label", need_label(cat),
	                      "text", db_column_text(st, 5), "status", status, "status_label", need_label(status),
	                      "response", db_column_text(st, 7), "created_by", db_column_text(st, 8));
	json_object_set_new(j, "created_at", json_integer(db_column_int64(st, 9)));
	json_object_set_new(j, "updated_at", json_integer(db_column_int64(st, 10)));
	json_object_set_new(j, "version", json_integer(db_column_int64(st, 11)));
	return j;
}

static int diff_load(db *d, const struct user *u, int64_t id, json_t **out)
{
	*out = NULL;
	db_stmt *st = db_prepare(d, "SELECT " DIFF_COLS "WHERE f.id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	if (rc == DB_ROW && need_visible(u, db_column_int64(st, 1), db_column_text(st, 3)))
		*out = diff_json(st);
	db_reset(st);
	return rc == DB_ROW && !*out ? DB_DONE : rc;
}

/* Difficulties may name people and money: not for partners. */
static int refuse_partner(struct req *r)
{
	if (r->user.role != ROLE_PARTNER)
		return 0;
	reply_forbidden(r);
	return -1;
}

static const struct jfield diff_spec[] = {
    {"institution_id", J_INT, 1, 1, INT64_MAX, NULL, "机构", 0},
    {"category", J_ENUM, 1, 0, 0, categories, "问题类别", 0},
    {"text", J_STR, 1, 2, 1000, NULL, "问题描述", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

struct diff_ctx {
	struct req *r;
	struct cw_err *e;
	int64_t id;
};

static int create_txn(db *d, void *vc)
{
	struct diff_ctx *c = vc;
	json_t *b = c->r->json;
	int64_t inst = jint(b, "institution_id", 0);
	char division[SCOPE_MAX] = "";
	int rc = inst_for_need(d, &c->r->user, inst, division, c->e);
	if (rc != 0)
		return rc;
	rc = db_query_int64(d, &c->id,
	                    "INSERT INTO difficulties(institution_id, division_code, category, text, created_by, created_at, "
	                    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
	                    "ItttTI", inst, division, jstr(b, "category"), jstr(b, "text"), c->r->user.login, c->r->now);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	json_t *after = json_pack("{s:I,s:s,s:s}", "institution_id", (json_int_t)inst, "category", jstr(b, "category"),
	                          "text", jstr(b, "text"));
	rc = audit_write_id(d, &c->r->user, c->r->now, "difficulty.create", "difficulty", c->id, division, NULL, after);
	json_decref(after);
	return rc;
}

int h_difficulties_create(struct req *r)
{
	struct cw_err e = {0};
	if (jspec_check_or_reply(r, r->json, diff_spec, 0) != 0)
		return 0;
	struct diff_ctx c = {r, &e, 0};
	if (db_txn_err(r->db, 1, create_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = diff_load(r->db, &r->user, c.id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 201, j);
}

static int in_list(const char *const *l, const char *v)
{
	for (; *l; l++)
		if (!strcmp(*l, v))
			return 1;
	return 0;
}

#define DIFF_WHERE                                                                                            \
	"WHERE f.division_code >= $1 AND f.division_code < $2 AND ($3 = '' OR f.category = $3) "                  \
	"AND ($4 = '' OR f.status = $4) AND ($5 = 0 OR f.institution_id = $5) "

int h_difficulties_list(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	long limit, offset;
	if (refuse_partner(r) != 0 || req_division_or_reply(r, "division", div) != 0 ||
	    req_paging_or_reply(r, 50, 500, &limit, &offset) != 0)
		return 0;
	const char *cat = req_query(r, "category"), *status = req_query(r, "status");
	cat = cat ? cat : "";
	status = status ? status : "";
	if (*cat && !in_list(categories, cat))
		return reply_error(r, 400, "invalid_query", "查询参数 category 的取值无效", "category");
	if (*status && !in_list(statuses, status))
		return reply_error(r, 400, "invalid_query", "查询参数 status 的取值无效", "status");
	int64_t only = r->user.role == ROLE_REPORTER ? r->user.institution_id : 0;
	scope_range(div, lo, hi);
	int64_t total = 0;
	int rc = db_query_int64(r->db, &total, "SELECT COUNT(*) FROM difficulties f " DIFF_WHERE, "ttttI", lo, hi, cat,
	                        status, only);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	json_t *items = json_array(), *by_cat = json_object(), *by_div = json_array();
	db_stmt *st = db_prepare(r->db, "SELECT " DIFF_COLS DIFF_WHERE "ORDER BY f.id DESC LIMIT $6 OFFSET $7");
	rc = st ? db_bindf(st, "ttttIII", lo, hi, cat, status, only, (int64_t)limit, (int64_t)offset) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, diff_json(st));
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	/* counts of the unresolved, by category and by the next division level */
	st = db_prepare(r->db, "SELECT f.category, COUNT(*) FROM difficulties f WHERE f.division_code >= $1 "
	                       "AND f.division_code < $2 AND ($3 = 0 OR f.institution_id = $3) AND f.status <> 'resolved' "
	                       "GROUP BY f.category");
	rc = st ? db_bindf(st, "ttI", lo, hi, only) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_object_set_new(by_cat, db_column_text(st, 0), json_integer(db_column_int64(st, 1)));
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	size_t dl = strlen(div);
	int len = dl == 0 ? 2 : dl == 2 ? 4 : dl == 4 ? 6 : 9;
	st = db_prepare(r->db, "SELECT g.code, COALESCE(dv.name, ''), g.k, g.o FROM (SELECT substr(f.division_code, 1, $4) "
	                       "AS code, COUNT(*) AS k, SUM(CASE WHEN f.status = 'open' THEN 1 ELSE 0 END) AS o "
	                       "FROM difficulties f WHERE f.division_code >= $1 AND f.division_code < $2 "
	                       "AND ($3 = 0 OR f.institution_id = $3) AND f.status <> 'resolved' "
	                       "GROUP BY substr(f.division_code, 1, $4)) g LEFT JOIN divisions dv ON dv.code = g.code "
	                       "ORDER BY g.code");
	rc = st ? db_bindf(st, "ttIi", lo, hi, only, len) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(by_div, json_pack("{s:s,s:s,s:I,s:I}", "code", db_column_text(st, 0), "name",
		                                        db_column_text(st, 1), "unresolved", (json_int_t)db_column_int64(st, 2),
		                                        "open", (json_int_t)db_column_int64(st, 3)));
	db_reset(st);
	if (rc != DB_DONE)
		goto fail;
	return reply_json(r, 200, json_pack("{s:o,s:I,s:{s:o,s:o}}", "items", items, "total", (json_int_t)total, "counts",
	                                    "by_category", by_cat, "by_division", by_div));
fail:
	json_decref(items);
	json_decref(by_cat);
	json_decref(by_div);
	return reply_db_error(r, rc == DB_ROW ? DB_ERROR : rc);
}

static const struct jfield diff_patch_spec[] = {
    {"category", J_ENUM, 0, 0, 0, categories, "问题类别", 0},
    {"text", J_STR, 0, 2, 1000, NULL, "问题描述", 0},
    {"status", J_ENUM, 0, 0, 0, statuses, "处理状态", 0},
    {"response", J_STR, 0, 0, 1000, NULL, "答复", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

static int status_rank(const char *s)
{
	return !strcmp(s, "open") ? 0 : !strcmp(s, "coordinating") ? 1 : 2;
}

static int patch_txn(db *d, void *vc)
{
	struct diff_ctx *c = vc;
	struct req *r = c->r;
	json_t *b = r->json, *before = NULL;
	int rc = db_lock_row(d, "difficulties", c->id); /* read, then written back */
	if (rc == 0)
		rc = diff_load(d, &r->user, c->id, &before);
	if (rc == DB_DONE) {
		err_set(c->e, 404, "not_found", NULL, "未找到该问题，或不在您的权限范围内");
		return DB_APP;
	}
	if (rc != DB_ROW)
		return rc;
	const char *old_status = jstr(before, "status"), *status = jstr(b, "status") ? jstr(b, "status") : old_status;
	/* the department responds and moves the status; the institution edits its own text */
	int official = r->user.role != ROLE_REPORTER;
	if (!official && (jstr(b, "status") || jstr(b, "response"))) {
		err_set(c->e, 403, "forbidden", "status", "处理状态和答复由民政部门填写");
		rc = DB_APP;
	} else if (status_rank(status) < status_rank(old_status)) {
		err_set(c->e, 409, "invalid_transition", "status", "处理状态只能向前推进：待处理 → 协调中 → 已解决");
		rc = DB_APP;
	} else if (!official && !strcmp(old_status, "resolved")) {
		err_set(c->e, 409, "resolved", NULL, "该问题已解决，不能再修改");
		rc = DB_APP;
	}
	if (rc == DB_APP)
		goto cleanup;
	const char *cat = jstr(b, "category") ? jstr(b, "category") : jstr(before, "category");
	const char *text = jstr(b, "text") ? jstr(b, "text") : jstr(before, "text");
	const char *resp = jstr(b, "response") ? jstr(b, "response") : jstr(before, "response");
	int64_t n = db_run(d, "UPDATE difficulties SET category = $1, text = $2, status = $3, response = $4, "
	                      "updated_at = $5, version = version + 1 WHERE id = $6",
	                   "ttttII", cat, text, status, resp, r->now, c->id);
	if (n < 0) {
		rc = (int)n;
		goto cleanup;
	}
	json_t *after = json_pack("{s:s,s:s,s:s,s:s}", "category", cat, "text", text, "status", status, "response", resp);
	json_t *bef = json_pack("{s:O,s:O,s:O,s:O}", "category", json_object_get(before, "category"), "text",
	                        json_object_get(before, "text"), "status", json_object_get(before, "status"), "response",
	                        json_object_get(before, "response"));
	rc = audit_write_id(d, &r->user, r->now, jstr(b, "response") ? "difficulty.respond" : "difficulty.update",
	                    "difficulty", c->id, jstr(before, "division_code"), bef, after);
	json_decref(after);
	json_decref(bef);
cleanup:
	json_decref(before);
	return rc;
}

int h_difficulty_patch(struct req *r)
{
	int64_t id;
	struct cw_err e = {0};
	if (refuse_partner(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0 ||
	    jspec_check_or_reply(r, r->json, diff_patch_spec, 1) != 0)
		return 0;
	if (json_object_size(r->json) == 0)
		return reply_error(r, 422, "nothing_to_change", "请求中没有要修改的内容", NULL);
	struct diff_ctx c = {r, &e, id};
	if (db_txn_err(r->db, 1, patch_txn, &c, &e) != 0)
		return reply_err(r, &e);
	json_t *j;
	int rc = diff_load(r->db, &r->user, id, &j);
	if (rc != DB_ROW)
		return rc == DB_DONE ? reply_not_found(r) : reply_db_error(r, rc);
	return reply_json(r, 200, j);
}
