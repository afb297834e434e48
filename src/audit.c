/* audit.c — append-only hash-chained audit rows. */
#include "audit.h"
#include "buf.h"
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* hash = BLAKE2b-256(prev_hash, seq, ts, actor_id, actor, action, type, id,
 * division, before, after), each field length-prefixed so no two rows encode
 * alike. */
/* Writes v in decimal ending at end (exclusive); returns where it starts. */
static char *decimal(char *end, unsigned long long v)
{
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

static void hash_field(crypto_generichash_state *s, const char *f)
{
	char len[24];
	size_t fl = strlen(f);
	len[23] = ':';
	char *p = decimal(len + 23, fl);
	crypto_generichash_update(s, (const unsigned char *)p, (unsigned long long)(len + 24 - p));
	crypto_generichash_update(s, (const unsigned char *)f, fl);
}

static void chain_hash(const char *prev, int64_t seq, int64_t ts, int64_t actor_id, const char *const *fields,
                       char out[65])
{
	crypto_generichash_state s;
	unsigned char h[32];
	char num[3][24];
	crypto_generichash_init(&s, NULL, 0, sizeof h);
	const int64_t v[3] = {seq, ts, actor_id};
	hash_field(&s, prev);
	for (int i = 0; i < 3; i++) {
		/* as "%lld" would print it */
		char *p = decimal(num[i] + sizeof num[i] - 1, v[i] < 0 ? 0 - (unsigned long long)v[i] : (unsigned long long)v[i]);
		num[i][sizeof num[i] - 1] = 0;
		if (v[i] < 0)
			*--p = '-';
		hash_field(&s, p);
	}
	for (int i = 0; i < 7; i++)
		hash_field(&s, fields[i] ? fields[i] : "");
	crypto_generichash_final(&s, h, sizeof h);
	sodium_bin2hex(out, 65, h, sizeof h);
}

static char *dump(json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}

/* Reserves n sequence numbers: *first is the first, prev the hash before it. */
static int reserve(db *d, int64_t n, int64_t *first, char prev[65])
{
	db_stmt *st = db_prepare(d, "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash");
	if (!st)
		return DB_ERROR;
	int rc = db_bindf(st, "I", n);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW) {
		*first = db_column_int64(st, 0) - n + 1;
		cw_strlcpy(prev, db_column_text(st, 1), 65);
		rc = 0;
	} else if (rc == DB_DONE)
		rc = DB_ERROR;
	db_reset(st);
	return rc;
}

/* Inserts row seq chained to prev; hash receives its hash. */
static int insert_row(db *d, const struct user *u, int64_t now, int64_t seq, const char *prev, const char *action,
                      const char *object_type, const char *object_id, const char *division, json_t *before,
                      json_t *after, char hash[65])
{
	char *b = dump(before), *a = dump(after);
	const char *actor = u ? u->login : "cli";
	int64_t actor_id = u ? u->id : 0;
	const char *fields[7] = {actor, action, object_type, object_id, division ? division : "", b, a};
	chain_hash(prev, seq, now, actor_id, fields, hash);
	int64_t n = db_run(d,
	                   "INSERT INTO audit(seq, ts, actor_id, actor, action, object_type, object_id, division_code, "
	                   "before_json, after_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
	                   "IIIttttttttt", seq, now, actor_id, actor, action, object_type, object_id,
	                   division ? division : "", b, a, prev, hash);
	free(b);
	free(a);
	return n < 0 ? (int)n : 0;
}

static int set_head(db *d, const char *hash)
{
	int64_t n = db_run(d, "UPDATE audit_head SET hash = $1 WHERE id = 1", "t", hash);
	return n < 0 ? (int)n : 0;
}

int audit_write(db *d, const struct user *u, int64_t now, const char *action, const char *object_type,
                const char *object_id, const char *division, json_t *before, json_t *after)
{
	int64_t seq;
	char prev[65] = "", hash[65];
	int rc = reserve(d, 1, &seq, prev);
	if (rc == 0)
		rc = insert_row(d, u, now, seq, prev, action, object_type, object_id, division, before, after, hash);
	return rc ? rc : set_head(d, hash);
}

/* Rows per INSERT statement when writing many: fewer statements (and, on
 * PostgreSQL, round trips), well under either engine's parameter limit. */
