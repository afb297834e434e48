/* cli_user.c — user add/list/passwd/disable and token create. The CLI acts as
 * the national administrator; each change is audited with actor "cli". */
#include "audit.h"
#include "auth.h"
#include "cli.h"
#include "clock.h"
#include "db.h"
#include "scope.h"
#include "user.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (!s || !*s || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

int cmd_user_add(struct cli *c)
{
	char pw[256];
	struct cw_err e;
	int64_t id = 0;
	struct user_input in = {
	    .login = cli_opt(c, "login"),
	    .name = cli_opt(c, "name"),
	    .role = cli_opt(c, "role"),
	    .scope = cli_opt(c, "scope"),
	    .pii = cli_flag(c, "pii"),
	};
	if (!in.login || !in.role || (!in.scope && !cli_opt(c, "institution")))
		return cli_usage("usage: carewatch user add --db PATH --login LOGIN --role ROLE --scope CODE "
		                 "[--institution ID] [--name NAME] [--pii]");
	if (cli_opt(c, "institution") && parse_id(cli_opt(c, "institution"), &in.institution_id) != 0)
		return cli_usage("--institution must be a positive id");
	if (cli_opt(c, "partner") && parse_id(cli_opt(c, "partner"), &in.partner_id) != 0)
		return cli_usage("--partner must be a positive id");
	if (cli_read_secret(pw, sizeof pw) != 0)
		return cli_fail("no password on standard input");
	in.password = pw;
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	int rc = user_create(d, NULL, clock_now(), &in, &id, &e);
	db_close(d);
	memset(pw, 0, sizeof pw);
	if (rc != 0)
		return cli_fail("%s (%s%s%s)", e.msg, e.code, e.field[0] ? ", field " : "", e.field);
	printf("user %s created with id %lld\n", in.login, (long long)id);
	return 0;
}

int cmd_user_list(struct cli *c)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	int urc = cli_scope_range(c, lo, hi);
	if (urc != 0)
		return urc;
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	db_stmt *st = db_prepare(d, "SELECT id, login, role, scope, COALESCE(institution_id, 0), pii, disabled, name "
	                            "FROM users WHERE scope >= $1 AND scope < $2 ORDER BY id");
	int rc = st ? db_bindf(st, "tt", lo, hi) : DB_ERROR;
	printf("%-6s %-20s %-9s %-10s %-12s %-4s %-9s %s\n", "id", "login", "role", "scope", "institution", "pii",
	       "disabled", "name");
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		printf("%-6lld %-20s %-9s %-10s %-12lld %-4s %-9s %s\n", (long long)db_column_int64(st, 0),
		       db_column_text(st, 1), db_column_text(st, 2), *db_column_text(st, 3) ? db_column_text(st, 3) : "\"\"",
		       (long long)db_column_int64(st, 4), db_column_int64(st, 5) ? "yes" : "no",
		       db_column_int64(st, 6) ? "yes" : "no", db_column_text(st, 7));
	db_reset(st);
	db_close(d);
	return rc == DB_DONE ? 0 : cli_fail("cannot list users (%d)", rc);
}

/* Opens the database and finds --login; prints why not. */
static db *open_with_user(struct cli *c, int64_t *id)
{
	const char *login = cli_opt(c, "login");
	if (!login) {
		cli_usage("--login is required");
		return NULL;
	}
	db *d = cli_open_db(0);
	if (!d)
		return NULL;
	int rc = user_find_login(d, login, id);
	if (rc != DB_ROW) {
		cli_fail(rc == DB_DONE ? "no user with login '%s'" : "cannot read users for '%s'", login);
		db_close(d);
		return NULL;
	}
	return d;
}

int cmd_user_passwd(struct cli *c)
{
	int64_t id;
	char pw[256];
	struct cw_err e;
	db *d = open_with_user(c, &id);
	if (!d)
		return 1;
	if (cli_read_secret(pw, sizeof pw) != 0) {
		db_close(d);
		return cli_fail("no password on standard input");
	}
	int rc = user_set_password(d, NULL, clock_now(), id, pw, &e);
	memset(pw, 0, sizeof pw);
	db_close(d);
	if (rc != 0)
		return cli_fail("%s (%s)", e.msg, e.code);
	printf("password changed for %s\n", cli_opt(c, "login"));
	return 0;
}

int cmd_user_disable(struct cli *c)
{
	int64_t id;
	struct cw_err e;
	db *d = open_with_user(c, &id);
	if (!d)
		return 1;
	int rc = user_set_disabled(d, NULL, clock_now(), id, 1, &e);
	db_close(d);
	if (rc != 0)
		return cli_fail("%s (%s)", e.msg, e.code);
	printf("user %s disabled\n", cli_opt(c, "login"));
	return 0;
}

struct token_ctx {
	int64_t id;
	const char *label;
	char token[48];
};

static int token_txn(db *d, void *vc)
{
	struct token_ctx *t = vc;
	int rc = token_create(d, t->id, t->label, t->token);
	if (rc != 0)
		return rc;
	json_t *after = json_pack("{s:s}", "label", t->label ? t->label : "");
	rc = audit_write_id(d, NULL, clock_now(), "token.create", "user", t->id, "", NULL, after);
	json_decref(after);
	return rc;
}

int cmd_token_create(struct cli *c)
{
	struct token_ctx t = {0};
	t.label = cli_opt(c, "label");
	db *d = open_with_user(c, &t.id);
	if (!d)
		return 1;
	int rc = db_txn(d, 1, token_txn, &t);
	db_close(d);
	if (rc != 0)
		return cli_fail("cannot create the token (%d)", rc);
	printf("%s\n", t.token);
	return 0;
}
