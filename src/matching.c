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
 * Offers are bucketed by (item, division) in a hash and the needs sorted in
 * memory, so one need costs at most five lookups: 45,000 needs against 5,000
 * offers is one pass. The proposals are written as JSON text straight into a
 * buffer (tens of thousands of small objects through jansson cost more than
 * the matching). */
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

struct need {
	int64_t id, want;
	int urgency; /* 0 urgent, 1 high, 2 normal */
	char item[41], div[SCOPE_MAX], by[11];
	char *ref, *name;
};

/* most urgent, then earliest needed, then oldest */
static int need_cmp(const void *a, const void *b)
{
	const struct need *x = a, *y = b;
	int c = x->urgency - y->urgency;
	if (!c)
		c = strcmp(x->by, y->by);
	if (!c)
		c = x->id < y->id ? -1 : x->id > y->id;
	return c;
}

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

int matching_propose(db *d, const char *division, const char *item, const char *today, struct buf *out,
                     int64_t *count, int64_t *total)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX], p[5][SCOPE_MAX];
	static const int lens[] = {0, 2, 4, 6, 9};
	struct offer *offers = NULL;
	struct need *needs = NULL;
	size_t n = 0, cap = 0, nn = 0, ncap = 0;
	json_t *buckets = json_object();
	int rc;
	*count = *total = 0;
	buf_putc(out, '[');
	scope_range(division, lo, hi);
	for (int i = 0; i < 5; i++)
		snprintf(p[i], SCOPE_MAX, "%.*s", lens[i], division);
	db_stmt *st = db_prepare(d, "SELECT o.id, o.item, o.division_code, o.available_from, o.quantity - o.pledged, pa.name "
	                            "FROM offers o JOIN partners pa ON pa.id = o.partner_id WHERE o.status = 'open' "
	                            "AND o.pledged < o.quantity AND ($8 = '' OR o.item = $8) AND (o.division_code >= $1 "
	                            "AND o.division_code < $2 OR o.division_code IN ($3, $4, $5, $6, $7))");
	rc = st ? db_bindf(st, "tttttttt", lo, hi, p[0], p[1], p[2], p[3], p[4], item) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct offer *grown = realloc(offers, cap * sizeof *offers);
			if (!grown) {
				rc = DB_ERROR;
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
	if (rc != DB_DONE)
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
	/* the needs, sorted here: a sort in the database of 45,000 wide rows
	 * spilled to disk on PostgreSQL */
	st = db_prepare(d, "SELECT n.id, n.item, n.division_code, n.quantity - n.committed, n.needed_by, n.urgency, "
	                   "COALESCE(n.ref, ''), i.name FROM needs n JOIN institutions i ON i.id = n.institution_id "
	                   "WHERE n.division_code >= $1 AND n.division_code < $2 AND n.state = 'active' "
	                   "AND n.committed < n.quantity AND ($3 = '' OR n.item = $3)");
	rc = st ? db_bindf(st, "ttt", lo, hi, item) : DB_ERROR;
	while (n && (rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		if (nn == ncap) {
			ncap = ncap ? ncap * 2 : 1024;
			needs = xrealloc(needs, ncap * sizeof *needs);
		}
		struct need *x = &needs[nn++];
		const char *urg = db_column_text(st, 5);
		x->id = db_column_int64(st, 0);
		x->want = db_column_int64(st, 3);
		x->urgency = !strcmp(urg, "urgent") ? 0 : !strcmp(urg, "high") ? 1 : 2;
		cw_strlcpy(x->item, db_column_text(st, 1), sizeof x->item);
		cw_strlcpy(x->div, db_column_text(st, 2), sizeof x->div);
		cw_strlcpy(x->by, db_column_text(st, 4), sizeof x->by);
		x->ref = xstrdup(db_column_text(st, 6));
		x->name = xstrdup(db_column_text(st, 7));
	}
	db_reset(st);
	if (rc != 0 && rc != DB_DONE)
		goto cleanup;
	rc = 0;
	qsort(needs, nn, sizeof *needs, need_cmp);
	static const char *const urgency_names[] = {"urgent", "high", "normal"};
	for (size_t ni = 0; ni < nn; ni++) {
		const struct need *x = &needs[ni];
		const char *until = strcmp(x->by, today) > 0 ? x->by : today; /* an offer must be available by then */
		int64_t want = x->want;
		size_t dl = strlen(x->div);
		for (int li = 4; li >= 0 && want > 0; li--) {
			if ((size_t)lens[li] > dl)
				continue;
			char key[64];
			snprintf(key, sizeof key, "%s|%.*s", x->item, lens[li], x->div);
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
				buf_printf(out, "%s{\"need_id\":%lld,\"offer_id\":%lld,\"quantity\":%lld,\"item\":", *count ? "," : "",
				           (long long)x->id, (long long)o->id, (long long)q);
				buf_json_str(out, x->item);
				buf_puts(out, ",\"need_ref\":");
				buf_json_str(out, x->ref);
				buf_puts(out, ",\"institution_name\":");
				buf_json_str(out, x->name);
				buf_puts(out, ",\"partner_name\":");
				buf_json_str(out, o->partner);
				buf_printf(out, ",\"urgency\":\"%s\",\"needed_by\":", urgency_names[x->urgency]);
				buf_json_str(out, x->by);
				buf_puts(out, ",\"offer_division\":");
				buf_json_str(out, o->div);
				buf_printf(out, ",\"level\":\"%s\"}", level_name(strlen(o->div)));
				(*count)++;
				*total += q;
			}
		}
	}
cleanup:
	buf_putc(out, ']');
	for (size_t i = 0; i < n; i++)
		free(offers[i].partner);
	free(offers);
	for (size_t i = 0; i < nn; i++) {
		free(needs[i].ref);
		free(needs[i].name);
	}
	free(needs);
	json_decref(buckets);
	return rc == DB_DONE ? 0 : rc;
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
	struct buf b = {0};
	int64_t t0 = clock_mono_us(), count = 0, total = 0;
	buf_printf(&b, "{\"division\":\"%s\",\"proposals\":", div); /* a checked code: digits only */
	int rc = matching_propose(r->db, div, item, today, &b, &count, &total);
	if (rc != 0) {
		buf_free(&b);
		return reply_db_error(r, rc);
	}
	buf_printf(&b, ",\"count\":%lld,\"quantity\":%lld,\"took_ms\":%lld}", (long long)count, (long long)total,
	           (long long)((clock_mono_us() - t0) / 1000));
	reply_raw(r, 200, "application/json; charset=utf-8", b.data, b.len);
	buf_free(&b);
	return 0;
}
