/* visit.c — home visits (走访探视): recording a visit, a person's visits, the
 * overdue and due lists per worker and per division, and coverage counts
 * rolled up by division and category. Dates are local (cfg.timezone). */
#include "audit.h"
#include "clock.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "person.h"
#include "scope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_codes[] = {"in_person", "phone", "video", NULL};

static const struct jfield visit_spec[] = {
    {"date", J_STR, 1, 10, 10, NULL, "走访日期", 0},
    {"mode", J_ENUM, 1, 0, 0, mode_codes, "走访方式", 0},
    {"findings", J_ANY, 0, 0, 0, NULL, "发现情况", 0},
    {"help", J_STR, 0, 0, 1000, NULL, "帮扶措施", 0},
    {"follow_up", J_ANY, 0, 0, 0, NULL, "后续跟进", 0},
    {"client_key", J_STR, 0, 8, 100, NULL, "请求编号", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

/* findings: a string, or {health, supplies, safety} of strings (each ≤ 1000
 * characters). Returns the normalised object (new) or NULL. */
static json_t *findings_norm(json_t *f)
{
	if (!f || json_is_null(f))
		return json_object();
	if (json_is_string(f))
		return utf8_chars(json_string_value(f)) <= 2000 ? json_pack("{s:O}", "text", f) : NULL;
	if (!json_is_object(f))
		return NULL;
	const char *k;
	json_t *v;
	json_object_foreach(f, k, v)
	{
		if ((strcmp(k, "health") && strcmp(k, "supplies") && strcmp(k, "safety") && strcmp(k, "text")) ||
		    !json_is_string(v) || utf8_chars(json_string_value(v)) > 1000)
			return NULL;
	}
	return json_deep_copy(f);
}

int visit_insert(db *d, struct visit_in *c)
{
	char div[SCOPE_MAX], last[11], registered[11], situation[24], cls[8], birth[11];
	const char *date = c->date;
	/* the person row is read, then written back (last visit, next due) */
	int lrc = db_lock_row(d, "persons", c->person);
	if (lrc != 0)
		return lrc;
	db_stmt *st = db_prepare(d, "SELECT division_code, COALESCE(last_visit, ''), registered, situation, risk_class, "
	                            "birth_date FROM persons WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", c->person);
	int rc = db_step(st), visible = 0;
	if (rc == DB_ROW && (!c->u || person_visible(c->u, db_column_text(st, 0)))) {
		visible = 1;
		cw_strlcpy(div, db_column_text(st, 0), sizeof div);
		cw_strlcpy(last, db_column_text(st, 1), sizeof last);
		cw_strlcpy(registered, db_column_text(st, 2), sizeof registered);
		cw_strlcpy(situation, db_column_text(st, 3), sizeof situation);
		cw_strlcpy(cls, db_column_text(st, 4), sizeof cls);
		cw_strlcpy(birth, db_column_text(st, 5), sizeof birth);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (!visible)
		return DB_DONE;
	if (c->client_key) {
		/* a retry of a visit already stored (a phone that lost its answer) */
		st = db_prepare(d, "SELECT id, person_id FROM visits WHERE client_key = $1");
		if (!st)
			return DB_ERROR;
		db_bindf(st, "t", c->client_key);
		rc = db_step(st);
		int64_t pid = rc == DB_ROW ? db_column_int64(st, 1) : 0;
		if (rc == DB_ROW)
			c->visit_id = db_column_int64(st, 0);
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc;
		if (rc == DB_ROW) {
			if (pid != c->person) {
				c->err_code = "client_key_reused";
				c->err_msg = "请求编号已用于另一位服务对象的走访记录";
				return DB_APP;
			}
			c->replayed = 1;
			st = db_prepare(d, "SELECT COALESCE(next_due, '') FROM persons WHERE id = $1");
			if (!st)
				return DB_ERROR;
			db_bindf(st, "I", c->person);
			rc = db_step(st);
			if (rc == DB_ROW)
				cw_strlcpy(c->due, db_column_text(st, 0), sizeof c->due);
			db_reset(st);
			return rc == DB_ROW ? 0 : rc == DB_DONE ? DB_ERROR : rc;
		}
	}
	if (strcmp(date, birth) < 0) {
		c->err_code = "invalid_date";
		c->err_msg = "走访日期不能早于服务对象的出生日期";
		return DB_APP;
	}
	/* the risk class may have moved with age since the last write */
	const char *newcls;
	char chronic[16], vacc[16];
	st = db_prepare(d, "SELECT chronic_disease, vaccination FROM persons WHERE id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", c->person);
	rc = db_step(st);
	if (rc == DB_ROW) {
		cw_strlcpy(chronic, db_column_text(st, 0), sizeof chronic);
		cw_strlcpy(vacc, db_column_text(st, 1), sizeof vacc);
	}
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	json_t *reasons = json_array();
	int score = person_risk(birth, clock_local_ymd(c->now), chronic, vacc, &newcls, reasons);
	char *rtext = json_dumps(reasons, JSON_COMPACT);
	json_decref(reasons);
	const char *newest = strcmp(date, last) > 0 ? date : last;
	person_next_due(situation, newcls, newest, registered, c->due);
	/* a visit to someone who needs none (moved, deceased) still has a date */
	char visit_due[11];
	if (c->due[0])
		cw_strlcpy(visit_due, c->due, sizeof visit_due);
	else
		date_add_days(newest, visit_interval(newcls), visit_due);
	char *ftext = json_dumps(c->findings, JSON_COMPACT);
	st = db_prepare(d, "INSERT INTO visits(person_id, visit_date, mode, visitor_id, visitor, findings, help, "
	                   "follow_up, follow_up_needed, next_due, created_at, client_key) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	                   "$8, $9, $10, $11, $12) RETURNING id");
	rc = st ? db_bindf(st, "IttIttttItI", c->person, date, c->mode, c->u ? c->u->id : (int64_t)0,
	                   c->u ? (c->u->name[0] ? c->u->name : c->u->login) : "demo", ftext, c->help ? c->help : "",
	                   c->follow_up, (int64_t)c->follow_needed, visit_due, c->now)
	        : DB_ERROR;
	if (rc == 0)
		rc = db_bind_text(st, 12, c->client_key);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW)
		c->visit_id = db_column_int64(st, 0);
	if (st)
		db_reset(st);
	free(ftext);
	if (rc != DB_ROW) {
		free(rtext);
		return rc == DB_DONE ? DB_ERROR : rc;
	}
	int64_t n = db_run(d, "UPDATE persons SET last_visit = $1, next_due = $2, visit_count = visit_count + 1, "
	                      "risk_class = $3, risk_score = $4, risk_reasons = $5, updated_at = $6 WHERE id = $7",
	                   "tTtItII", newest, c->due, newcls, (int64_t)score, rtext, c->now,
	                   c->person);
	free(rtext);
	if (n < 0)
		return (int)n;
	json_t *after = json_pack("{s:I,s:s,s:s,s:O,s:s,s:s}", "person_id", (json_int_t)c->person, "date", date, "mode",
	                          c->mode, "findings", c->findings, "follow_up", c->follow_up, "next_due",
	                          visit_due);
	char oid[24];
	snprintf(oid, sizeof oid, "%lld", (long long)c->visit_id);
	rc = audit_write(d, c->u, c->now, "visit.create", "visit", oid, div, NULL, after);
	json_decref(after);
	return rc;
}

static int visit_txn(db *d, void *vc)
{
	return visit_insert(d, vc);
}

int h_visits_create(struct req *r)
{
	int64_t id;
	int y, m, dd;
	if (pii_ready_or_reply(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0 ||
	    jspec_check_or_reply(r, r->json, visit_spec, 0) != 0)
		return 0;
	const char *date = jstr(r->json, "date");
	if (date_parse(date, &y, &m, &dd) != 0)
		return reply_error(r, 422, "invalid_date", "走访日期格式应为 YYYY-MM-DD 且为真实日期", "date");
	if (y * 10000 + m * 100 + dd > clock_local_ymd(r->now))
		return reply_error(r, 422, "future_date", "走访日期不能晚于今天", "date");
	json_t *findings = findings_norm(json_object_get(r->json, "findings"));
	if (!findings)
		return reply_error(r, 422, "invalid_findings",
		                   "发现情况应为文字，或包含 health（健康）、supplies（物资）、safety（安全）的对象", "findings");
	json_t *fu = json_object_get(r->json, "follow_up");
	const char *follow = "";
	int needed = 0;
	if (json_is_string(fu)) {
		follow = json_string_value(fu);
		needed = *follow != 0;
		if (utf8_chars(follow) > 1000) {
			json_decref(findings);
			return reply_error(r, 422, "too_long", "后续跟进最多 1000 个字", "follow_up");
		}
	} else if (json_is_boolean(fu)) {
		needed = json_is_true(fu);
		follow = needed ? "需要跟进" : "";
	} else if (fu && !json_is_null(fu)) {
		json_decref(findings);
		return reply_error(r, 422, "invalid_type", "后续跟进应为文字或 true/false", "follow_up");
	}
	struct visit_in c = {.u = &r->user, .now = r->now, .person = id, .date = date, .mode = jstr(r->json, "mode"),
	                     .help = jstr(r->json, "help"), .findings = findings, .follow_up = follow, .follow_needed = needed,
	                     .client_key = jstr(r->json, "client_key")};
	int rc = db_txn(r->db, 1, visit_txn, &c);
	if (rc == DB_APP) {
		json_decref(findings);
		return reply_error(r, c.replayed || !strcmp(c.err_code, "client_key_reused") ? 409 : 422, c.err_code, c.err_msg,
		                   !strcmp(c.err_code, "client_key_reused") ? "client_key" : "date");
	}
	if (rc == DB_DONE) {
		json_decref(findings);
		return reply_error(r, 404, "not_found", "未找到该服务对象，或不在您的权限范围内", NULL);
	}
	if (rc != 0) {
		json_decref(findings);
		return reply_db_error(r, rc);
	}
	json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:o,s:s,s:s,s:b}", "id", (json_int_t)c.visit_id, "person_id",
	                      (json_int_t)id, "date", date, "mode", jstr(r->json, "mode"), "findings", findings, "help",
	                      jstr(r->json, "help") ? jstr(r->json, "help") : "", "follow_up", follow,
	                      "follow_up_needed", needed);
	json_object_set_new(j, "next_due", c.due[0] ? json_string(c.due) : json_null());
	json_object_set_new(j, "replayed", json_boolean(c.replayed));
	if (c.replayed)
		return reply_json(r, 200, j);
	return reply_json(r, 201, j);
}

int h_person_visits(struct req *r)
{
	int64_t id;
	json_t *p;
	if (pii_ready_or_reply(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0 ||
	    person_load_or_reply(r, id, &p, NULL) != 0)
		return 0;
	json_decref(p);
	db_stmt *st = db_prepare(r->db, "SELECT id, visit_date, mode, visitor, findings, help, follow_up, "
	                                "follow_up_needed, next_due, created_at FROM visits WHERE person_id = $1 "
	                                "ORDER BY visit_date DESC, id DESC LIMIT 200");
	json_t *items = json_array();
	int rc = st ? db_bindf(st, "I", id) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_t *f = json_loads(db_column_text(st, 4), 0, NULL);
		const char *mode = db_column_text(st, 2);
		json_array_append_new(items, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:b,s:s,s:I}", "id",
		                                       (json_int_t)db_column_int64(st, 0), "date", db_column_text(st, 1),
		                                       "mode", mode, "mode_label", enum_label(visit_modes, mode), "visitor",
		                                       db_column_text(st, 3), "findings", f ? f : json_object(), "help",
		                                       db_column_text(st, 5), "follow_up", db_column_text(st, 6),
		                                       "follow_up_needed", (int)db_column_int64(st, 7), "next_due",
		                                       db_column_text(st, 8), "created_at",
		                                       (json_int_t)db_column_int64(st, 9)));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}

