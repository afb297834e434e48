/* static.c — built-in web assets with content types and ETags. */
#include "static.h"
#include "assets.h"
#include "http.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char (*etags)[24];

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void static_init(void)
{
	if (etags)
		return;
	etags = xcalloc(cw_assets_count + 1, sizeof *etags);
	for (size_t i = 0; i < cw_assets_count; i++)
		snprintf(etags[i], sizeof etags[i], "\"%016llx\"",
		         (unsigned long long)fnv1a(cw_assets[i].data, cw_assets[i].len));
}

static const char *ctype_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},    {".json", "application/json; charset=utf-8"},
	    {".svg", "image/svg+xml"},              {".png", "image/png"},
	    {".ico", "image/x-icon"},               {".webmanifest", "application/manifest+json"},
	    {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

int static_serve(struct req *r)
{
	char name[512];
	const char *p = strcmp(r->path, "/") == 0 ? "/index.html" : r->path;
	if (strstr(p, "..") || snprintf(name, sizeof name, "web%s", p) >= (int)sizeof name)
		return reply_error(r, 404, "not_found", "页面不存在", NULL);
	const struct asset *a = asset_find(name);
	if (!a)
		return reply_error(r, 404, "not_found", "页面不存在", NULL);
	static_init();
	const char *etag = etags[a - cw_assets];
	const char *inm = req_header(r, "If-None-Match");
	req_add_header(r, "ETag", etag);
	req_add_header(r, "Cache-Control", "no-cache");
	if (inm && strcmp(inm, etag) == 0) {
		reply_raw(r, 304, NULL, "", 0);
		return 0;
	}
	return reply_raw(r, 200, ctype_of(name), a->data, a->len);
}
