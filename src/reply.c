/* reply.c — response and request helpers shared by all handlers. */
#include "http.h"
#include "clock.h"
#include "err.h"
#include "jspec.h"
#include "log.h"
#include "scope.h"
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

static void clear_response(struct req *r)
{
	json_decref(r->resp);
	r->resp = NULL;
	buf_reset(&r->out);
}

int reply_json(struct req *r, int status, json_t *body)
{
	clear_response(r);
	r->status = status;
	r->resp = body ? body : json_object();
	r->ctype = "application/json; charset=utf-8";
	return 0;
}

int reply_error_details(struct req *r, int status, const char *code, const char *message, const char *field,
                        json_t *details)
{
	json_t *e = json_pack("{s:s,s:s}", "code", code, "message", message);
	if (!e) { /* message not UTF-8: our bug */
		log_bug("reply_error: bad message for %s", code);
		e = json_pack("{s:s,s:s}", "code", code, "message", "错误");
	}
	if (field && *field)
		json_object_set_new(e, "field", json_string(field));
	if (details)
		json_object_set_new(e, "details", details);
	reply_json(r, status, json_pack("{s:o}", "error", e));
	r->err_code = json_string_value(json_object_get(e, "code"));
	return 0;
}

int reply_error(struct req *r, int status, const char *code, const char *message, const char *field)
{
	return reply_error_details(r, status, code, message, field, NULL);
}

int reply_db_error(struct req *r, int rc)
{
	const char *code, *msg;
	rc = db_error_of(r->db, rc);
	int status = db_error_http(rc, &code, &msg);
	if (rc == DB_UNAVAILABLE && r->db && r->db->fault == DB_FAULT_FULL) {
		code = "storage_full";
		msg = "服务器存储空间已满，本次数据未保存，请稍后重试并联系管理员";
	} else if (rc == DB_UNAVAILABLE && r->db && r->db->fault == DB_FAULT_READONLY) {
		code = "db_read_only";
		msg = "数据库当前只读，本次数据未保存，请稍后重试并联系管理员";
	}
	if (status == 500)
		log_bug("database error %d: %s", rc, r->db ? r->db->err : "");
	else
		log_msg(LOG_WARN, "database %s: %s", code, r->db ? r->db->err : "");
	if (status == 503)
		req_add_header(r, "Retry-After", "2");
	return reply_error(r, status, code, msg, NULL);
}

int reply_raw(struct req *r, int status, const char *ctype, const void *data, size_t len)
{
	clear_response(r);
	r->status = status;
	r->ctype = ctype;
	buf_append(&r->out, data, len);
	return 0;
}

void reply_attachment(struct req *r, const char *filename)
{
	/* RFC 6266 / 5987: an ASCII fallback plus the UTF-8 name percent-encoded */
	struct buf b = {0};
	buf_puts(&b, "attachment; filename=\"download\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)filename; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		    *p == '-' || *p == '_')
			buf_putc(&b, (char)*p);
		else
			buf_printf(&b, "%%%02X", *p);
	}
	free(r->disposition);
	r->disposition = buf_steal(&b);
}

int reply_file(struct req *r, int xlsx, const struct buf *data, const char *filename)
{
	reply_raw(r, 200,
	          xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv; charset=utf-8",
	          data->data ? data->data : "", data->len);
	reply_attachment(r, filename);
	return 0;
}

int reply_no_content(struct req *r)
{
	clear_response(r);
	r->status = 204;
	r->ctype = NULL;
	return 0;
}

void req_add_header(struct req *r, const char *name, const char *value)
{
	if (r->nhdr == REQ_MAX_HEADERS) {
		log_bug("too many response headers");
		return;
	}
	r->hdr_name[r->nhdr] = xstrdup(name);
	r->hdr_value[r->nhdr] = xstrdup(value);
	r->nhdr++;
}

int reply_not_found(struct req *r)
{
	return reply_error(r, 404, "not_found", "未找到该记录，或不在您的权限范围内", NULL);
}

int reply_forbidden(struct req *r)
{
	return reply_error(r, 403, "forbidden", "您没有执行此操作的权限", NULL);
}

const char *req_query(struct req *r, const char *name)
{
	if (!r->conn) {
		for (const char *const *q = r->qv; q && q[0]; q += 2)
			if (!strcmp(q[0], name))
				return q[1];
		return NULL;
	}
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_param(struct req *r, int i)
{
	return i >= 0 && i < r->nparams ? r->params[i] : "";
}

int req_param_id_or_reply(struct req *r, int i, int64_t *out)
{
	const char *s = req_param(r, i);
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v <= 0) {
		reply_not_found(r);
		return -1;
	}
	*out = v;
	return 0;
}

int req_query_long_or_reply(struct req *r, const char *name, long def, long lo, long hi, long *out)
{
	const char *s = req_query(r, name);
	if (!s || !*s) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno || v < lo || v > hi) {
		char msg[160];
		snprintf(msg, sizeof msg, "查询参数 %s 必须是 %ld 到 %ld 之间的整数", name, lo, hi);
		reply_error(r, 400, "invalid_query", msg, name);
		return -1;
	}
	*out = v;
	return 0;
}

int req_division_or_reply(struct req *r, const char *name, char *out)
{
	const char *s = req_query(r, name);
	if (!s || !*s) {
		cw_strlcpy(out, r->user.scope, SCOPE_MAX);
		return 0;
	}
	if (!code_shape_ok(s)) {
		reply_error(r, 400, "invalid_division", "行政区划代码格式错误（应为 2、4、6 或 9 位数字）", name);
		return -1;
	}
	if (!scope_contains(r->user.scope, s)) {
		reply_not_found(r);
		return -1;
	}
	cw_strlcpy(out, s, SCOPE_MAX);
	return 0;
}

int req_paging_or_reply(struct req *r, long def, long max, long *limit, long *offset)
{
	long page, per;
	if (req_query_long_or_reply(r, "page", 1, 1, 1000000, &page) != 0 ||
	    req_query_long_or_reply(r, "per_page", def, 1, max, &per) != 0)
		return -1;
	*limit = per;
	*offset = (page - 1) * per;
	return 0;
}

int reply_err(struct req *r, const struct cw_err *e)
{
	if (e->dbrc)
		return reply_db_error(r, e->dbrc);
	return reply_error(r, e->status ? e->status : 500, e->code[0] ? e->code : "internal",
	                   e->msg[0] ? e->msg : "服务器内部错误", e->field);
}
