/* rollup.h — live roll-ups: every counted report (submitted or approved) adds
 * its contribution to one row per level (national, province, city, county) in
 * the same transaction that stores it; an edit removes the old contribution and
 * adds the new one; a return removes it. Reads never aggregate raw reports
 * above the county, so numbers are right the moment a report is accepted.
 *
 * Lock order (PostgreSQL holds row locks to the commit): a writer takes the
 * report row, then roll-up rows by period, deeper levels first (county, city,
 * province, nation), then the audit head. Single reports and bulk imports
 * (rollup_flush, then their deferred audit rows) keep it, so they never
 * deadlock, and the national row — every writer's — is held the shortest. */
#ifndef CW_ROLLUP_H
#define CW_ROLLUP_H
#include <jansson.h>
#include "db.h"
#include "template.h"

/* Adds (sign = 1) or removes (sign = -1) one report with its derived figures
 * (supply.h; may be NULL). With batch (rollup_batch_new) the contribution is
 * only collected in memory, to be written by rollup_flush() in the same
 * transaction; else it is written now. 0 or a DB_* error. */
int rollup_apply(db *d, json_t *batch, const struct template *t, const char *period, const char *division,
                 json_t *values, json_t *derived, int on_time, int sign);
/* A batch of collected contributions (one entry per period and division
 * level): a bulk import writes each roll-up row once instead of once per
 * report. New object; json_decref when done. */
json_t *rollup_batch_new(void);
/* Writes and empties a batch of template t. 0 or a DB_* error. */
int rollup_flush(db *d, const struct template *t, json_t *batch);
/* Turns packed sums {"f":[sum,count]} into values {"f": number} by each
 * field's aggregation (sum, average, count of yes). New object. */
json_t *rollup_values(const struct template *t, json_t *sums);
/* The contribution of one report's values (and derived low-supply flags),
 * packed like sums. New object. */
json_t *rollup_contrib(const struct template *t, json_t *values, json_t *derived);

#endif
