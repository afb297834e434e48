/* institution_io.h — registry import from CSV and export to CSV/xlsx. */
#ifndef CW_INSTITUTION_IO_H
#define CW_INSTITUTION_IO_H
#include "buf.h"
#include "institution.h"

struct inst_import_result {
	char encoding[16];   /* "UTF-8" or "GB18030", as detected */
	int rows;            /* data rows in the file */
	int imported;        /* valid rows (inserted when committed) */
	int rejected;        /* invalid rows */
	int committed;       /* 1 when the valid rows were stored */
	json_t *problems;    /* [{line, field, code, message}] — caller decrefs */
	json_t *ignored;     /* header names not understood — caller decrefs */
};

/* Imports institutions from CSV bytes (encoding detected; Chinese or English
 * headers; coded columns take the code or the Chinese label). Every row goes
 * through the same checks as the API, in one transaction: with an invalid row
 * nothing is stored unless skip_invalid; dry_run stores nothing. Returns 0
 * (see res, also when rows were rejected) or -1 with e filled for a file-level
 * problem or a database failure. */
int inst_import_csv(db *d, const struct user *u, int64_t now, const char *data, size_t len, int skip_invalid,
                    int dry_run, struct inst_import_result *res, struct cw_err *e);

/* Writes the institutions inside division (and, for a reporter, only its own)
 * with Chinese headers to out: CSV (UTF-8 with BOM) or xlsx. 0 with *count set,
 * or -1 with e filled. */
int inst_export(db *d, const struct user *u, const char *division, int xlsx, struct buf *out, int64_t *count,
                struct cw_err *e);

#endif
