/* person_io.c — CSV import of the people registry and its CSV/xlsx export. */
#include "person_io.h"
#include "audit.h"
#include "import_rows.h"
#include "clock.h"
#include "csv.h"
#include "handlers.h"
#include "http.h"
#include "person_bulk.h"
#include "pii.h"
#include "scope.h"
#include "table.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct col {
	const char *field, *zh;
	const char *aliases[4];
	const struct enum_val *values;
} cols[] = {
    {"name", "姓名", {"name", NULL}, NULL},
    {"citizen_id", "公民身份号码", {"身份证号", "身份证号码", "citizen_id", NULL}, NULL},
    {"categories", "对象类别", {"类别", "categories", NULL}, NULL},
    {"division_code", "行政区划代码", {"乡镇代码", "区划代码", "division_code", NULL}, NULL},
    {"address", "住址", {"地址", "address", NULL}, NULL},
    {"phone", "联系电话", {"电话", "phone", NULL}, NULL},
    {"guardian", "监护人或联系人", {"监护人", "联系人", "guardian", NULL}, NULL},
    {"chronic_disease", "慢性病情况", {"慢性病", "chronic_disease", NULL}, person_chronic},
    {"vaccination", "疫苗接种情况", {"疫苗接种", "vaccination", NULL}, person_vaccination},
    {"situation", "生活状况", {"居住状况", "situation", NULL}, person_situations},
    {"worker_id", "责任人编号", {"worker_id", NULL}, NULL},
};
#define NCOLS (sizeof cols / sizeof cols[0])

static int col_of(const char *header)
{
	for (size_t i = 0; i < NCOLS; i++) {
		if (!strcmp(cols[i].zh, header))
			return (int)i;
		for (int k = 0; k < 4 && cols[i].aliases[k]; k++)
			if (!strcmp(cols[i].aliases[k], header))
				return (int)i;
	}
	return -1;
}

/* Splits a categories cell on 、 , ， ; ； | and spaces; each token goes to
 * tok(token, code or NULL when not a category, arg). */
static void categories_split(const char *v, void (*tok)(const char *t, const char *code, void *arg), void *arg)
{
	char t[64];
	const char *p = v;
	while (*p) {
		size_t skip = 0;
		if (*p == ',' || *p == ';' || *p == '|' || *p == ' ')
			skip = 1;
		else if (!strncmp(p, "、", 3) || !strncmp(p, "，", 3) || !strncmp(p, "；", 3))
			skip = 3;
		if (skip) {
			p += skip;
			continue;
		}
		size_t n = 0;
		while (p[n] && p[n] != ',' && p[n] != ';' && p[n] != '|' && p[n] != ' ' && strncmp(p + n, "、", 3) &&
		       strncmp(p + n, "，", 3) && strncmp(p + n, "；", 3))
			n++;
		snprintf(t, sizeof t, "%.*s", (int)(n < sizeof t ? n : sizeof t - 1), p);
		tok(t, enum_parse(person_categories, t), arg);
		p += n;
	}
}

struct cats_json {
	json_t *a;
	int bad;
};

static void cat_json(const char *t, const char *code, void *arg)
{
	struct cats_json *c = arg;
	if (!code)
		c->bad = 1;
	json_array_append_new(c->a, json_string(code ? code : t));
}

/* The cell as a JSON array of codes (a token that is none stays as it is, *bad set). */
static json_t *categories_cell(const char *v, int *bad)
{
	struct cats_json c = {json_array(), 0};
	categories_split(v, cat_json, &c);
	if (c.bad)
		*bad = 1;
	return c.a;
}

/* The cell as stored (",a,b,"), for the fast path: clean only when every
 * token is a category, 1 to 9 of them, none twice. */
struct cats_text {
	const char *codes[10];
	int n, bad;
};

static void cat_text(const char *t, const char *code, void *arg)
{
	struct cats_text *c = arg;
	(void)t;
	if (!code || c->n == 9) {
		c->bad = 1;
		return;
	}
	for (int i = 0; i < c->n; i++)
		if (c->codes[i] == code)
			c->bad = 1;
	c->codes[c->n++] = code;
}

static int categories_clean(const char *v, char *out, size_t outlen)
{
	struct cats_text c = {{0}, 0, 0};
	categories_split(v, cat_text, &c);
	if (c.bad || !c.n)
		return -1;
	size_t len = 0;
	out[len++] = ',';
	for (int i = 0; i < c.n; i++) {
		size_t k = strlen(c.codes[i]);
		if (len + k + 2 > outlen)
			return -1;
		memcpy(out + len, c.codes[i], k);
		len += k;
		out[len++] = ',';
	}
	out[len] = 0;
	return 0;
}

