/* user.c — user accounts: rules, the /api/v1/users handlers. */
#include "user.h"
#include "need.h"
#include "audit.h"
#include "division.h"
#include "http.h"
#include "jspec.h"
#include "log.h"
#include "scope.h"
#include <stdio.h>
#include <string.h>

static const struct {
	unsigned cap;
	const char *name;
} cap_names[] = {
    {CAP_USERS, "users"},           {CAP_INST_READ, "institutions.read"}, {CAP_INST_WRITE, "institutions.write"},
    {CAP_EXPORT, "export"},         {CAP_REPORT_SUBMIT, "reports.submit"}, {CAP_REPORT_READ, "reports.read"},
    {CAP_REPORT_REVIEW, "reports.review"}, {CAP_PERSON_READ, "persons.read"}, {CAP_PERSON_WRITE, "persons.write"},
    {CAP_NEED_READ, "needs.read"},  {CAP_NEED_WRITE, "needs.write"},      {CAP_MATCH, "matching"},
    {CAP_OFFER, "offers"},          {CAP_AUDIT, "audit"},                 {CAP_TEMPLATE, "templates"},
    {CAP_PII, "pii"},
};

json_t *caps_json(unsigned caps)
{
	json_t *a = json_array();
	for (size_t i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
		if (caps & cap_names[i].cap)
			json_array_append_new(a, json_string(cap_names[i].name));
	return a;
}

json_t *user_json(const struct user *u)
{
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:b,s:o}", "id", (json_int_t)u->id, "login", u->login, "name",
	                      u->name, "role", role_name(u->role), "role_label", role_label(u->role), "scope", u->scope,
	                      "pii", u->pii, "caps", caps_json(u->caps));
	json_object_set_new(j, "institution_id", u->institution_id ? json_integer(u->institution_id) : json_null());
	json_object_set_new(j, "partner_id", u->partner_id ? json_integer(u->partner_id) : json_null());
	return j;
}

static int login_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_' || *p == '-' || *p == '@'))
			return 0;
	return 1;
}

int user_find_login(db *d, const char *login, int64_t *id)
{
	return db_query_int64(d, id, "SELECT id FROM users WHERE login = $1", "t", login);
}

struct create_ctx {
	const struct user *creator;
	const struct user_input *in;
	int64_t now;
	const char *hash;
	int64_t id;
	struct cw_err *e;
};

/* Checks everything that needs the database; fills the effective scope. */
static int create_check(db *d, struct create_ctx *c, char *scope)
{
	const struct user_input *in = c->in;
	const char *creator_scope = c->creator ? c->creator->scope : "";
	int64_t n = 0;
	int rc = user_find_login(d, in->login, &n);
	if (rc == DB_ROW) {
		err_set(c->e, 409, "login_taken", "login", "登录名已被使用");
		return DB_APP;
	}
	if (rc != DB_DONE)
		return rc;
	enum role role = role_parse(in->role);
	if (role == ROLE_REPORTER) {
		char idiv[SCOPE_MAX] = "";
		if (in->institution_id <= 0) {
			err_set(c->e, 422, "required", "institution_id", "机构填报员必须指定所属机构");
			return DB_APP;
		}
		db_stmt *st = db_prepare(d, "SELECT division_code FROM institutions WHERE id = $1");
		if (!st)
			return DB_ERROR;
		db_bindf(st, "I", in->institution_id);
		rc = db_step(st);
		if (rc == DB_ROW)
			cw_strlcpy(idiv, db_column_text(st, 0), sizeof idiv);
		db_reset(st);
		if (rc == DB_DONE || (rc == DB_ROW && !scope_contains(creator_scope, idiv))) {
			err_set(c->e, 422, "invalid_institution", "institution_id", "所属机构不存在或不在您的管辖范围内");
			return DB_APP;
		}
		if (rc != DB_ROW)
			return rc;
		cw_strlcpy(scope, idiv, SCOPE_MAX);
		return 0;
	}
	if (in->institution_id) {
		err_set(c->e, 422, "invalid_institution", "institution_id", "只有机构填报员可以指定所属机构");
		return DB_APP;
	}
	cw_strlcpy(scope, in->scope ? in->scope : "", SCOPE_MAX);
	if (!code_shape_ok(scope)) {
		err_set(c->e, 422, "invalid_scope", "scope", "管辖范围应为行政区划代码（2、4、6 或 9 位数字，全国为空）");
		return DB_APP;
	}
	if (!scope_contains(creator_scope, scope)) {
		err_set(c->e, 403, "scope_exceeded", "scope", "不能创建超出您管辖范围的用户");
		return DB_APP;
	}
	if (*scope) {
		rc = division_exists(d, scope, NULL);
		if (rc == DB_DONE) {
			err_set(c->e, 422, "unknown_division", "scope", "行政区划代码不存在：%s", scope);
			return DB_APP;
		}
		if (rc != DB_ROW)
			return rc;
	}
	/* a partner user belongs to an organisation that exists, inside its area */
	if (role == ROLE_PARTNER) {
		char pdiv[SCOPE_MAX] = "";
		rc = in->partner_id > 0 ? partner_exists(d, in->partner_id, pdiv) : DB_DONE;
		if (rc == DB_DONE) {
			err_set(c->e, 422, "invalid_partner", "partner_id", "合作组织不存在（请先登记组织并指定其编号）");
			return DB_APP;
		}
		if (rc != DB_ROW)
			return rc;
		if (!scope_contains(pdiv, scope)) {
			err_set(c->e, 422, "scope_exceeded", "scope", "合作组织用户的范围须在该组织的服务区域内");
			return DB_APP;
		}
	} else if (in->partner_id) {
		err_set(c->e, 422, "invalid_partner", "partner_id", "只有合作组织用户可以指定所属组织");
		return DB_APP;
	}
	return 0;
}

