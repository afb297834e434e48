/* report_api.c — /api/v1/templates and /api/v1/reports handlers. */
#include "clock.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "report.h"
#include "scope.h"
#include <stdio.h>
#include <string.h>

int h_templates_list(struct req *r)
{
	json_t *items = json_array();
	for (int i = 0; i < template_count(); i++) {
		const struct template *t = template_at(i);
		static const char *periods[] = {"daily", "weekly", "once"};
		json_t *types = json_array();
		for (int k = 0; k < t->ntypes; k++)
			json_array_append_new(types, json_string(t->types[k]));
		json_t *j = json_pack("{s:s,s:i,s:s,s:s,s:s,s:o,s:i}", "code", t->code, "version", t->version, "title", t->title,
		                      "title_en", t->title_en, "period", periods[t->period], "institution_types", types,
		                      "fields", t->nfields);
		if (t->period == PERIOD_ONCE)
			json_object_set_new(j, "campaign", json_pack("{s:s,s:s}", "opens", t->opens, "closes", t->closes));
		json_array_append_new(items, j);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}

int h_template_get(struct req *r)
{
	const struct template *t = template_find(req_param(r, 0));
	if (!t)
		return reply_error(r, 404, "unknown_template", "报表模板不存在", NULL);
	json_t *j = json_deep_copy(t->def);
	json_object_set_new(j, "version", json_integer(t->version));
	return reply_json(r, 200, j);
}

/* Resolves {template}/{institution_id}/{period}; replies on failure. */
static int target_or_reply(struct req *r, const struct template **t, int64_t *inst, const char **period)
{
	*t = template_find(req_param(r, 0));
	if (!*t)
		return reply_error(r, 404, "unknown_template", "报表模板不存在", NULL), -1;
	if (req_param_id_or_reply(r, 1, inst) != 0)
		return -1;
	*period = req_param(r, 2);
	if (report_period_ok(*t, *period) != 0) {
		const char *m = (*t)->period == PERIOD_ONCE ? "调查期次应为调查开始日期（YYYY-MM-DD）"
		                : (*t)->period == PERIOD_WEEKLY ? "周报期次应为该周星期一的日期（YYYY-MM-DD）"
		                                                : "日期格式应为 YYYY-MM-DD 且为真实日期";
		return reply_error(r, 400, "invalid_period", m, "period"), -1;
	}
	return 0;
}

/* May the user read reports of this institution? Loads its division and,
 * when type is not NULL, its type (40 bytes). */
static int readable_or_reply(struct req *r, int64_t inst, char *division, char *type)
{
	db_stmt *st = db_prepare(r->db, "SELECT division_code, type FROM institutions WHERE id = $1");
	int rc = st ? db_bindf(st, "I", inst) : DB_ERROR;
	if (rc == 0 && (rc = db_step(st)) == DB_ROW) {
		cw_strlcpy(division, db_column_text(st, 0), SCOPE_MAX);
		if (type)
			cw_strlcpy(type, db_column_text(st, 1), 40);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return reply_db_error(r, rc), -1;
	int ok = rc == DB_ROW && (r->user.role == ROLE_REPORTER ? r->user.institution_id == inst
	                                                         : (r->user.caps & CAP_REPORT_READ) &&
	                                                               scope_contains(r->user.scope, division));
	if (!ok)
		return reply_error(r, 404, "not_found", "未找到该机构，或不在您的权限范围内", NULL), -1;
	return 0;
}

/* May the user file this institution's report? Reporters their own; officials
 * (review capability) in scope, also after the period has closed. */
static int writable_or_reply(struct req *r, const struct template *t, int64_t inst, const char *period)
{
	char div[SCOPE_MAX], type[40];
	if (readable_or_reply(r, inst, div, type) != 0)
		return -1;
	if (!(r->user.caps & (CAP_REPORT_SUBMIT | CAP_REPORT_REVIEW)))
		return reply_forbidden(r), -1;
	if (!template_applies(t, type))
		return reply_error(r, 422, "template_not_applicable", "该机构类型不填报此表", NULL), -1;
	if (r->user.caps & CAP_REPORT_REVIEW)
		return 0;
	int y, m, d;
	date_parse(t->period == PERIOD_ONCE ? t->opens : period, &y, &m, &d);
	if (r->now < clock_local_to_unix(y, m, d, 0, 0))
		return reply_error(r, 409, "period_not_open", "该期尚未开始填报", "period"), -1;
	if (r->now >= report_closes(t, period))
		return reply_error(r, 409, "period_closed", "该期填报已截止，如需补报请联系民政部门", "period"), -1;
	return 0;
}

int h_report_get(struct req *r)
{
	const struct template *t;
	int64_t inst;
	const char *period;
	char div[SCOPE_MAX];
	int rc;
	if (target_or_reply(r, &t, &inst, &period) != 0 || readable_or_reply(r, inst, div, NULL) != 0)
		return 0;
	json_t *j = report_load(r->db, t->code, inst, period, &rc);
	if (rc == DB_DONE)
		return reply_error(r, 404, "no_report", "该期尚未填报", NULL);
	if (!j)
		return reply_db_error(r, rc);
	json_object_set_new(j, "deadline", json_integer(report_deadline(t, period)));
	return reply_json(r, 200, j);
}

static const struct jfield put_spec[] = {
    {"client_key", J_STR, 0, 8, 100, NULL, "请求编号", 0},
    {"status", J_ENUM, 1, 0, 0, (const char *const[]){"draft", "submitted", NULL}, "状态", 0},
    {"values", J_OBJ, 1, 0, 0, NULL, "填报内容", 0},
    {"confirm_warnings", J_BOOL, 0, 0, 0, NULL, "确认提示", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

static int reply_saved(struct req *r, struct report_save *s, const struct template *t, int64_t inst,
                       const char *period)
{
	int rc = DB_ERROR;
	/* a fresh save knows its row; a replay reads the stored one */
	json_t *j = s->saved ? json_incref(s->saved) : report_load(r->db, t->code, inst, period, &rc);
	if (!j)
		return reply_db_error(r, rc == DB_DONE ? DB_ERROR : rc);
	json_object_set_new(j, "replayed", json_boolean(s->replayed));
	json_object_set_new(j, "warnings", json_incref(s->details));
	return reply_json(r, s->created ? 201 : 200, j);
}

static int save(struct req *r, json_t *values, int submit, const char *client_key, int confirm)
{
	const struct template *t;
	int64_t inst;
	const char *period;
	struct cw_err e;
	if (target_or_reply(r, &t, &inst, &period) != 0 || writable_or_reply(r, t, inst, period) != 0)
		return 0;
	struct report_save s = {.t = t, .institution_id = inst, .period = period, .client_key = client_key,
	                        .submit = submit, .values = values, .confirm_warnings = confirm, .u = &r->user,
	                        .now = r->now, .details = json_array(), .want_saved = 1};
	int rc = report_save(r->db, &s, &e);
	if (rc != 0) {
		if (!strcmp(e.code, "validation_failed"))
			reply_error_details(r, 422, e.code, e.msg, NULL, json_incref(s.details));
		else
			reply_err(r, &e);
		json_decref(s.details);
		json_decref(s.saved);
		return 0;
	}
	if (s.replayed) {
		/* the key belongs to this very report, or the request is refused */
		int lrc;
		json_t *j = report_load(r->db, t->code, inst, period, &lrc);
		int same = j && json_integer_value(json_object_get(j, "id")) == s.report_id;
		json_decref(j);
		if (!same) {
			json_decref(s.details);
			json_decref(s.saved);
			return reply_error(r, 409, "client_key_reused", "请求编号已用于另一份报表", "client_key");
		}
	}
	reply_saved(r, &s, t, inst, period);
	json_decref(s.details);
	json_decref(s.saved);
	return 0;
}

int h_report_put(struct req *r)
{
	if (jspec_check_or_reply(r, r->json, put_spec, 0) != 0)
		return 0;
	return save(r, json_object_get(r->json, "values"), !strcmp(jstr(r->json, "status"), "submitted"),
	            jstr(r->json, "client_key"), json_is_true(json_object_get(r->json, "confirm_warnings")));
}

static const struct jfield zero_spec[] = {{"client_key", J_STR, 0, 8, 100, NULL, "请求编号", 0},
                                          {NULL, 0, 0, 0, 0, NULL, NULL, 0}};

int h_report_zero(struct req *r)
{
	const struct template *t;
	int64_t inst;
	const char *period;
	char from[11];
	int rc;
	/* authorise before reading anything of the institution */
	if (jspec_check_or_reply(r, r->json, zero_spec, 0) != 0 || target_or_reply(r, &t, &inst, &period) != 0 ||
	    writable_or_reply(r, t, inst, period) != 0)
		return 0;
	json_t *vals = report_prefill(r->db, t, inst, period, 1, from, &rc);
	if (!vals)
		return reply_db_error(r, rc);
	if (!from[0]) {
		json_decref(vals);
		return reply_error(r, 422, "no_previous_report", "没有上一期报表，无法零报告，请完整填报", NULL);
	}
	save(r, vals, 1, jstr(r->json, "client_key"), 1);
	json_decref(vals);
	return 0;
}

int h_report_validate(struct req *r)
{
	const struct template *t;
	int64_t inst;
	const char *period;
	char div[SCOPE_MAX];
	if (jspec_check_or_reply(r, r->json, put_spec, 1) != 0 || target_or_reply(r, &t, &inst, &period) != 0 ||
	    readable_or_reply(r, inst, div, NULL) != 0)
		return 0;
	json_t *values = json_object_get(r->json, "values");
	if (!values)
		return reply_error(r, 422, "required", "填报内容为必填项", "values");
	json_t *details = json_array();
	int warnings = 0;
	int errors = report_check(t, values, 1, details, &warnings);
	return reply_json(r, 200, json_pack("{s:b,s:i,s:i,s:o}", "ok", errors == 0, "errors", errors, "warnings", warnings,
	                                    "details", details));
}

static const struct jfield review_spec[] = {
    {"action", J_ENUM, 1, 0, 0, (const char *const[]){"approve", "return", NULL}, "审核操作", 0},
    {"reason", J_STR, 0, 0, 500, NULL, "退回原因", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

int h_report_review(struct req *r)
{
	const struct template *t;
	int64_t inst;
	const char *period;
	struct cw_err e;
	if (jspec_check_or_reply(r, r->json, review_spec, 0) != 0 || target_or_reply(r, &t, &inst, &period) != 0)
		return 0;
	int approve = !strcmp(jstr(r->json, "action"), "approve");
	if (report_review(r->db, &r->user, r->now, t->code, inst, period, approve, jstr(r->json, "reason"), &e) != 0)
		return reply_err(r, &e);
	int rc;
	json_t *j = report_load(r->db, t->code, inst, period, &rc);
	return j ? reply_json(r, 200, j) : reply_db_error(r, rc);
}

int h_report_prefill(struct req *r)
{
	const struct template *t;
	int64_t inst;
	const char *period;
	char div[SCOPE_MAX], from[11];
	int rc;
	if (target_or_reply(r, &t, &inst, &period) != 0 || readable_or_reply(r, inst, div, NULL) != 0)
		return 0;
	json_t *vals = report_prefill(r->db, t, inst, period, 0, from, &rc);
	if (!vals)
		return reply_db_error(r, rc);
	json_t *j = json_pack("{s:o}", "values", vals);
	json_object_set_new(j, "from_period", from[0] ? json_string(from) : json_null());
	return reply_json(r, 200, j);
}

int h_report_history(struct req *r)
{
	const struct template *t;
	int64_t inst;
	const char *period;
	char div[SCOPE_MAX];
	if (target_or_reply(r, &t, &inst, &period) != 0 || readable_or_reply(r, inst, div, NULL) != 0)
		return 0;
	db_stmt *st = db_prepare(r->db, "SELECT c.field, COALESCE(c.old_value, 'null'), COALESCE(c.new_value, 'null'), "
	                                "c.actor, c.changed_at FROM report_changes c JOIN reports r ON r.id = c.report_id "
	                                "WHERE r.template_code = $1 AND r.institution_id = $2 AND r.period = $3 ORDER BY c.id");
	json_t *items = json_array();
	int rc = st ? db_bindf(st, "tIt", t->code, inst, period) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_t *o = json_loads(db_column_text(st, 1), JSON_DECODE_ANY, NULL);
		json_t *n = json_loads(db_column_text(st, 2), JSON_DECODE_ANY, NULL);
		json_array_append_new(items, json_pack("{s:s,s:o,s:o,s:s,s:I}", "field", db_column_text(st, 0), "old",
		                                       o ? o : json_null(), "new", n ? n : json_null(), "actor",
		                                       db_column_text(st, 3), "at", (json_int_t)db_column_int64(st, 4)));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}