static json_t *row_object(const struct csv_table *t, size_t row, const int *map, json_t *problems, int *bad)
{
	json_t *o = json_object();
	long line = csv_row_line(t, row);
	for (size_t c = 0; c < csv_row_cols(t, row); c++) {
		int k = c < csv_row_cols(t, 0) ? map[c] : -1;
		const char *v = csv_cell(t, row, c);
		if (k < 0 || !*v)
			continue;
		if (!strcmp(cols[k].field, "worker_id")) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (*end || n <= 0) {
				import_problem(problems, line, "worker_id", "invalid_type", "责任人编号必须是正整数");
				*bad = 1;
			} else
				json_object_set_new(o, "worker_id", json_integer(n));
		} else if (!strcmp(cols[k].field, "categories")) {
			int cbad = 0;
			json_object_set_new(o, "categories", categories_cell(v, &cbad));
			if (cbad) {
				import_problem(problems, line, "categories", "invalid_category", "对象类别无效（应为孤寡老人、留守儿童等）");
				*bad = 1;
			}
		} else if (cols[k].values) {
			const char *code = enum_parse(cols[k].values, v);
			json_object_set_new(o, cols[k].field, json_string(code ? code : v));
		} else
			json_object_set_new(o, cols[k].field, json_string(v));
	}
	return o;
}

struct import_ctx {
	const struct user *u;
	int64_t now;
	const struct csv_table *t;
	const int *map;
	int skip_invalid, dry_run;
	struct person_import_result *res;
	struct person_bulk *bulk;
	json_t *towns;       /* townships found real in this import */
	int today;           /* YYYYMMDD, local */
	struct cid_info ci;  /* of the row just checked, for its insert */
	const size_t *order; /* the rows by township (township_order) */
	long long maxlen[NCOLS]; /* person_spec's length limit of a text column, else 0 */
};

/* Rows are written only when they will be kept: not in a dry run, and not
 * once a row was refused without skip_invalid (all is rolled back then). */
static int storing(const struct import_ctx *c)
{
	return !c->dry_run && !(json_array_size(c->res->problems) && !c->skip_invalid);
}

static json_t *person_row(void *ctx, size_t row, json_t *problems, int *bad)
{
	struct import_ctx *c = ctx;
	return row_object(c->t, row, c->map, problems, bad);
}

static int person_row_check(db *d, void *ctx, json_t *o, json_t *errs)
{
	struct import_ctx *c = ctx;
	return person_check(d, c->u, o, c->today, errs, &c->ci, c->towns);
}

static int person_row_insert(db *d, void *ctx, json_t *o)
{
	struct import_ctx *c = ctx;
	struct person_in in;
	struct buf cats = {0};
	(void)d;
	if (!storing(c))
		return 0;
	person_in_json(o, &c->ci, &cats, &in);
	int rc = person_bulk_add(c->bulk, &in);
	buf_free(&cats);
	return rc;
}

/* The JSON way's rules read straight from the cells (row_object, jspec_check
 * with person_spec, person_check): 1 when the row passes all of them and is
 * queued, 0 when any does not hold — row_object and the rest then run and
 * report exactly what is wrong. */
static int person_fast(db *d, void *ctx, size_t row)
{
	struct import_ctx *c = ctx;
	const char *v[NCOLS] = {0};
	char cats[320];
	const char *code, *msg;
	size_t hdr = csv_row_cols(c->t, 0);
	for (size_t k = 0; k < csv_row_cols(c->t, row) && k < hdr; k++) {
		const char *cell = csv_cell(c->t, row, k);
		if (c->map[k] >= 0 && *cell)
			v[c->map[k]] = cell; /* the last non-empty cell of a column wins, as in row_object */
	}
	struct person_in in = {v[0], NULL, v[3], v[4], v[5], v[6], NULL, NULL, NULL, 0, 1, {{0}, {0}, 0}};
	if (!v[0] || !v[1] || !v[2] || !v[3])
		return 0;
	for (size_t k = 0; k < NCOLS; k++)
		if (v[k] && c->maxlen[k] && (long long)utf8_chars(v[k]) > c->maxlen[k])
			return 0;
	if (categories_clean(v[2], cats, sizeof cats) != 0)
		return 0;
	in.categories = cats;
	if ((v[7] && !(in.chronic = enum_parse(person_chronic, v[7]))) ||
	    (v[8] && !(in.vaccination = enum_parse(person_vaccination, v[8]))) ||
	    (v[9] && !(in.situation = enum_parse(person_situations, v[9]))))
		return 0;
	if (cid_check(v[1], c->today, &in.ci, &code, &msg) != 0 || (v[5] && !person_phone_ok(v[5])))
		return 0;
	int rc = person_division_check(d, c->u, v[3], c->towns, &code, &msg);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (v[10]) {
		char *end;
		long long w = strtoll(v[10], &end, 10);
		if (*end || w <= 0 || w > 1LL << 62)
			return 0;
		if ((rc = person_worker_check(d, w, v[3])) != 0)
			return rc < 0 ? rc : 0;
		in.worker = w;
		in.worker_default = 0;
	}
	if (!storing(c))
		return 1;
	rc = person_bulk_add(c->bulk, &in);
	return rc < 0 ? rc : 1;
}

