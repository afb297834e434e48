/* config.h — one table of settings drives the config file, the environment,
 * command-line flags, `carewatch help config` and docs/configuration (Redis'
 * static_configs[] idea).
 *
 * Precedence, lowest first: built-in default, config file (--config FILE or
 * CAREWATCH_CONFIG), environment variable, command-line flag.
 * After start-up the global `cfg` is read-only.
 */
#ifndef CW_CONFIG_H
#define CW_CONFIG_H
#include <stdio.h>

struct config {
	char db[1024];
	char listen[128];
	char timezone[64];
	long body_limit;
	long threads;
	char log_level[16];
	long conn_limit;
	long conn_timeout;
	long session_hours;
	long secure_cookie;
	char clock_file[1024];
	char key_file[1024];
	char templates_dir[1024];
	long supply_days;
	long visit_days_red;
	long visit_days_yellow;
	long visit_days_green;
};

extern struct config cfg;

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL };

struct cfg_def {
	const char *name;    /* also the flag (--name, '_' may be written '-') */
	enum cfg_type type;
	const char *def;
	long min, max;       /* bounds for CFG_INT */
	const char *env;     /* environment variable */
	const char *help;
};

extern const struct cfg_def cfg_defs[];

/* Resets cfg to the defaults. */
void config_defaults(void);
/* Finds a definition by name ("body_limit" or "body-limit"), NULL if none. */
const struct cfg_def *config_find(const char *name);
/* Sets one value after checking type and bounds. 0, or -1 with err filled. */
int config_set(const char *name, const char *value, char *err, size_t errlen);
/* Reads `name = value` lines ('#' comments). 0, or -1 with err filled. */
int config_load_file(const char *path, char *err, size_t errlen);
/* Applies every set environment variable of the table. 0 or -1. */
int config_load_env(char *err, size_t errlen);
/* Prints the table as help text. */
void config_print_help(FILE *f);

#endif
