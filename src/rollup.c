/* rollup.c — maintaining the live roll-up rows. */
#include "rollup.h"
#include "rollup_sql.h"
#include "buf.h"
#include "scope.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls emit(ctx, key, x) for each part of a report's contribution: 1 for
 * each low-supply item, then each aggregated field's number (1/0 for a
 * counted yes/no). */
static void contrib_each(const struct template *t, json_t *values, json_t *derived,
                         void (*emit)(void *ctx, const char *key, double x), void *ctx)
{
	size_t li;
	json_t *item;
	json_array_foreach(json_object_get(derived, "low"), li, item)
	{
		char key[96];
		snprintf(key, sizeof key, "low_supply_%s", json_string_value(item));
		emit(ctx, key, 1);
	}
	for (int i = 0; i < t->nfields; i++) {
		const struct tfield *f = &t->fields[i];
		json_t *v = json_object_get(values, f->code);
		if (!v || json_is_null(v) || f->agg == AGG_NONE)
			continue;
		if (f->agg == AGG_COUNT_TRUE)
			emit(ctx, f->code, json_is_true(v) ? 1 : 0);
		else if (json_is_number(v))
			emit(ctx, f->code, json_number_value(v));
	}
}

static void emit_json(void *ctx, const char *key, double x)
{
	json_object_set_new(ctx, key, json_pack("[f,i]", x, 1));
}

/* As roll-up text {"key":[x,1],…}, for cw_merge: no jansson tree to build
 * and dump on the submission path. */
static void emit_text(void *ctx, const char *key, double x)
{
	struct buf *b = ctx;
	buf_puts(b, b->len > 1 ? ",\"" : "\"");
	buf_puts(b, key);
	buf_puts(b, "\":[");
	rollup_put_num(b, x);
	buf_puts(b, ",1]");
}

json_t *rollup_contrib(const struct template *t, json_t *values, json_t *derived)
{
	json_t *c = json_object();
	contrib_each(t, values, derived, emit_json, c);
	return c;
}

/* A sum as JSON: an integer when it is one (formatting a real costs a
 * printf per number, and roll-up rows are rewritten on every submission). */
static json_t *num(double x)
{
	if (x == floor(x) && fabs(x) < 9007199254740992.0)
		return json_integer((json_int_t)x);
	return json_real(x);
}

/* sums += sign * contrib */
static void merge(json_t *sums, json_t *contrib, int sign)
{
	const char *k;
	json_t *v;
	json_object_foreach(contrib, k, v)
	{
		json_t *cur = json_object_get(sums, k);
		double s = cur ? json_number_value(json_array_get(cur, 0)) : 0;
		double n = cur ? json_number_value(json_array_get(cur, 1)) : 0;
		s += sign * json_number_value(json_array_get(v, 0));
		n += sign * json_number_value(json_array_get(v, 1));
		if (fabs(s) < 1e-9)
			s = 0;
		json_object_set_new(sums, k, json_pack("[o,o]", num(s), num(n)));
	}
}

json_t *rollup_values(const struct template *t, json_t *sums)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(sums, k, v)
	{
		if (!strncmp(k, "low_supply_", 11)) /* institutions under the days-of-supply threshold */
			json_object_set_new(out, k, json_integer((json_int_t)llround(json_number_value(json_array_get(v, 0)))));
	}
	for (int i = 0; i < t->nfields; i++) {
		const struct tfield *f = &t->fields[i];
		if (f->agg == AGG_NONE)
			continue;
		json_t *cur = json_object_get(sums, f->code);
		double s = cur ? json_number_value(json_array_get(cur, 0)) : 0;
		double n = cur ? json_number_value(json_array_get(cur, 1)) : 0;
		if (f->agg == AGG_AVG) {
			json_object_set_new(out, f->code, n > 0 ? json_real(round(s / n * 100) / 100) : json_null());
			continue;
		}
		if (f->type == FT_INT || f->agg == AGG_COUNT_TRUE)
			json_object_set_new(out, f->code, json_integer((json_int_t)llround(s)));
		else
			json_object_set_new(out, f->code, json_real(round(s * 1000) / 1000));
	}
	for (int i = 0; i < t->nratios; i++) { /* from the summed parts, never an average of ratios */
		const struct tratio *q = &t->ratios[i];
		json_t *a = json_object_get(sums, q->num), *b = json_object_get(sums, q->den);
		double num = a ? json_number_value(json_array_get(a, 0)) : 0;
		double den = b ? json_number_value(json_array_get(b, 0)) : 0;
		json_object_set_new(out, q->code, den > 0 ? json_real(round(num / den * q->scale * 100) / 100) : json_null());
	}
	return out;
}

/* Adds counts (dn reports, don on time, dlate late) and sign * contrib (roll-up
 * JSON text) to one roll-up row, creating it when missing: one statement,
 * the merge done by cw_merge (rollup_sql.h). On PostgreSQL the update takes
 * the row lock that serializes writers of this row, and reads the row's
 * latest sums under it. */