static int create_txn(db *d, void *vc)
{
	struct create_ctx *c = vc;
	const struct user_input *in = c->in;
	char scope[SCOPE_MAX];
	int rc = create_check(d, c, scope);
	if (rc != 0)
		return rc;
	db_stmt *st = db_prepare(d, "INSERT INTO users(login, name, role, scope, institution_id, partner_id, pii, "
	                            "password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) "
	                            "RETURNING id");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "tttt", in->login, in->name ? in->name : "", in->role, scope);
	if (in->institution_id)
		db_bind_int64(st, 5, in->institution_id);
	else
		db_bind_null(st, 5);
	if (in->partner_id)
		db_bind_int64(st, 6, in->partner_id);
	else
		db_bind_null(st, 6);
	db_bind_int64(st, 7, in->pii ? 1 : 0);
	db_bind_text(st, 8, c->hash);
	db_bind_int64(st, 9, c->now);
	rc = db_step(st);
	if (rc == DB_ROW)
		c->id = db_column_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	json_t *after = json_pack("{s:s,s:s,s:s,s:s,s:b}", "login", in->login, "name", in->name ? in->name : "", "role",
	                          in->role, "scope", scope, "pii", in->pii);
	if (in->institution_id)
		json_object_set_new(after, "institution_id", json_integer(in->institution_id));
	if (in->partner_id)
		json_object_set_new(after, "partner_id", json_integer(in->partner_id));
	rc = audit_write_id(d, c->creator, c->now, "user.create", "user", c->id, scope, NULL, after);
	json_decref(after);
	return rc;
}

int user_create(db *d, const struct user *creator, int64_t now, const struct user_input *in, int64_t *id_out,
                struct cw_err *e)
{
	char hash[128];
	const char *pmsg;
	memset(e, 0, sizeof *e);
	if (!in->login || !login_ok(in->login)) {
		err_set(e, 422, "invalid_login", "login", "登录名应为 3-64 个字母、数字或 . _ - @");
		return -1;
	}
	if (role_parse(in->role) == ROLE_NONE) {
		err_set(e, 422, "invalid_role", "role", "角色无效（admin、official、leader、reporter、worker、partner）");
		return -1;
	}
	if (in->pii && creator && !creator->pii) {
		err_set(e, 403, "pii_not_grantable", "pii", "您本人没有个人信息查看权限，不能授予他人");
		return -1;
	}
	if (!in->password || password_policy(in->password, &pmsg) != 0) {
		err_set(e, 422, "weak_password", "password", "%s", in->password ? pmsg : "密码为必填项");
		return -1;
	}
	if (password_hash(in->password, hash) != 0) {
		err_set(e, 500, "internal", NULL, "密码处理失败");
		return -1;
	}
	struct create_ctx c = {creator, in, now, hash, 0, e};
	if (db_txn_err(d, 1, create_txn, &c, e) != 0)
		return -1;
	*id_out = c.id;
	return 0;
}

struct flag_ctx {
	const struct user *actor;
	int64_t now, id;
	int disabled;
	const char *hash;
	struct cw_err *e;
};

