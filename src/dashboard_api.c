/* dashboard_api.c — completeness, roll-ups, series and the report list, all
 * read from the live roll-up rows (rollup.c) and the registry, in scope. */
#include "buf.h"
#include "clock.h"
#include "dashboard.h"
#include "handlers.h"
#include "http.h"
#include "report.h"
#include "rollup.h"
#include "scope.h"
#include <stdio.h>
#include <string.h>

/* Common query: template (known), period (valid) and division (in scope,
 * county or above: the roll-up levels).
 * Reporters see their own reports only, never these summaries. */
static int common_or_reply(struct req *r, const struct template **t, const char **period, char *div, int need_period)
{
	if (r->user.role == ROLE_REPORTER)
		return reply_forbidden(r), -1;
	*t = template_find(req_query(r, "template"));
	if (!*t)
		return reply_error(r, 404, "unknown_template", "报表模板不存在", "template"), -1;
	*period = req_query(r, "period");
	if (need_period && (!*period || report_period_ok(*t, *period) != 0))
		return reply_error(r, 400, "invalid_period", "期次应为 YYYY-MM-DD 格式的真实日期", "period"), -1;
	if (req_division_or_reply(r, "division", div) != 0)
		return -1;
	if (strlen(div) > 6)
		return reply_error(r, 400, "invalid_division", "按县级及以上区划查询（县内可按机构列出）", "division"), -1;
	return 0;
}

/* Appends "<col> IN ($first, $first+1, and so on)": one placeholder per type
 * of t (bound by bind_types): the planner then estimates the registry rows
 * right and walks the division index for a short missing list, where a LIKE
 * over a joined list made PostgreSQL sort the whole registry (181 ms → 1 ms
 * at 45,000 institutions). */
static void types_in(const struct template *t, const char *col, int first, struct buf *b)
{
	buf_printf(b, "%s IN (", col);
	for (int i = 0; i < t->ntypes; i++)
		buf_printf(b, "%s$%d", i ? ", " : "", first + i);
	buf_puts(b, ") ");
}

static int bind_types(db_stmt *st, const struct template *t, int first)
{
	int rc = 0;
	for (int i = 0; i < t->ntypes && rc == 0; i++)
		rc = db_bind_text(st, first + i, t->types[i]);
	return rc;
}

static const char *div_name(db *d, const char *code, char *out, size_t n)
{
	if (!*code)
		return cw_strlcpy(out, "全国", n), out;
	db_stmt *st = db_prepare(d, "SELECT name FROM divisions WHERE code = $1");
	out[0] = 0;
	if (st && db_bindf(st, "t", code) == 0 && db_step(st) == DB_ROW)
		cw_strlcpy(out, db_column_text(st, 0), n);
	db_reset(st);
	return out;
}

static size_t child_len(size_t len)
{
	return len == 0 ? 2 : len == 2 ? 4 : len == 4 ? 6 : 0;
}

static json_t *counts_obj(const char *code, const char *name, int64_t expected)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "code", code, "name", name, "expected", (json_int_t)expected,
	                 "submitted", (json_int_t)0, "on_time", (json_int_t)0, "late", (json_int_t)0, "missing",
	                 (json_int_t)expected);
}

