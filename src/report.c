/* report.c — checking, storing and reviewing reports. */
#include "report.h"
#include "need.h"
#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "jspec.h"
#include "rollup.h"
#include "supply.h"
#include "scope.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void detail(json_t *details, const char *key, const char *name, const char *severity, const char *code,
                   const char *msg)
{
	json_array_append_new(details, json_pack("{s:s,s:s,s:s,s:s}", key, name, "severity", severity, "code", code,
	                                         "message", msg));
}

static int lookup(void *ctx, const char *field, double *v)
{
	json_t *x = json_object_get((json_t *)ctx, field);
	if (!json_is_number(x))
		return -1;
	*v = json_number_value(x);
	return 0;
}

static void fmt_num(double v, char *out, size_t n)
{
	if (fabs(v - round(v)) < 1e-9)
		snprintf(out, n, "%.0f", v);
	else
		snprintf(out, n, "%.2f", v);
}

/* Checks one value against its field. Returns 1 on an error (added). */
static int check_value(const struct tfield *f, json_t *v, json_t *details)
{
	char msg[300];
	int y, m, d;
	switch (f->type) {
	case FT_INT:
	case FT_DEC:
		if (!json_is_number(v) || (f->type == FT_INT && !json_is_integer(v))) {
			snprintf(msg, sizeof msg, "%s必须是%s", f->label, f->type == FT_INT ? "整数" : "数字");
			detail(details, "field", f->code, "error", "invalid_type", msg);
			return 1;
		}
		if ((f->has_min && json_number_value(v) < f->min) || (f->has_max && json_number_value(v) > f->max)) {
			char lo[32], hi[32];
			fmt_num(f->min, lo, sizeof lo);
			fmt_num(f->max, hi, sizeof hi);
			snprintf(msg, sizeof msg, "%s应在 %s 到 %s 之间%s%s", f->label, lo, hi, f->unit ? "，单位：" : "",
			         f->unit ? f->unit : "");
			detail(details, "field", f->code, "error", "out_of_range", msg);
			return 1;
		}
		return 0;
	case FT_BOOL:
		if (!json_is_boolean(v)) {
			snprintf(msg, sizeof msg, "%s必须是“是”或“否”", f->label);
			detail(details, "field", f->code, "error", "invalid_type", msg);
			return 1;
		}
		return 0;
	case FT_DATE:
		if (!json_is_string(v) || date_parse(json_string_value(v), &y, &m, &d) != 0) {
			snprintf(msg, sizeof msg, "%s必须是日期（YYYY-MM-DD）", f->label);
			detail(details, "field", f->code, "error", "invalid_date", msg);
			return 1;
		}
		return 0;
	case FT_TEXT:
		if (!json_is_string(v)) {
			snprintf(msg, sizeof msg, "%s必须是文本", f->label);
			detail(details, "field", f->code, "error", "invalid_type", msg);
			return 1;
		}
		if ((int)utf8_chars(json_string_value(v)) > f->maxlen) {
			snprintf(msg, sizeof msg, "%s最多 %d 个字", f->label, f->maxlen);
			detail(details, "field", f->code, "error", "too_long", msg);
			return 1;
		}
		return 0;
	case FT_CHOICE: {
		size_t i;
		json_t *o;
		json_array_foreach(f->options, i, o)
		{
			if (json_is_string(v) && json_equal(json_object_get(o, "value"), v))
				return 0;
		}
		snprintf(msg, sizeof msg, "%s的选项无效", f->label);
		detail(details, "field", f->code, "error", "invalid_value", msg);
		return 1;
	}
	}
	return 0;
}

