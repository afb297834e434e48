/* cli_data.c — import institutions FILE, export institutions. */
#include "cli.h"
#include "need.h"
#include "clock.h"
#include "db.h"
#include "dashboard.h"
#include "institution_io.h"
#include "report.h"
#include "report_import.h"
#include "template.h"
#include "scope.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Reads a whole file into b. 0 or -1 after printing why. */
static int slurp(const char *path, struct buf *b)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	if (!f)
		return cli_fail("cannot open %s: %s", path, strerror(errno)), -1;
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(b, chunk, n);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return cli_fail("cannot read %s", path), -1;
	return 0;
}

/* Writes b to the file out. 0, or -1 after printing why. */
static int spill(const char *out, const struct buf *b)
{
	FILE *f = fopen(out, "wb");
	int ok = f && fwrite(b->data ? b->data : "", 1, b->len, f) == b->len;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok)
		return cli_fail("cannot write %s: %s", out, strerror(errno)), -1;
	return 0;
}

/* Prints an import's per-row problems, one line each. */
void cli_print_problems(json_t *problems, json_t *ignored)
{
	size_t i;
	json_t *p;
	json_array_foreach(problems, i, p)
	{
		printf("line %lld: %s: %s (%s)\n", (long long)json_integer_value(json_object_get(p, "line")),
		       json_string_value(json_object_get(p, "field")), json_string_value(json_object_get(p, "message")),
		       json_string_value(json_object_get(p, "code")));
	}
	json_array_foreach(ignored, i, p)
		printf("ignored column: %s\n", json_string_value(p));
}

int cmd_import_institutions(struct cli *c)
{
	struct buf data = {0};
	struct inst_import_result res;
	struct cw_err e;
	int rc = 1;
	if (c->npos != 1)
		return cli_usage("usage: carewatch import institutions --db PATH FILE [--skip-invalid] [--dry-run]");
	if (slurp(c->pos[0], &data) != 0)
		return 1;
	db *d = cli_open_db(0);
	if (!d) {
		buf_free(&data);
		return 1;
	}
	if (inst_import_csv(d, NULL, clock_now(), data.data ? data.data : "", data.len, cli_flag(c, "skip-invalid"),
	                    cli_flag(c, "dry-run"), &res, &e) != 0) {
		cli_fail("%s: %s (%s)", c->pos[0], e.msg, e.code);
		goto cleanup;
	}
	cli_print_problems(res.problems, res.ignored);
	printf("%s: %d rows (%s), %d valid, %d rejected; ", c->pos[0], res.rows, res.encoding, res.imported,
	       res.rejected);
	if (res.committed) {
		printf("%d imported\n", res.imported);
		rc = 0;
	} else if (cli_flag(c, "dry-run")) {
		printf("dry run: nothing stored\n");
		rc = res.rejected ? 1 : 0;
	} else
		printf("nothing imported (fix the rows above, or use --skip-invalid)\n");
cleanup:
	json_decref(res.problems);
	json_decref(res.ignored);
	db_close(d);
	buf_free(&data);
	return rc;
}

int cmd_export_institutions(struct cli *c)
{
	const char *fmt = cli_opt(c, "format"), *out = cli_opt(c, "out"), *scope = cli_opt(c, "scope");
	struct buf b = {0};
	struct cw_err e;
	int64_t n = 0;
	int rc = 1;
	if (!fmt || !out || (strcmp(fmt, "csv") && strcmp(fmt, "xlsx")))
		return cli_usage("usage: carewatch export institutions --db PATH --format csv|xlsx --out FILE [--scope CODE]");
	if (!scope)
		scope = "";
	if (!code_shape_ok(scope))
		return cli_usage("--scope must be a division code (2, 4, 6 or 9 digits)");
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	if (inst_export(d, NULL, scope, !strcmp(fmt, "xlsx"), &b, &n, &e) != 0) {
		cli_fail("export failed: %s", e.msg);
		goto cleanup;
	}
	if (spill(out, &b) != 0)
		goto cleanup;
	printf("%lld institutions written to %s\n", (long long)n, out);
	rc = 0;
cleanup:
	db_close(d);
	buf_free(&b);
	return rc;
}