json_t *completeness_build(db *d, const struct template *t, const char *period, const char *div,
                           int64_t missing_limit, int *rcp)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX], name[128];
	scope_range(div, lo, hi);
	size_t cl = child_len(strlen(div));
	struct buf q = {0};
	json_t *me = counts_obj(div, div_name(d, div, name, sizeof name), 0);
	json_t *kids = json_object(); /* code -> counts */
	int rc;
	db_stmt *st;
	/* expected: institutions of the template's types that report, by child
	 * division — from the trigger-kept counts (sql/004_counts.sql), or, for
	 * a survey with a target list, by counting its targets */
	int64_t targeted = 0;
	rc = db_query_int64(d, &targeted, "SELECT COUNT(*) FROM survey_targets WHERE template_code = $1", "t", t->code);
	if (rc != DB_ROW)
		goto dberr;
	if (targeted) {
		buf_puts(&q, "SELECT substr(division_code, 1, $3), COUNT(*) FROM institutions WHERE division_code >= $1 "
		             "AND division_code < $2 AND status <> 'suspended' AND id IN (SELECT institution_id FROM "
		             "survey_targets WHERE template_code = $4) AND ");
		types_in(t, "type", 5, &q);
		buf_puts(&q, "GROUP BY substr(division_code, 1, $3)");
	} else {
		buf_puts(&q, "SELECT division_code, SUM(n) FROM inst_counts WHERE division_code >= $1 AND division_code < $2 "
		             "AND length(division_code) = $3 AND ");
		types_in(t, "type", 4, &q);
		buf_puts(&q, "GROUP BY division_code");
	}
	st = db_prepare(d, buf_str(&q));
	rc = st ? db_bindf(st, "ttI", lo, hi, (int64_t)(cl ? cl : strlen(div))) : DB_ERROR;
	if (rc == 0 && targeted)
		rc = db_bind_text(st, 4, t->code);
	if (rc == 0)
		rc = bind_types(st, t, targeted ? 5 : 4);
	int64_t total = 0;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		int64_t n = db_column_int64(st, 1);
		total += n;
		if (cl)
			json_object_set_new(kids, db_column_text(st, 0), json_integer(n));
	}
	db_reset(st);
	if (rc != DB_DONE)
		goto dberr;
	json_object_set_new(me, "expected", json_integer(total));
	json_t *children = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(kids, k, v)
	{
		json_array_append_new(children, counts_obj(k, div_name(d, k, name, sizeof name), json_integer_value(v)));
	}
	/* submitted, on time, late: from the roll-up rows of this level and the next */
	st = db_prepare(d, "SELECT division_code, n_reports, n_on_time, n_late FROM rollups WHERE template_code = $1 "
	                       "AND period = $2 AND division_code >= $3 AND division_code < $4 AND "
	                       "(length(division_code) = $5 OR length(division_code) = $6)");
	rc = st ? db_bindf(st, "ttttII", t->code, period, lo, hi, (int64_t)strlen(div), (int64_t)cl) : DB_ERROR;
	if (!*div && rc == 0) /* the national row's code is '' which the range excludes */
		rc = db_bind_text(st, 3, "");
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		const char *code = db_column_text(st, 0);
		json_t *target = NULL;
		if (!strcmp(code, div))
			target = me;
		else {
			size_t i;
			json_t *c;
			json_array_foreach(children, i, c) if (!strcmp(json_string_value(json_object_get(c, "code")), code)) target = c;
		}
		if (!target)
			continue;
		int64_t sub = db_column_int64(st, 1), exp = json_integer_value(json_object_get(target, "expected"));
		json_object_set_new(target, "submitted", json_integer(sub));
		json_object_set_new(target, "on_time", json_integer(db_column_int64(st, 2)));
		json_object_set_new(target, "late", json_integer(db_column_int64(st, 3)));
		json_object_set_new(target, "missing", json_integer(exp > sub ? exp - sub : 0));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(children);
		goto dberr;
	}
	/* who is missing, with phones to call */
	json_t *missing = json_array();
	buf_reset(&q);
	buf_puts(&q, "SELECT i.id, i.name, i.division_code, i.contact_name, i.contact_phone FROM institutions i "
	             "WHERE i.division_code >= $1 AND i.division_code < $2 AND i.status <> 'suspended' AND ");
	if (targeted)
		buf_puts(&q, "i.id IN (SELECT institution_id FROM survey_targets WHERE template_code = $3) AND ");
	types_in(t, "i.type", 6, &q);
	buf_puts(&q, "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.template_code = $3 AND r.period = $4 AND "
	             "r.institution_id = i.id AND r.status IN ('submitted', 'approved')) ORDER BY i.division_code, i.id "
	             "LIMIT $5");
	st = db_prepare(d, buf_str(&q));
	rc = st ? db_bindf(st, "ttttI", lo, hi, t->code, period, missing_limit) : DB_ERROR;
	if (rc == 0)
		rc = bind_types(st, t, 6);
	if (json_integer_value(json_object_get(me, "missing")) == 0)
		rc = DB_DONE; /* everyone is in: no need to look */
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(missing, json_pack("{s:I,s:s,s:s,s:s,s:s}", "institution_id",
		                                         (json_int_t)db_column_int64(st, 0), "name", db_column_text(st, 1),
		                                         "division_code", db_column_text(st, 2), "contact_name",
		                                         db_column_text(st, 3), "contact_phone", db_column_text(st, 4)));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(children);
		json_decref(missing);
		goto dberr;
	}
	json_decref(kids);
	buf_free(&q);
	int truncated = (int64_t)json_array_size(missing) < json_integer_value(json_object_get(me, "missing"));
	return json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:b}", "template", t->code, "period", period, "deadline",
	                 (json_int_t)report_deadline(t, period), "division", me, "children", children, "missing", missing,
	                 "missing_truncated", truncated);
dberr:
	json_decref(me);
	json_decref(kids);
	buf_free(&q);
	*rcp = rc;
	return NULL;
}