int report_check(const struct template *t, json_t *values, int submitting, json_t *details, int *warnings)
{
	int errors = 0;
	const char *k;
	json_t *v;
	char msg[400];
	*warnings = 0;
	json_object_foreach(values, k, v)
	{
		if (!template_field(t, k)) {
			snprintf(msg, sizeof msg, "表单中没有字段 %s", k);
			detail(details, "field", k, "error", "unknown_field", msg);
			errors++;
		}
	}
	for (int i = 0; i < t->nfields; i++) {
		const struct tfield *f = &t->fields[i];
		v = json_object_get(values, f->code);
		if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v) && f->type != FT_TEXT)) {
			if (submitting && f->required) {
				snprintf(msg, sizeof msg, "%s为必填项", f->label);
				detail(details, "field", f->code, "error", "required", msg);
				errors++;
			}
			continue;
		}
		errors += check_value(f, v, details);
	}
	if (errors)
		return errors; /* rules only make sense over well-typed values */
	for (int i = 0; i < t->nrules; i++) {
		const struct trule *r = &t->rules[i];
		double a, b;
		if (expr_eval(r->left, lookup, values, &a) != 0 || expr_eval(r->right, lookup, values, &b) != 0)
			continue; /* a side has no value yet: nothing to judge */
		if (cmp_holds(r->op, a, b))
			continue;
		char as[32], bs[32], name[16];
		fmt_num(a, as, sizeof as);
		fmt_num(b, bs, sizeof bs);
		snprintf(name, sizeof name, "rule%d", i + 1);
		snprintf(msg, sizeof msg, "%s（%s = %s，%s = %s，应满足 %s %s %s）", r->message, r->left_text, as, r->right_text,
		         bs, as, cmp_text(r->op), bs);
		detail(details, "rule", name, r->error ? "error" : "warning", r->error ? "rule_failed" : "rule_warning", msg);
		if (r->error)
			errors++;
		else
			(*warnings)++;
	}
	return errors;
}

int report_period_ok(const struct template *t, const char *period)
{
	int y, m, d;
	if (date_parse(period, &y, &m, &d) != 0)
		return -1;
	if (t->period == PERIOD_ONCE)
		return strcmp(period, t->opens) == 0 ? 0 : -1;
	if (t->period == PERIOD_WEEKLY) {
		struct tm tm = {0};
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = 12;
		tm.tm_isdst = -1;
		mktime(&tm);
		return tm.tm_wday == 1 ? 0 : -1;
	}
	return 0;
}

static int64_t day_at(const char *date, int minutes)
{
	int y, m, d;
	if (date_parse(date, &y, &m, &d) != 0)
		return 0;
	return clock_local_to_unix(y, m, d, minutes / 60, minutes % 60);
}

int64_t report_deadline(const struct template *t, const char *period)
{
	const char *day = t->period == PERIOD_ONCE ? t->closes : period;
	char last[11];
	if (t->period == PERIOD_WEEKLY && date_add_days(period, 6, last) == 0)
		day = last;
	return day_at(day, t->deadline_min);
}

int64_t report_closes(const struct template *t, const char *period)
{
	const char *day = t->period == PERIOD_ONCE ? t->closes : period;
	char end[11];
	int extra = t->open_days + (t->period == PERIOD_WEEKLY ? 6 : 0);
	if (date_add_days(day, extra + 1, end) != 0)
		return 0;
	return day_at(end, 0); /* midnight after the last open day */
}

/* ---------- storage ---------- */

#define REPORT_COLS                                                                                               \
	"r.id, r.template_code, r.template_version, r.institution_id, r.division_code, r.period, r.status, r.vals, "   \
	"r.warnings_confirmed, COALESCE(r.first_submitted_at, 0), COALESCE(r.submitted_at, 0), r.on_time, "         \
	"COALESCE(r.submitted_by, ''), COALESCE(r.reviewed_by, ''), COALESCE(r.reviewed_at, 0), "                    \
	"COALESCE(r.review_reason, ''), r.created_at, r.updated_at, r.version, i.name, r.derived"

/* A report as the API shows it (report_json): from a stored row, or from what
 * a save just wrote. */
struct report_view {
	int64_t id, inst, first, submitted, reviewed_at, created, updated, version;
	const char *tcode, *division, *period, *status, *submitted_by, *reviewed_by, *review_reason, *inst_name;
	int tversion, warnings_confirmed, on_time;
	json_t *values;  /* taken */
	json_t *derived; /* borrowed: supply and low_supply come from it */
};

