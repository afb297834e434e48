/* institution.c — the registry's rules and the /api/v1/institutions handlers. */
#include "institution.h"
#include "audit.h"
#include "codes.h"
#include "division.h"
#include "enums.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "scope.h"
#include <stdio.h>
#include <string.h>

const struct jfield inst_spec[] = {
    {"name", J_STR, 1, 2, 100, NULL, "机构名称", 0},
    {"uscc", J_STR, 1, 1, 18, NULL, "统一社会信用代码", 0},
    {"type", J_STR, 1, 1, 32, NULL, "机构类型", 0},
    {"ownership", J_STR, 1, 1, 32, NULL, "举办性质", 0},
    {"division_code", J_STR, 1, 1, 9, NULL, "所在区划", 0},
    {"address", J_STR, 0, 0, 200, NULL, "地址", 0},
    {"beds", J_INT, 0, 0, 100000, NULL, "床位数", 0},
    {"contact_name", J_STR, 0, 0, 50, NULL, "联系人", 0},
    {"contact_phone", J_STR, 0, 0, 20, NULL, "联系电话", 0},
    {"medical", J_STR, 0, 1, 32, NULL, "医疗条件", 0},
    {"status", J_STR, 0, 1, 32, NULL, "运营状态", 0},
    {"risk_level", J_STR, 0, 1, 32, NULL, "所在地区风险等级", 0},
    {"status_note", J_STR, 0, 0, 200, NULL, "状态变更说明", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

json_t *inst_json(db_stmt *st)
{
	const char *type = db_column_text(st, 3), *own = db_column_text(st, 4), *med = db_column_text(st, 11),
	           *status = db_column_text(st, 12), *risk = db_column_text(st, 13);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)db_column_int64(st, 0),
	                      "name", db_column_text(st, 1), "uscc", db_column_text(st, 2), "type", type, "type_label",
	                      enum_label(inst_types, type), "ownership", own, "ownership_label",
	                      enum_label(inst_ownerships, own), "division_code", db_column_text(st, 5), "division_name",
	                      db_column_text(st, 6), "address", db_column_text(st, 7));
	json_object_set_new(j, "beds", json_integer(db_column_int64(st, 8)));
	json_object_set_new(j, "contact_name", json_string(db_column_text(st, 9)));
	json_object_set_new(j, "contact_phone", json_string(db_column_text(st, 10)));
	json_object_set_new(j, "medical", json_string(med));
	json_object_set_new(j, "medical_label", json_string(enum_label(inst_medicals, med)));
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "status_label", json_string(enum_label(inst_statuses, status)));
	json_object_set_new(j, "risk_level", json_string(risk));
	json_object_set_new(j, "risk_label", json_string(enum_label(risk_levels, risk)));
	json_object_set_new(j, "created_at", json_integer(db_column_int64(st, 14)));
	json_object_set_new(j, "updated_at", json_integer(db_column_int64(st, 15)));
	json_object_set_new(j, "version", json_integer(db_column_int64(st, 16)));
	return j;
}

int inst_visible(const struct user *u, int64_t id, const char *division)
{
	if (u->role == ROLE_REPORTER)
		return u->institution_id == id;
	return scope_contains(u->scope, division);
}

static void add(json_t *errs, const char *field, const char *code, const char *msg)
{
	json_array_append_new(errs, json_pack("{s:s,s:s,s:s}", "field", field, "code", code, "message", msg));
}

static void check_enum(json_t *obj, json_t *errs, const char *field, const struct enum_val *t, const char *label)
{
	const char *v = jstr(obj, field);
	if (v && !enum_valid(t, v)) {
		char msg[200];
		snprintf(msg, sizeof msg, "%s的取值无效：%s", label, v);
		add(errs, field, "invalid_value", msg);
	}
}

static int phone_ok(const char *s)
{
	int digits = 0;
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p != '-' && *p != '+' && *p != ' ')
			return 0;
	}
	return digits >= 7;
}