/* Files at least this long learn every township of the user's scope in one
 * query instead of asking about each new one as it comes (on PostgreSQL each
 * question is a round trip). */
#define TOWNS_AT_ONCE 2000

static int towns_load(db *d, const struct user *u, json_t *towns)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	scope_range(u ? u->scope : "", lo, hi);
	db_stmt *st = db_prepare(d, "SELECT code FROM divisions WHERE code >= $1 AND code < $2 AND level = 4");
	if (!st)
		return DB_ERROR;
	int rc = db_bindf(st, "tt", lo, hi);
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_object_set_new(towns, db_column_text(st, 0), json_true());
	db_reset(st);
	return rc == DB_DONE ? 0 : rc;
}

struct keyed_row {
	const char *town;
	size_t row;
};

static int by_town(const void *a, const void *b)
{
	const struct keyed_row *x = a, *y = b;
	int c = strcmp(x->town, y->town);
	return c ? c : x->row < y->row ? -1 : x->row > y->row;
}

/* The data rows ordered by their township cell, file order within one
 * township (the caller frees). People are written in this order, so a
 * county's new people get consecutive ids township by township: lists,
 * ordered by county and then id (PERSON_ORDER), show an import's people
 * grouped by township, in the file's order within one. (Each county's new
 * entries go to the end of its range of persons_county in any order.) */