int h_completeness(struct req *r)
{
	const struct template *t;
	const char *period;
	char div[SCOPE_MAX];
	int rc = 0;
	long limit;
	if (common_or_reply(r, &t, &period, div, 1) != 0 ||
	    req_query_long_or_reply(r, "missing_limit", 200, 0, 5000, &limit) != 0)
		return 0;
	json_t *j = completeness_build(r->db, t, period, div, limit, &rc);
	return j ? reply_json(r, 200, j) : reply_db_error(r, rc);
}


/* Roll-up row of one division (values + report count); zeros when absent. */
static int rollup_row(db *d, const struct template *t, const char *period, const char *code, json_t **values,
                      int64_t *n)
{
	db_stmt *st = db_prepare(d, "SELECT sums, n_reports FROM rollups WHERE template_code = $1 AND period = $2 "
	                            "AND division_code = $3");
	json_t *sums = NULL;
	*n = 0;
	int rc = st ? db_bindf(st, "ttt", t->code, period, code) : DB_ERROR;
	if (rc == 0 && (rc = db_step(st)) == DB_ROW) {
		sums = json_loads(db_column_text(st, 0), 0, NULL);
		*n = db_column_int64(st, 1);
	}
	db_reset(st);
	*values = rollup_values(t, sums);
	json_decref(sums);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

/* Roll-up of a division (county or above) and its children (sub-divisions,
 * or institutions when by_inst or at a county). New object, or NULL with *rcp. */
json_t *rollups_build(db *d, const struct template *t, const char *period, const char *div, int by_inst,
                             int *rcp)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX], name[128];
	json_t *values;
	int64_t n;
	int rc = rollup_row(d, t, period, div, &values, &n);
	if (rc != 0) {
		*rcp = rc;
		return NULL;
	}
	json_t *me = json_pack("{s:s,s:s,s:I,s:o}", "code", div, "name", div_name(d, div, name, sizeof name),
	                       "reports", (json_int_t)n, "values", values);
	json_t *children = json_array();
	scope_range(div, lo, hi);
	size_t cl = child_len(strlen(div));
	db_stmt *st;
	if (by_inst || !cl) {
		st = db_prepare(d, "SELECT r.institution_id, i.name, r.vals, r.division_code, r.derived FROM reports r JOIN institutions i "
		                       "ON i.id = r.institution_id WHERE r.template_code = $1 AND r.period = $2 AND "
		                       "r.division_code >= $3 AND r.division_code < $4 AND r.status IN ('submitted', 'approved') "
		                       "ORDER BY r.division_code, r.institution_id LIMIT 5000");
		rc = st ? db_bindf(st, "tttt", t->code, period, lo, hi) : DB_ERROR;
		while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
			json_t *vals = json_loads(db_column_text(st, 2), 0, NULL);
			json_t *derived = json_loads(db_column_text(st, 4), 0, NULL);
			json_t *contrib = rollup_contrib(t, vals, derived);
			json_decref(derived);
			json_array_append_new(children, json_pack("{s:I,s:s,s:s,s:I,s:o}", "institution_id",
			                                          (json_int_t)db_column_int64(st, 0), "name", db_column_text(st, 1),
			                                          "division_code", db_column_text(st, 3), "reports", (json_int_t)1,
			                                          "values", rollup_values(t, contrib)));
			json_decref(contrib);
			json_decref(vals);
		}
	} else {
		st = db_prepare(d, "SELECT r.division_code, COALESCE(d.name, ''), r.sums, r.n_reports FROM rollups r "
		                       "LEFT JOIN divisions d ON d.code = r.division_code WHERE r.template_code = $1 AND r.period = $2 "
		                       "AND r.division_code >= $3 AND r.division_code < $4 AND length(r.division_code) = $5 "
		                       "AND r.n_reports > 0 ORDER BY r.division_code");
		rc = st ? db_bindf(st, "ttttI", t->code, period, lo, hi, (int64_t)cl) : DB_ERROR;
		while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
			json_t *sums = json_loads(db_column_text(st, 2), 0, NULL);
			json_array_append_new(children, json_pack("{s:s,s:s,s:I,s:o}", "code", db_column_text(st, 0), "name",
			                                          db_column_text(st, 1), "reports",
			                                          (json_int_t)db_column_int64(st, 3), "values",
			                                          rollup_values(t, sums)));
			json_decref(sums);
		}
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(me);
		json_decref(children);
		*rcp = rc;
		return NULL;
	}
	return json_pack("{s:s,s:s,s:o,s:o}", "template", t->code, "period", period, "division", me, "children", children);
}