/* ---------- due and overdue lists ---------- */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long day_number(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

#define DUE_COLS                                                                                                  \
	"p.id, p.name, p.next_due, p.division_code, COALESCE(dv.name, ''), p.risk_class, p.categories, "              \
	"COALESCE(p.worker_id, 0), COALESCE(w.name, ''), COALESCE(p.last_visit, ''), p.address, p.phone_masked, "     \
	"p.guardian"
#define DUE_WHERE                                                                                                 \
	"WHERE " PERSON_IN_RANGE("p", "$1", "$2") " AND p.next_due >= $3 AND p.next_due < $4 "                        \
	"AND ($5 = 0 OR p.worker_id = $5) "

static json_t *due_item(db_stmt *st, int today)
{
	const char *due = db_column_text(st, 2), *cls = db_column_text(st, 5), *cats = db_column_text(st, 6);
	int y, m, d, days = 0;
	if (date_parse(due, &y, &m, &d) == 0) /* whole local days from due to today */
		days = (int)(day_number(today / 10000, today / 100 % 100, today % 100) - day_number(y, m, d));
	json_t *cat = json_array();
	for (const char *p = cats; *p;) {
		if (*p == ',') {
			p++;
			continue;
		}
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		json_array_append_new(cat, json_stringn(p, n));
		p += n;
	}
	int64_t w = db_column_int64(st, 7);
	const char *last = db_column_text(st, 9);
	json_t *j = json_pack("{s:I,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s}", "person_id",
	                      (json_int_t)db_column_int64(st, 0), "name", db_column_text(st, 1), "due", due,
	                      "days_overdue", days, "division_code", db_column_text(st, 3), "division_name",
	                      db_column_text(st, 4), "risk_class", cls, "risk_label", enum_label(risk_classes, cls),
	                      "categories", cat, "worker_name", db_column_text(st, 8), "address", db_column_text(st, 10),
	                      "phone", db_column_text(st, 11), "guardian", db_column_text(st, 12));
	json_object_set_new(j, "worker_id", w ? json_integer(w) : json_null());
	json_object_set_new(j, "last_visit", *last ? json_string(last) : json_null());
	return j;
}

/* Lists people whose next visit falls in [from, to) — in scope, by division
 * and optionally by worker — ordered by due date. */
static int due_list(struct req *r, const char *from, const char *to)
{
	struct person_filter f;
	long limit, offset;
	int64_t total = 0;
	if (person_filters_or_reply(r, &f) != 0 || req_paging_or_reply(r, 100, 1000, &limit, &offset) != 0)
		return 0;
	int today = clock_local_ymd(r->now);
	int rc = db_query_int64(r->db, &total, "SELECT COUNT(*) FROM persons p " DUE_WHERE, "ttttI", f.lo, f.hi, from, to,
	                        f.worker);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	db_stmt *st = db_prepare(r->db, "SELECT " DUE_COLS PERSON_FROM DUE_WHERE
	                                "ORDER BY p.next_due, p.id LIMIT $6 OFFSET $7");
	json_t *items = json_array();
	rc = st ? db_bindf(st, "ttttIII", f.lo, f.hi, from, to, f.worker, (int64_t)limit, (int64_t)offset) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, due_item(st, today));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	char today_s[11];
	clock_local_date(r->now, today_s);
	return reply_json(r, 200, json_pack("{s:o,s:I,s:s,s:s}", "items", items, "total", (json_int_t)total, "today",
	                                    today_s, "division", f.division));
}

