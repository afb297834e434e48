/* http.c — the libmicrohttpd server and the dispatcher.
 *
 * One dispatcher for every request (cgit's process_request, Taler's
 * TEH_RequestHandler): match the route table (404/405), validate the URL and
 * query as UTF-8, authenticate (bearer token or session cookie), check the
 * route's capability and the CSRF header, enforce the body limit, parse a JSON
 * body, then call the handler. Every response carries the security headers;
 * every request writes one log line and updates the metrics.
 */
#include "http.h"
#include "workers.h"
#include "clock.h"
#include "config.h"
#include "jspec.h"
#include "log.h"
#include "metrics.h"
#include "static.h"
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sodium.h>
#include <strings.h>

#define MAX_URL 4096
#define DISCARD_MAX (16ull * 1024 * 1024)

static int active_requests;

static const char *CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                         "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
                         "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

static void req_free(struct req *r)
{
	if (!r)
		return;
	free(r->path);
	for (int i = 0; i < r->nparams; i++)
		free(r->params[i]);
	for (int i = 0; i < r->nhdr; i++) {
		free(r->hdr_name[i]);
		free(r->hdr_value[i]);
	}
	buf_free(&r->body);
	buf_free(&r->out);
	json_decref(r->json);
	json_decref(r->resp);
	free(r->disposition);
	free(r);
}

int http_match_path(const char *pattern, const char *path, struct req *r)
{
	const char *p = pattern, *s = path;
	int n = 0;
	char *tmp[REQ_MAX_PARAMS];
	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			if (!se)
				se = s + strlen(s);
			if (se == s || n == REQ_MAX_PARAMS || !pe)
				goto nomatch;
			if (r)
				tmp[n] = xstrndup(s, (size_t)(se - s));
			n++;
			p = pe + 1;
			s = se;
			continue;
		}
		if (*p != *s)
			goto nomatch;
		p++;
		s++;
	}
	if (*p || *s)
		goto nomatch;
	if (r) {
		for (int i = 0; i < n; i++)
			r->params[i] = tmp[i];
		r->nparams = n;
	}
	return 1;
nomatch:
	if (r)
		for (int i = 0; i < n; i++)
			free(tmp[i]);
	return 0;
}

static void json_kv(struct buf *b, const char *k, const char *v)
{
	json_t *s = json_string(v);
	char *e = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
	buf_printf(b, ",\"%s\":%s", k, e ? e : "\"?\"");
	free(e);
	json_decref(s);
}

static void log_request(struct req *r, int64_t us)
{
	if (!log_enabled(LOG_INFO))
		return;
	struct buf kv = {0};
	buf_printf(&kv, "\"status\":%d,\"ms\":%.3f", r->status, (double)us / 1000.0);
	json_kv(&kv, "method", r->method);
	json_kv(&kv, "path", utf8_valid(r->path, strlen(r->path)) ? r->path : "(invalid)");
	if (r->route)
		json_kv(&kv, "route", r->route->path);
	if (r->authed)
		json_kv(&kv, "user", r->user.login);
	if (r->err_code)
		json_kv(&kv, "error", r->err_code);
	log_line(LOG_INFO, "request", kv.data);
	buf_free(&kv);
}

static enum MHD_Result send_response(struct req *r)
{
	if (!r->status) {
		log_bug("handler for %s %s set no response", r->method, r->path);
		reply_error(r, 500, "internal", "服务器内部错误", NULL);
	}
	if (r->resp) {
		char *s = json_dumps(r->resp, JSON_COMPACT);
		buf_reset(&r->out);
		if (s)
			buf_puts(&r->out, s);
		free(s);
	}
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(r->out.len, r->out.len ? r->out.data : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->ctype)
		MHD_add_response_header(resp, "Content-Type", r->ctype);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	if (r->route_index != -1)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	for (int i = 0; i < r->nhdr; i++)
		MHD_add_response_header(resp, r->hdr_name[i], r->hdr_value[i]);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	r->sent = 1;
	MHD_destroy_response(resp);
	int64_t us = clock_mono_us() - r->t0_us;
	metrics_record(r->route_index, r->status, us);
	log_request(r, us);
	return ret;
}

