/* cli_migrate.c — `carewatch migrate-db`: moving a whole SQLite database up to
 * PostgreSQL, then checking row counts, the audit chain and the roll-ups. */
#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Tables in an order that satisfies the foreign keys; `identity` marks an
 * identity column whose sequence must move past the copied ids; `derived` a
 * table the target's triggers fill as the others are copied, compared only. */
static const struct {
	const char *name, *order;
	int identity, derived;
} tables[] = {
    {"divisions", "code", 0, 0},
    {"institutions", "id", 1, 0},
    {"institution_status_history", "id", 1, 0},
    {"users", "id", 1, 0},
    {"sessions", "key", 0, 0},
    {"tokens", "key", 0, 0},
    {"audit", "seq", 0, 0},
    {"audit_head", "id", 0, 0},
    {"templates", "code, version", 0, 0},
    {"reports", "id", 1, 0},
    {"report_changes", "id", 1, 0},
    {"report_keys", "client_key", 0, 0},
    {"rollups", "template_code, period, division_code", 0, 0},
    {"survey_targets", "template_code, institution_id", 0, 0},
    {"pii_key_check", "id", 0, 0},
    {"persons", "id", 1, 0},
    {"visits", "id", 1, 0},
    {"subsidies", "id", 1, 0},
    {"inst_counts", "division_code, type", 0, 1},
    {"items", "code", 0, 1},
    {"difficulties", "id", 1, 0},
    {"need_counters", "county", 0, 0},
    {"partners", "id", 1, 0},
    {"needs", "id", 1, 0},
    {"offers", "id", 1, 0},
    {"pledges", "id", 1, 0},
};
#define NTABLES (sizeof tables / sizeof tables[0])

static int copy_table(db *from, db *to, size_t ti, int64_t *rows)
{
	struct buf sel = {0}, ins = {0};
	int rc;
	*rows = 0;
	buf_printf(&sel, "SELECT * FROM %s ORDER BY %s", tables[ti].name, tables[ti].order);
	db_stmt *src = db_prepare(from, sel.data);
	if (!src) {
		rc = DB_ERROR;
		goto cleanup;
	}
	db_stmt *dst = NULL;
	while ((rc = db_step(src)) == DB_ROW) {
		int n = db_column_count(src);
		if (!dst) {
			buf_printf(&ins, "INSERT INTO %s (", tables[ti].name);
			for (int i = 0; i < n; i++)
				buf_printf(&ins, "%s%s", i ? ", " : "", db_column_name(src, i));
			buf_puts(&ins, ") VALUES (");
			for (int i = 0; i < n; i++)
				buf_printf(&ins, "%s$%d", i ? ", " : "", i + 1);
			buf_puts(&ins, ")");
			if (!(dst = db_prepare(to, ins.data))) {
				rc = DB_ERROR;
				break;
			}
		}
		for (int i = 0; i < n && rc == DB_ROW; i++)
			if ((db_column_is_null(src, i) ? db_bind_null(dst, i + 1) : db_bind_text(dst, i + 1, db_column_text(src, i))) != 0)
				rc = DB_ERROR;
		if (rc != DB_ROW)
			break;
		int s = db_step(dst);
		db_reset(dst);
		if (s != DB_DONE) {
			rc = s;
			break;
		}
		(*rows)++;
	}
	db_reset(src);
	if (rc == DB_DONE && tables[ti].identity && to->engine == DB_PG) {
		struct buf q = {0};
		buf_printf(&q, "SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)",
		           tables[ti].name, tables[ti].name);
		rc = db_exec(to, q.data) == 0 ? DB_DONE : DB_ERROR;
		buf_free(&q);
	}
cleanup:
	buf_free(&sel);
	buf_free(&ins);
	return rc == DB_DONE ? 0 : rc;
}

