/* main.c — the carewatch command table and its dispatcher. */
#include "buf.h"
#include "cli.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "version.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int cmd_help(struct cli *c);
static int cmd_version(struct cli *c);

static const struct cli_cmd commands[] = {
	{"help", cmd_help, "", "", "help [COMMAND]", "Shows the commands, or one command's help; 'help config' lists the settings."},
	{"version", cmd_version, "", "", "version", "Prints the version."},
	{"init", cmd_init, "", "demo", "init --db PATH [--demo]",
	 "Creates the database, applies migrations and loads the divisions (GB/T 2260, 2023).\n"
	 "--demo adds demo institutions, users and reports; their logins are printed."},
	{"serve", cmd_serve, "", "", "serve --db PATH --listen HOST:PORT",
	 "Serves the web UI and the JSON API until SIGTERM; in-flight requests finish first."},
	{"user add", cmd_user_add, "login,role,scope,institution,name,partner", "pii",
	 "user add --db PATH --login LOGIN --role ROLE --scope CODE [--institution ID] [--partner ID] [--name NAME] [--pii]",
	 "Creates a user; the password is read from standard input.\n"
	 "ROLE: admin, official, leader, reporter, worker, partner. CODE: a division prefix (\"\" national).\n"
	 "--pii grants the personal-data permission (unmasked citizen IDs and phones)."},
	{"user list", cmd_user_list, "scope", "", "user list --db PATH [--scope CODE]", "Lists users (inside CODE when given)."},
	{"user passwd", cmd_user_passwd, "login", "", "user passwd --db PATH --login LOGIN",
	 "Sets a new password read from standard input; ends the user's sessions and unlocks it."},
	{"user disable", cmd_user_disable, "login", "", "user disable --db PATH --login LOGIN",
	 "Disables a user: its sessions and tokens stop working at once."},
	{"partner add", cmd_partner_add, "name,kind,division,contact,phone", "",
	 "partner add --db PATH --name NAME --kind charity|social_work|volunteer --division CODE [--contact NAME] [--phone PHONE]",
	 "Registers a partner organisation (慈善组织、社会工作服务机构、志愿服务队伍) serving CODE (\"\" nationwide);\n"
	 "then 'user add --role partner --partner ID' gives it a login."},
	{"partner list", cmd_partner_list, "scope", "", "partner list --db PATH [--scope CODE]",
	 "Lists the partners whose area lies inside CODE."},
	{"token create", cmd_token_create, "login,label", "", "token create --db PATH --login LOGIN [--label TEXT]",
	 "Prints a new bearer token for a machine client acting as LOGIN (shown once)."},
	{"import divisions", cmd_import_divisions, "", "", "import divisions --db PATH",
	 "Loads (or refreshes) the built-in division list: 31 provinces, 342 prefectures, 2,978 counties, 41,352 townships."},
	{"import institutions", cmd_import_institutions, "", "skip-invalid,dry-run",
	 "import institutions --db PATH FILE [--skip-invalid] [--dry-run]",
	 "Imports institutions from CSV (UTF-8 with or without BOM, or GB18030; Chinese or English headers).\n"
	 "Prints a per-row report. A file with an invalid row imports nothing unless --skip-invalid."},
	{"import reports", cmd_import_reports, "template", "skip-invalid",
	 "import reports --db PATH --template CODE FILE [--skip-invalid]",
	 "Imports submitted reports from CSV: institution_id (or 统一社会信用代码), period (or 日期), then field codes\n"
	 "or Chinese labels. Same checks as the API; a file with an invalid row imports nothing unless --skip-invalid."},
	{"export institutions", cmd_export_institutions, "format,out,scope", "",
	 "export institutions --db PATH --format csv|xlsx --out FILE [--scope CODE]",
	 "Writes the institutions inside CODE (default national) with Chinese headers."},
	{"export rollup", cmd_export_dispatch, "template,period,format,out,scope", "",
	 "export rollup --db PATH --template CODE --period YYYY-MM-DD --format csv|xlsx --out FILE [--scope CODE]",
	 "Writes the day's roll-up by sub-division: completeness and every aggregated field, with a total row."},
	{"export missing", cmd_export_dispatch, "template,period,format,out,scope", "",
	 "export missing --db PATH --template CODE --period YYYY-MM-DD --format csv|xlsx --out FILE [--scope CODE]",
	 "Writes the institutions that have not reported, with contact persons and phones."},
	{"export reports", cmd_export_dispatch, "template,period,format,out,scope", "",
	 "export reports --db PATH --template CODE --period YYYY-MM-DD --format csv|xlsx --out FILE [--scope CODE]",
	 "Writes the raw reports of a period, one row per institution, every field."},
	{"export needs", cmd_export_needs, "format,out,scope", "detail",
	 "export needs --db PATH --format csv|xlsx --out FILE [--scope CODE] [--detail]",
	 "Writes the needs list (紧急药品物资需求清单) inside CODE: requested, pledged, in transit, received and\n"
	 "outstanding by sub-division and item, or one row per need with --detail."},
	{"import persons", cmd_import_persons, "", "skip-invalid,dry-run",
	 "import persons --db PATH FILE [--skip-invalid] [--dry-run]",
	 "Imports vulnerable people (特殊服务对象) from CSV (UTF-8 or GB18030): 姓名, 公民身份号码, 对象类别,\n"
	 "行政区划代码 (a township), and optionally 住址, 联系电话, 监护人或联系人, 慢性病情况, 疫苗接种情况, 生活状况.\n"
	 "One transaction; a file with an invalid row imports nothing unless --skip-invalid. Needs the key_file."},
	{"export persons", cmd_export_persons, "format,out,scope", "unmasked",
	 "export persons --db PATH --format csv|xlsx --out FILE [--scope CODE] [--unmasked]",
	 "Writes the people inside CODE; citizen IDs and phones masked unless --unmasked. Audited."},
	{"export subsidies", cmd_export_persons, "format,out,scope,month", "",
	 "export subsidies --db PATH --format csv|xlsx --out FILE [--scope CODE] [--month YYYY-MM]",
	 "Writes the monthly subsidies inside CODE with their payment state. Audited."},
	{"migrate-db", cmd_migrate_db, "from,to", "", "migrate-db --from PATH --to postgres://USER@HOST/DB",
	 "Copies a whole SQLite database into an empty PostgreSQL database in one transaction, then checks that\n"
	 "every table's rows match (roll-ups included) and that the audit chain verifies on PostgreSQL."},
	{"backup", cmd_backup, "", "", "backup --db PATH FILE",
	 "Writes a consistent copy of the database to FILE, online, while the server runs."},
	{"audit verify", cmd_audit_verify, "", "", "audit verify --db PATH",
	 "Recomputes the audit hash chain; reports the first broken link and exits 1 if any."},
	{NULL, NULL, NULL, NULL, NULL, NULL},
};

