/* person_io.h — people registry import from CSV, exports of people and of
 * subsidies (CSV or xlsx), shared by the API and the CLI. */
#ifndef CW_PERSON_IO_H
#define CW_PERSON_IO_H
#include "buf.h"
#include "err.h"
#include "person.h"

struct person_import_result {
	char encoding[16];   /* "UTF-8" or "GB18030" */
	int rows, imported, rejected, committed;
	json_t *problems;    /* [{line, field, code, message}] — caller decrefs */
	json_t *ignored;     /* header names not understood — caller decrefs */
};

/* Imports people from CSV bytes (UTF-8 or GB18030; Chinese or English
 * headers; coded columns take the code or the Chinese label; categories
 * separated by 、 , ; or |). Every row goes through person_check(); all rows
 * are inserted in one transaction with reused prepared statements and the
 * audit rows written together (audit_write_many). With an invalid row
 * nothing is stored unless skip_invalid; dry_run stores nothing. Needs the
 * personal-data key. 0 (see res) or -1 with e filled. */
int person_import_csv(db *d, const struct user *u, int64_t now, const char *data, size_t len, int skip_invalid,
                      int dry_run, struct person_import_result *res, struct cw_err *e);

/* Writes the people inside the filter to out with Chinese headers; citizen
 * IDs and phones masked unless unmask (the caller audits the export). 0 with
 * *count set, or -1 with e filled. */
int person_export(db *d, const struct person_filter *f, int unmask, int xlsx, struct buf *out, int64_t *count,
                  struct cw_err *e);

/* Writes subsidies in [lo, hi) (month "" = all; unpaid: only unpaid). */
int subsidy_export(db *d, const char *lo, const char *hi, const char *month, int64_t unpaid, int64_t now, int xlsx,
                   struct buf *out, int64_t *count, struct cw_err *e);

#endif
