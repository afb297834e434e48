/* gap.c — gap checks (查缺补漏) over the people registry, as one report:
 *  - the same citizen ID in two records or areas (through the keyed hash; a
 *    twin outside the caller's scope shows only its area);
 *  - de facto unsupported children with no subsidy this month or last;
 *  - people never visited since registration (except moved, deceased, or in
 *    an institution). */
#include "clock.h"
#include "handlers.h"
#include "http.h"
#include "person.h"
#include "scope.h"
#include <stdio.h>
#include <string.h>

#define GAP_LIMIT 500

static int duplicates(struct req *r, const char *lo, const char *hi, json_t *out, int64_t *total)
{
	/* the citizen IDs held by someone in range and by another record (d),
	 * then every record of each; CROSS JOIN keeps d the outer loop on SQLite,
	 * so each record is an index seek, not a walk of the registry */
	db_stmt *st = db_prepare(r->db,
	                         "SELECT p.cid_hash, p.id, p.name, p.division_code, COALESCE(dv.name, ''), p.cid_masked, "
	                         "p.registered FROM (SELECT DISTINCT q.cid_key, q.cid_hash FROM persons q "
	                         "WHERE " PERSON_IN_RANGE("q", "$1", "$2") " AND EXISTS (SELECT 1 FROM persons t "
	                         "WHERE " PERSON_CID_MATCH("t", "q.cid_key", "q.cid_hash") " AND t.id <> q.id)) d "
	                         "CROSS JOIN persons p LEFT JOIN divisions dv ON dv.code = p.division_code "
	                         "WHERE " PERSON_CID_MATCH("p", "d.cid_key", "d.cid_hash") " ORDER BY p.cid_hash, p.id");
	int rc = st ? db_bindf(st, "tt", lo, hi) : DB_ERROR;
	char cur[65] = "";
	json_t *group = NULL;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		const char *h = db_column_text(st, 0), *div = db_column_text(st, 3);
		if (strcmp(h, cur) != 0) {
			cw_strlcpy(cur, h, sizeof cur);
			(*total)++;
			group = NULL;
			if (json_array_size(out) < GAP_LIMIT) {
				group = json_pack("{s:s,s:[]}", "citizen_id", db_column_text(st, 5), "records");
				json_array_append_new(out, group);
			}
		}
		if (!group)
			continue;
		json_t *rec = json_pack("{s:s,s:s}", "division_code", div, "division_name", db_column_text(st, 4));
		if (person_visible(&r->user, div)) {
			json_object_set_new(rec, "person_id", json_integer(db_column_int64(st, 1)));
			json_object_set_new(rec, "name", json_string(db_column_text(st, 2)));
			json_object_set_new(rec, "registered", json_string(db_column_text(st, 6)));
		} else
			json_object_set_new(rec, "outside_scope", json_true());
		json_array_append_new(json_object_get(group, "records"), rec);
	}
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

static json_t *brief(db_stmt *st)
{
	const char *last = db_column_text(st, 5);
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s}", "person_id", (json_int_t)db_column_int64(st, 0), "name",
	                      db_column_text(st, 1), "division_code", db_column_text(st, 2), "division_name",
	                      db_column_text(st, 3), "registered", db_column_text(st, 4));
	json_object_set_new(j, "last_visit", *last ? json_string(last) : json_null());
	json_object_set_new(j, "worker_name", json_string(db_column_text(st, 6)));
	return j;
}

#define BRIEF_COLS                                                                                               \
	"p.id, p.name, p.division_code, COALESCE(dv.name, ''), p.registered, COALESCE(p.last_visit, ''), "           \
	"COALESCE(w.name, '')"

static int list(struct req *r, const char *where, const char *fmt, const char *lo, const char *hi, const char *a,
                const char *b, json_t *out, int64_t *total)
{
	struct buf q = {0};
	buf_printf(&q, "SELECT COUNT(*) FROM persons p WHERE " PERSON_IN_RANGE("p", "$1", "$2") " AND %s", where);
	int rc = db_query_int64(r->db, total, q.data, fmt, lo, hi, a, b);
	buf_reset(&q);
	if (rc != DB_ROW) {
		buf_free(&q);
		return rc;
	}
	buf_printf(&q, "SELECT " BRIEF_COLS PERSON_FROM "WHERE " PERSON_IN_RANGE("p", "$1", "$2") " AND %s "
	               "ORDER BY " PERSON_ORDER("p") " LIMIT %d", where, GAP_LIMIT);
	db_stmt *st = db_prepare(r->db, q.data);
	buf_free(&q);
	rc = st ? db_bindf(st, fmt, lo, hi, a, b) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(out, brief(st));
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

int h_gaps(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX], today[11], month[8], prev[8], d1[11];
	if (pii_ready_or_reply(r) != 0 || req_division_or_reply(r, "division", div) != 0)
		return 0;
	scope_range(div, lo, hi);
	clock_local_date(r->now, today);
	memcpy(month, today, 7);
	month[7] = 0;
	snprintf(d1, sizeof d1, "%s-01", month);
	date_add_days(d1, -1, d1);
	memcpy(prev, d1, 7);
	prev[7] = 0;
	json_t *dups = json_array(), *unsupported = json_array(), *never = json_array();
	int64_t nd = 0, nu = 0, nn = 0;
	int rc = duplicates(r, lo, hi, dups, &nd);
	if (rc == 0)
		rc = list(r,
		          "p.categories LIKE '%,de_facto_unsupported_child,%' AND p.situation NOT IN ('moved', 'deceased') "
		          "AND NOT EXISTS (SELECT 1 FROM subsidies s WHERE s.person_id = p.id AND s.month IN ($3, $4))",
		          "tttt", lo, hi, month, prev, unsupported, &nu);
	if (rc == 0)
		rc = list(r,
		          "p.last_visit IS NULL AND p.situation NOT IN ('moved', 'deceased', 'in_institution') "
		          "AND p.registered <= $3 AND p.registered <= $4",
		          "tttt", lo, hi, today, today, never, &nn);
	if (rc != 0) {
		json_decref(dups);
		json_decref(unsupported);
		json_decref(never);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200,
	                  json_pack("{s:s,s:s,s:{s:o,s:I},s:{s:o,s:I},s:{s:o,s:I}}", "division", div, "today", today,
	                            "duplicate_ids", "items", dups, "total", (json_int_t)nd, "unsupported_without_subsidy",
	                            "items", unsupported, "total", (json_int_t)nu, "never_visited", "items", never, "total",
	                            (json_int_t)nn));
}
