/* cli_persons.c — import persons FILE, export persons, export subsidies. */
#include "cli.h"
#include "audit.h"
#include "clock.h"
#include "db.h"
#include "person_io.h"
#include "pii.h"
#include "scope.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Opens the database with the personal-data key loaded; NULL after printing why. */
static db *open_with_key(void)
{
	char err[600];
	db *d = cli_open_db(0);
	if (!d)
		return NULL;
	int k = pii_open(d, err, sizeof err);
	if (k != 0) {
		if (k < 0)
			cli_fail("%s", err);
		else
			cli_fail("no personal-data key: set key_file (see 'carewatch help config')");
		db_close(d);
		return NULL;
	}
	return d;
}

static int read_file(const char *path, struct buf *b)
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
	return bad ? (cli_fail("cannot read %s", path), -1) : 0;
}

static int write_file(const char *out, const struct buf *b)
{
	FILE *f = fopen(out, "wb");
	int ok = f && fwrite(b->data ? b->data : "", 1, b->len, f) == b->len;
	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : (cli_fail("cannot write %s: %s", out, strerror(errno)), -1);
}

int cmd_import_persons(struct cli *c)
{
	struct buf data = {0};
	struct person_import_result res;
	struct cw_err e;
	int rc = 1;
	if (c->npos != 1)
		return cli_usage("usage: carewatch import persons --db PATH FILE [--skip-invalid] [--dry-run]");
	if (read_file(c->pos[0], &data) != 0)
		return 1;
	db *d = open_with_key();
	if (!d) {
		buf_free(&data);
		return 1;
	}
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	int64_t t0 = clock_mono_us();
	if (person_import_csv(d, NULL, clock_now(), data.data ? data.data : "", data.len, cli_flag(c, "skip-invalid"),
	                      cli_flag(c, "dry-run"), &res, &e) != 0) {
		cli_fail("%s: %s (%s)", c->pos[0], e.msg, e.code);
		goto cleanup;
	}
	double secs = (double)(clock_mono_us() - t0) / 1e6;
	getrusage(RUSAGE_SELF, &ru1);
	/* CPU time too: on a shared machine the wall clock measures the neighbours */
	double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	             (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
	cli_print_problems(res.problems, res.ignored);
	printf("%s: %d rows (%s), %d valid, %d rejected; ", c->pos[0], res.rows, res.encoding, res.imported, res.rejected);
	if (res.committed) {
		printf("%d imported in %.2f s (%.0f persons/s; %.2f s of CPU: %.0f persons per CPU second)\n", res.imported,
		       secs, secs > 0 ? res.imported / secs : 0.0, cpu, cpu > 0 ? res.imported / cpu : 0.0);
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

/* export persons|subsidies --format csv|xlsx --out FILE [--scope CODE] [--month YYYY-MM] [--unmasked] */
int cmd_export_persons(struct cli *c)
{
	const char *fmt = cli_opt(c, "format"), *out = cli_opt(c, "out"), *scope = cli_opt(c, "scope");
	const char *month = cli_opt(c, "month");
	int subsidies = !strcmp(c->command, "export subsidies");
	struct buf b = {0};
	struct cw_err e;
	int64_t n = 0;
	int rc = 1;
	memset(&e, 0, sizeof e);
	if (!fmt || !out || (strcmp(fmt, "csv") && strcmp(fmt, "xlsx")))
		return cli_usage("usage: carewatch %s --db PATH --format csv|xlsx --out FILE [--scope CODE]", c->command);
	if (!scope)
		scope = "";
	if (!code_shape_ok(scope))
		return cli_usage("--scope must be a division code (2, 4, 6 or 9 digits)");
	db *d = open_with_key();
	if (!d)
		return 1;
	struct person_filter f;
	memset(&f, 0, sizeof f);
	cw_strlcpy(f.division, scope, sizeof f.division);
	scope_range(scope, f.lo, f.hi);
	int xlsx = !strcmp(fmt, "xlsx"), unmask = cli_flag(c, "unmasked");
	int r = subsidies ? subsidy_export(d, f.lo, f.hi, month ? month : "", 0, clock_now(), xlsx, &b, &n, &e)
	                  : person_export(d, &f, unmask, xlsx, &b, &n, &e);
	if (r != 0) {
		cli_fail("export failed: %s", e.msg);
		goto cleanup;
	}
	/* a personal-data export is audited like one through the API */
	json_t *after = json_pack("{s:s,s:I,s:b,s:s,s:s}", "format", fmt, "count", (json_int_t)n, "unmasked", unmask,
	                          "division", scope, "file", out);
	int arc = db_begin(d, 1);
	if (arc == 0)
		arc = audit_write(d, NULL, clock_now(), subsidies ? "subsidy.export" : "person.export", "person", "export",
		                  scope, NULL, after);
	arc = arc == 0 ? db_commit(d) : (db_rollback(d), arc);
	json_decref(after);
	if (arc != 0) {
		cli_fail("cannot write the audit row; nothing exported");
		goto cleanup;
	}
	if (write_file(out, &b) != 0)
		goto cleanup;
	printf("%lld %s written to %s%s\n", (long long)n, subsidies ? "subsidy rows" : "persons", out,
	       unmask && !subsidies ? " (unmasked)" : "");
	rc = 0;
cleanup:
	db_close(d);
	buf_free(&b);
	return rc;
}