struct arg_check {
	int bad_utf8;
	size_t total;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct arg_check *a = cls;
	(void)kind;
	size_t kl = key ? strlen(key) : 0, vl = value ? strlen(value) : 0;
	a->total += kl + vl + 2;
	if ((key && !utf8_valid(key, kl)) || (value && !utf8_valid(value, vl))) {
		a->bad_utf8 = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

static int is_write(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* Authenticates from the Authorization header or the session cookie.
 * Returns 0 (authed or anonymous) or -1 after replying. */
static int authenticate(struct req *r)
{
	const char *ah = req_header(r, "Authorization");
	int rc = DB_DONE;
	if (ah) {
		if (strncasecmp(ah, "Bearer ", 7) != 0)
			return reply_error(r, 401, "unauthenticated", "Authorization 头格式应为 Bearer 令牌", NULL), -1;
		rc = auth_bearer(r->db, ah + 7, &r->user);
		if (rc == DB_DONE)
			return reply_error(r, 401, "invalid_token", "访问令牌无效或已停用", NULL), -1;
	} else {
		const char *ck = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "cw_session");
		if (ck && *ck)
			rc = auth_session(r->db, ck, r->now, &r->user);
	}
	if (rc == DB_ROW) {
		r->authed = 1;
		return 0;
	}
	if (rc == DB_DONE)
		return 0;
	reply_db_error(r, rc);
	return -1;
}

static void dispatch(struct req *r)
{
	int path_matched = 0;
	const char *m = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	for (size_t i = 0; i < nroutes; i++) {
		if (!http_match_path(routes[i].path, r->path, NULL))
			continue;
		path_matched = 1;
		if (strcmp(routes[i].method, m) == 0) {
			r->route = &routes[i];
			r->route_index = (int)i;
			http_match_path(routes[i].path, r->path, r);
			break;
		}
	}
	if (!r->route) {
		if (path_matched) {
			reply_error(r, 405, "method_not_allowed", "不支持该请求方法", NULL);
			return;
		}
		if (strncmp(r->path, "/api/", 5) == 0) {
			reply_error(r, 404, "no_such_route", "接口不存在", NULL);
			return;
		}
		r->route_index = -1;
		if (strcmp(m, "GET") != 0) {
			reply_error(r, 405, "method_not_allowed", "不支持该请求方法", NULL);
			return;
		}
		static_serve(r);
		return;
	}
	struct arg_check args = {0, strlen(r->path)};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &args);
	if (args.total > MAX_URL) {
		reply_error(r, 414, "uri_too_long", "请求地址过长", NULL);
		return;
	}
	if (args.bad_utf8 || !utf8_valid(r->path, strlen(r->path))) {
		reply_error(r, 400, "invalid_utf8", "请求地址或参数不是有效的 UTF-8 编码", NULL);
		return;
	}
	const struct route *rt = r->route;
	r->db = db_thread();
	if (!r->db) {
		req_add_header(r, "Retry-After", "2");
		reply_error(r, 503, "db_unavailable", "数据库暂时不可用，请稍后重试", NULL);
		return;
	}
	if (authenticate(r) != 0)
		return;
	if (!(rt->flags & F_PUBLIC)) {
		if (!r->authed) {
			reply_error(r, 401, "unauthenticated", "请先登录", NULL);
			return;
		}
		if ((r->user.caps & rt->cap) != rt->cap) {
			reply_forbidden(r);
			return;
		}
	}
	if (r->authed && r->user.via_session && is_write(r->method) && !(rt->flags & F_NO_CSRF)) {
		const char *tok = req_header(r, "X-CSRF-Token");
		if (!tok || strlen(tok) != strlen(r->user.csrf) || sodium_memcmp(tok, r->user.csrf, strlen(tok)) != 0) {
			reply_error(r, 403, "csrf_failed", "安全校验失败（缺少或错误的 X-CSRF-Token），请刷新页面后重试", NULL);
			return;
		}
	}
	if (rt->flags & F_JSON) {
		json_error_t je;
		if (r->body.len == 0) {
			reply_error(r, 400, "invalid_json", "请求体为空，应为 JSON 对象", NULL);
			return;
		}
		if (!utf8_valid(r->body.data, r->body.len)) {
			reply_error(r, 400, "invalid_utf8", "请求体不是有效的 UTF-8 编码", NULL);
			return;
		}
		r->json = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &je);
		if (!r->json) {
			char msg[300];
			snprintf(msg, sizeof msg, "JSON 格式错误（第 %d 行第 %d 列）：%s", je.line, je.column, je.text);
			reply_error(r, 400, "invalid_json", msg, NULL);
			return;
		}
		if (!json_is_object(r->json)) {
			reply_error(r, 400, "invalid_json", "请求体必须是 JSON 对象", NULL);
			return;
		}
	} else if (r->body.len && !(rt->flags & F_BODY_RAW)) {
		reply_error(r, 400, "unexpected_body", "该接口不接受请求体", NULL);
		return;
	}
	rt->fn(r);
}

