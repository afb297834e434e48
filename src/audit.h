/* audit.h — the append-only, hash-chained audit log.
 *
 * Every state change writes one row inside the same transaction as the change:
 * who, when, what, the object's division (for scoped reading), and the object
 * before and after. Rows cannot be updated or deleted (database triggers), and
 * each row's hash covers the previous row's hash, so `carewatch audit verify`
 * finds any edited, removed or inserted row.
 */
#ifndef CW_AUDIT_H
#define CW_AUDIT_H
#include <jansson.h>
#include <stdint.h>
#include "auth.h"
#include "db.h"

/* Appends one row. u may be NULL (the command line: actor "cli").
 * before/after may be NULL; they are not consumed. Must run inside a write
 * transaction. Returns 0 or a DB_* error. */
int audit_write(db *d, const struct user *u, int64_t now, const char *action, const char *object_type,
                const char *object_id, const char *division, json_t *before, json_t *after);
/* Same with an integer object id. */
int audit_write_id(db *d, const struct user *u, int64_t now, const char *action, const char *object_type,
                   int64_t object_id, const char *division, json_t *before, json_t *after);

/* Appends rows [{action, object_type, object_id (string or integer),
 * division, before, after}] in order, touching the chain's head row twice in
 * all instead of twice per row (bulk imports: on PostgreSQL every update of
 * one row inside one transaction leaves a version the next must step over).
 * The rows are not consumed. 0 or a DB_* error. */
int audit_write_many(db *d, const struct user *u, int64_t now, json_t *rows);

/* One row for audit_write_recs: before/after are JSON text already (or NULL);
 * division NULL reads as "". */
struct audit_rec {
	const char *action, *object_type, *object_id, *division;
	const char *before, *after;
};
/* Appends n rows in order as audit_write_many does, from rows whose JSON is
 * text already (bulk imports build it without jansson); several rows per
 * INSERT. Nothing is consumed. 0 or a DB_* error. */
int audit_write_recs(db *d, const struct user *u, int64_t now, const struct audit_rec *recs, size_t n);

/* Recomputes the chain. Returns 0 when intact (*rows = rows checked); 1 when a
 * link is broken: *bad_seq is the first bad row and msg says why; or a DB_*
 * error (< 0). */
int audit_verify(db *d, int64_t *rows, int64_t *bad_seq, char *msg, size_t msglen);

#endif