/* BLAKE2b over a table's rows in key order, every column as text. */
static int table_digest(db *d, size_t ti, char out[65])
{
	struct buf sel = {0};
	crypto_generichash_state s;
	unsigned char h[32];
	int rc;
	buf_printf(&sel, "SELECT * FROM %s ORDER BY %s", tables[ti].name, tables[ti].order);
	db_stmt *st = db_prepare(d, sel.data);
	buf_free(&sel);
	if (!st)
		return DB_ERROR;
	crypto_generichash_init(&s, NULL, 0, sizeof h);
	while ((rc = db_step(st)) == DB_ROW)
		for (int i = 0; i < db_column_count(st); i++) {
			const char *v = db_column_is_null(st, i) ? "\x01NULL" : db_column_text(st, i);
			crypto_generichash_update(&s, (const unsigned char *)v, strlen(v) + 1);
		}
	db_reset(st);
	crypto_generichash_final(&s, h, sizeof h);
	sodium_bin2hex(out, 65, h, sizeof h);
	return rc == DB_DONE ? 0 : rc;
}

int cmd_migrate_db(struct cli *c)
{
	const char *from_uri = cli_opt(c, "from"), *to_uri = cli_opt(c, "to");
	char err[600];
	int rc = 1, r;
	db *from = NULL, *to = NULL;
	int64_t counts[NTABLES];
	if (!from_uri || !to_uri)
		return cli_usage("usage: carewatch migrate-db --from PATH --to postgres://USER@HOST/DB");
	if (db_is_pg_uri(from_uri) || !db_is_pg_uri(to_uri))
		return cli_usage("migrate-db copies a SQLite file (--from) into PostgreSQL (--to)");
	if (!(from = db_open(from_uri, err, sizeof err)))
		return cli_fail("cannot open %s: %s", from_uri, err);
	if (db_migrate(from, err, sizeof err) != 0) {
		cli_fail("%s: %s", from_uri, err);
		goto cleanup;
	}
	if (!(to = db_open(to_uri, err, sizeof err))) {
		cli_fail("cannot open the PostgreSQL database: %s", err);
		goto cleanup;
	}
	if (db_migrate(to, err, sizeof err) != 0) {
		cli_fail("PostgreSQL: %s", err);
		goto cleanup;
	}
	int64_t have = 0;
	if (db_query_int64(to, &have, "SELECT (SELECT COUNT(*) FROM divisions) + (SELECT COUNT(*) FROM users)", "") !=
	        DB_ROW ||
	    have) {
		cli_fail("the PostgreSQL database is not empty; migrate into a new database");
		goto cleanup;
	}
	/* one consistent snapshot of the source, one atomic write of the target */
	if (db_begin(from, 0) != 0 || db_begin(to, 1) != 0) {
		cli_fail("cannot start transactions: %s %s", from->err, to->err);
		goto cleanup;
	}
	r = db_exec(to, "DELETE FROM audit_head");
	/* pledges arrive with their needs' and offers' counters already right:
	 * their triggers stand aside for this transaction (sql/005_needs.sql) */
	if (r == 0)
		r = db_exec(to, "SET LOCAL carewatch.copying = 'on'");
	for (size_t i = 0; r == 0 && i < NTABLES; i++) {
		if (tables[i].derived)
			continue;
		r = copy_table(from, to, i, &counts[i]);
		if (r == 0)
			printf("  %-28s %10lld rows\n", tables[i].name, (long long)counts[i]);
		else
			cli_fail("copying %s: %s", tables[i].name, to->err);
	}
	if (r != 0 || db_commit(to) != 0) {
		db_rollback(to);
		db_rollback(from);
		cli_fail("nothing was written to PostgreSQL");
		goto cleanup;
	}
	db_rollback(from);
	/* checks: counts and contents, the audit chain, the roll-ups */
	int bad = 0;
	for (size_t i = 0; i < NTABLES; i++) {
		char a[65], b[65];
		if (table_digest(from, i, a) != 0 || table_digest(to, i, b) != 0 || strcmp(a, b) != 0) {
			printf("MISMATCH in %s\n", tables[i].name);
			bad = 1;
		}
	}
	int64_t rows = 0, first_bad = 0;
	char msg[300] = "";
	if (audit_verify(to, &rows, &first_bad, msg, sizeof msg) != 0) {
		printf("audit chain on PostgreSQL BROKEN at row %lld: %s\n", (long long)first_bad, msg);
		bad = 1;
	} else
		printf("audit chain intact on PostgreSQL: %lld rows\n", (long long)rows);
	if (bad) {
		cli_fail("the copy does not match the source");
		goto cleanup;
	}
	printf("checked: every table's rows and contents match (roll-ups included); migration complete\n");
	rc = 0;
cleanup:
	db_close(from);
	db_close(to);
	return rc;
}