static size_t *township_order(const struct csv_table *t, const int *map)
{
	size_t col = (size_t)-1, n = t->nrows ? t->nrows - 1 : 0;
	for (size_t c = 0; c < csv_row_cols(t, 0); c++)
		if (map[c] == 3)
			col = c;
	struct keyed_row *k = xcalloc(n + 1, sizeof *k);
	for (size_t i = 0; i < n; i++) {
		k[i].row = i + 1;
		k[i].town = col < csv_row_cols(t, i + 1) ? csv_cell(t, i + 1, col) : "";
	}
	qsort(k, n, sizeof *k, by_town);
	size_t *order = xcalloc(n + 1, sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = k[i].row;
	free(k);
	return order;
}

static int import_txn(db *d, void *vc)
{
	struct import_ctx *c = vc;
	struct person_import_result *res = c->res;
	c->today = clock_local_ymd(c->now);
	if (c->t->nrows > TOWNS_AT_ONCE && !json_object_size(c->towns)) {
		int rc = towns_load(d, c->u, c->towns);
		if (rc != 0)
			return rc;
	}
	person_bulk_free(c->bulk); /* a retried transaction starts over */
	c->bulk = person_bulk_new(d, c->u, c->now);
	struct import_rows ir = {c->t, person_spec, 0, person_row, person_row_check, person_row_insert, c, res->problems,
	                         0, 0, person_fast, c->order};
	int rows_rc = import_rows_run(d, &ir);
	res->imported = ir.imported;
	res->rejected = ir.rejected;
	if (rows_rc != 0)
		return rows_rc;
	if (c->dry_run || (res->rejected && !c->skip_invalid))
		return DB_APP;
	return person_bulk_finish(c->bulk);
}

int person_import_csv(db *d, const struct user *u, int64_t now, const char *data, size_t len, int skip_invalid,
                      int dry_run, struct person_import_result *res, struct cw_err *e)
{
	struct csv_table t;
	char err[300];
	int rc = -1;
	int *map = NULL;
	size_t *order = NULL;
	memset(res, 0, sizeof *res);
	memset(e, 0, sizeof *e);
	res->problems = json_array();
	res->ignored = json_array();
	if (!pii_ready()) {
		err_set(e, 503, "pii_key_unavailable", NULL, "个人信息密钥不可用，不能导入服务对象");
		return -1;
	}
	if (csv_parse(data, len, &t, err, sizeof err) != 0) {
		err_set(e, 422, "invalid_csv", NULL, "CSV 文件无法读取：%s", err);
		return -1;
	}
	cw_strlcpy(res->encoding, t.encoding, sizeof res->encoding);
	if (t.nrows == 0) {
		err_set(e, 422, "empty_file", NULL, "文件为空：第一行应为表头");
		goto cleanup;
	}
	int have = 0;
	map = xcalloc(csv_row_cols(&t, 0) + 1, sizeof *map);
	for (size_t c = 0; c < csv_row_cols(&t, 0); c++) {
		map[c] = col_of(csv_cell(&t, 0, c));
		if (map[c] < 0)
			json_array_append_new(res->ignored, json_string(csv_cell(&t, 0, c)));
		else if (map[c] <= 3)
			have |= 1 << map[c];
	}
	if (have != 15) {
		err_set(e, 422, "missing_columns", NULL, "表头缺少必需的列：姓名、公民身份号码、对象类别、行政区划代码");
		goto cleanup;
	}
	res->rows = (int)t.nrows - 1;
	order = township_order(&t, map);
	struct import_ctx c = {u, now, &t, map, skip_invalid, dry_run, res, NULL, json_object(), 0, {{0}, {0}, 0}, order, {0}};
	for (size_t k = 0; k < NCOLS; k++)
		for (const struct jfield *f = person_spec; f->name; f++)
			if (f->type == J_STR && !strcmp(f->name, cols[k].field))
				c.maxlen[k] = f->max ? f->max : 10000;
	/* one transaction holds every row; each row's division and worker are
	 * checked inside it (person_division_check, person_worker_check) */
	db_bulk_begin(d, 1);
	int r = db_txn(d, 1, import_txn, &c);
	db_bulk_end(d);
	person_bulk_free(c.bulk);
	json_decref(c.towns);
	if (r != 0 && r != DB_APP) {
		err_db(e, r);
		goto cleanup;
	}
	res->committed = r == 0;
	if (r == 0 && !dry_run && res->imported)
		db_refresh_stats(d, "persons");
	rc = 0;
cleanup:
	free(order);
	free(map);
	csv_free(&t);
	return rc;
}

int h_persons_import(struct req *r)
{
	struct person_import_result res;
	struct cw_err e;
	const char *skip = req_query(r, "skip_invalid"), *dry = req_query(r, "dry_run");
	int is_dry = dry && !strcmp(dry, "1");
	if (pii_ready_or_reply(r) != 0)
		return 0;
	if (!r->body.len)
		return reply_error(r, 400, "empty_file", "请上传 CSV 文件内容", NULL);
	if (person_import_csv(r->db, &r->user, r->now, r->body.data, r->body.len, skip && !strcmp(skip, "1"), is_dry, &res,
	                      &e) != 0) {
		json_decref(res.problems);
		json_decref(res.ignored);
		return reply_err(r, &e);
	}
	json_t *j = json_pack("{s:s,s:i,s:i,s:i,s:i,s:b,s:b,s:o,s:o}", "encoding", res.encoding, "rows", res.rows,
	                      "imported", res.committed ? res.imported : 0, "valid", res.imported, "rejected", res.rejected,
	                      "dry_run", is_dry, "committed", res.committed, "problems", res.problems, "ignored_columns",
	                      res.ignored);
	int status = (res.rejected && !res.committed && !is_dry) ? 422 : 200;
	if (status == 422)
		json_object_set_new(j, "error", json_pack("{s:s,s:s}", "code", "invalid_rows", "message",
		                                          "文件中有无效行，未导入任何数据（可选择跳过无效行）"));
	return reply_json(r, status, j);
}

/* ---------- export ---------- */

int person_export(db *d, const struct person_filter *f, int unmask, int xlsx, struct buf *out, int64_t *count,
                  struct cw_err *e)
{
	struct table tab;
	int rc;
	*count = 0;
	db_stmt *st = db_prepare(d, f->cid_hash[0] ? "SELECT " PERSON_COLS PERSON_FROM PERSON_WHERE(PERSON_BY_CID)
	                                             "ORDER BY " PERSON_ORDER("p")
	                                           : "SELECT " PERSON_COLS PERSON_FROM PERSON_WHERE(PERSON_ANY_CID)
	                                             "ORDER BY " PERSON_ORDER("p"));
	if (!st) {
		err_db(e, DB_ERROR);
		return -1;
	}
	if (table_begin(&tab, xlsx, "服务对象", out) != 0) {
		err_set(e, 500, "export_failed", NULL, "生成 Excel 文件失败");
		return -1;
	}
	static const char *const heads[] = {"编号", "姓名", "对象类别", "公民身份号码", "性别", "出生日期", "行政区划代码",
	                                    "所在区划", "住址", "联系电话", "监护人或联系人", "责任人", "生活状况",
	                                    "慢性病情况", "疫苗接种情况", "风险等级", "风险原因", "登记日期", "最近走访",
	                                    "下次走访"};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		table_header(&tab, heads[i]);
	table_end_row(&tab);
	person_where_bind(st, f);
	while ((rc = db_step(st)) == DB_ROW) {
		json_t *p = person_json(st, unmask);
		struct buf cats = {0}, why = {0};
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(p, "category_labels"), i, v)
			buf_printf(&cats, "%s%s", i ? "、" : "", json_string_value(v));
		json_array_foreach(json_object_get(p, "risk_reasons"), i, v)
			buf_printf(&why, "%s%s", i ? "；" : "", json_string_value(json_object_get(v, "message")));
		table_num(&tab, (double)json_integer_value(json_object_get(p, "id")));
		table_text(&tab, jstr(p, "name"));
		table_text(&tab, buf_str(&cats));
		table_text(&tab, jstr(p, "citizen_id"));
		table_text(&tab, !strcmp(jstr(p, "sex"), "M") ? "男" : "女");
		table_text(&tab, jstr(p, "birth_date"));
		table_text(&tab, jstr(p, "division_code"));
		table_text(&tab, jstr(p, "division_name"));
		table_text(&tab, jstr(p, "address"));
		table_text(&tab, jstr(p, "phone"));
		table_text(&tab, jstr(p, "guardian"));
		table_text(&tab, jstr(p, "worker_name"));
		table_text(&tab, jstr(p, "situation_label"));
		table_text(&tab, enum_label(person_chronic, jstr(p, "chronic_disease")));
		table_text(&tab, enum_label(person_vaccination, jstr(p, "vaccination")));
		table_text(&tab, jstr(p, "risk_label"));
		table_text(&tab, buf_str(&why));
		table_text(&tab, jstr(p, "registered"));
		table_text(&tab, jstr(p, "last_visit") ? jstr(p, "last_visit") : "");
		table_text(&tab, jstr(p, "next_due") ? jstr(p, "next_due") : "");
		table_end_row(&tab);
		buf_free(&cats);
		buf_free(&why);
		json_decref(p);
		(*count)++;
	}
	db_reset(st);
	if (rc != DB_DONE) {
		err_db(e, rc);
		table_abort(&tab);
		return -1;
	}
	return table_finish(&tab, e);
}

