/* auth.h — roles, capabilities, the authenticated user, sessions and tokens.
 *
 * Capabilities are data: a role expands into a capability set (role_caps());
 * the dispatcher checks a route's capability centrally before its handler runs.
 * The personal-data capability CAP_PII is never part of a role: an admin grants
 * it per user.
 */
#ifndef CW_AUTH_H
#define CW_AUTH_H
#include <stdint.h>
#include "db.h"

enum role {
	ROLE_NONE = 0,
	ROLE_ADMIN,
	ROLE_OFFICIAL,
	ROLE_LEADER,
	ROLE_REPORTER,
	ROLE_WORKER,
	ROLE_PARTNER,
};

enum cap {
	CAP_LOGIN = 1u << 0,          /* any authenticated user */
	CAP_USERS = 1u << 1,          /* manage users in scope */
	CAP_INST_READ = 1u << 2,      /* read institutions in scope */
	CAP_INST_WRITE = 1u << 3,     /* create/edit institutions in scope */
	CAP_EXPORT = 1u << 4,         /* export lists in scope */
	CAP_REPORT_SUBMIT = 1u << 5,  /* file reports for an institution */
	CAP_REPORT_READ = 1u << 6,    /* read reports, completeness, roll-ups */
	CAP_REPORT_REVIEW = 1u << 7,  /* approve / return reports, reopen periods */
	CAP_PERSON_READ = 1u << 8,    /* vulnerable people at home */
	CAP_PERSON_WRITE = 1u << 9,
	CAP_NEED_READ = 1u << 10,     /* needs list */
	CAP_NEED_WRITE = 1u << 11,    /* raise needs, difficulties */
	CAP_MATCH = 1u << 12,         /* confirm pledges, run matching */
	CAP_OFFER = 1u << 13,         /* partner offers and shipments */
	CAP_AUDIT = 1u << 14,         /* read the audit log */
	CAP_TEMPLATE = 1u << 15,      /* manage report templates */
	CAP_PII = 1u << 16,           /* see citizen IDs and phones unmasked (per user) */
};

struct user {
	int64_t id;
	char login[64];
	char name[128];
	enum role role;
	char scope[16];          /* division prefix, "" = national */
	int64_t institution_id;  /* reporters: their institution, else 0 */
	int64_t partner_id;      /* partners: their organisation, else 0 */
	unsigned caps;
	int pii;
	int via_session;         /* 1: cookie session (CSRF applies), 0: bearer/CLI */
	char csrf[64];
	char session_key[80];    /* hash of the session token */
};

const char *role_name(enum role r);
enum role role_parse(const char *s);
unsigned role_caps(enum role r);
/* Chinese label of a role, e.g. "民政部门工作人员". */
const char *role_label(enum role r);

/* Hashes a password with argon2id (libsodium). out must hold 128 bytes.
 * 0 or -1. */
int password_hash(const char *password, char *out);
/* 1 if the password matches the stored hash, 0 otherwise. */
int password_verify(const char *hash, const char *password);
/* Checks strength: 0 ok, or -1 with a Chinese message. */
int password_policy(const char *password, const char **message);

/* Fills *u for a user id (caps include CAP_PII when granted). DB_ROW, DB_DONE
 * (no such user or disabled), or a DB_* error. */
int user_load(db *d, int64_t id, struct user *u);

/* Random URL-safe token of 32 bytes of entropy (43 chars + NUL). */
void token_random(char out[48]);
/* BLAKE2b-256 of a token, hex (64 chars + NUL). */
void token_hash(const char *token, char out[65]);

/* Creates a bearer token for a user; writes the token to out (shown once).
 * Runs in the caller's transaction. 0 or a DB_* error. */
int token_create(db *d, int64_t user_id, const char *label, char out[48]);

/* Resolves the Authorization header or the session cookie to a user.
 * Returns DB_ROW (authenticated), DB_DONE (no or bad credentials) or an error. */
int auth_bearer(db *d, const char *token, struct user *u);
int auth_session(db *d, const char *cookie_token, int64_t now, struct user *u);

#endif