int h_visits_overdue(struct req *r)
{
	char today[11];
	if (pii_ready_or_reply(r) != 0)
		return 0;
	clock_local_date(r->now, today);
	return due_list(r, "0000-00-00", today);
}

int h_visits_due(struct req *r)
{
	char today[11], end[11];
	long within;
	if (pii_ready_or_reply(r) != 0 || req_query_long_or_reply(r, "within", 7, 0, 366, &within) != 0)
		return 0;
	clock_local_date(r->now, today);
	date_add_days(today, (int)within + 1, end);
	const char *ov = req_query(r, "include_overdue");
	return due_list(r, ov && !strcmp(ov, "1") ? "0000-00-00" : today, end);
}

/* ---------- coverage ---------- */

int h_visits_coverage(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX], today[11];
	if (pii_ready_or_reply(r) != 0 || req_division_or_reply(r, "division", div) != 0)
		return 0;
	int level = code_level(div);
	int len = level >= 4 ? 9 : level == 3 ? 9 : level == 2 ? 6 : level == 1 ? 4 : 2;
	scope_range(div, lo, hi);
	clock_local_date(r->now, today);
	db_stmt *st = db_prepare(r->db,
	                         "SELECT x.d, COALESCE(dv.name, ''), x.categories, x.n, x.visited, x.overdue FROM ("
	                         "SELECT substr(p.division_code, 1, $3) AS d, p.categories, COUNT(*) AS n, "
	                         "SUM(CASE WHEN p.last_visit IS NOT NULL THEN 1 ELSE 0 END) AS visited, "
	                         "SUM(CASE WHEN p.next_due < $4 THEN 1 ELSE 0 END) AS overdue FROM persons p "
	                         "WHERE " PERSON_IN_RANGE("p", "$1", "$2") " "
	                         "GROUP BY 1, 2) x "
	                         "LEFT JOIN divisions dv ON dv.code = x.d ORDER BY x.d");
	json_t *by_div = json_object(), *order = json_array(), *by_cat = json_object();
	int64_t tn = 0, tv = 0, to = 0;
	int rc = st ? db_bindf(st, "ttIt", lo, hi, (int64_t)len, today) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		const char *d = db_column_text(st, 0), *cats = db_column_text(st, 2);
		int64_t n = db_column_int64(st, 3), v = db_column_int64(st, 4), o = db_column_int64(st, 5);
		json_t *row = json_object_get(by_div, d);
		if (!row) {
			row = json_pack("{s:s,s:s,s:I,s:I,s:I}", "division_code", d, "division_name", db_column_text(st, 1),
			                "people", (json_int_t)0, "visited", (json_int_t)0, "overdue", (json_int_t)0);
			json_object_set_new(by_div, d, row);
			json_array_append_new(order, json_string(d));
		}
		json_object_set_new(row, "people", json_integer(json_integer_value(json_object_get(row, "people")) + n));
		json_object_set_new(row, "visited", json_integer(json_integer_value(json_object_get(row, "visited")) + v));
		json_object_set_new(row, "overdue", json_integer(json_integer_value(json_object_get(row, "overdue")) + o));
		tn += n;
		tv += v;
		to += o;
		for (const char *p = cats; *p;) {
			if (*p == ',') {
				p++;
				continue;
			}
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			char code[48];
			snprintf(code, sizeof code, "%.*s", (int)l, p);
			json_t *c = json_object_get(by_cat, code);
			if (!c) {
				c = json_pack("{s:s,s:s,s:I,s:I,s:I}", "category", code, "label", enum_label(person_categories, code),
				              "people", (json_int_t)0, "visited", (json_int_t)0, "overdue", (json_int_t)0);
				json_object_set_new(by_cat, code, c);
			}
			json_object_set_new(c, "people", json_integer(json_integer_value(json_object_get(c, "people")) + n));
			json_object_set_new(c, "visited", json_integer(json_integer_value(json_object_get(c, "visited")) + v));
			json_object_set_new(c, "overdue", json_integer(json_integer_value(json_object_get(c, "overdue")) + o));
			p += l;
		}
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(by_div);
		json_decref(order);
		json_decref(by_cat);
		return reply_db_error(r, rc);
	}
	json_t *divs = json_array(), *cats = json_array();
	size_t i;
	json_t *k;
	json_array_foreach(order, i, k) json_array_append(divs, json_object_get(by_div, json_string_value(k)));
	for (const struct enum_val *e = person_categories; e->code; e++) {
		json_t *c = json_object_get(by_cat, e->code);
		if (c)
			json_array_append(cats, c);
	}
	json_decref(order);
	json_decref(by_div);
	json_decref(by_cat);
	return reply_json(r, 200, json_pack("{s:s,s:s,s:o,s:o,s:{s:I,s:I,s:I}}", "division", div, "today", today,
	                                    "by_division", divs, "by_category", cats, "total", "people", (json_int_t)tn,
	                                    "visited", (json_int_t)tv, "overdue", (json_int_t)to));
}
