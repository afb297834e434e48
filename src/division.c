/* division.c — division lookups and the /api/v1/divisions handlers. */
#include "division.h"
#include "buf.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "scope.h"
#include <string.h>

static const char *const level_labels[] = {"全国", "省级", "地级", "县级", "乡级"};

int division_exists(db *d, const char *code, int *level)
{
	int64_t l = 0;
	int rc = db_query_int64(d, &l, "SELECT level FROM divisions WHERE code = $1", "t", code);
	if (rc == DB_ROW && level)
		*level = (int)l;
	return rc;
}

/* Appends the names of code's ancestors and itself, space-separated. */
static int path_names(db *d, const char *code, struct buf *out, json_t *path)
{
	static const size_t lens[] = {2, 4, 6, 9};
	size_t n = strlen(code);
	db_stmt *st = db_prepare(d, "SELECT name, level FROM divisions WHERE code = $1");
	if (!st)
		return DB_ERROR;
	for (int i = 0; i < 4 && lens[i] <= n; i++) {
		char c[SCOPE_MAX];
		memcpy(c, code, lens[i]);
		c[lens[i]] = 0;
		db_bindf(st, "t", c);
		int rc = db_step(st);
		if (rc == DB_ROW) {
			const char *name = db_column_text(st, 0);
			/* "市辖区" / "县" placeholders of municipalities add nothing to a path */
			int filler = !strcmp(name, "市辖区") || !strcmp(name, "县") || !strcmp(name, "省直辖县级行政区划") ||
			             !strcmp(name, "自治区直辖县级行政区划");
			if (out && !filler)
				buf_printf(out, "%s%s", out->len ? " " : "", name);
			if (path)
				json_array_append_new(path, json_pack("{s:s,s:s,s:i}", "code", c, "name", name, "level",
				                                      (int)db_column_int64(st, 1)));
		}
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc;
	}
	return 0;
}

char *division_full_name(db *d, const char *code)
{
	struct buf b = {0};
	if (path_names(d, code, &b, NULL) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static json_t *div_json(db_stmt *st)
{
	int level = (int)db_column_int64(st, 2);
	return json_pack("{s:s,s:s,s:i,s:s,s:s}", "code", db_column_text(st, 0), "name", db_column_text(st, 1), "level",
	                 level, "level_label", level_labels[level >= 0 && level <= 4 ? level : 0], "parent",
	                 db_column_text(st, 3));
}

static int search(struct req *r, const char *q)
{
	struct buf pat = {0};
	buf_putc(&pat, '%');
	for (const char *p = q; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&pat, '\\');
		buf_putc(&pat, *p);
	}
	buf_putc(&pat, '%');
	db_stmt *st = db_prepare(r->db, "SELECT code, name, level, parent FROM divisions WHERE name LIKE $1 ESCAPE '\\' "
	                                "ORDER BY level, code LIMIT 50");
	json_t *items = json_array();
	int rc = st ? db_bindf(st, "t", buf_str(&pat)) : DB_ERROR;
	buf_free(&pat);
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, div_json(st));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		char *full = division_full_name(r->db, json_string_value(json_object_get(it, "code")));
		json_object_set_new(it, "full_name", json_string(full ? full : ""));
		free(full);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}

int h_divisions_list(struct req *r)
{
	const char *q = req_query(r, "q");
	const char *parent = req_query(r, "parent");
	if (q && *q) {
		if (utf8_chars(q) > 32)
			return reply_error(r, 400, "invalid_query", "搜索词过长", "q");
		return search(r, q);
	}
	if (!parent)
		parent = "";
	if (!code_shape_ok(parent) || code_level(parent) == 4)
		return reply_error(r, 400, "invalid_division", "上级行政区划代码格式错误（应为 2、4 或 6 位数字，省级为空）",
		                   "parent");
	db_stmt *st = db_prepare(r->db, "SELECT code, name, level, parent FROM divisions WHERE parent = $1 ORDER BY code");
	json_t *items = json_array();
	int rc = st ? db_bindf(st, "t", parent) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		json_array_append_new(items, div_json(st));
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	if (*parent && json_array_size(items) == 0 && division_exists(r->db, parent, NULL) != DB_ROW) {
		json_decref(items);
		return reply_error(r, 404, "unknown_division", "行政区划代码不存在", "parent");
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)json_array_size(items)));
}

int h_division_get(struct req *r)
{
	const char *code = req_param(r, 0);
	if (!code_shape_ok(code) || !*code)
		return reply_error(r, 404, "unknown_division", "行政区划代码不存在", NULL);
	db_stmt *st = db_prepare(r->db, "SELECT code, name, level, parent FROM divisions WHERE code = $1");
	json_t *j = NULL;
	int rc = st ? db_bindf(st, "t", code) : DB_ERROR;
	if (rc == 0 && (rc = db_step(st)) == DB_ROW)
		j = div_json(st);
	db_reset(st);
	if (rc == DB_DONE)
		return reply_error(r, 404, "unknown_division", "行政区划代码不存在", NULL);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	json_t *path = json_array();
	struct buf full = {0};
	rc = path_names(r->db, code, &full, path);
	json_object_set_new(j, "path", path);
	json_object_set_new(j, "full_name", json_string(buf_str(&full)));
	buf_free(&full);
	int64_t nchild = 0;
	if (rc == 0)
		rc = db_query_int64(r->db, &nchild, "SELECT COUNT(*) FROM divisions WHERE parent = $1", "t", code) == DB_ROW
		         ? 0
		         : DB_ERROR;
	json_object_set_new(j, "children", json_integer(nchild));
	if (rc != 0) {
		json_decref(j);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, j);
}
