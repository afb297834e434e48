/* rollup_sql.h — the roll-up merge as the SQL function cw_merge(sums,
 * contrib, sign), so one statement moves a roll-up row: no read of its sums
 * into C and no second statement to write them back.
 *
 * sums and contrib are JSON objects of the roll-up format {"field":[sum,
 * count], …}; the result is sums + sign × contrib, keys sorted, sums that
 * cancel to within 1e-9 written as 0, integral numbers written as integers.
 * SQLite gets it from rollup_sql_register() on every connection; PostgreSQL
 * from migration 009 (the same arithmetic in SQL over jsonb). */
#ifndef CW_ROLLUP_SQL_H
#define CW_ROLLUP_SQL_H
#include "buf.h"

struct sqlite3;

/* out = sums + sign * contrib (format above). 0, or -1 when either text is
 * not a roll-up object (out is then unchanged). */
int rollup_merge_text(const char *sums, const char *contrib, int sign, struct buf *out);

/* Appends x as the format writes numbers: integral values as integers,
 * others with 17 significant digits. */
void rollup_put_num(struct buf *out, double x);

/* Registers cw_merge on a SQLite connection. SQLITE_OK or its error code. */
int rollup_sql_register(struct sqlite3 *h);

#endif
