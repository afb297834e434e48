/* user.h — user accounts: creation rules shared by the API and the CLI. */
#ifndef CW_USER_H
#define CW_USER_H
#include <jansson.h>
#include <stdint.h>
#include "auth.h"
#include "db.h"
#include "err.h"

struct user_input {
	const char *login, *name, *role, *scope, *password;
	int64_t institution_id; /* reporters */
	int64_t partner_id;     /* partners */
	int pii;
};

/* Creates a user after checking: login shape and uniqueness, role, scope (a
 * real division inside the creator's scope), a reporter's institution (in scope;
 * the user's scope becomes the institution's division), the password policy,
 * and that the creator grants no more than it has (scope, personal data).
 * creator NULL = the command line (national, all powers). Writes an audit row.
 * 0 with *id_out set, or -1 with e filled. */
int user_create(db *d, const struct user *creator, int64_t now, const struct user_input *in, int64_t *id_out,
                struct cw_err *e);

/* Sets a new password (policy checked), unlocks the account and ends its
 * sessions. Audited. 0 or -1 with e filled. */
int user_set_password(db *d, const struct user *actor, int64_t now, int64_t id, const char *password,
                      struct cw_err *e);
/* Disables (disabled=1) or enables a user; disabling ends sessions and tokens.
 * Audited. 0 or -1 with e filled. */
int user_set_disabled(db *d, const struct user *actor, int64_t now, int64_t id, int disabled, struct cw_err *e);

/* Looks a login up: DB_ROW with *id, DB_DONE, or a DB_* error. */
int user_find_login(db *d, const char *login, int64_t *id);

/* JSON of an authenticated user (for the session reply). */
json_t *user_json(const struct user *u);
/* Capability names of a set, as a JSON array. */
json_t *caps_json(unsigned caps);

#endif