static json_t *report_json(const struct report_view *v)
{
	json_t *j = json_pack("{s:I,s:s,s:i,s:I,s:s,s:s,s:s,s:o}", "id", (json_int_t)v->id, "template", v->tcode,
	                      "template_version", v->tversion, "institution_id", (json_int_t)v->inst, "division_code",
	                      v->division, "period", v->period, "status", v->status, "values",
	                      v->values ? v->values : json_object());
	json_object_set_new(j, "warnings_confirmed", json_boolean(v->warnings_confirmed));
	json_object_set_new(j, "first_submitted_at", v->first ? json_integer(v->first) : json_null());
	json_object_set_new(j, "submitted_at", v->submitted ? json_integer(v->submitted) : json_null());
	json_object_set_new(j, "on_time", v->first ? json_boolean(v->on_time) : json_null());
	json_object_set_new(j, "submitted_by", json_string(v->submitted_by));
	json_object_set_new(j, "reviewed_by", json_string(v->reviewed_by));
	json_object_set_new(j, "reviewed_at", v->reviewed_at ? json_integer(v->reviewed_at) : json_null());
	json_object_set_new(j, "review_reason", json_string(v->review_reason));
	json_object_set_new(j, "created_at", json_integer(v->created));
	json_object_set_new(j, "updated_at", json_integer(v->updated));
	json_object_set_new(j, "version", json_integer(v->version));
	json_object_set_new(j, "institution_name", json_string(v->inst_name));
	json_object_set_new(j, "supply", json_incref(json_object_get(v->derived, "supply")));
	json_object_set_new(j, "low_supply", json_incref(json_object_get(v->derived, "low")));
	return j;
}

static json_t *row_json(db_stmt *st)
{
	json_t *derived = json_loads(db_column_text(st, 20), 0, NULL);
	struct report_view v = {
	    .id = db_column_int64(st, 0), .tcode = db_column_text(st, 1), .tversion = (int)db_column_int64(st, 2),
	    .inst = db_column_int64(st, 3), .division = db_column_text(st, 4), .period = db_column_text(st, 5),
	    .status = db_column_text(st, 6), .values = json_loads(db_column_text(st, 7), 0, NULL),
	    .warnings_confirmed = (int)db_column_int64(st, 8), .first = db_column_int64(st, 9),
	    .submitted = db_column_int64(st, 10), .on_time = (int)db_column_int64(st, 11),
	    .submitted_by = db_column_text(st, 12), .reviewed_by = db_column_text(st, 13),
	    .reviewed_at = db_column_int64(st, 14), .review_reason = db_column_text(st, 15),
	    .created = db_column_int64(st, 16), .updated = db_column_int64(st, 17), .version = db_column_int64(st, 18),
	    .inst_name = db_column_text(st, 19), .derived = derived};
	json_t *j = report_json(&v);
	json_decref(derived);
	return j;
}

json_t *report_load(db *d, const char *tcode, int64_t inst, const char *period, int *rc)
{
	db_stmt *st = db_prepare(d, "SELECT " REPORT_COLS " FROM reports r JOIN institutions i ON i.id = r.institution_id "
	                            "WHERE r.template_code = $1 AND r.institution_id = $2 AND r.period = $3");
	json_t *j = NULL;
	*rc = st ? db_bindf(st, "tIt", tcode, inst, period) : DB_ERROR;
	if (*rc == 0 && (*rc = db_step(st)) == DB_ROW)
		j = row_json(st);
	db_reset(st);
	return j;
}

static int counted(const char *status)
{
	return !strcmp(status, "submitted") || !strcmp(status, "approved");
}

struct save_ctx {
	struct report_save *s;
	struct cw_err *e;
};

/* Records each changed value of a report that had been submitted before. */
static int record_changes(db *d, int64_t id, json_t *old, json_t *neu, const char *actor, int64_t now)
{
	const char *k;
	json_t *v;
	json_t *keys = json_object();
	json_object_foreach(old, k, v) json_object_set(keys, k, json_true());
	json_object_foreach(neu, k, v) json_object_set(keys, k, json_true());
	int rc = 0;
	json_object_foreach(keys, k, v)
	{
		json_t *a = json_object_get(old, k), *b = json_object_get(neu, k);
		if (a && b && json_equal(a, b))
			continue;
		char *as = a ? json_dumps(a, JSON_ENCODE_ANY) : NULL, *bs = b ? json_dumps(b, JSON_ENCODE_ANY) : NULL;
		int64_t n = db_run(d, "INSERT INTO report_changes(report_id, field, old_value, new_value, actor, changed_at) "
		                      "VALUES ($1, $2, $3, $4, $5, $6)",
		                   "IttttI", id, k, as, bs, actor, now);
		free(as);
		free(bs);
		if (n < 0) {
			rc = (int)n;
			break;
		}
	}
	json_decref(keys);
	return rc;
}