static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, name, n) == 0)
			return 1;
		p = e ? e + 1 : p + l;
	}
	return 0;
}

static void print_cmd_help(const struct cli_cmd *k)
{
	printf("usage: carewatch %s\n\n%s\n", k->usage, k->help);
}

static int cmd_help(struct cli *c)
{
	if (c->npos > 0) {
		struct buf name = {0};
		for (int i = 0; i < c->npos; i++)
			buf_printf(&name, "%s%s", i ? " " : "", c->pos[i]);
		if (strcmp(buf_str(&name), "config") == 0) {
			config_print_help(stdout);
			buf_free(&name);
			return 0;
		}
		for (const struct cli_cmd *k = commands; k->name; k++)
			if (strcmp(k->name, buf_str(&name)) == 0 || strncmp(k->name, buf_str(&name), name.len) == 0) {
				if (strcmp(k->name, buf_str(&name)) == 0 || k->name[name.len] == ' ') {
					print_cmd_help(k);
					putchar('\n');
				}
			}
		buf_free(&name);
		return 0;
	}
	printf("carewatch %s — epidemic prevention and care for civil-affairs institutions\n"
	       "民政“一老一小”服务机构疫情防控与关爱服务系统\n\ncommands:\n",
	       CAREWATCH_VERSION);
	for (const struct cli_cmd *k = commands; k->name; k++)
		printf("  %s\n", k->usage);
	printf("\nEvery command also takes the settings of 'carewatch help config' (--db, --listen, ...)\n"
	       "and --config FILE. 'carewatch help COMMAND' explains one command.\n");
	return 0;
}