static void run_request(void *item);

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;
	(void)cls;
	(void)version;
	if (!r) {
		r = xcalloc(1, sizeof *r);
		r->conn = conn;
		r->method = method;
		r->path = xstrdup(url);
		r->t0_us = clock_mono_us();
		r->now = clock_now();
		r->route_index = -2;
		*con_cls = r;
		__atomic_fetch_add(&active_requests, 1, __ATOMIC_SEQ_CST);
		if (strlen(url) > MAX_URL) {
			reply_error(r, 414, "uri_too_long", "请求地址过长", NULL);
			return send_response(r);
		}
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
		if (declared > (unsigned long long)cfg.body_limit) {
			reply_error(r, 413, "body_too_large", "请求体过大", NULL);
			/* A modest excess is read and dropped so the client gets the 413
			 * before the connection closes; a huge one is answered at once. */
			if (declared > DISCARD_MAX)
				return send_response(r);
		}
		return MHD_YES;
	}
	if (r->status) { /* answer decided (413): drop the body, then reply */
		if (r->sent || *upload_size) {
			r->discarded += *upload_size;
			*upload_size = 0;
			return r->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		return send_response(r);
	}
	if (*upload_size) {
		if (r->body.len + *upload_size > (size_t)cfg.body_limit) {
			/* a body without Content-Length grew past the limit: drop the connection */
			log_msg(LOG_WARN, "request body over the limit on %s; connection closed", r->path);
			*upload_size = 0;
			return MHD_NO;
		}
		buf_append(&r->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->queued) /* resumed: a worker has run it, its answer is ready */
		return send_response(r);
	r->queued = 1;
	MHD_suspend_connection(conn);
	if (workers_push(r) != 0) /* shutting down, no worker left: run it here */
		run_request(r);
	return MHD_YES;
}

/* A worker runs one request (workers.c), then hands the connection back to
 * MHD, which calls access_cb again to send the answer. */
static void run_request(void *item)
{
	struct req *r = item;
	dispatch(r);
	db_thread_release();
	MHD_resume_connection(r->conn);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *r = *con_cls;
	if (r) {
		req_free(r);
		*con_cls = NULL;
		__atomic_fetch_sub(&active_requests, 1, __ATOMIC_SEQ_CST);
	}
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!*host || strcmp(host, "0.0.0.0") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	struct buf b = {0};
	buf_vprintf(&b, fmt, ap);
	while (b.len && (b.data[b.len - 1] == '\n'))
		b.data[--b.len] = 0;
	log_msg(LOG_WARN, "httpd: %s", buf_str(&b));
	buf_free(&b);
}

int http_serve(void)
{
	struct sockaddr_in sa;
	sigset_t set;
	int sig = 0;
	if (parse_listen(cfg.listen, &sa) != 0) {
		fprintf(stderr, "carewatch: bad listen address '%s' (expected HOST:PORT)\n", cfg.listen);
		return 2;
	}
	raise_fd_limit();
	metrics_init();
	static_init();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* worker threads inherit the mask */

	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	/* MHD's threads only read requests and write answers (epoll, no
	 * blocking); cfg.threads workers run the requests */
	unsigned io_threads = cfg.threads < 2 ? 1u : 2u;
	if (workers_start((int)cfg.threads, run_request) != 0) {
		fprintf(stderr, "carewatch: cannot start request workers\n");
		return 1;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
	    flags, 0, NULL, NULL, access_cb, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, io_threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg.conn_limit,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg.conn_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)64 * 1024, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
	    MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "carewatch: cannot listen on %s: %s\n", cfg.listen, strerror(errno));
		workers_stop();
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[64];
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
	printf("listening on http://%s:%u\n", host, info ? info->port : ntohs(sa.sin_port));
	fflush(stdout);
	log_msg(LOG_INFO, "serving on %s:%u with %ld threads, database %s", host, info ? info->port : 0, cfg.threads,
	        db_is_pg_uri(cfg.db) ? "postgresql" : cfg.db);

	sigwait(&set, &sig);
	log_msg(LOG_INFO, "signal %d: no new connections; finishing in-flight requests", sig);
	MHD_quiesce_daemon(d);
	for (int i = 0; i < 200 && __atomic_load_n(&active_requests, __ATOMIC_SEQ_CST) > 0; i++)
		usleep(50 * 1000);
	workers_stop(); /* runs what is queued: every suspended connection is resumed */
	MHD_stop_daemon(d);
	db_group_close();
	log_msg(LOG_INFO, "stopped");
	return 0;
}