static int save_txn(db *d, void *vc);

/* The stored report as report_load() would read it back after save_txn(),
 * from what the save just wrote and the row before it (old, NULL when new)
 * instead of a second read. */
static json_t *saved_json(const struct report_save *s, json_t *old, int64_t id, const char *division,
                          const char *iname, const char *status, int64_t first, int on_time, json_t *derived)
{
	const char *old_by = json_string_value(json_object_get(old, "submitted_by"));
	const char *old_reason = json_string_value(json_object_get(old, "review_reason"));
	const char *reviewer = json_string_value(json_object_get(old, "reviewed_by"));
	struct report_view v = {
	    .id = id, .tcode = s->t->code, .tversion = s->t->version, .inst = s->institution_id, .division = division,
	    .period = s->period, .status = status, .values = json_incref(s->values),
	    .warnings_confirmed = s->confirm_warnings, .first = first, .on_time = on_time,
	    .submitted = s->submit ? s->now : json_integer_value(json_object_get(old, "submitted_at")),
	    .submitted_by = s->submit ? s->u->login : old_by ? old_by : "",
	    .reviewed_by = reviewer ? reviewer : "", .reviewed_at = json_integer_value(json_object_get(old, "reviewed_at")),
	    .review_reason = !s->submit && old_reason ? old_reason : "",
	    .created = old ? json_integer_value(json_object_get(old, "created_at")) : s->now, .updated = s->now,
	    .version = old ? json_integer_value(json_object_get(old, "version")) + 1 : 1, .inst_name = iname,
	    .derived = derived};
	return report_json(&v);
}

int report_store(db *d, struct report_save *s, struct cw_err *e)
{
	struct save_ctx c = {s, e};
	return save_txn(d, &c);
}