static int cmd_version(struct cli *c)
{
	(void)c;
	printf("carewatch %s\n", CAREWATCH_VERSION);
	return 0;
}

/* Parses argv after the command words into c; applies settings to cfg. */
static int parse_args(const struct cli_cmd *k, int argc, char **argv, struct cli *c)
{
	char err[300];
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
			if (c->npos == CLI_MAX_POS)
				return cli_usage("too many arguments");
			c->pos[c->npos++] = a;
			continue;
		}
		char name[64];
		const char *val = NULL, *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (nl >= sizeof name)
			return cli_usage("unknown option %s", a);
		memcpy(name, a + 2, nl);
		name[nl] = 0;
		if (eq)
			val = eq + 1;
		if (!in_list(k->flags, name) && !in_list(k->opts, name) && strcmp(name, "config") != 0 && !config_find(name))
			return cli_usage("unknown option --%s (see 'carewatch help %s')", name, k->name);
		if (in_list(k->flags, name)) {
			if (val)
				return cli_usage("--%s takes no value", name);
			val = "1";
		} else if (!val) {
			if (i + 1 >= argc)
				return cli_usage("--%s needs a value", name);
			val = argv[++i];
		}
		if (in_list(k->flags, name) || in_list(k->opts, name)) {
			if (c->nopt == CLI_MAX_OPTS)
				return cli_usage("too many options");
			c->opt_name[c->nopt] = xstrdup(name);
			c->opt_val[c->nopt++] = val;
		} else if (strcmp(name, "config") == 0) {
			if (config_load_file(val, err, sizeof err) != 0)
				return cli_usage("%s", err);
		} else if (config_find(name)) {
			if (config_set(name, val, err, sizeof err) != 0)
				return cli_usage("%s", err);
		} else
			return cli_usage("unknown option --%s (see 'carewatch help %s')", name, k->name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[300];
	int rc;
	struct cli c = {0};
	const struct cli_cmd *k = NULL;
	int used = 0;

	config_defaults();
	const char *cf = getenv("CAREWATCH_CONFIG");
	if (cf && config_load_file(cf, err, sizeof err) != 0)
		return cli_usage("%s", err);
	if (config_load_env(err, sizeof err) != 0)
		return cli_usage("%s", err);
	if (sodium_init() < 0)
		return cli_fail("libsodium failed to initialise");

	if (argc < 2) {
		cmd_help(&c);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(&c);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(&c);
	for (const struct cli_cmd *p = commands; p->name && !k; p++) {
		size_t l1 = strlen(argv[1]);
		if (argc > 2 && strncmp(p->name, argv[1], l1) == 0 && p->name[l1] == ' ' &&
		    strcmp(p->name + l1 + 1, argv[2]) == 0) {
			k = p;
			used = 2;
		}
	}
	for (const struct cli_cmd *p = commands; p->name && !k; p++)
		if (strcmp(p->name, argv[1]) == 0) {
			k = p;
			used = 1;
		}
	if (!k)
		return cli_usage("unknown command '%s%s%s' (see 'carewatch help')", argv[1], argc > 2 ? " " : "",
		                 argc > 2 ? argv[2] : "");
	for (int i = 1 + used; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_cmd_help(k);
			return 0;
		}
	rc = parse_args(k, argc - 1 - used, argv + 1 + used, &c);
	if (rc != 0)
		return rc;
	enum log_level lvl;
	if (log_parse_level(cfg.log_level, &lvl) != 0)
		return cli_usage("log_level: expected debug, info, warn or error");
	log_set_level(lvl);
	if (setenv("TZ", cfg.timezone, 1) == 0)
		tzset();
	c.command = k->name;
	rc = k->fn(&c);
	for (int i = 0; i < c.nopt; i++)
		free((char *)c.opt_name[i]);
	return rc;
}
