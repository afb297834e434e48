/* audit_api.c — GET /api/v1/audit: audit rows about objects in scope. */
#include "audit.h"
#include "handlers.h"
#include "http.h"
#include "jspec.h"
#include "scope.h"

int h_audit_list(struct req *r)
{
	char div[SCOPE_MAX], lo[SCOPE_MAX], hi[SCOPE_MAX];
	long limit, offset;
	int64_t total = 0;
	if (req_division_or_reply(r, "division", div) != 0 || req_paging_or_reply(r, 50, 500, &limit, &offset) != 0)
		return 0;
	const char *otype = req_query(r, "object_type"), *oid = req_query(r, "object_id");
	if (!otype)
		otype = "";
	if (!oid)
		oid = "";
	scope_range(div, lo, hi);
	/* national scope also sees rows with no division (logins, tokens) */
	if (!*div)
		lo[0] = 0;
#define AUDIT_WHERE                                                                                               \
	" FROM audit WHERE division_code >= $1 AND division_code < $2 AND ($3 = '' OR object_type = $3) "          \
	"AND ($4 = '' OR object_id = $4) "
	int rc = db_query_int64(r->db, &total, "SELECT COUNT(*)" AUDIT_WHERE, "tttt", lo, hi, otype, oid);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	db_stmt *st = db_prepare(r->db, "SELECT seq, ts, actor, action, object_type, object_id, division_code, "
	                                "COALESCE(before_json, ''), COALESCE(after_json, ''), hash" AUDIT_WHERE
	                                "ORDER BY seq DESC LIMIT $5 OFFSET $6");
	json_t *items = json_array();
	rc = st ? db_bindf(st, "ttttII", lo, hi, otype, oid, (int64_t)limit, (int64_t)offset) : DB_ERROR;
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_t *b = json_loads(db_column_text(st, 7), 0, NULL), *a = json_loads(db_column_text(st, 8), 0, NULL);
		json_array_append_new(items,
		                      json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s}", "seq",
		                                (json_int_t)db_column_int64(st, 0), "ts", (json_int_t)db_column_int64(st, 1),
		                                "actor", db_column_text(st, 2), "action", db_column_text(st, 3),
		                                "object_type", db_column_text(st, 4), "object_id", db_column_text(st, 5),
		                                "division_code", db_column_text(st, 6), "before", b ? b : json_null(),
		                                "after", a ? a : json_null(), "hash", db_column_text(st, 9)));
	}
	db_reset(st);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)total));
}