int h_persons_export(struct req *r)
{
	struct person_filter f;
	struct cw_err e;
	struct buf out = {0};
	int64_t n = 0;
	const char *fmt = req_query(r, "format");
	if (!fmt)
		fmt = "csv";
	if (strcmp(fmt, "csv") && strcmp(fmt, "xlsx"))
		return reply_error(r, 400, "invalid_query", "format 只能是 csv 或 xlsx", "format");
	if (pii_ready_or_reply(r) != 0 || person_filters_or_reply(r, &f) != 0)
		return 0;
	int xlsx = !strcmp(fmt, "xlsx"), unmask = person_unmask_wanted(r);
	memset(&e, 0, sizeof e);
	if (person_export(r->db, &f, unmask, xlsx, &out, &n, &e) != 0) {
		buf_free(&out);
		return reply_err(r, &e);
	}
	/* every export of personal data is audited, before it leaves */
	json_t *after = json_pack("{s:s,s:I,s:b,s:s}", "format", fmt, "count", (json_int_t)n, "unmasked", unmask,
	                          "division", f.division);
	int rc = person_audit_view(r, "person.export", "export", f.division, after);
	json_decref(after);
	if (rc != 0) {
		buf_free(&out);
		return reply_db_error(r, rc);
	}
	reply_file(r, xlsx, &out, xlsx ? "服务对象.xlsx" : "服务对象.csv");
	buf_free(&out);
	return 0;
}
