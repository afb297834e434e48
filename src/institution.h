/* institution.h — the institution registry (底数): rules shared by the API,
 * the CSV import and the exports. */
#ifndef CW_INSTITUTION_H
#define CW_INSTITUTION_H
#include <jansson.h>
#include <stdint.h>
#include "auth.h"
#include "db.h"
#include "err.h"
#include "jspec.h"

/* Column list of inst_json(); selected FROM institutions i
 * LEFT JOIN divisions dv ON dv.code = i.division_code. */
#define INST_COLS                                                                                                 \
	"i.id, i.name, i.uscc, i.type, i.ownership, i.division_code, COALESCE(dv.name, ''), i.address, i.beds, "     \
	"i.contact_name, i.contact_phone, i.medical, i.status, i.risk_level, i.created_at, i.updated_at, i.version"
#define INST_FROM " FROM institutions i LEFT JOIN divisions dv ON dv.code = i.division_code "

/* JSON of a row selected with INST_COLS. */
json_t *inst_json(db_stmt *st);

/* Checks a create (existing_id 0) or a patch (existing_id > 0) body that
 * already passed the JSON spec: enumerations, GB 32100 credit code and its
 * uniqueness, a real county or township inside the user's scope, the phone.
 * Normalises the credit code in obj. Problems are appended to errs as
 * {field, code, message}. Returns 0 or a DB_* error. */
int inst_check(db *d, const struct user *u, json_t *obj, int64_t existing_id, json_t *errs);

/* Inserts a checked institution with its first status row and an audit row,
 * inside the caller's write transaction; with audit_later the audit row is
 * appended there for audit_write_many() instead (bulk import). 0 with *id
 * set, or a DB_* error. */
int inst_insert(db *d, const struct user *u, int64_t now, json_t *obj, json_t *audit_later, int64_t *id);

/* The JSON spec of a create/patch body. */
extern const struct jfield inst_spec[];

/* 1 if the user may see the institution (scope or own institution). */
int inst_visible(const struct user *u, int64_t id, const char *division);

#endif