/* Loads the target's scope, refusing users outside the actor's scope. */
static int target_in_scope(db *d, struct flag_ctx *c, char *scope)
{
	db_stmt *st = db_prepare(d, "SELECT scope FROM users WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", c->id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		cw_strlcpy(scope, db_column_text(st, 0), SCOPE_MAX);
	db_reset(st);
	if (rc == DB_DONE || (rc == DB_ROW && c->actor && !scope_contains(c->actor->scope, scope))) {
		err_set(c->e, 404, "not_found", NULL, "未找到该用户，或不在您的管辖范围内");
		return DB_APP;
	}
	return rc == DB_ROW ? 0 : rc;
}

static int end_sessions(db *d, int64_t id, int tokens_too)
{
	int64_t n = db_run(d, "DELETE FROM sessions WHERE user_id = $1", "I", id);
	if (n >= 0 && tokens_too)
		n = db_run(d, "UPDATE tokens SET revoked = 1 WHERE user_id = $1", "I", id);
	return n < 0 ? (int)n : 0;
}

static int passwd_txn(db *d, void *vc)
{
	struct flag_ctx *c = vc;
	char scope[SCOPE_MAX];
	int rc = target_in_scope(d, c, scope);
	if (rc != 0)
		return rc;
	int64_t n = db_run(d, "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = 0, updated_at = $2 "
	                      "WHERE id = $3", "tII", c->hash, c->now, c->id);
	if (n < 0)
		return (int)n;
	if ((rc = end_sessions(d, c->id, 0)) != 0)
		return rc;
	return audit_write_id(d, c->actor, c->now, "user.password", "user", c->id, scope, NULL, NULL);
}

int user_set_password(db *d, const struct user *actor, int64_t now, int64_t id, const char *password,
                      struct cw_err *e)
{
	char hash[128];
	const char *pmsg;
	memset(e, 0, sizeof *e);
	if (password_policy(password, &pmsg) != 0) {
		err_set(e, 422, "weak_password", "password", "%s", pmsg);
		return -1;
	}
	if (password_hash(password, hash) != 0) {
		err_set(e, 500, "internal", NULL, "密码处理失败");
		return -1;
	}
	struct flag_ctx c = {actor, now, id, 0, hash, e};
	if (db_txn_err(d, 1, passwd_txn, &c, e) != 0)
		return -1;
	return 0;
}

static int disable_txn(db *d, void *vc)
{
	struct flag_ctx *c = vc;
	char scope[SCOPE_MAX];
	int rc = target_in_scope(d, c, scope);
	if (rc != 0)
		return rc;
	int64_t n = db_run(d, "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3", "iII", c->disabled,
	                   c->now, c->id);
	if (n < 0)
		return (int)n;
	if (c->disabled && (rc = end_sessions(d, c->id, 1)) != 0)
		return rc;
	json_t *after = json_pack("{s:b}", "disabled", c->disabled);
	rc = audit_write_id(d, c->actor, c->now, c->disabled ? "user.disable" : "user.enable", "user", c->id, scope,
	                    NULL, after);
	json_decref(after);
	return rc;
}

int user_set_disabled(db *d, const struct user *actor, int64_t now, int64_t id, int disabled, struct cw_err *e)
{
	memset(e, 0, sizeof *e);
	struct flag_ctx c = {actor, now, id, disabled, NULL, e};
	if (db_txn_err(d, 1, disable_txn, &c, e) != 0)
		return -1;
	return 0;
}

/* ---------- HTTP handlers ---------- */

#define USER_LIST_COLS                                                                                            \
	"id, login, name, role, scope, COALESCE(institution_id, 0), COALESCE(partner_id, 0), pii, disabled, "      \
	"locked_until, created_at"

static json_t *row_json(db_stmt *st, int64_t now)
{
	enum role role = role_parse(db_column_text(st, 3));
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:I}", "id", (json_int_t)db_column_int64(st, 0),
	                      "login", db_column_text(st, 1), "name", db_column_text(st, 2), "role", role_name(role),
	                      "role_label", role_label(role), "scope", db_column_text(st, 4), "pii",
	                      (int)db_column_int64(st, 7), "disabled", (int)db_column_int64(st, 8), "locked",
	                      db_column_int64(st, 9) > now, "created_at", (json_int_t)db_column_int64(st, 10));
	int64_t inst = db_column_int64(st, 5), partner = db_column_int64(st, 6);
	json_object_set_new(j, "institution_id", inst ? json_integer(inst) : json_null());
	json_object_set_new(j, "partner_id", partner ? json_integer(partner) : json_null());
	return j;
}

