/* assets.h — files built into the binary (web UI, migrations, templates,
 * reference data). build/assets.c is generated at build time by tools/embed.c
 * from the files listed in the Makefile; it is never checked in. */
#ifndef CW_ASSETS_H
#define CW_ASSETS_H
#include <stddef.h>

struct asset {
	const char *name;          /* e.g. "web/index.html", "sql/001_core.sql" */
	const unsigned char *data; /* NUL-terminated (not counted in len) */
	size_t len;
};

extern const struct asset cw_assets[];
extern const size_t cw_assets_count;

/* Finds an asset by exact name; NULL if none. */
const struct asset *asset_find(const char *name);

#endif
