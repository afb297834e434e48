/* auth.c — roles and capabilities, argon2id passwords, tokens, and resolving
 * a bearer token or session cookie to a user. */
#include "auth.h"
#include "buf.h"
#include "log.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct {
	enum role role;
	const char *name, *label;
	unsigned caps;
} roles[] = {
    {ROLE_ADMIN, "admin", "系统管理员",
     CAP_LOGIN | CAP_USERS | CAP_INST_READ | CAP_INST_WRITE | CAP_EXPORT | CAP_REPORT_READ | CAP_REPORT_REVIEW |
         CAP_PERSON_READ | CAP_PERSON_WRITE | CAP_NEED_READ | CAP_NEED_WRITE | CAP_MATCH | CAP_AUDIT | CAP_TEMPLATE},
    {ROLE_OFFICIAL, "official", "民政部门工作人员",
     CAP_LOGIN | CAP_INST_READ | CAP_INST_WRITE | CAP_EXPORT | CAP_REPORT_READ | CAP_REPORT_REVIEW | CAP_PERSON_READ |
         CAP_PERSON_WRITE | CAP_NEED_READ | CAP_NEED_WRITE | CAP_MATCH},
    {ROLE_LEADER, "leader", "领导", CAP_LOGIN | CAP_INST_READ | CAP_EXPORT | CAP_REPORT_READ | CAP_PERSON_READ | CAP_NEED_READ},
    {ROLE_REPORTER, "reporter", "机构填报员",
     CAP_LOGIN | CAP_INST_READ | CAP_REPORT_SUBMIT | CAP_REPORT_READ | CAP_NEED_READ | CAP_NEED_WRITE},
    {ROLE_WORKER, "worker", "乡镇/村居工作人员", CAP_LOGIN | CAP_PERSON_READ | CAP_PERSON_WRITE},
    {ROLE_PARTNER, "partner", "慈善组织/社会工作机构/志愿者", CAP_LOGIN | CAP_NEED_READ | CAP_OFFER},
};
#define NROLES (sizeof roles / sizeof roles[0])

const char *role_name(enum role r)
{
	for (size_t i = 0; i < NROLES; i++)
		if (roles[i].role == r)
			return roles[i].name;
	return "";
}

const char *role_label(enum role r)
{
	for (size_t i = 0; i < NROLES; i++)
		if (roles[i].role == r)
			return roles[i].label;
	return "";
}

enum role role_parse(const char *s)
{
	for (size_t i = 0; s && i < NROLES; i++)
		if (strcmp(roles[i].name, s) == 0)
			return roles[i].role;
	return ROLE_NONE;
}

unsigned role_caps(enum role r)
{
	for (size_t i = 0; i < NROLES; i++)
		if (roles[i].role == r)
			return roles[i].caps;
	return 0;
}

int password_hash(const char *password, char *out)
{
	_Static_assert(crypto_pwhash_STRBYTES <= 128, "hash buffer");
	return crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                             crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) == 0
	           ? 0
	           : -1;
}

int password_verify(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int password_policy(const char *password, const char **message)
{
	size_t n = strlen(password);
	if (n < 8) {
		*message = "密码至少 8 个字符";
		return -1;
	}
	if (n > 128) {
		*message = "密码最多 128 个字符";
		return -1;
	}
	int letter = 0, digit = 0;
	for (const char *p = password; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			letter = 1;
		else if (*p >= '0' && *p <= '9')
			digit = 1;
	}
	if (!letter || !digit) {
		*message = "密码须同时包含字母和数字";
		return -1;
	}
	return 0;
}

void token_random(char out[48])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, 48, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void token_hash(const char *token, char out[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof h);
}

#define USER_COLS "u.id, u.login, u.name, u.role, u.scope, COALESCE(u.institution_id, 0), COALESCE(u.partner_id, 0), u.pii"

static void fill_user(db_stmt *st, struct user *u)
{
	memset(u, 0, sizeof *u);
	u->id = db_column_int64(st, 0);
	cw_strlcpy(u->login, db_column_text(st, 1), sizeof u->login);
	cw_strlcpy(u->name, db_column_text(st, 2), sizeof u->name);
	u->role = role_parse(db_column_text(st, 3));
	cw_strlcpy(u->scope, db_column_text(st, 4), sizeof u->scope);
	u->institution_id = db_column_int64(st, 5);
	u->partner_id = db_column_int64(st, 6);
	u->pii = (int)db_column_int64(st, 7);
	u->caps = role_caps(u->role) | (u->pii ? CAP_PII : 0);
}

int user_load(db *d, int64_t id, struct user *u)
{
	db_stmt *st = db_prepare(d, "SELECT " USER_COLS " FROM users u WHERE u.id = $1 AND u.disabled = 0");
	if (!st)
		return DB_ERROR;
	int rc = db_bindf(st, "I", id);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW)
		fill_user(st, u);
	db_reset(st);
	return rc;
}

int token_create(db *d, int64_t user_id, const char *label, char out[48])
{
	char key[65];
	token_random(out);
	token_hash(out, key);
	int64_t n = db_run(d, "INSERT INTO tokens(key, user_id, label, created_at) VALUES ($1, $2, $3, $4)", "tItI", key,
	                   user_id, label ? label : "", (int64_t)time(NULL));
	return n < 0 ? (int)n : 0;
}

int auth_bearer(db *d, const char *token, struct user *u)
{
	char key[65];
	if (strlen(token) > 200)
		return DB_DONE;
	token_hash(token, key);
	db_stmt *st = db_prepare(d, "SELECT " USER_COLS " FROM tokens t JOIN users u ON u.id = t.user_id "
	                            "WHERE t.key = $1 AND t.revoked = 0 AND u.disabled = 0");
	if (!st)
		return DB_ERROR;
	int rc = db_bindf(st, "t", key);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW) {
		fill_user(st, u);
		u->via_session = 0;
	}
	db_reset(st);
	return rc;
}

int auth_session(db *d, const char *cookie_token, int64_t now, struct user *u)
{
	char key[65];
	if (strlen(cookie_token) > 200)
		return DB_DONE;
	token_hash(cookie_token, key);
	db_stmt *st = db_prepare(d, "SELECT " USER_COLS ", s.csrf FROM sessions s JOIN users u ON u.id = s.user_id "
	                            "WHERE s.key = $1 AND s.expires_at > $2 AND u.disabled = 0");
	if (!st)
		return DB_ERROR;
	int rc = db_bindf(st, "tI", key, now);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW) {
		fill_user(st, u);
		u->via_session = 1;
		cw_strlcpy(u->csrf, db_column_text(st, 8), sizeof u->csrf);
		cw_strlcpy(u->session_key, key, sizeof u->session_key);
	}
	db_reset(st);
	return rc;
}
