/* person_bulk.h — storing many checked people inside one transaction (the
 * CSV import), without JSON and with few statements.
 *
 * person_bulk_add() copies a person in and computes its stored columns
 * (person_cols_make); every PERSON_BULK_ROWS people go into the database in
 * one multi-row INSERT (one statement text, prepared once per connection).
 * Every person still gets its own audit row — `person.create`, object_id its
 * id, division its township, `after` its masked form (as for a person
 * created through the API) — written in chunks of PERSON_BULK_AUDIT rows with
 * audit_write_recs, so memory stays flat however long the file. A helper
 * thread (started with the first full batch, ended by person_bulk_free)
 * computes one batch's columns while the caller inserts the previous one.
 */
#ifndef CW_PERSON_BULK_H
#define CW_PERSON_BULK_H
#include "person.h"

#define PERSON_BULK_ROWS 64
#define PERSON_BULK_AUDIT 4096

struct person_bulk;

/* A writer for people registered by u (NULL: the command line) at now, on d
 * inside the caller's write transaction. Never NULL (allocation aborts). */
struct person_bulk *person_bulk_new(db *d, const struct user *u, int64_t now);
/* Queues a checked person (its strings are copied; lengths as person_spec
 * allows), writing the queue when full. 0 or a DB_* error. */
int person_bulk_add(struct person_bulk *b, const struct person_in *in);
/* Writes what is queued, people and audit rows. 0 or a DB_* error. */
int person_bulk_finish(struct person_bulk *b);
/* Stops the helper and frees b (NULL is fine); anything still queued is
 * dropped. */
void person_bulk_free(struct person_bulk *b);

#endif