int inst_check(db *d, const struct user *u, json_t *obj, int64_t existing_id, json_t *errs)
{
	check_enum(obj, errs, "type", inst_types, "机构类型");
	check_enum(obj, errs, "ownership", inst_ownerships, "举办性质");
	check_enum(obj, errs, "medical", inst_medicals, "医疗条件");
	check_enum(obj, errs, "status", inst_statuses, "运营状态");
	check_enum(obj, errs, "risk_level", risk_levels, "风险等级");
	const char *phone = jstr(obj, "contact_phone");
	if (phone && *phone && !phone_ok(phone))
		add(errs, "contact_phone", "invalid_phone", "联系电话格式错误（应为数字，可含 - 或 +）");
	const char *uscc = jstr(obj, "uscc");
	if (uscc) {
		char norm[19];
		const char *code, *msg;
		if (uscc_check(uscc, norm, &code, &msg) != 0)
			add(errs, "uscc", code, msg);
		else {
			json_object_set_new(obj, "uscc", json_string(norm));
			int64_t other = 0;
			int rc = db_query_int64(d, &other, "SELECT id FROM institutions WHERE uscc = $1", "t", norm);
			if (rc == DB_ROW && other != existing_id)
				add(errs, "uscc", "uscc_taken", "该统一社会信用代码已登记");
			else if (rc != DB_ROW && rc != DB_DONE)
				return rc;
		}
	}
	const char *div = jstr(obj, "division_code");
	if (div) {
		int level = 0;
		int rc = code_shape_ok(div) ? division_exists(d, div, &level) : DB_DONE;
		if (rc == DB_DONE)
			add(errs, "division_code", "unknown_division", "行政区划代码不存在");
		else if (rc != DB_ROW)
			return rc;
		else if (level < 3)
			add(errs, "division_code", "division_level", "机构须位于县级或乡级行政区划");
		else if (!scope_contains(u ? u->scope : "", div))
			add(errs, "division_code", "out_of_scope", "所在区划不在您的管辖范围内");
	}
	return 0;
}

static const char *str_or(json_t *o, const char *k, const char *def)
{
	const char *s = jstr(o, k);
	return s ? s : def;
}

int inst_insert(db *d, const struct user *u, int64_t now, json_t *obj, json_t *audit_later, int64_t *id)
{
	const char *status = str_or(obj, "status", "normal");
	db_stmt *st = db_prepare(d, "INSERT INTO institutions(name, uscc, type, ownership, division_code, address, beds, "
	                            "contact_name, contact_phone, medical, status, risk_level, created_at, updated_at) "
	                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "ttttttIttttt", jstr(obj, "name"), jstr(obj, "uscc"), jstr(obj, "type"), jstr(obj, "ownership"),
	         jstr(obj, "division_code"), str_or(obj, "address", ""), (int64_t)jint(obj, "beds", 0),
	         str_or(obj, "contact_name", ""), str_or(obj, "contact_phone", ""), str_or(obj, "medical", "none"), status,
	         str_or(obj, "risk_level", "low"));
	db_bind_int64(st, 13, now);
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_column_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	int64_t n = db_run(d, "INSERT INTO institution_status_history(institution_id, status, changed_at, changed_by, note) "
	                      "VALUES ($1, $2, $3, $4, $5)",
	                   "ItItt", *id, status, now, u ? u->login : "cli",
	                   str_or(obj, "status_note", "登记"));
	if (n < 0)
		return (int)n;
	json_t *after = json_deep_copy(obj);
	json_object_del(after, "status_note");
	if (audit_later) {
		json_array_append_new(audit_later, json_pack("{s:s,s:s,s:I,s:s,s:o}", "action", "institution.create",
		                                             "object_type", "institution", "object_id", (json_int_t)*id,
		                                             "division", jstr(obj, "division_code"), "after", after));
		return 0;
	}
	rc = audit_write_id(d, u, now, "institution.create", "institution", *id, jstr(obj, "division_code"), NULL, after);
	json_decref(after);
	return rc;
}

/* ---------- handlers ---------- */

/* Loads one visible institution as JSON (new reference) into *out; replies 404. */
static int load_or_reply(struct req *r, int64_t id, json_t **out)
{
	db_stmt *st = db_prepare(r->db, "SELECT " INST_COLS INST_FROM "WHERE i.id = $1");
	if (!st)
		return reply_db_error(r, DB_ERROR), -1;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	*out = NULL;
	if (rc == DB_ROW && inst_visible(&r->user, id, db_column_text(st, 5)))
		*out = inst_json(st);
	db_reset(st);
	if (*out)
		return 0;
	if (rc == DB_ROW || rc == DB_DONE)
		return reply_not_found(r), -1;
	return reply_db_error(r, rc), -1;
}

int h_institution_get(struct req *r)
{
	int64_t id;
	json_t *j;
	if (req_param_id_or_reply(r, 0, &id) != 0 || load_or_reply(r, id, &j) != 0)
		return 0;
	return reply_json(r, 200, j);
}

