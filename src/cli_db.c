/* cli_db.c — init, serve, backup, audit verify, import divisions. */
#include "audit.h"
#include "checkpoint.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "demo.h"
#include "division.h"
#include "http.h"
#include "log.h"
#include "pii.h"
#include "template.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int load_divisions(db *d)
{
	char err[300];
	int64_t n = 0;
	if (division_load_builtin(d, &n, err, sizeof err) != 0)
		return cli_fail("loading divisions failed: %s", err);
	printf("divisions: %lld loaded\n", (long long)n);
	return 0;
}

/* Loads and checks the report templates and publishes changed versions. */
static int load_templates(db *d)
{
	char err[600];
	if (template_load(err, sizeof err) != 0)
		return cli_fail("template refused: %s", err);
	if (template_publish(d, err, sizeof err) != 0)
		return cli_fail("%s", err);
	return 0;
}

int cmd_init(struct cli *c)
{
	int rc = 1;
	int64_t have = 0;
	db *d = cli_open_db(1);
	if (!d)
		return 1;
	if (db_query_int64(d, &have, "SELECT COUNT(*) FROM divisions", "") != DB_ROW) {
		cli_fail("cannot read divisions: %s", d->err);
		goto cleanup;
	}
	if (have == 0 && load_divisions(d) != 0)
		goto cleanup;
	if (load_templates(d) != 0)
		goto cleanup;
	char err[600];
	if (pii_init(d, stdout, err, sizeof err) < 0) {
		cli_fail("%s", err);
		goto cleanup;
	}
	if (cli_flag(c, "demo") && demo_load(d, stdout) != 0)
		goto cleanup;
	printf("database ready: %s\n", db_is_pg_uri(cfg.db) ? "postgresql" : cfg.db);
	rc = 0;
cleanup:
	db_close(d);
	return rc;
}

int cmd_import_divisions(struct cli *c)
{
	(void)c;
	db *d = cli_open_db(1);
	if (!d)
		return 1;
	int rc = load_divisions(d);
	db_close(d);
	return rc;
}

int cmd_serve(struct cli *c)
{
	int64_t have = 0;
	(void)c;
	/* one SQLite node migrates itself; PostgreSQL nodes share a schema that
	 * `carewatch init` migrates once, so nodes starting together never race */
	db *d = cli_open_db(!db_is_pg_uri(cfg.db));
	if (!d)
		return 1;
	int rc = db_query_int64(d, &have, "SELECT COUNT(*) FROM divisions", "");
	if (rc != DB_ROW || have == 0) {
		db_close(d);
		return cli_fail("the database has no divisions: run 'carewatch init --db %s' first", cfg.db);
	}
	rc = load_templates(d);
	if (rc == 0) {
		/* a wrong key refuses to start; no key serves, people routes answer 503 */
		char err[600];
		int k = pii_open(d, err, sizeof err);
		if (k < 0)
			rc = cli_fail("%s", err);
		else if (k == 1)
			log_msg(LOG_WARN, "no personal-data key (key_file): the people registry answers 503 pii_key_unavailable");
	}
	db_close(d);
	if (rc)
		return rc;
	checkpointer_start();
	rc = http_serve();
	checkpointer_stop();
	return rc;
}

int cmd_backup(struct cli *c)
{
	if (c->npos != 1)
		return cli_usage("usage: carewatch backup --db PATH FILE");
	const char *out = c->pos[0];
	if (db_is_pg_uri(cfg.db))
		return cli_fail("PostgreSQL databases are backed up with pg_dump or pg_basebackup (see docs/deploy.md)");
	if (access(out, F_OK) == 0)
		return cli_fail("%s exists; choose a new file name", out);
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	/* VACUUM INTO reads one consistent snapshot while the server keeps writing */
	int64_t n = db_run(d, "VACUUM INTO $1", "t", out);
	int rc = 0;
	if (n < 0)
		rc = cli_fail("backup failed: %s", d->err);
	else {
		chmod(out, 0600);
		printf("backup written: %s\n", out);
	}
	db_close(d);
	return rc;
}

int cmd_audit_verify(struct cli *c)
{
	int64_t rows = 0, bad = 0;
	char msg[300] = "";
	(void)c;
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	int rc = db_begin(d, 0);
	if (rc == 0)
		rc = audit_verify(d, &rows, &bad, msg, sizeof msg);
	db_rollback(d);
	db_close(d);
	if (rc == 0) {
		printf("audit chain intact: %lld rows verified\n", (long long)rows);
		return 0;
	}
	if (rc == 1) {
		printf("audit chain BROKEN at row %lld: %s\n", (long long)bad, msg);
		return 1;
	}
	return cli_fail("cannot read the audit log (%d)", rc);
}
