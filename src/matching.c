/* matching.c — POST /api/v1/matching/proposals: proposes pledges for the
 * outstanding needs of a division from the open offers that serve them.
 * Nothing is stored; an official confirms each proposal (POST /pledges).
 *
 * Order: needs by urgency (urgent, high, normal), then the earliest needed-by
 * date, then the oldest. For each need the offers of the nearest area come
 * first: an offer serves the division subtree of its division_code, so the
 * candidates are the offers at the need's township, county, city, province
 * and the nation, tried in that order (the earliest available first within
 * one area). A need takes from several offers until it is covered; no
 * proposal exceeds what a need still lacks or what an offer still holds.
 * Offers are bucketed by (item, division) in a hash, so one need costs at
 * most five lookups: 45,000 needs against 5,000 offers is one pass. */
#include "clock.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "need.h"
#include "scope.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct offer {
	int64_t id, remaining;
	char item[41], div[SCOPE_MAX], from[11];
	char *partner;
};

static int offer_cmp(const void *a, const void *b)
{
	const struct offer *x = a, *y = b;
	int c = strcmp(x->item, y->item);
	if (!c)
		c = strcmp(x->div, y->div);
	if (!c)
		c = strcmp(x->from, y->from);
	if (!c)
		c = x->id < y->id ? -1 : x->id > y->id;
	return c;
}

static const char *level_name(size_t len)
{
	return len >= 9 ? "township" : len >= 6 ? "county" : len >= 4 ? "city" : len >= 2 ? "province" : "national";
}

json_t *matching_propose(db *d, const char *division, const char *item, const char *today, int *rc)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX], p[5][SCOPE_MAX];
	static const int lens[] = {0, 2, 4, 6, 9};
	struct offer *offers = NULL;
	size_t n = 0, cap = 0;
	json_t *buckets = json_object(), *out = NULL;
	scope_range(division, lo, hi);
	for (int i = 0; i < 5; i++)
		snprintf(p[i], SCOPE_MAX, "%.*s", lens[i], division);
	db_stmt *st = db_prepare(d, "SELECT o.id, o.item, o.division_code, o.available_from, o.quantity - o.pledged, pa.name "
	                            "FROM offers o JOIN partners pa ON pa.id = o.partner_id WHERE o.status = 'open' "
	                            "AND o.pledged < o.quantity AND ($8 = '' OR o.item = $8) AND (o.division_code >= $1 "
	                            "AND o.division_code < $2 OR o.division_code IN ($3, $4, $5, $6, $7))");
	*rc = st ? db_bindf(st, "tttttttt", lo, hi, p[0], p[1], p[2], p[3], p[4], item) : DB_ERROR;
	while ((*rc == 0 || *rc == DB_ROW) && (*rc = db_step(st)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct offer *grown = realloc(offers, cap * sizeof *offers);
			if (!grown) {
				*rc = DB_ERROR;
				break;
			}
			offers = grown;
		}
		struct offer *o = &offers[n++];
		o->id = db_column_int64(st, 0);
		cw_strlcpy(o->item, db_column_text(st, 1), sizeof o->item);
		cw_strlcpy(o->div, db_column_text(st, 2), sizeof o->div);
		cw_strlcpy(o->from, db_column_text(st, 3), sizeof o->from);
		o->remaining = db_column_int64(st, 4);
		o->partner = xstrdup(db_column_text(st, 5));
	}
	db_reset(st);
	if (*rc != DB_DONE)
		goto cleanup;
	qsort(offers, n, sizeof *offers, offer_cmp);
	/* bucket "item|division" → [first, count] */
	for (size_t i = 0; i < n; i++) {
		char key[64];
		snprintf(key, sizeof key, "%s|%s", offers[i].item, offers[i].div);
		json_t *b = json_object_get(buckets, key);
		if (b)
			json_array_set_new(b, 1, json_integer(json_integer_value(json_array_get(b, 1)) + 1));
		else
			json_object_set_new(buckets, key, json_pack("[I,i]", (json_int_t)i, 1));
	}
	out = json_array();
	st = db_prepare(d, "SELECT n.id, n.item, n.division_code, n.quantity - n.committed, n.needed_by, n.urgency, "
	                   "COALESCE(n.ref, ''), i.name FROM needs n JOIN institutions i ON i.id = n.institution_id "
	                   "WHERE n.division_code >= $1 AND n.division_code < $2 AND n.state = 'active' "
	                   "AND n.committed < n.quantity AND ($3 = '' OR n.item = $3) "
	                   "ORDER BY CASE n.urgency WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, n.needed_by, n.id");
	*rc = st ? db_bindf(st, "ttt", lo, hi, item) : DB_ERROR;
	while (n && (*rc == 0 || *rc == DB_ROW) && (*rc = db_step(st)) == DB_ROW) {
		const char *nitem = db_column_text(st, 1), *ndiv = db_column_text(st, 2), *by = db_column_text(st, 4);
		const char *until = strcmp(by, today) > 0 ? by : today; /* an offer must be available by then */
		int64_t want = db_column_int64(st, 3);
		size_t dl = strlen(ndiv);
		for (int li = 4; li >= 0 && want > 0; li--) {
			if ((size_t)lens[li] > dl)
				continue;
			char key[64];
			snprintf(key, sizeof key, "%s|%.*s", nitem, lens[li], ndiv);
			json_t *b = json_object_get(buckets, key);
			if (!b)
				continue;
			size_t first = (size_t)json_integer_value(json_array_get(b, 0)), cnt = (size_t)json_integer_value(json_array_get(b, 1));
			for (size_t k = first; k < first + cnt && want > 0; k++) {
				struct offer *o = &offers[k];
				if (o->remaining <= 0 || strcmp(o->from, until) > 0)
					continue;
				int64_t q = want < o->remaining ? want : o->remaining;
				want -= q;
				o->remaining -= q;
				json_t *pr = json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "need_id",
				                       (json_int_t)db_column_int64(st, 0), "offer_id", (json_int_t)o->id, "quantity",
				                       (json_int_t)q, "item", nitem, "need_ref", db_column_text(st, 6),
				                       "institution_name", db_column_text(st, 7), "partner_name", o->partner,
				                       "urgency", db_column_text(st, 5), "needed_by", by, "offer_division", o->div,
				                       "level", level_name(strlen(o->div)));
				json_array_append_new(out, pr);
			}
		}
	}
	db_reset(st);
	if (*rc != DB_DONE && *rc != 0) {
		json_decref(out);
		out = NULL;
	}