static int check_filter(struct req *r, const char *name, const struct enum_val *t)
{
	const char *v = req_query(r, name);
	if (v && *v && !enum_valid(t, v)) {
		char msg[120];
		snprintf(msg, sizeof msg, "查询参数 %s 的取值无效", name);
		reply_error(r, 400, "invalid_query", msg, name);
		return -1;
	}
	return 0;
}

#define LIST_WHERE                                                                                                \
	"WHERE i.division_code >= $1 AND i.division_code < $2 AND ($3 = '' OR i.type = $3) "                       \
	"AND ($4 = '' OR i.status = $4) AND ($5 = '' OR i.name LIKE $5 ESCAPE '\\' OR i.uscc = $6) "               \
	"AND ($7 = 0 OR i.id = $7) "

int h_institutions_list(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	long limit, offset;
	int64_t total = 0, only = r->user.role == ROLE_REPORTER ? r->user.institution_id : 0;
	if (req_division_or_reply(r, "division", div) != 0 || req_paging_or_reply(r, 20, 500, &limit, &offset) != 0 ||
	    check_filter(r, "type", inst_types) != 0 || check_filter(r, "status", inst_statuses) != 0)
		return 0;
	const char *type = req_query(r, "type"), *status = req_query(r, "status"), *q = req_query(r, "q");
	struct buf pat = {0};
	if (q && *q) {
		if (utf8_chars(q) > 50)
			return reply_error(r, 400, "invalid_query", "搜索词过长", "q");
		buf_putc(&pat, '%');
		for (const char *p = q; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				buf_putc(&pat, '\\');
			buf_putc(&pat, *p);
		}
		buf_putc(&pat, '%');
	}
	scope_range(div, lo, hi);
	int rc = db_query_int64(r->db, &total, "SELECT COUNT(*) FROM institutions i " LIST_WHERE, "ttttttI", lo, hi,
	                        type ? type : "", status ? status : "", buf_str(&pat), q ? q : "", only);
	if (rc != DB_ROW) {
		buf_free(&pat);
		return reply_db_error(r, rc);
	}
	db_stmt *st = db_prepare(r->db, "SELECT " INST_COLS INST_FROM LIST_WHERE
	                                "ORDER BY i.division_code, i.id LIMIT $8 OFFSET $9");
	json_t *items = json_array();
	rc = st ? db_bindf(st, "ttttttIII", lo, hi, type ? type : "", status ? status : "", buf_str(&pat), q ? q : "",
	                   only, (int64_t)limit, (int64_t)offset)
	        : DB_ERROR;
	buf_free(&pat);
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, inst_json(st));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)total));
}

static int reply_problems(struct req *r, json_t *errs)
{
	json_t *first = json_array_get(errs, 0);
	char code[48], field[64], msg[300];
	cw_strlcpy(code, json_string_value(json_object_get(first, "code")), sizeof code);
	cw_strlcpy(field, json_string_value(json_object_get(first, "field")), sizeof field);
	cw_strlcpy(msg, json_string_value(json_object_get(first, "message")), sizeof msg);
	return reply_error_details(r, 422, code, msg, field, errs);
}

struct create_ctx {
	struct req *r;
	json_t *errs;
	int64_t id;
};

static int create_txn(db *d, void *vc)
{
	struct create_ctx *c = vc;
	json_array_clear(c->errs);
	int rc = inst_check(d, &c->r->user, c->r->json, 0, c->errs);
	if (rc != 0)
		return rc;
	if (json_array_size(c->errs))
		return DB_APP;
	return inst_insert(d, &c->r->user, c->r->now, c->r->json, NULL, &c->id);
}

int h_institutions_create(struct req *r)
{
	if (jspec_check_or_reply(r, r->json, inst_spec, 0) != 0)
		return 0;
	struct create_ctx c = {r, json_array(), 0};
	int rc = db_txn(r->db, 1, create_txn, &c);
	if (rc == DB_APP)
		return reply_problems(r, c.errs);
	json_decref(c.errs);
	if (rc != 0)
		return reply_db_error(r, rc);
	json_t *j;
	if (load_or_reply(r, c.id, &j) != 0)
		return 0;
	return reply_json(r, 201, j);
}

struct patch_ctx {
	struct req *r;
	int64_t id;
	json_t *errs;
	json_t *before;
};