int cmd_export_dispatch(struct cli *c)
{
	const char *fmt = cli_opt(c, "format"), *out = cli_opt(c, "out"), *scope = cli_opt(c, "scope");
	const char *tcode = cli_opt(c, "template"), *period = cli_opt(c, "period");
	struct buf b = {0};
	struct cw_err e;
	char err[600];
	int rc = 1;
	const char *kind = c->command + strlen("export ");
	if (c->npos != 0 || !fmt || !out || !tcode || !period || (strcmp(fmt, "csv") && strcmp(fmt, "xlsx")))
		return cli_usage("usage: carewatch export rollup|missing|reports --db PATH --template CODE --period YYYY-MM-DD "
		                 "--format csv|xlsx --out FILE [--scope CODE]");
	if (!scope)
		scope = "";
	if (!code_shape_ok(scope) || strlen(scope) > 6)
		return cli_usage("--scope must be a division code of a county or above");
	if (template_load(err, sizeof err) != 0)
		return cli_fail("template refused: %s", err);
	const struct template *t = template_find(tcode);
	if (!t)
		return cli_fail("unknown template %s", tcode);
	if (report_period_ok(t, period) != 0)
		return cli_fail("bad period %s", period);
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	if (dispatch_export(d, NULL, kind, t, period, scope, !strcmp(fmt, "xlsx"), &b, &e) != 0) {
		cli_fail("export failed: %s (%s)", e.msg, e.code);
		goto cleanup;
	}
	if (spill(out, &b) != 0)
		goto cleanup;
	printf("%s written to %s\n", kind, out);
	rc = 0;
cleanup:
	db_close(d);
	buf_free(&b);
	return rc;
}

int cmd_export_needs(struct cli *c)
{
	const char *fmt = cli_opt(c, "format"), *out = cli_opt(c, "out"), *scope = cli_opt(c, "scope");
	struct buf b = {0};
	struct cw_err e;
	int64_t n = 0;
	int rc = 1;
	if (c->npos != 0 || !fmt || !out || (strcmp(fmt, "csv") && strcmp(fmt, "xlsx")))
		return cli_usage("usage: carewatch export needs --db PATH --format csv|xlsx --out FILE [--scope CODE] [--detail]");
	if (!scope)
		scope = "";
	if (!code_shape_ok(scope))
		return cli_usage("--scope must be a division code (2, 4, 6 or 9 digits)");
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	if (need_export(d, NULL, scope, !strcmp(fmt, "xlsx"), cli_flag(c, "detail"), &b, &n, &e) != 0) {
		cli_fail("export failed: %s (%s)", e.msg, e.code);
		goto cleanup;
	}
	if (spill(out, &b) != 0)
		goto cleanup;
	printf("needs list: %lld rows written to %s\n", (long long)n, out);
	rc = 0;
cleanup:
	db_close(d);
	buf_free(&b);
	return rc;
}

int cmd_import_reports(struct cli *c)
{
	struct buf data = {0};
	struct report_import_result res;
	struct cw_err e;
	char err[600];
	int rc = 1;
	const char *tcode = cli_opt(c, "template");
	if (c->npos != 1 || !tcode)
		return cli_usage("usage: carewatch import reports --db PATH --template CODE FILE [--skip-invalid]");
	if (template_load(err, sizeof err) != 0)
		return cli_fail("template refused: %s", err);
	const struct template *t = template_find(tcode);
	if (!t)
		return cli_fail("unknown template %s", tcode);
	if (slurp(c->pos[0], &data) != 0)
		return 1;
	db *d = cli_open_db(0);
	if (!d) {
		buf_free(&data);
		return 1;
	}
	if (template_publish(d, err, sizeof err) != 0) {
		cli_fail("%s", err);
		goto done;
	}
	struct user cli_user = {.role = ROLE_OFFICIAL, .scope = "", .caps = role_caps(ROLE_OFFICIAL)};
	cw_strlcpy(cli_user.login, "cli", sizeof cli_user.login);
	if (report_import_csv(d, &cli_user, clock_now(), t, data.data ? data.data : "", data.len, cli_flag(c, "skip-invalid"),
	                      &res, &e) != 0) {
		cli_fail("%s: %s (%s)", c->pos[0], e.msg, e.code);
		json_decref(res.problems);
		goto done;
	}
	cli_print_problems(res.problems, NULL);
	printf("%s: %d rows (%s), %d valid, %d rejected, %d warnings accepted; ", c->pos[0], res.rows, res.encoding,
	       res.valid, res.rejected, res.warnings);
	if (res.committed) {
		printf("%d imported\n", res.valid);
		rc = 0;
	} else
		printf("nothing imported (fix the rows above, or use --skip-invalid)\n");
	json_decref(res.problems);
done:
	db_close(d);
	buf_free(&data);
	return rc;
}