int h_users_list(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	long limit, offset;
	int64_t total = 0;
	if (req_division_or_reply(r, "division", div) != 0 || req_paging_or_reply(r, 50, 500, &limit, &offset) != 0)
		return 0;
	scope_range(div, lo, hi);
	int rc = db_query_int64(r->db, &total, "SELECT COUNT(*) FROM users WHERE scope >= $1 AND scope < $2", "tt", lo, hi);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	db_stmt *st = db_prepare(r->db, "SELECT " USER_LIST_COLS " FROM users WHERE scope >= $1 AND scope < $2 "
	                                "ORDER BY id LIMIT $3 OFFSET $4");
	if (!st)
		return reply_db_error(r, DB_ERROR);
	json_t *items = json_array();
	db_bindf(st, "ttII", lo, hi, (int64_t)limit, (int64_t)offset);
	while ((rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, row_json(st, r->now));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)total));
}

/* Loads one user row in the caller's scope into *out (new JSON); replies 404. */
static int user_row_or_reply(struct req *r, int64_t id, json_t **out)
{
	db_stmt *st = db_prepare(r->db, "SELECT " USER_LIST_COLS " FROM users WHERE id = $1");
	if (!st)
		return reply_db_error(r, DB_ERROR), -1;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	if (rc == DB_ROW && scope_contains(r->user.scope, db_column_text(st, 4)))
		*out = row_json(st, r->now);
	db_reset(st);
	if (rc == DB_ROW && *out)
		return 0;
	if (rc == DB_ROW || rc == DB_DONE)
		return reply_not_found(r), -1;
	return reply_db_error(r, rc), -1;
}

int h_user_get(struct req *r)
{
	int64_t id;
	json_t *j = NULL;
	if (req_param_id_or_reply(r, 0, &id) != 0 || user_row_or_reply(r, id, &j) != 0)
		return 0;
	return reply_json(r, 200, j);
}

static const char *const role_values[] = {"admin", "official", "leader", "reporter", "worker", "partner", NULL};
static const struct jfield user_spec[] = {
    {"login", J_STR, 1, 3, 64, NULL, "登录名", 0},
    {"name", J_STR, 0, 0, 64, NULL, "姓名", 0},
    {"role", J_ENUM, 1, 0, 0, role_values, "角色", 0},
    {"scope", J_STR, 0, 0, 9, NULL, "管辖范围", 0},
    {"institution_id", J_INT, 0, 1, INT64_MAX, NULL, "所属机构", 1},
    {"partner_id", J_INT, 0, 1, INT64_MAX, NULL, "所属组织", 1},
    {"pii", J_BOOL, 0, 0, 0, NULL, "个人信息权限", 0},
    {"password", J_STR, 1, 1, 128, NULL, "密码", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

int h_users_create(struct req *r)
{
	struct cw_err e;
	int64_t id;
	json_t *j = NULL;
	if (jspec_check_or_reply(r, r->json, user_spec, 0) != 0)
		return 0;
	struct user_input in = {
	    .login = jstr(r->json, "login"),
	    .name = jstr(r->json, "name"),
	    .role = jstr(r->json, "role"),
	    .scope = jstr(r->json, "scope") ? jstr(r->json, "scope") : r->user.scope,
	    .password = jstr(r->json, "password"),
	    .institution_id = jint(r->json, "institution_id", 0),
	    .partner_id = jint(r->json, "partner_id", 0),
	    .pii = json_is_true(json_object_get(r->json, "pii")),
	};
	if (user_create(r->db, &r->user, r->now, &in, &id, &e) != 0)
		return reply_err(r, &e);
	if (user_row_or_reply(r, id, &j) != 0)
		return 0;
	return reply_json(r, 201, j);
}

static const struct jfield user_patch_spec[] = {
    {"disabled", J_BOOL, 0, 0, 0, NULL, "停用", 0},
    {"password", J_STR, 0, 1, 128, NULL, "密码", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

int h_user_patch(struct req *r)
{
	int64_t id;
	json_t *j = NULL;
	struct cw_err e;
	if (req_param_id_or_reply(r, 0, &id) != 0 || jspec_check_or_reply(r, r->json, user_patch_spec, 1) != 0)
		return 0;
	if (user_row_or_reply(r, id, &j) != 0)
		return 0;
	json_decref(j);
	j = NULL;
	json_t *dis = json_object_get(r->json, "disabled");
	const char *pw = jstr(r->json, "password");
	if (dis && id == r->user.id && json_is_true(dis))
		return reply_error(r, 422, "cannot_disable_self", "不能停用自己的账号", "disabled");
	if (pw && user_set_password(r->db, &r->user, r->now, id, pw, &e) != 0)
		return reply_err(r, &e);
	if (dis && user_set_disabled(r->db, &r->user, r->now, id, json_is_true(dis), &e) != 0)
		return reply_err(r, &e);
	if (user_row_or_reply(r, id, &j) != 0)
		return 0;
	return reply_json(r, 200, j);
}