#define AUDIT_ROWS 64
#define AUDIT_ROW "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"

static char *rows_sql(const db *d, size_t k)
{
	struct buf q = {0};
	buf_puts(&q, db_insert_many(d));
	buf_puts(&q, "audit(seq, ts, actor_id, actor, action, object_type, object_id, division_code, "
	             "before_json, after_json, prev_hash, hash) VALUES ");
	char *sql = db_rows_sql(buf_str(&q), AUDIT_ROW, 12, (int)k, "");
	buf_free(&q);
	return sql;
}

/* The statements of AUDIT_ROWS rows, made once per engine: [0] SQLite,
 * [1] PostgreSQL (their verbs differ, db_insert_many). */
static char *full_sql[2];
static pthread_mutex_t full_sql_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *full_sql_of(const db *d)
{
	int e = d->engine == DB_SQLITE ? 0 : 1;
	pthread_mutex_lock(&full_sql_mu);
	if (!full_sql[e])
		full_sql[e] = rows_sql(d, AUDIT_ROWS);
	pthread_mutex_unlock(&full_sql_mu);
	return full_sql[e];
}

/* Inserts recs[0..k) (k <= AUDIT_ROWS) as rows seq.. chained from prev,
 * which receives the last row's hash. */
static int insert_recs(db *d, const struct user *u, int64_t now, int64_t seq, char prev[65],
                       const struct audit_rec *recs, size_t k)
{
	char hash[AUDIT_ROWS][65];
	const char *actor = u ? u->login : "cli";
	int64_t actor_id = u ? u->id : 0;
	char *own = k == AUDIT_ROWS ? NULL : rows_sql(d, k);
	db_stmt *st = db_prepare(d, own ? own : full_sql_of(d));
	free(own);
	if (!st)
		return DB_ERROR;
	int rc = 0;
	for (size_t i = 0; i < k && rc == 0; i++) {
		const struct audit_rec *x = &recs[i];
		const char *div = x->division ? x->division : "";
		const char *fields[7] = {actor, x->action, x->object_type, x->object_id, div, x->before, x->after};
		const char *before = i ? hash[i - 1] : prev;
		chain_hash(before, seq + (int64_t)i, now, actor_id, fields, hash[i]);
		int b = (int)i * 12;
		rc = db_bind_int64(st, b + 1, seq + (int64_t)i);
		rc = rc ? rc : db_bind_int64(st, b + 2, now);
		rc = rc ? rc : db_bind_int64(st, b + 3, actor_id);
		rc = rc ? rc : db_bind_text_static(st, b + 4, actor);
		rc = rc ? rc : db_bind_text_static(st, b + 5, x->action);
		rc = rc ? rc : db_bind_text_static(st, b + 6, x->object_type);
		rc = rc ? rc : db_bind_text_static(st, b + 7, x->object_id);
		rc = rc ? rc : db_bind_text_static(st, b + 8, div);
		rc = rc ? rc : db_bind_text_static(st, b + 9, x->before);
		rc = rc ? rc : db_bind_text_static(st, b + 10, x->after);
		rc = rc ? rc : db_bind_text_static(st, b + 11, before);
		rc = rc ? rc : db_bind_text_static(st, b + 12, hash[i]);
	}
	if (rc == 0)
		rc = db_step(st);
	db_reset(st);
	if (rc != DB_DONE)
		return rc == DB_ROW || rc == 0 ? DB_ERROR : rc;
	memcpy(prev, hash[k - 1], 65);
	return 0;
}

int audit_write_recs(db *d, const struct user *u, int64_t now, const struct audit_rec *recs, size_t n)
{
	if (!n)
		return 0;
	int64_t seq;
	char prev[65] = "";
	int rc = reserve(d, (int64_t)n, &seq, prev);
	for (size_t i = 0; rc == 0 && i < n; i += AUDIT_ROWS)
		rc = insert_recs(d, u, now, seq + (int64_t)i, prev, recs + i, n - i < AUDIT_ROWS ? n - i : AUDIT_ROWS);
	return rc ? rc : set_head(d, prev);
}

