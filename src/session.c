/* session.c — log in, who am I, log out.
 *
 * Lockout lives in the users table (so every node agrees): five failed
 * passwords in a row lock the account for 15 minutes (429 account_locked).
 * A session is a random token in an HttpOnly SameSite=Strict cookie; the
 * database keeps only its hash, with a CSRF token the client echoes in
 * X-CSRF-Token on every state-changing request.
 */
#include "audit.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "log.h"
#include "user.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define MAX_FAILS 5
#define LOCK_SECONDS (15 * 60)

static const struct jfield login_spec[] = {
    {"login", J_STR, 1, 1, 64, NULL, "登录名", 0},
    {"password", J_STR, 1, 1, 256, NULL, "密码", 0},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

struct login_ctx {
	const char *login;
	int64_t now, id, locked_until;
	int disabled, fails;
	char hash[160];
	int ok;           /* password verified */
	int locked_now;   /* this failure locked the account */
	char token[48], csrf[48];
	struct user u;
};

static int load_txn(db *d, void *vc)
{
	struct login_ctx *c = vc;
	db_stmt *st = db_prepare(d, "SELECT id, password_hash, disabled, locked_until FROM users WHERE login = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "t", c->login);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		c->id = db_column_int64(st, 0);
		cw_strlcpy(c->hash, db_column_text(st, 1), sizeof c->hash);
		c->disabled = (int)db_column_int64(st, 2);
		c->locked_until = db_column_int64(st, 3);
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? 0 : rc;
}

static int fail_txn(db *d, void *vc)
{
	struct login_ctx *c = vc;
	db_stmt *st = db_prepare(d, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", c->id);
	int rc = db_step(st);
	if (rc == DB_ROW)
		c->fails = (int)db_column_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_ERROR : rc;
	if (c->fails < MAX_FAILS)
		return 0;
	c->locked_now = 1;
	int64_t n = db_run(d, "UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2", "II",
	                   c->now + LOCK_SECONDS, c->id);
	if (n < 0)
		return (int)n;
	json_t *after = json_pack("{s:I}", "locked_until", (json_int_t)(c->now + LOCK_SECONDS));
	struct user who = {.id = c->id};
	cw_strlcpy(who.login, c->login, sizeof who.login);
	rc = audit_write_id(d, &who, c->now, "user.lock", "user", c->id, "", NULL, after);
	json_decref(after);
	return rc;
}

static int success_txn(db *d, void *vc)
{
	struct login_ctx *c = vc;
	char key[65];
	int rc = user_load(d, c->id, &c->u);
	if (rc != DB_ROW)
		return rc == DB_DONE ? DB_APP : rc;
	int64_t n = db_run(d, "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1", "I", c->id);
	if (n < 0)
		return (int)n;
	/* sweep this user's expired sessions so the table stays small */
	n = db_run(d, "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2", "II", c->id, c->now);
	if (n < 0)
		return (int)n;
	token_random(c->token);
	token_random(c->csrf);
	token_hash(c->token, key);
	n = db_run(d, "INSERT INTO sessions(key, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
	           "tItII", key, c->id, c->csrf, c->now, c->now + cfg.session_hours * 3600);
	if (n < 0)
		return (int)n;
	return audit_write_id(d, &c->u, c->now, "session.create", "user", c->id, c->u.scope, NULL, NULL);
}

static int bad_credentials(struct req *r)
{
	return reply_error(r, 401, "invalid_credentials", "登录名或密码错误", NULL);
}

static int locked(struct req *r, int64_t until)
{
	char msg[160], ra[32];
	int64_t secs = until - r->now;
	snprintf(msg, sizeof msg, "连续登录失败次数过多，账号已锁定，请 %lld 分钟后再试", (long long)((secs + 59) / 60));
	snprintf(ra, sizeof ra, "%lld", (long long)secs);
	req_add_header(r, "Retry-After", ra);
	return reply_error(r, 429, "account_locked", msg, NULL);
}

int h_session_create(struct req *r)
{
	if (jspec_check_or_reply(r, r->json, login_spec, 0) != 0)
		return 0;
	struct login_ctx c = {0};
	c.login = jstr(r->json, "login");
	c.now = r->now;
	const char *password = jstr(r->json, "password");
	int rc = db_txn(r->db, 0, load_txn, &c);
	if (rc != 0)
		return reply_db_error(r, rc);
	if (!c.id) {
		/* same work as a real check, so timing does not reveal logins */
		static const char dummy[] = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		                            "Qm9ndXNoYXNoQm9ndXNoYXNoQm9ndXNoYXNoQm9ndXM";
		password_verify(dummy, password);
		return bad_credentials(r);
	}
	if (c.locked_until > r->now)
		return locked(r, c.locked_until);
	if (!password_verify(c.hash, password)) {
		rc = db_txn(r->db, 1, fail_txn, &c);
		if (rc != 0)
			return reply_db_error(r, rc);
		if (c.locked_now)
			return locked(r, r->now + LOCK_SECONDS);
		return bad_credentials(r);
	}
	if (c.disabled)
		return reply_error(r, 403, "account_disabled", "账号已停用，请联系管理员", NULL);
	rc = db_txn(r->db, 1, success_txn, &c);
	if (rc == DB_APP)
		return reply_error(r, 403, "account_disabled", "账号已停用，请联系管理员", NULL);
	if (rc != 0)
		return reply_db_error(r, rc);
	char cookie[256];
	snprintf(cookie, sizeof cookie, "cw_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", c.token,
	         cfg.session_hours * 3600, cfg.secure_cookie ? "; Secure" : "");
	req_add_header(r, "Set-Cookie", cookie);
	sodium_memzero(c.token, sizeof c.token);
	c.u.via_session = 1;
	r->authed = 1;
	r->user = c.u;
	return reply_json(r, 200, json_pack("{s:o,s:s}", "user", user_json(&c.u), "csrf", c.csrf));
}

int h_session_get(struct req *r)
{
	/* asking "who am I" is not an error when the answer is "nobody" */
	if (!r->authed)
		return reply_json(r, 200, json_pack("{s:n}", "user"));
	json_t *j = json_pack("{s:o}", "user", user_json(&r->user));
	if (r->user.via_session)
		json_object_set_new(j, "csrf", json_string(r->user.csrf));
	return reply_json(r, 200, j);
}

struct logout_ctx {
	struct user *u;
	int64_t now;
};

static int logout_txn(db *d, void *vc)
{
	struct logout_ctx *c = vc;
	int64_t n = db_run(d, "DELETE FROM sessions WHERE key = $1", "t", c->u->session_key);
	if (n < 0)
		return (int)n;
	return audit_write_id(d, c->u, c->now, "session.delete", "user", c->u->id, c->u->scope, NULL, NULL);
}

int h_session_delete(struct req *r)
{
	if (r->user.via_session) {
		struct logout_ctx c = {&r->user, r->now};
		int rc = db_txn(r->db, 1, logout_txn, &c);
		if (rc != 0)
			return reply_db_error(r, rc);
	}
	req_add_header(r, "Set-Cookie", "cw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	return reply_no_content(r);
}
