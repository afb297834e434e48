/* fuzz_url.c — a request line's path and query as the server reads them: the
 * percent-decoding libmicrohttpd applies, the UTF-8 check, the route table's
 * path matching, then the parsers handlers apply to path and query parameters
 * (ids, paging, integers, division codes, dates). Input: PATH[?QUERY]. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "http.h"
#include "scope.h"
#include "utf8.h"

#define MAXQ 16

static void reset(struct req *r)
{
	json_decref(r->resp);
	r->resp = NULL;
	buf_free(&r->out);
	r->status = 0;
}

/* Splits "k=v&k2=v2" in place into decoded, UTF-8-checked pairs. */
static int split_query(char *q, const char **qv)
{
	int n = 0;
	for (char *tok = strtok(q, "&"); tok && n < MAXQ; tok = strtok(NULL, "&")) {
		char *eq = strchr(tok, '=');
		char *v = eq ? eq + 1 : tok + strlen(tok);
		if (eq)
			*eq = 0;
		MHD_http_unescape(tok);
		MHD_http_unescape(v);
		if (!utf8_valid(tok, strlen(tok)) || !utf8_valid(v, strlen(v)))
			return -1; /* the server answers 400 invalid_utf8 */
		qv[2 * n] = tok;
		qv[2 * n + 1] = v;
		n++;
	}
	qv[2 * n] = NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *qv[2 * MAXQ + 2];
	memcpy(s, data, size);
	s[size] = 0;
	char *q = strchr(s, '?');
	if (q)
		*q++ = 0;
	MHD_http_unescape(s);
	if (!utf8_valid(s, strlen(s)) || (q && split_query(q, qv) != 0))
		goto cleanup;
	if (!q)
		qv[0] = NULL;
	for (size_t i = 0; i < nroutes; i++) {
		struct req r = {0};
		r.qv = qv;
		strcpy(r.user.scope, "42");
		if (!http_match_path(routes[i].path, s, NULL))
			continue;
		if (!http_match_path(routes[i].path, s, &r))
			abort(); /* matching twice must agree */
		for (int k = 0; k < r.nparams; k++) {
			int64_t id;
			int y, m, d;
			req_param_id_or_reply(&r, k, &id);
			reset(&r);
			date_parse(r.params[k], &y, &m, &d);
		}
		long v, lim, off;
		char div[SCOPE_MAX];
		req_query_long_or_reply(&r, "limit", 10, 1, 5000, &v);
		reset(&r);
		req_paging_or_reply(&r, 50, 500, &lim, &off);
		reset(&r);
		req_division_or_reply(&r, "division", div);
		reset(&r);
		for (int k = 0; k < r.nparams; k++)
			free(r.params[k]);
		break;
	}
cleanup:
	free(s);
	return 0;
}