int h_rollups(struct req *r)
{
	const struct template *t;
	const char *period;
	char div[SCOPE_MAX];
	int rc = 0;
	if (common_or_reply(r, &t, &period, div, 1) != 0)
		return 0;
	const char *by = req_query(r, "by");
	int by_inst = by && !strcmp(by, "institution");
	if (by && !by_inst && strcmp(by, "division"))
		return reply_error(r, 400, "invalid_query", "by 只能是 division 或 institution", "by");
	json_t *j = rollups_build(r->db, t, period, div, by_inst, &rc);
	return j ? reply_json(r, 200, j) : reply_db_error(r, rc);
}



int h_series(struct req *r)
{
	const struct template *t;
	const char *period;
	char div[SCOPE_MAX];
	int y, m, d;
	if (common_or_reply(r, &t, &period, div, 0) != 0)
		return 0;
	const char *field = req_query(r, "field") ? req_query(r, "field") : "";
	const struct tfield *f = template_field(t, field);
	const struct tratio *ratio = template_ratio(t, field);
	if ((!f || f->agg == AGG_NONE) && !ratio)
		return reply_error(r, 400, "invalid_field", "字段不存在或不参与汇总", "field");
	const char *from = req_query(r, "from"), *to = req_query(r, "to");
	if (!from || !to || date_parse(from, &y, &m, &d) || date_parse(to, &y, &m, &d) || strcmp(from, to) > 0)
		return reply_error(r, 400, "invalid_query", "from 与 to 应为日期（YYYY-MM-DD），且 from 不晚于 to", "from");
	db_stmt *st = db_prepare(r->db, "SELECT period, sums, n_reports FROM rollups WHERE template_code = $1 AND "
	                                "division_code = $2 AND period >= $3 AND period <= $4 ORDER BY period LIMIT 1000");
	json_t *points = json_array();
	int rc = st ? db_bindf(st, "tttt", t->code, div, from, to) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_t *sums = json_loads(db_column_text(st, 1), 0, NULL);
		json_t *vals = rollup_values(t, sums);
		json_array_append_new(points, json_pack("{s:s,s:O,s:I}", "period", db_column_text(st, 0), "value",
		                                        json_object_get(vals, field), "reports",
		                                        (json_int_t)db_column_int64(st, 2)));
		json_decref(vals);
		json_decref(sums);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(points);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:o}", "template", t->code, "field", field, "division", div,
	                                    "points", points));
}

int h_reports_list(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	long limit, offset;
	const struct template *t = template_find(req_query(r, "template"));
	const char *period = req_query(r, "period"), *status = req_query(r, "status");
	if (!t)
		return reply_error(r, 404, "unknown_template", "报表模板不存在", "template");
	if (period && *period && report_period_ok(t, period) != 0)
		return reply_error(r, 400, "invalid_period", "期次格式错误", "period");
	if (status && *status && strcmp(status, "draft") && strcmp(status, "submitted") && strcmp(status, "approved") &&
	    strcmp(status, "returned"))
		return reply_error(r, 400, "invalid_query", "status 只能是 draft、submitted、approved 或 returned", "status");
	if (req_division_or_reply(r, "division", div) != 0 || req_paging_or_reply(r, 50, 500, &limit, &offset) != 0)
		return 0;
	scope_range(div, lo, hi);
	int64_t only = r->user.role == ROLE_REPORTER ? r->user.institution_id : 0;
	db_stmt *st = db_prepare(r->db, "SELECT r.id, r.institution_id, i.name, r.division_code, r.period, r.status, "
	                                "COALESCE(r.submitted_at, 0), r.on_time, COALESCE(r.review_reason, '') FROM reports r "
	                                "JOIN institutions i ON i.id = r.institution_id WHERE r.template_code = $1 AND "
	                                "r.division_code >= $2 AND r.division_code < $3 AND ($4 = '' OR r.period = $4) AND "
	                                "($5 = '' OR r.status = $5) AND ($6 = 0 OR r.institution_id = $6) "
	                                "ORDER BY r.period DESC, r.division_code, r.id LIMIT $7 OFFSET $8");
	json_t *items = json_array();
	int rc = st ? db_bindf(st, "tttttIII", t->code, lo, hi, period ? period : "", status ? status : "", only,
	                       (int64_t)limit, (int64_t)offset)
	            : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		int64_t sub = db_column_int64(st, 6);
		json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)db_column_int64(st, 0),
		                      "institution_id", (json_int_t)db_column_int64(st, 1), "institution_name",
		                      db_column_text(st, 2), "division_code", db_column_text(st, 3), "period",
		                      db_column_text(st, 4), "status", db_column_text(st, 5), "review_reason",
		                      db_column_text(st, 8));
		json_object_set_new(j, "submitted_at", sub ? json_integer(sub) : json_null());
		json_object_set_new(j, "on_time", sub ? json_boolean(db_column_int64(st, 7)) : json_null());
		json_array_append_new(items, j);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}