static int save_txn(db *d, void *vc)
{
	struct save_ctx *c = vc;
	struct report_save *s = c->s;
	int rc;
	s->replayed = s->created = 0;
	json_decref(s->saved); /* of an earlier attempt */
	s->saved = NULL;
	if (s->client_key) {
		int64_t rid = 0;
		rc = db_query_int64(d, &rid, "SELECT report_id FROM report_keys WHERE client_key = $1", "t", s->client_key);
		if (rc == DB_ROW) {
			s->report_id = rid;
			s->replayed = 1;
			return 0;
		}
		if (rc != DB_DONE)
			return rc;
	}
	char division[SCOPE_MAX] = "", itype[40] = "", iname[256] = "";
	db_stmt *st = db_prepare(d, "SELECT division_code, type, name FROM institutions WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", s->institution_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		cw_strlcpy(division, db_column_text(st, 0), sizeof division);
		cw_strlcpy(itype, db_column_text(st, 1), sizeof itype);
		cw_strlcpy(iname, db_column_text(st, 2), sizeof iname);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (rc == DB_DONE || !(s->u->role == ROLE_REPORTER ? s->u->institution_id == s->institution_id
	                                                   : scope_contains(s->u->scope, division))) {
		err_set(c->e, 404, "not_found", NULL, "未找到该机构，或不在您的权限范围内");
		return DB_APP;
	}
	if (!template_applies(s->t, itype)) {
		err_set(c->e, 422, "template_not_applicable", NULL, "该机构类型不填报此表");
		return DB_APP;
	}
	int rcl;
	json_t *old = report_load(d, s->t->code, s->institution_id, s->period, &rcl);
	if (rcl != DB_ROW && rcl != DB_DONE)
		return rcl;
	const char *old_status = old ? json_string_value(json_object_get(old, "status")) : "";
	if (old && !strcmp(old_status, "approved") && s->u->role == ROLE_REPORTER) {
		json_decref(old);
		err_set(c->e, 409, "already_approved", NULL, "该报表已审核通过，如需修改请联系民政部门退回");
		return DB_APP;
	}
	int64_t id = old ? json_integer_value(json_object_get(old, "id")) : 0;
	int64_t first = old ? json_integer_value(json_object_get(old, "first_submitted_at")) : 0;
	int old_on_time = old ? json_is_true(json_object_get(old, "on_time")) : 0;
	const char *status = s->submit ? "submitted" : "draft";
	if (s->submit && !first)
		first = s->now;
	int on_time = first && first < report_deadline(s->t, s->period);
	json_t *derived = NULL;
	if (s->submit) {
		derived = s->derived ? json_incref(s->derived)
		                     : supply_derive(d, s->t, s->institution_id, s->period, s->values, &rc);
		if (!derived) {
			json_decref(old);
			return rc;
		}
	}
	char *vals = s->vals_text ? NULL : json_dumps(s->values, JSON_COMPACT | JSON_SORT_KEYS);
	const char *vtext = s->vals_text ? s->vals_text : vals;
	char *dtext = derived ? json_dumps(derived, JSON_COMPACT) : xstrdup("{}");
	if (!old) {
		st = db_prepare(d, "INSERT INTO reports(template_code, template_version, institution_id, division_code, period, "
		                   "status, vals, warnings_confirmed, first_submitted_at, submitted_at, on_time, submitted_by, "
		                   "created_at, updated_at, derived) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
		                   "$13, $13, $14) ON CONFLICT (template_code, institution_id, period) DO NOTHING RETURNING id");
		rc = st ? 0 : DB_ERROR;
		if (rc == 0) {
			db_bindf(st, "tiItttti", s->t->code, s->t->version, s->institution_id, division, s->period, status, vtext,
			         s->confirm_warnings);
			if (first)
				db_bind_int64(st, 9, first);
			else
				db_bind_null(st, 9);
			if (s->submit)
				db_bind_int64(st, 10, s->now);
			else
				db_bind_null(st, 10);
			db_bind_int64(st, 11, on_time);
			db_bind_text(st, 12, s->submit ? s->u->login : NULL);
			db_bind_int64(st, 13, s->now);
			db_bind_text(st, 14, dtext);
			rc = db_step(st);
			if (rc == DB_ROW)
				id = db_column_int64(st, 0);
			db_reset(st);
			/* no row: a concurrent request (PostgreSQL) stored this report
			 * first; run again, as an update of it */
			rc = rc == DB_ROW ? 0 : (rc == DB_DONE ? DB_BUSY : rc);
		}
		s->created = 1;
	} else {
		st = db_prepare(d, "UPDATE reports SET template_version = $1, status = $2, vals = $3, warnings_confirmed = $4, "
		                   "first_submitted_at = $5, submitted_at = COALESCE($6, submitted_at), on_time = $7, "
		                   "submitted_by = COALESCE($8, submitted_by), updated_at = $9, version = version + 1, "
		                   "review_reason = CASE WHEN $2 = 'submitted' THEN NULL ELSE review_reason END, derived = $11 "
		                   "WHERE id = $10 AND version = $12");
		rc = st ? 0 : DB_ERROR;
		if (rc == 0) {
			db_bindf(st, "itti", s->t->version, status, vtext, s->confirm_warnings);
			if (first)
				db_bind_int64(st, 5, first);
			else
				db_bind_null(st, 5);
			if (s->submit)
				db_bind_int64(st, 6, s->now);
			else
				db_bind_null(st, 6);
			db_bind_int64(st, 7, on_time);
			db_bind_text(st, 8, s->submit ? s->u->login : NULL);
			db_bind_int64(st, 9, s->now);
			db_bind_int64(st, 10, id);
			db_bind_text(st, 11, dtext);
			db_bind_int64(st, 12, json_integer_value(json_object_get(old, "version")));
			while ((rc = db_step(st)) == DB_ROW)
				;
			/* only the version read above: when a concurrent request
			 * (PostgreSQL) changed the report since, nothing matches and
			 * the whole save runs again from a fresh read — the roll-ups
			 * never subtract a stale contribution */
			if (rc == DB_DONE && db_changes(st) == 0)
				rc = DB_BUSY;
			db_reset(st);
			rc = rc == DB_DONE ? 0 : rc;
		}
		if (rc == 0 && first && strcmp(old_status, "draft") != 0)
			rc = record_changes(d, id, json_object_get(old, "values"), s->values, s->u->login, s->now);
	}
	free(vals);
	free(dtext);
	if (rc == 0 && s->client_key) {
		int64_t n = db_run(d, "INSERT INTO report_keys(client_key, report_id, created_at) VALUES ($1, $2, $3)", "tII",
		                   s->client_key, id, s->now);
		rc = n < 0 ? (int)n : 0;
	}
	/* the shared rows last, in the lock order of rollup.h: roll-ups, audit */
	if (rc == 0 && old && counted(old_status)) {
		json_t *od = json_pack("{s:O}", "low", json_object_get(old, "low_supply") ? json_object_get(old, "low_supply")
		                                                                           : json_null());
		rc = rollup_apply(d, s->rollup_batch, s->t, s->period, division, json_object_get(old, "values"), od, old_on_time, -1);
		json_decref(od);
	}
	/* needs proposed from stock under its days-of-supply threshold: rows of
	 * the institution only, before the shared rows; audited after them */
	json_t *proposed = json_array();
	if (rc == 0 && s->submit && json_array_size(json_object_get(derived, "low")))
		rc = need_propose_from_report(d, s->institution_id, division, s->period, derived, s->now, proposed);
	if (rc == 0 && s->submit)
		rc = rollup_apply(d, s->rollup_batch, s->t, s->period, division, s->values, derived, on_time, 1);
	if (rc == 0 && s->want_saved)
		s->saved = saved_json(s, old, id, division, iname, status, first, on_time, derived);
	json_decref(derived);
	if (rc == 0) {
		json_t *after = json_pack("{s:s,s:s,s:s,s:I}", "template", s->t->code, "period", s->period, "status", status,
		                          "institution_id", (json_int_t)s->institution_id);
		const char *action = s->submit ? "report.submit" : "report.draft";
		if (s->audit_later) /* written by report_audit_flush(), after the roll-ups */
			json_array_append_new(s->audit_later,
			                      json_pack("{s:s,s:s,s:I,s:s,s:O}", "action", action, "object_type", "report",
			                                "object_id", (json_int_t)id, "division", division, "after", after));
		else
			rc = audit_write_id(d, s->u, s->now, action, "report", id, division, NULL, after);
		json_decref(after);
	}
	if (rc == 0 && json_array_size(proposed)) {
		if (s->audit_later)
			json_array_extend(s->audit_later, proposed);
		else
			rc = audit_write_many(d, s->u, s->now, proposed);
	}
	json_decref(proposed);
	json_decref(old);
	s->report_id = id;
	return rc;
}

int report_audit_flush(db *d, const struct user *u, int64_t now, json_t *later)
{
	int rc = audit_write_many(d, u, now, later);
	json_array_clear(later);
	return rc;
}

int report_save(db *d, struct report_save *s, struct cw_err *e)
{
	int warnings = 0;
	memset(e, 0, sizeof *e);
	int errors = report_check(s->t, s->values, s->submit, s->details, &warnings);
	if (errors || (s->submit && warnings && !s->confirm_warnings)) {
		err_set(e, 422, "validation_failed", NULL,
		        errors ? "填报内容有误，请按提示修改" : "有需要确认的提示，请核实后勾选“确认无误”再提交");
		return -1;
	}
	/* days of supply read the institution's earlier reports: before the
	 * transaction, so the one writer does not wait for them. An earlier day
	 * saved meanwhile is not seen — as if it had been saved after this one,
	 * which never recomputes later days either. */
	int rc = 0;
	if (s->submit && !(s->derived = supply_derive(d, s->t, s->institution_id, s->period, s->values, &rc))) {
		err_db(e, rc);
		return -1;
	}
	s->vals_text = json_dumps(s->values, JSON_COMPACT | JSON_SORT_KEYS);
	struct save_ctx c = {s, e};
	rc = db_txn_group_err(d, save_txn, &c, e);
	json_decref(s->derived);
	s->derived = NULL;
	free(s->vals_text);
	s->vals_text = NULL;
	return rc != 0 ? -1 : 0;
}

struct review_ctx {
	const struct user *u;
	int64_t now, inst;
	const char *tcode, *period, *reason;
	int approve;
	struct cw_err *e;
};

static int review_txn(db *d, void *vc)
{
	struct review_ctx *c = vc;
	int rc;
	json_t *r = report_load(d, c->tcode, c->inst, c->period, &rc);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	const char *div = r ? json_string_value(json_object_get(r, "division_code")) : "";
	if (!r || !scope_contains(c->u->scope, div)) {
		json_decref(r);
		err_set(c->e, 404, "not_found", NULL, "未找到该报表，或不在您的管辖范围内");
		return DB_APP;
	}
	const char *status = json_string_value(json_object_get(r, "status"));
	if (strcmp(status, "submitted") != 0 && !(strcmp(status, "approved") == 0 && !c->approve)) {
		json_decref(r);
		err_set(c->e, 409, "not_reviewable", NULL, "只有已提交（或已通过需退回）的报表可以审核");
		return DB_APP;
	}
	int64_t id = json_integer_value(json_object_get(r, "id"));
	/* only the version read above: a concurrent change (PostgreSQL) makes
	 * this match nothing, and the review runs again on the new version */
	int64_t n = db_run(d, "UPDATE reports SET status = $1, reviewed_by = $2, reviewed_at = $3, review_reason = $4, "
	                      "updated_at = $3, version = version + 1 WHERE id = $5 AND version = $6",
	                   "ttItII", c->approve ? "approved" : "returned", c->u->login, c->now, c->reason ? c->reason : "", id,
	                   (int64_t)json_integer_value(json_object_get(r, "version")));
	rc = n < 0 ? (int)n : n == 0 ? DB_BUSY : 0;
	const struct template *t = template_find(c->tcode);
	if (rc == 0 && !c->approve && t) {
		json_t *od = json_pack("{s:O}", "low", json_object_get(r, "low_supply") ? json_object_get(r, "low_supply")
		                                                                         : json_null());
		rc = rollup_apply(d, NULL, t, c->period, div, json_object_get(r, "values"), od,
		                  json_is_true(json_object_get(r, "on_time")), -1);
		json_decref(od);
	}
	if (rc == 0) {
		json_t *after = json_pack("{s:s,s:s}", "status", c->approve ? "approved" : "returned", "reason",
		                          c->reason ? c->reason : "");
		rc = audit_write_id(d, c->u, c->now, c->approve ? "report.approve" : "report.return", "report", id, div, NULL,
		                    after);
		json_decref(after);
	}
	json_decref(r);
	return rc;
}

int report_review(db *d, const struct user *u, int64_t now, const char *tcode, int64_t inst, const char *period,
                  int approve, const char *reason, struct cw_err *e)
{
	memset(e, 0, sizeof *e);
	if (!approve && (!reason || !*reason)) {
		err_set(e, 422, "required", "reason", "退回时必须填写原因");
		return -1;
	}
	struct review_ctx c = {u, now, inst, tcode, period, reason, approve, e};
	if (db_txn_group_err(d, review_txn, &c, e) != 0)
		return -1;
	return 0;
}

json_t *report_prefill(db *d, const struct template *t, int64_t inst, const char *period, int zero, char *from,
                       int *rc)
{
	db_stmt *st = db_prepare(d, "SELECT vals, period FROM reports WHERE template_code = $1 AND institution_id = $2 "
	                            "AND period < $3 AND status IN ('submitted', 'approved') ORDER BY template_code DESC, institution_id DESC, period DESC LIMIT 1");
	json_t *last = NULL, *out = json_object();
	from[0] = 0;
	*rc = st ? db_bindf(st, "tIt", t->code, inst, period) : DB_ERROR;
	if (*rc == 0 && (*rc = db_step(st)) == DB_ROW) {
		last = json_loads(db_column_text(st, 0), 0, NULL);
		cw_strlcpy(from, db_column_text(st, 1), 11);
	}
	db_reset(st);
	if (*rc != DB_ROW && *rc != DB_DONE) {
		json_decref(out);
		return NULL;
	}
	for (int i = 0; i < t->nfields; i++) {
		const struct tfield *f = &t->fields[i];
		json_t *v = json_object_get(last, f->code);
		if (f->flow) {
			if (zero)
				json_object_set_new(out, f->code, f->type == FT_BOOL ? json_false() : json_integer(0));
		} else if (v && f->type != FT_TEXT)
			json_object_set(out, f->code, v);
	}
	json_decref(last);
	return out;
}
