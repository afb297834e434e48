/* cli_partner.c — partner add/list: registering the charities, social-work
 * organisations and volunteer teams that match needs, so that a partner user
 * (`user add --role partner --partner ID`) can be created from the command
 * line too. The CLI acts as the national administrator; each change is
 * audited with actor "cli". */
#include "cli.h"
#include "clock.h"
#include "db.h"
#include "need.h"
#include "scope.h"
#include <stdio.h>
#include <string.h>

int cmd_partner_add(struct cli *c)
{
	const char *name = cli_opt(c, "name"), *kind = cli_opt(c, "kind"), *div = cli_opt(c, "division");
	if (!name || !kind || !div)
		return cli_usage("usage: carewatch partner add --db PATH --name NAME --kind charity|social_work|volunteer "
		                 "--division CODE [--contact NAME] [--phone PHONE]");
	json_t *body = json_pack("{s:s,s:s,s:s}", "name", name, "kind", kind, "division_code", div);
	if (cli_opt(c, "contact"))
		json_object_set_new(body, "contact_name", json_string(cli_opt(c, "contact")));
	if (cli_opt(c, "phone"))
		json_object_set_new(body, "contact_phone", json_string(cli_opt(c, "phone")));
	int rc = 1;
	struct cw_err e;
	int64_t id = 0;
	db *d = cli_open_db(0);
	if (!d)
		goto cleanup;
	if (partner_create(d, NULL, clock_now(), body, &id, &e) != 0) {
		cli_fail("%s (%s%s%s)", e.msg, e.code, e.field[0] ? ", field " : "", e.field);
		goto cleanup;
	}
	printf("partner %s registered with id %lld\n", name, (long long)id);
	rc = 0;
cleanup:
	if (d)
		db_close(d);
	json_decref(body);
	return rc;
}

int cmd_partner_list(struct cli *c)
{
	char lo[SCOPE_MAX], hi[SCOPE_MAX];
	int urc = cli_scope_range(c, lo, hi);
	if (urc != 0)
		return urc;
	db *d = cli_open_db(0);
	if (!d)
		return 1;
	db_stmt *st = db_prepare(d, "SELECT id, kind, division_code, name FROM partners "
	                            "WHERE division_code >= $1 AND division_code < $2 ORDER BY id");
	int rc = st ? db_bindf(st, "tt", lo, hi) : DB_ERROR;
	printf("%-6s %-12s %-10s %s\n", "id", "kind", "division", "name");
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW)
		printf("%-6lld %-12s %-10s %s\n", (long long)db_column_int64(st, 0), db_column_text(st, 1),
		       *db_column_text(st, 2) ? db_column_text(st, 2) : "\"\"", db_column_text(st, 3));
	if (st)
		db_reset(st);
	db_close(d);
	return rc == DB_DONE ? 0 : cli_fail("cannot list partners (%d)", rc);
}
