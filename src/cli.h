/* cli.h — the command table and option access for subcommands.
 *
 * Each command is one row of the table in main.c: name (one or two words),
 * the function, its options, usage and help text side by side (Fossil's
 * COMMAND: help, cgit's cmd table). Options named in the settings table
 * (config.h: --db, --listen, ...) are applied to cfg by the parser.
 */
#ifndef CW_CLI_H
#define CW_CLI_H
#include <jansson.h>
#include <stddef.h>

#define CLI_MAX_OPTS 32
#define CLI_MAX_POS 16

struct cli {
	const char *command;  /* the command's name, e.g. "export rollup" */
	const char *opt_name[CLI_MAX_OPTS];
	const char *opt_val[CLI_MAX_OPTS];
	int nopt;
	const char *pos[CLI_MAX_POS];
	int npos;
};

typedef int (*cli_fn)(struct cli *c);

struct cli_cmd {
	const char *name;   /* "serve", "user add" */
	cli_fn fn;
	const char *opts;   /* comma-separated options taking a value */
	const char *flags;  /* comma-separated options without a value */
	const char *usage;
	const char *help;
};

/* Option value or NULL. */
const char *cli_opt(struct cli *c, const char *name);
/* 1 if a flag was given. */
int cli_flag(struct cli *c, const char *name);
/* --scope CODE (default "" national) as the range [lo, hi) of division codes
 * inside it (SCOPE_MAX each). 0, or cli_usage's exit code for a bad code. */
int cli_scope_range(struct cli *c, char *lo, char *hi);
/* Prints "carewatch: message" to stderr; returns the exit status 1 (or 2 for
 * usage errors through cli_usage). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an import's per-row problems ("line N: field: message (code)") and the
 * columns it ignored (ignored may be NULL). */
void cli_print_problems(json_t *problems, json_t *ignored);
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens cfg.db, applying migrations when migrate=1. NULL after printing why. */
struct db *cli_open_db(int migrate);
/* Reads a line (password) from stdin without the newline. 0 or -1. */
int cli_read_secret(char *out, size_t n);

/* Commands (implemented in cli_*.c). */
int cmd_init(struct cli *c);
int cmd_serve(struct cli *c);
int cmd_user_add(struct cli *c);
int cmd_user_list(struct cli *c);
int cmd_partner_add(struct cli *c);
int cmd_partner_list(struct cli *c);
int cmd_user_passwd(struct cli *c);
int cmd_user_disable(struct cli *c);
int cmd_token_create(struct cli *c);
int cmd_import_divisions(struct cli *c);
int cmd_import_institutions(struct cli *c);
int cmd_export_institutions(struct cli *c);
int cmd_export_dispatch(struct cli *c);
int cmd_export_needs(struct cli *c);
int cmd_import_reports(struct cli *c);
int cmd_import_persons(struct cli *c);
int cmd_export_persons(struct cli *c);
int cmd_migrate_db(struct cli *c);
int cmd_backup(struct cli *c);
int cmd_audit_verify(struct cli *c);

#endif
