/* health.c — /healthz, /metrics and the OpenAPI document. */
#include "assets.h"
#include "handlers.h"
#include "http.h"
#include "metrics.h"

int h_healthz(struct req *r)
{
	int64_t one = 0;
	int rc = db_query_int64(r->db, &one, "SELECT 1", "");
	if (rc != DB_ROW)
		return reply_error(r, 503, "db_unavailable", "数据库暂时不可用", NULL);
	return reply_json(r, 200, json_pack("{s:s,s:s}", "status", "ok", "database", r->db->ops->name));
}

int h_metrics(struct req *r)
{
	struct buf b = {0};
	metrics_render(&b);
	reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
	buf_free(&b);
	return 0;
}

int h_openapi(struct req *r)
{
	const struct asset *a = asset_find("docs/openapi.json");
	if (!a)
		return reply_not_found(r);
	return reply_raw(r, 200, "application/json; charset=utf-8", a->data, a->len);
}