cleanup:
	for (size_t i = 0; i < n; i++)
		free(offers[i].partner);
	free(offers);
	json_decref(buckets);
	return out;
}

static const struct jfield match_spec[] = {
    {"division", J_STR, 0, 0, 9, NULL, "区划", 0},
    {"item", J_STR, 0, 0, 40, NULL, "物资", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

int h_matching_proposals(struct req *r)
{
	if (jspec_check_or_reply(r, r->json, match_spec, 0) != 0)
		return 0;
	const char *div = jstr(r->json, "division") ? jstr(r->json, "division") : r->user.scope;
	const char *item = jstr(r->json, "item") ? jstr(r->json, "item") : "";
	if (!code_shape_ok(div))
		return reply_error(r, 422, "invalid_division", "行政区划代码格式错误（应为 2、4、6 或 9 位数字）", "division");
	if (!scope_contains(r->user.scope, div))
		return reply_not_found(r);
	char today[11];
	clock_local_date(r->now, today);
	int rc = 0;
	int64_t t0 = clock_mono_us();
	json_t *props = matching_propose(r->db, div, item, today, &rc);
	if (!props)
		return reply_db_error(r, rc);
	int64_t total = 0;
	size_t i;
	json_t *p;
	json_array_foreach(props, i, p) total += json_integer_value(json_object_get(p, "quantity"));
	return reply_json(r, 200, json_pack("{s:s,s:o,s:I,s:I,s:I}", "division", div, "proposals", props, "count",
	                                    (json_int_t)json_array_size(props), "quantity", (json_int_t)total, "took_ms",
	                                    (json_int_t)((clock_mono_us() - t0) / 1000)));
}
