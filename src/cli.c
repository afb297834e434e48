/* cli.c — helpers shared by the subcommands: options, messages, opening the
 * database, reading a secret from standard input. */
#include "cli.h"
#include "config.h"
#include "db.h"
#include "scope.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

const char *cli_opt(struct cli *c, const char *name)
{
	for (int i = 0; i < c->nopt; i++)
		if (strcmp(c->opt_name[i], name) == 0)
			return c->opt_val[i];
	return NULL;
}

int cli_flag(struct cli *c, const char *name)
{
	return cli_opt(c, name) != NULL;
}

static void vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void vsay(const char *fmt, va_list ap)
{
	fputs("carewatch: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return 1;
}

int cli_scope_range(struct cli *c, char *lo, char *hi)
{
	const char *scope = cli_opt(c, "scope");
	if (!scope)
		scope = "";
	if (!code_shape_ok(scope))
		return cli_usage("--scope must be a division code");
	scope_range(scope, lo, hi);
	return 0;
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return 2;
}

struct db *cli_open_db(int migrate)
{
	char err[600];
	db *d = db_open(cfg.db, err, sizeof err);
	if (!d) {
		cli_fail("cannot open database: %s", err);
		return NULL;
	}
	if (migrate && db_migrate(d, err, sizeof err) != 0) {
		cli_fail("migration failed: %s", err);
		db_close(d);
		return NULL;
	}
	return d;
}

int cli_read_secret(char *out, size_t n)
{
	struct termios old, quiet;
	int tty = isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		fputs("password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSANOW, &quiet);
	}
	char *r = fgets(out, (int)n, stdin);
	if (tty) {
		tcsetattr(0, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (!r)
		return -1;
	out[strcspn(out, "\r\n")] = 0;
	return 0;
}