int audit_write_many(db *d, const struct user *u, int64_t now, json_t *rows)
{
	size_t n = json_array_size(rows);
	if (!n)
		return 0;
	int64_t seq;
	char prev[65] = "", ids[AUDIT_ROWS][32];
	char *texts[AUDIT_ROWS][2];
	struct audit_rec recs[AUDIT_ROWS];
	int rc = reserve(d, (int64_t)n, &seq, prev);
	for (size_t i = 0; rc == 0 && i < n; i += AUDIT_ROWS) {
		size_t k = n - i < AUDIT_ROWS ? n - i : AUDIT_ROWS;
		for (size_t j = 0; j < k; j++) {
			json_t *x = json_array_get(rows, i + j), *id = json_object_get(x, "object_id");
			if (json_is_integer(id))
				snprintf(ids[j], sizeof ids[j], "%lld", (long long)json_integer_value(id));
			else
				cw_strlcpy(ids[j], json_string_value(id) ? json_string_value(id) : "", sizeof ids[j]);
			texts[j][0] = dump(json_object_get(x, "before"));
			texts[j][1] = dump(json_object_get(x, "after"));
			recs[j] = (struct audit_rec){json_string_value(json_object_get(x, "action")),
			                             json_string_value(json_object_get(x, "object_type")), ids[j],
			                             json_string_value(json_object_get(x, "division")), texts[j][0],
			                             texts[j][1]};
		}
		rc = insert_recs(d, u, now, seq + (int64_t)i, prev, recs, k);
		for (size_t j = 0; j < k; j++) {
			free(texts[j][0]);
			free(texts[j][1]);
		}
	}
	return rc ? rc : set_head(d, prev);
}

int audit_write_id(db *d, const struct user *u, int64_t now, const char *action, const char *object_type,
                   int64_t object_id, const char *division, json_t *before, json_t *after)
{
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)object_id);
	return audit_write(d, u, now, action, object_type, id, division, before, after);
}

int audit_verify(db *d, int64_t *rows, int64_t *bad_seq, char *msg, size_t msglen)
{
	char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000", hash[65];
	int64_t expect = 1, head_seq = 0;
	int rc, broken = 0;
	*rows = 0;
	*bad_seq = 0;
	db_stmt *st = db_prepare(d, "SELECT seq, ts, actor_id, actor, action, object_type, object_id, division_code, "
	                            "COALESCE(before_json, ''), COALESCE(after_json, ''), "
	                            "prev_hash, hash, before_json IS NULL, after_json IS NULL FROM audit ORDER BY seq");
	if (!st)
		return DB_ERROR;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t seq = db_column_int64(st, 0);
		const char *fields[7];
		for (int i = 0; i < 7; i++)
			fields[i] = db_column_text(st, 3 + i);
		if (db_column_int64(st, 12))
			fields[5] = NULL;
		if (db_column_int64(st, 13))
			fields[6] = NULL;
		(*rows)++;
		if (seq != expect) {
			snprintf(msg, msglen, "row %lld is missing (next row is %lld)", (long long)expect, (long long)seq);
			*bad_seq = expect;
			broken = 1;
			break;
		}
		if (strcmp(db_column_text(st, 10), prev) != 0) {
			snprintf(msg, msglen, "row %lld: prev_hash does not match row %lld", (long long)seq, (long long)seq - 1);
			*bad_seq = seq;
			broken = 1;
			break;
		}
		chain_hash(prev, seq, db_column_int64(st, 1), db_column_int64(st, 2), fields, hash);
		if (strcmp(hash, db_column_text(st, 11)) != 0) {
			snprintf(msg, msglen, "row %lld: content does not match its hash (edited)", (long long)seq);
			*bad_seq = seq;
			broken = 1;
			break;
		}
		memcpy(prev, hash, sizeof prev);
		expect++;
	}
	db_reset(st);
	if (broken)
		return 1;
	if (rc != DB_DONE)
		return rc;
	rc = db_query_int64(d, &head_seq, "SELECT seq FROM audit_head WHERE id = 1", "");
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERROR;
	if (head_seq != expect - 1) {
		snprintf(msg, msglen, "chain head is at row %lld but the log ends at row %lld (rows removed)",
		         (long long)head_seq, (long long)expect - 1);
		*bad_seq = expect;
		return 1;
	}
	return 0;
}