static int apply_level(db *d, const struct template *t, const char *period, const char *div, const char *contrib,
                       int sign, int64_t dn, int64_t don, int64_t dlate)
{
	int64_t n = db_run(d, "INSERT INTO rollups(template_code, period, division_code, n_reports, n_on_time, n_late, sums) "
	                      "VALUES ($1, $2, $3, $4, $5, $6, cw_merge('{}', $7, $8)) "
	                      "ON CONFLICT (template_code, period, division_code) DO UPDATE SET n_reports = "
	                      "rollups.n_reports + excluded.n_reports, n_on_time = rollups.n_on_time + excluded.n_on_time, "
	                      "n_late = rollups.n_late + excluded.n_late, sums = cw_merge(rollups.sums, $7, $8)",
	                   "tttIIItI", t->code, period, div, dn, don, dlate, contrib, (int64_t)sign);
	return n < 0 ? (int)n : 0;
}

json_t *rollup_batch_new(void)
{
	return json_object();
}

/* batch[period "\x1f" div] = {"n","t","l","s"} += one report */
static void batch_add(json_t *batch, const char *period, const char *div, json_t *contrib, int on_time, int sign)
{
	char key[64];
	snprintf(key, sizeof key, "%s\x1f%s", period, div);
	json_t *e = json_object_get(batch, key);
	if (!e) {
		e = json_pack("{s:I,s:I,s:I,s:o}", "n", (json_int_t)0, "t", (json_int_t)0, "l", (json_int_t)0, "s",
		              json_object());
		json_object_set_new(batch, key, e);
	}
	json_object_set_new(e, "n", json_integer(json_integer_value(json_object_get(e, "n")) + sign));
	const char *k = on_time ? "t" : "l";
	json_object_set_new(e, k, json_integer(json_integer_value(json_object_get(e, k)) + sign));
	merge(json_object_get(e, "s"), contrib, sign);
}

/* The lock order of rollup.h: by period, then deeper divisions first, then
 * by code. Keys are "period\x1fdivision". */
static int key_order(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	const char *xs = strchr(x, '\x1f'), *ys = strchr(y, '\x1f');
	int c = strncmp(x, y, (size_t)(xs - x) < (size_t)(ys - y) ? (size_t)(xs - x) : (size_t)(ys - y));
	if (c || xs - x != ys - y)
		return c ? c : (xs - x < ys - y ? -1 : 1);
	size_t lx = strlen(xs), ly = strlen(ys);
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return strcmp(xs, ys);
}

int rollup_flush(db *d, const struct template *t, json_t *batch)
{
	size_t n = json_object_size(batch), i = 0;
	const char **keys = xcalloc(n + 1, sizeof *keys);
	const char *key;
	json_t *e;
	int rc = 0;
	json_object_foreach(batch, key, e) keys[i++] = key;
	qsort(keys, n, sizeof *keys, key_order);
	for (i = 0; i < n; i++) {
		key = keys[i];
		e = json_object_get(batch, key);
		const char *sep = strchr(key, '\x1f');
		char period[32];
		if (!sep || (size_t)(sep - key) >= sizeof period) {
			rc = DB_ERROR;
			break;
		}
		memcpy(period, key, (size_t)(sep - key));
		period[sep - key] = 0;
		char *sums = json_dumps(json_object_get(e, "s"), JSON_COMPACT);
		rc = apply_level(d, t, period, sep + 1, sums, 1, json_integer_value(json_object_get(e, "n")),
		                 json_integer_value(json_object_get(e, "t")), json_integer_value(json_object_get(e, "l")));
		free(sums);
		if (rc != 0)
			break;
	}
	free(keys);
	json_object_clear(batch);
	return rc;
}

int rollup_apply(db *d, json_t *batch, const struct template *t, const char *period, const char *division,
                 json_t *values, json_t *derived, int on_time, int sign)
{
	/* county first, the nation last: every writer takes the row locks in
	 * the same order (rollup.h), and the hottest row is held the shortest */
	static const size_t lens[] = {6, 4, 2, 0};
	json_t *contrib = batch ? rollup_contrib(t, values, derived) : NULL;
	struct buf text = {0};
	if (!batch) {
		buf_putc(&text, '{');
		contrib_each(t, values, derived, emit_text, &text);
		buf_putc(&text, '}');
	}
	int rc = 0;
	for (size_t i = 0; i < 4 && rc == 0; i++) {
		if (lens[i] > strlen(division))
			continue;
		char div[SCOPE_MAX];
		memcpy(div, division, lens[i]);
		div[lens[i]] = 0;
		if (batch)
			batch_add(batch, period, div, contrib, on_time, sign);
		else
			rc = apply_level(d, t, period, div, buf_str(&text), sign, sign, on_time ? sign : 0, on_time ? 0 : sign);
	}
	buf_free(&text);
	json_decref(contrib);
	return rc;
}
