/* supply.h — days of supply (可保障天数) per stock item and institution:
 * stock on hand ÷ average daily use over the last 7 reported days, days with
 * zero stock left out of the average. Items under cfg.supply_days are "low"
 * and counted in the roll-ups (low_supply_<item>). */
#ifndef CW_SUPPLY_H
#define CW_SUPPLY_H
#include <jansson.h>
#include "db.h"
#include "template.h"

/* Computes the derived figures of a report about to be stored: reads up to 6
 * earlier counted reports of the institution. Returns
 * {"supply":{"<item>":{"stock","avg_use","days"}}, "low":["<item>",...]} (new),
 * or NULL on a database error (*rc set). "days" is null when nothing was used. */
json_t *supply_derive(db *d, const struct template *t, int64_t inst, const char *period, json_t *values, int *rc);

#endif
