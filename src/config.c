/* config.c — the settings table and its three sources. */
#include "config.h"
#include "buf.h"
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct config cfg;

#define OFF(f) offsetof(struct config, f)
#define SZ(f) sizeof(((struct config *)0)->f)

/* Storage location of each entry, parallel to cfg_defs[]. */
static const struct {
	size_t off, size;
} slots[] = {
	{OFF(db), SZ(db)},
	{OFF(listen), SZ(listen)},
	{OFF(timezone), SZ(timezone)},
	{OFF(body_limit), SZ(body_limit)},
	{OFF(threads), SZ(threads)},
	{OFF(log_level), SZ(log_level)},
	{OFF(conn_limit), SZ(conn_limit)},
	{OFF(conn_timeout), SZ(conn_timeout)},
	{OFF(session_hours), SZ(session_hours)},
	{OFF(secure_cookie), SZ(secure_cookie)},
	{OFF(clock_file), SZ(clock_file)},
	{OFF(key_file), SZ(key_file)},
	{OFF(templates_dir), SZ(templates_dir)},
	{OFF(supply_days), SZ(supply_days)},
	{OFF(visit_days_red), SZ(visit_days_red)},
	{OFF(visit_days_yellow), SZ(visit_days_yellow)},
	{OFF(visit_days_green), SZ(visit_days_green)},
};

const struct cfg_def cfg_defs[] = {
	{"db", CFG_STR, "carewatch.db", 0, 0, "CAREWATCH_DB",
	 "database: a SQLite file path, or postgres://user@host/dbname"},
	{"listen", CFG_STR, "127.0.0.1:8080", 0, 0, "CAREWATCH_LISTEN",
	 "address:port the HTTP server listens on (port 0 picks a free one)"},
	{"timezone", CFG_STR, "Asia/Shanghai", 0, 0, "CAREWATCH_TIMEZONE",
	 "time zone of dates and deadlines (IANA name)"},
	{"body_limit", CFG_INT, "1048576", 1024, 268435456, "CAREWATCH_BODY_LIMIT",
	 "largest accepted request body in bytes"},
	{"threads", CFG_INT, "4", 1, 256, "CAREWATCH_THREADS",
	 "request workers (each holds one database connection)"},
	{"log_level", CFG_STR, "info", 0, 0, "CAREWATCH_LOG_LEVEL",
	 "debug, info, warn or error"},
	{"conn_limit", CFG_INT, "4096", 16, 65536, "CAREWATCH_CONN_LIMIT",
	 "most simultaneous HTTP connections"},
	{"conn_timeout", CFG_INT, "30", 1, 3600, "CAREWATCH_CONN_TIMEOUT",
	 "seconds an idle or stalled connection is kept"},
	{"session_hours", CFG_INT, "12", 1, 720, "CAREWATCH_SESSION_HOURS",
	 "lifetime of a browser session"},
	{"secure_cookie", CFG_BOOL, "0", 0, 1, "CAREWATCH_SECURE_COOKIE",
	 "mark the session cookie Secure (set when TLS ends at nginx)"},
	{"clock_file", CFG_STR, "", 0, 0, "CAREWATCH_CLOCK_FILE",
	 "testing only: a file holding the Unix time the server takes as now; "
	 "set by the operator, never reachable through the API"},
	{"key_file", CFG_STR, "", 0, 0, "CAREWATCH_KEY_FILE",
	 "file holding the key that encrypts personal data at rest (default: <db>.key beside a SQLite "
	 "database; init creates it, mode 0600)"},
	{"templates_dir", CFG_STR, "", 0, 0, "CAREWATCH_TEMPLATES_DIR",
	 "directory of report templates (default: the ones built in)"},
	{"supply_days", CFG_INT, "3", 1, 60, "CAREWATCH_SUPPLY_DAYS",
	 "an institution with fewer days of supply of an item than this is flagged"},
	{"visit_days_red", CFG_INT, "7", 1, 365, "CAREWATCH_VISIT_DAYS_RED",
	 "days between home visits to a person of risk class red"},
	{"visit_days_yellow", CFG_INT, "15", 1, 365, "CAREWATCH_VISIT_DAYS_YELLOW",
	 "days between home visits to a person of risk class yellow"},
	{"visit_days_green", CFG_INT, "30", 1, 365, "CAREWATCH_VISIT_DAYS_GREEN",
	 "days between home visits to a person of risk class green"},
	{NULL, CFG_STR, NULL, 0, 0, NULL, NULL},
};

static void name_norm(const char *in, char *out, size_t n)
{
	size_t i = 0;
	for (; in[i] && i + 1 < n; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	out[i] = 0;
}

const struct cfg_def *config_find(const char *name)
{
	char k[64];
	name_norm(name, k, sizeof k);
	for (const struct cfg_def *d = cfg_defs; d->name; d++)
		if (strcmp(d->name, k) == 0)
			return d;
	return NULL;
}

int config_set(const char *name, const char *value, char *err, size_t errlen)
{
	const struct cfg_def *d = config_find(name);
	if (!d) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -1;
	}
	size_t i = (size_t)(d - cfg_defs);
	char *slot = (char *)&cfg + slots[i].off;
	if (d->type == CFG_STR) {
		if (strlen(value) >= slots[i].size) {
			snprintf(err, errlen, "%s: value too long", d->name);
			return -1;
		}
		cw_strlcpy(slot, value, slots[i].size);
		return 0;
	}
	long v;
	if (d->type == CFG_BOOL) {
		if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on"))
			v = 1;
		else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "off"))
			v = 0;
		else {
			snprintf(err, errlen, "%s: expected true or false, got '%s'", d->name, value);
			return -1;
		}
	} else {
		char *end;
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end) {
			snprintf(err, errlen, "%s: expected an integer, got '%s'", d->name, value);
			return -1;
		}
		if (v < d->min || v > d->max) {
			snprintf(err, errlen, "%s: %ld is outside %ld..%ld", d->name, v, d->min, d->max);
			return -1;
		}
	}
	*(long *)slot = v;
	return 0;
}

void config_defaults(void)
{
	char err[128];
	memset(&cfg, 0, sizeof cfg);
	for (const struct cfg_def *d = cfg_defs; d->name; d++)
		if (config_set(d->name, d->def, err, sizeof err) != 0)
			abort(); /* the table itself is wrong */
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int config_load_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc = -1, lineno = 0;
	char line[2048];
	if (!f) {
		snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			goto cleanup;
		}
		*eq = 0;
		char *k = trim(s), *v = trim(eq + 1);
		size_t vl = strlen(v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v[vl - 1] = 0;
			v++;
		}
		char e2[200];
		if (config_set(k, v, e2, sizeof e2) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	fclose(f);
	return rc;
}

int config_load_env(char *err, size_t errlen)
{
	for (const struct cfg_def *d = cfg_defs; d->name; d++) {
		const char *v = getenv(d->env);
		if (v && config_set(d->name, v, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void config_print_help(FILE *f)
{
	fprintf(f, "Settings (flag --NAME VALUE, environment variable, or 'NAME = VALUE' in the\n"
	           "file given by --config / CAREWATCH_CONFIG):\n\n");
	for (const struct cfg_def *d = cfg_defs; d->name; d++) {
		fprintf(f, "  --%-15s %-24s default \"%s\"", d->name, d->env, d->def);
		if (d->type == CFG_INT)
			fprintf(f, " (%ld..%ld)", d->min, d->max);
		fprintf(f, "\n      %s\n", d->help);
	}
}
