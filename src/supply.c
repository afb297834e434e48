/* supply.c — days of supply from a report and its predecessors. */
#include "supply.h"
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define WINDOW 7

/* One earlier day's stock and use of each item, from the row at st (derived,
 * vals): from its derived supply (small) when it holds them, else from its
 * values (reports derived before "used" was kept there; only then is the
 * larger vals column read). New reference, or NULL. */
static json_t *day_of(db_stmt *st)
{
	json_t *d = json_loads(db_column_text(st, 0), 0, NULL), *sup = json_object_get(d, "supply"), *out = NULL;
	const char *item;
	json_t *v;
	int complete = json_is_object(sup);
	json_object_foreach(sup, item, v) complete &= json_object_get(v, "used") != NULL;
	if (complete && json_object_size(sup)) {
		out = json_object(); /* as values: stock_<item>, used_<item> */
		json_object_foreach(sup, item, v)
		{
			char k[96];
			snprintf(k, sizeof k, "stock_%s", item);
			json_object_set(out, k, json_object_get(v, "stock"));
			snprintf(k, sizeof k, "used_%s", item);
			json_object_set(out, k, json_object_get(v, "used"));
		}
	}
	json_decref(d);
	return out ? out : json_loads(db_column_text(st, 1), 0, NULL);
}

json_t *supply_derive(db *d, const struct template *t, int64_t inst, const char *period, json_t *values, int *rc)
{
	json_t *days[WINDOW];
	int n = 0, stocked = 0;
	days[n++] = values;
	for (int i = 0; i < t->nfields && !stocked; i++)
		stocked = t->fields[i].item && !strncmp(t->fields[i].code, "stock_", 6) &&
		          json_is_number(json_object_get(values, t->fields[i].code));
	if (!stocked) { /* no stock reported today: nothing to derive, no earlier day to read */
		*rc = DB_DONE;
		return json_pack("{s:o,s:o}", "supply", json_object(), "low", json_array());
	}
	db_stmt *st = db_prepare(d, "SELECT derived, vals FROM reports WHERE template_code = $1 AND institution_id = $2 AND "
	                            "period < $3 AND status IN ('submitted', 'approved') ORDER BY template_code DESC, institution_id DESC, period DESC LIMIT 6");
	*rc = st ? db_bindf(st, "tIt", t->code, inst, period) : DB_ERROR;
	while ((*rc == 0 || *rc == DB_ROW) && (*rc = db_step(st)) == DB_ROW && n < WINDOW) {
		json_t *v = day_of(st);
		if (v)
			days[n++] = v;
	}
	db_reset(st);
	json_t *supply = json_object(), *low = json_array();
	for (int i = 0; i < t->nfields; i++) {
		const struct tfield *f = &t->fields[i];
		char used_code[96];
		if (!f->item || strncmp(f->code, "stock_", 6) != 0)
			continue;
		snprintf(used_code, sizeof used_code, "used_%s", f->code + 6);
		json_t *stock = json_object_get(values, f->code);
		if (!template_field(t, used_code) || !json_is_number(stock))
			continue;
		double use = 0;
		int counted = 0;
		for (int k = 0; k < n; k++) {
			json_t *s = json_object_get(days[k], f->code), *u = json_object_get(days[k], used_code);
			if (!json_is_number(u) || !json_is_number(s) || json_number_value(s) <= 0)
				continue; /* a day with zero stock says nothing about use */
			use += json_number_value(u);
			counted++;
		}
		double avg = counted ? use / counted : 0;
		json_t *item = json_pack("{s:f,s:f}", "stock", json_number_value(stock), "avg_use", round(avg * 100) / 100);
		json_t *used_today = json_object_get(values, used_code); /* kept for the next days' averages */
		json_object_set(item, "used", json_is_number(used_today) ? used_today : json_null());
		if (avg > 0) {
			double dd = json_number_value(stock) / avg;
			json_object_set_new(item, "days", json_real(round(dd * 10) / 10));
			if (dd < (double)cfg.supply_days)
				json_array_append_new(low, json_string(f->item));
		} else
			json_object_set_new(item, "days", json_null());
		json_object_set_new(supply, f->item, item);
	}
	for (int k = 1; k < n; k++)
		json_decref(days[k]);
	if (*rc != DB_DONE) {
		json_decref(supply);
		json_decref(low);
		return NULL;
	}
	return json_pack("{s:o,s:o}", "supply", supply, "low", low);
}
