/* dashboard.h — the summaries behind the dashboard and its exports. */
#ifndef CW_DASHBOARD_H
#define CW_DASHBOARD_H
#include <jansson.h>
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "err.h"
#include "template.h"

/* {division, children, missing, missing_truncated} of completeness for a
 * division (county or above; the caller checks scope); the missing list holds
 * at most missing_limit institutions (division.missing counts them all).
 * NULL with *rc on a database error. */
json_t *completeness_build(db *d, const struct template *t, const char *period, const char *div,
                           int64_t missing_limit, int *rc);
/* {division, children} of roll-ups. NULL with *rc on a database error. */
json_t *rollups_build(db *d, const struct template *t, const char *period, const char *div, int by_inst, int *rc);

/* Writes an export ("rollup": the day by sub-division with completeness and
 * every aggregated field; "missing": who has not reported; "reports": the raw
 * reports of the period) for a division in scope as CSV or xlsx into out.
 * 0, or -1 with e filled. */
int dispatch_export(db *d, const struct user *u, const char *kind, const struct template *t, const char *period,
                    const char *div, int xlsx, struct buf *out, struct cw_err *e);

#endif
