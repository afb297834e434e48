/* need.h — the needs list and precise matching (需求清单与精准对接):
 * shared rules of item.c, difficulty.c, need.c, need_export.c, partner.c,
 * matching.c and pledge.c. The tables and the database's own guarantees
 * (pledge counters, no over-pledging, no second shipment) are in
 * sql/005_needs.sql.
 *
 * Who sees what:
 *   reporter  the needs, difficulties and pledges of its own institution
 *   official, admin, leader  everything whose division lies in the scope
 *   partner   needs in its scope without personal data (no note, no creator,
 *             no contact), its own organisation, offers and pledges
 */
#ifndef CW_NEED_H
#define CW_NEED_H
#include <jansson.h>
#include <stdint.h>
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "err.h"

/* The derived status of an active need, from its counters: as SQL over the
 * columns of needs n (proposed / dismissed / cancelled come from n.state). */
#define NEED_STATUS_SQL                                                                                       \
	"(CASE WHEN n.state <> 'active' THEN n.state WHEN n.received >= n.quantity THEN 'received' "              \
	"WHEN n.in_transit > 0 THEN 'in_transit' WHEN n.committed >= n.quantity THEN 'pledged' "                  \
	"WHEN n.received > 0 THEN 'partially_received' WHEN n.committed > 0 THEN 'partially_pledged' "            \
	"ELSE 'open' END)"

/* The same rule in C (for tests of the rule and for callers holding counters). */
const char *need_status(const char *state, int64_t quantity, int64_t committed, int64_t in_transit, int64_t received);
/* Chinese label of a need status, urgency, difficulty category or status,
 * partner kind or pledge status ("" when unknown). */
const char *need_label(const char *code);

/* Registers a partner (慈善组织、社会工作机构、志愿者) from a body of
 * {"name","kind","division_code","contact_name","contact_phone"} as u (NULL:
 * the command line, national), with its audit row, in its own write
 * transaction. 0 with *id, or -1 with e (422 on a bad field, 409
 * partner_exists, 422 unknown_division / out_of_scope, or a database error). */
int partner_create(db *d, const struct user *u, int64_t now, json_t *body, int64_t *id, struct cw_err *e);

/* Looks up a catalogue item: DB_ROW (name_zh, 64 bytes, and unit, 16 bytes,
 * filled when not NULL), DB_DONE when there is no such item, or a DB_* error. */
int item_find(db *d, const char *code, char *name_zh, char *unit);

/* 1 when the user may see the institution's needs/difficulties (reporters:
 * their own institution; others: its division in their scope). */
int need_visible(const struct user *u, int64_t institution_id, const char *division);

/* Proposes needs from a report just stored: for each item of derived.low
 * (days of supply under cfg.supply_days) with no open need of the institution
 * and no proposal from the same period, inserts a proposed need (quantity for
 * 7 days of average use, needed by the day stock runs out). Appends one audit
 * row description per proposal to audit_rows (written by the caller, after
 * its roll-ups). 0 or a DB_* error. */
int need_propose_from_report(db *d, int64_t institution_id, const char *division, const char *period,
                             json_t *derived, int64_t now, json_t *audit_rows);

/* Looks up a partner organisation (partner.c): DB_ROW (its division, SCOPE_MAX
 * bytes, filled when not NULL), DB_DONE when there is none, or a DB_* error. */
int partner_exists(db *d, int64_t id, char *division);

/* Next reference [county]-[sequence] for a need of division (in the caller's
 * write transaction). out holds 32 bytes. 0 or a DB_* error. */
int need_next_ref(db *d, const char *division, char *out);

/* The needs list (紧急药品物资需求清单) inside division (u NULL: the command
 * line; else also checked against u's scope, a reporter's own institution
 * only): active needs summed by the next division level and item, or one row
 * per need (per_need), as xlsx or CSV appended to out; *rows counts the data
 * rows. 0, or -1 with e filled. */
int need_export(db *d, const struct user *u, const char *division, int xlsx, int per_need, struct buf *out,
                int64_t *rows, struct cw_err *e);

/* The matching proposals for a division, optionally one item ("" all),
 * nothing stored: appends a JSON array [{need_id, offer_id, quantity, item,
 * need_ref, institution_name, partner_name, urgency, needed_by,
 * offer_division, level}, ...] to out (always a complete array), with the
 * number of proposals and their total quantity. 0 or a DB_* error. */
int matching_propose(db *d, const char *division, const char *item, const char *today, struct buf *out,
                     int64_t *count, int64_t *total);

/* Fills division (SCOPE_MAX bytes) with the institution's when it exists and
 * u may raise needs or difficulties for it. 0; DB_APP with a 404 in e; or a
 * DB_* error. */
int inst_for_need(db *d, const struct user *u, int64_t inst, char *division, struct cw_err *e);

#endif
