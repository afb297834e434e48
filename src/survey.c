/* survey.c — survey campaigns (摸底调查): templates of period "once" with open
 * and close dates and a target set of institutions. Progress and results are
 * the completeness and roll-ups of the campaign's period (its opening date). */
#include "audit.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "scope.h"
#include "template.h"
#include <string.h>

int h_surveys_list(struct req *r)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	if (r->user.role == ROLE_REPORTER || r->user.role == ROLE_PARTNER)
		return reply_forbidden(r);
	scope_range(r->user.scope, lo, hi);
	json_t *items = json_array();
	for (int i = 0; i < template_count(); i++) {
		const struct template *t = template_at(i);
		if (t->period != PERIOD_ONCE)
			continue;
		int64_t targets = 0, submitted = 0;
		int rc = db_query_int64(r->db, &targets,
		                        "SELECT COUNT(*) FROM survey_targets s JOIN institutions i ON i.id = s.institution_id "
		                        "WHERE s.template_code = $1 AND i.division_code >= $2 AND i.division_code < $3",
		                        "ttt", t->code, lo, hi);
		if (rc == DB_ROW)
			rc = db_query_int64(r->db, &submitted,
			                    "SELECT COUNT(*) FROM reports WHERE template_code = $1 AND period = $2 AND "
			                    "division_code >= $3 AND division_code < $4 AND status IN ('submitted', 'approved')",
			                    "tttt", t->code, t->opens, lo, hi);
		if (rc != DB_ROW) {
			json_decref(items);
			return reply_db_error(r, rc);
		}
		json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "code", t->code, "title", t->title,
		                                       "opens", t->opens, "closes", t->closes, "period", t->opens, "targeted",
		                                       (json_int_t)targets, "submitted", (json_int_t)submitted));
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}

static const struct jfield target_spec[] = {
    {"division", J_STR, 0, 0, 9, NULL, "地区", 0},
    {"institution_ids", J_ARR, 0, 0, 0, NULL, "机构", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

struct target_ctx {
	struct req *r;
	const struct template *t;
	int64_t added;
};

static int target_txn(db *d, void *vc)
{
	struct target_ctx *c = vc;
	struct req *r = c->r;
	c->added = 0;
	json_t *ids = json_object_get(r->json, "institution_ids");
	const char *div = jstr(r->json, "division");
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	int64_t n;
	if (div) {
		scope_range(div, lo, hi);
		struct buf types = {0};
		for (int i = 0; i < c->t->ntypes; i++)
			buf_printf(&types, "%s%s", i ? "," : "", c->t->types[i]);
		n = db_run(d, "INSERT INTO survey_targets(template_code, institution_id, added_by, added_at) "
		              "SELECT $1, id, $2, $3 FROM institutions WHERE division_code >= $4 AND division_code < $5 "
		              "AND status <> 'suspended' AND (',' || $6 || ',') LIKE ('%,' || type || ',%') "
		              "ON CONFLICT (template_code, institution_id) DO NOTHING",
		           "ttIttt", c->t->code, r->user.login, r->now, lo, hi, buf_str(&types));
		buf_free(&types);
		if (n < 0)
			return (int)n;
		c->added += n;
	}
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v)
	{
		char idiv[SCOPE_MAX] = "";
		db_stmt *st = db_prepare(d, "SELECT division_code FROM institutions WHERE id = $1");
		if (!st)
			return DB_ERROR;
		db_bindf(st, "I", (int64_t)json_integer_value(v));
		int rc = db_step(st);
		if (rc == DB_ROW)
			cw_strlcpy(idiv, db_column_text(st, 0), sizeof idiv);
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc;
		if (rc == DB_DONE || !scope_contains(r->user.scope, idiv)) {
			reply_error(r, 422, "invalid_institution", "机构不存在或不在您的管辖范围内", "institution_ids");
			return DB_APP;
		}
		n = db_run(d, "INSERT INTO survey_targets(template_code, institution_id, added_by, added_at) "
		              "VALUES ($1, $2, $3, $4) ON CONFLICT (template_code, institution_id) DO NOTHING",
		           "tItI", c->t->code, (int64_t)json_integer_value(v), r->user.login, r->now);
		if (n < 0)
			return (int)n;
		c->added += n;
	}
	json_t *after = json_pack("{s:I}", "added", (json_int_t)c->added);
	int rc = audit_write(d, &r->user, r->now, "survey.targets", "template", c->t->code, div ? div : r->user.scope,
	                     NULL, after);
	json_decref(after);
	return rc;
}

int h_survey_targets(struct req *r)
{
	const struct template *t = template_find(req_param(r, 0));
	if (!t || t->period != PERIOD_ONCE)
		return reply_error(r, 404, "unknown_survey", "摸底调查不存在", NULL);
	if (jspec_check_or_reply(r, r->json, target_spec, 0) != 0)
		return 0;
	const char *div = jstr(r->json, "division");
	json_t *ids = json_object_get(r->json, "institution_ids");
	if (!div && !ids)
		return reply_error(r, 422, "required", "请指定地区或机构", "division");
	if (div && (!code_shape_ok(div) || !scope_contains(r->user.scope, div)))
		return reply_error(r, 422, "out_of_scope", "地区代码无效或不在您的管辖范围内", "division");
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) if (!json_is_integer(v)) return reply_error(r, 422, "invalid_type", "机构编号必须是整数",
	                                                                          "institution_ids");
	struct target_ctx c = {r, t, 0};
	int rc = db_txn(r->db, 1, target_txn, &c);
	if (rc == DB_APP)
		return 0; /* replied inside */
	if (rc != 0)
		return reply_db_error(r, rc);
	return reply_json(r, 200, json_pack("{s:s,s:I}", "survey", t->code, "added", (json_int_t)c.added));
}
