/* report.h — daily reports and surveys: checking values against the
 * template, saving with idempotency and value history, review, and the live
 * roll-ups updated in the same transaction (rollup.c). */
#ifndef CW_REPORT_H
#define CW_REPORT_H
#include <jansson.h>
#include "auth.h"
#include "db.h"
#include "err.h"
#include "template.h"

/* Checks values against t. submitting=1 also demands required fields.
 * Problems are appended to details as {"field"|"rule","severity","code",
 * "message"}. Returns the number of errors; *warnings gets the number of
 * warnings. */
int report_check(const struct template *t, json_t *values, int submitting, json_t *details, int *warnings);

/* Checks a period string for the template (daily: a real date; weekly: a
 * Monday; once: the campaign's opening date). 0 or -1. */
int report_period_ok(const struct template *t, const char *period);
/* Unix time of the period's deadline (a report first submitted before it is on
 * time; at or after it, late), and the last moment it stays open. */
int64_t report_deadline(const struct template *t, const char *period);
int64_t report_closes(const struct template *t, const char *period);

struct report_save {
	const struct template *t;
	int64_t institution_id;
	const char *period;
	const char *client_key;   /* may be NULL */
	int submit;               /* 1 submitted, 0 draft */
	json_t *values;
	int confirm_warnings;
	const struct user *u;
	int64_t now;
	json_t *rollup_batch;     /* NULL: roll-ups written now; else collected (rollup.h) */
	json_t *audit_later;      /* NULL: audit row written now; else appended for report_audit_flush() */
	int want_saved;           /* 1: fill saved */
	json_t *derived;          /* days of supply when computed before the transaction, else NULL */
	char *vals_text;          /* values as stored, when dumped before the transaction, else NULL */
	/* out */
	int64_t report_id;
	int replayed;             /* the client_key was seen before */
	int created;
	json_t *details;          /* validation problems (owned by caller) */
	json_t *saved;            /* want_saved: the report as stored, as report_load() gives it
	                           * (caller decrefs); NULL when replayed */
};

/* Validates and stores a report in one transaction. 0, or -1 with e filled
 * (422 validation_failed with s->details, 404, 409 ...). */
int report_save(db *d, struct report_save *s, struct cw_err *e);

/* The body of report_save() without checks or its own transaction, for a
 * caller that runs many in one (bulk import): stores s (values already
 * checked) and updates the roll-ups. 0, DB_APP with e filled, or a DB_* error. */
int report_store(db *d, struct report_save *s, struct cw_err *e);

/* Writes the audit rows report_store() collected in s->audit_later (after
 * rollup_flush(), keeping the lock order of rollup.h) and empties it. 0 or a
 * DB_* error. */
int report_audit_flush(db *d, const struct user *u, int64_t now, json_t *later);

/* The report as JSON (new reference), or NULL (not found / error in *rc). */
json_t *report_load(db *d, const char *tcode, int64_t inst, const char *period, int *rc);

/* Approves or returns a submitted report. 0 or -1 with e filled. */
int report_review(db *d, const struct user *u, int64_t now, const char *tcode, int64_t inst, const char *period,
                  int approve, const char *reason, struct cw_err *e);

/* Values of the latest counted report of an institution before period, for
 * prefill (flow fields dropped, or zeroed when zero=1). New object; *from set
 * to that report's period (11 bytes). NULL on a database error. */
json_t *report_prefill(db *d, const struct template *t, int64_t inst, const char *period, int zero, char *from,
                       int *rc);

#endif