static int patch_txn(db *d, void *vc)
{
	struct patch_ctx *c = vc;
	struct req *r = c->r;
	json_array_clear(c->errs);
	json_decref(c->before);
	c->before = NULL;
	db_stmt *st = db_prepare(d, "SELECT " INST_COLS INST_FROM "WHERE i.id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", c->id);
	int rc = db_step(st);
	if (rc == DB_ROW && inst_visible(&r->user, c->id, db_column_text(st, 5)))
		c->before = inst_json(st);
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (!c->before)
		return DB_DONE; /* not found or not visible */
	rc = inst_check(d, &r->user, r->json, c->id, c->errs);
	if (rc != 0)
		return rc;
	if (json_array_size(c->errs))
		return DB_APP;
	json_t *after = json_deep_copy(c->before);
	const char *k;
	json_t *v;
	json_object_foreach(r->json, k, v)
	{
		if (strcmp(k, "status_note") != 0)
			json_object_set(after, k, v);
	}
	const char *old_status = jstr(c->before, "status"), *new_status = jstr(after, "status");
	int64_t n = db_run(d,
	                   "UPDATE institutions SET name = $1, uscc = $2, type = $3, ownership = $4, division_code = $5, "
	                   "address = $6, beds = $7, contact_name = $8, contact_phone = $9, medical = $10, status = $11, "
	                   "risk_level = $12, updated_at = $13, version = version + 1 WHERE id = $14",
	                   "ttttttIttttt" "II", jstr(after, "name"), jstr(after, "uscc"), jstr(after, "type"),
	                   jstr(after, "ownership"), jstr(after, "division_code"), jstr(after, "address"),
	                   (int64_t)jint(after, "beds", 0), jstr(after, "contact_name"), jstr(after, "contact_phone"),
	                   jstr(after, "medical"), new_status, jstr(after, "risk_level"), r->now, c->id);
	if (n >= 0 && strcmp(old_status, new_status) != 0)
		n = db_run(d, "INSERT INTO institution_status_history(institution_id, status, changed_at, changed_by, note) "
		              "VALUES ($1, $2, $3, $4, $5)",
		           "ItItt", c->id, new_status, r->now, r->user.login, str_or(r->json, "status_note", ""));
	if (n < 0) {
		json_decref(after);
		return (int)n;
	}
	/* reporters move with their institution */
	n = db_run(d, "UPDATE users SET scope = $1 WHERE institution_id = $2 AND role = 'reporter'", "tI",
	           jstr(after, "division_code"), c->id);
	if (n < 0) {
		json_decref(after);
		return (int)n;
	}
	rc = audit_write_id(d, &r->user, r->now, "institution.update", "institution", c->id, jstr(after, "division_code"),
	                    c->before, after);
	json_decref(after);
	return rc;
}

int h_institution_patch(struct req *r)
{
	int64_t id;
	if (req_param_id_or_reply(r, 0, &id) != 0 || jspec_check_or_reply(r, r->json, inst_spec, 1) != 0)
		return 0;
	struct patch_ctx c = {r, id, json_array(), NULL};
	int rc = db_txn(r->db, 1, patch_txn, &c);
	json_decref(c.before);
	if (rc == DB_APP)
		return reply_problems(r, c.errs);
	json_decref(c.errs);
	if (rc == DB_DONE)
		return reply_not_found(r);
	if (rc != 0)
		return reply_db_error(r, rc);
	json_t *j;
	if (load_or_reply(r, id, &j) != 0)
		return 0;
	return reply_json(r, 200, j);
}

int h_institution_history(struct req *r)
{
	int64_t id;
	json_t *j;
	if (req_param_id_or_reply(r, 0, &id) != 0 || load_or_reply(r, id, &j) != 0)
		return 0;
	json_decref(j);
	db_stmt *st = db_prepare(r->db, "SELECT status, changed_at, changed_by, note FROM institution_status_history "
	                                "WHERE institution_id = $1 ORDER BY id");
	json_t *items = json_array();
	int rc = st ? db_bindf(st, "I", id) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		const char *s = db_column_text(st, 0);
		json_array_append_new(items, json_pack("{s:s,s:s,s:I,s:s,s:s}", "status", s, "status_label",
		                                       enum_label(inst_statuses, s), "changed_at",
		                                       (json_int_t)db_column_int64(st, 1), "changed_by",
		                                       db_column_text(st, 2), "note", db_column_text(st, 3)));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}
