/* err.c — domain errors. */
#include "err.h"
#include "buf.h"
#include "db.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_set(struct cw_err *e, int status, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	memset(e, 0, sizeof *e);
	e->status = status;
	cw_strlcpy(e->code, code, sizeof e->code);
	cw_strlcpy(e->field, field ? field : "", sizeof e->field);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

void err_db(struct cw_err *e, int rc)
{
	const char *code, *msg;
	memset(e, 0, sizeof *e);
	e->status = db_error_http(rc, &code, &msg);
	e->dbrc = rc;
	cw_strlcpy(e->code, code, sizeof e->code);
	cw_strlcpy(e->msg, msg, sizeof e->msg);
}

static int txn_result(int rc, struct cw_err *e)
{
	if (rc == DB_APP)
		return -1;
	if (rc != 0) {
		err_db(e, rc);
		return -1;
	}
	return 0;
}

int db_txn_err(db *d, int write, db_txn_fn fn, void *ctx, struct cw_err *e)
{
	return txn_result(db_txn(d, write, fn, ctx), e);
}

int db_txn_group_err(db *d, db_txn_fn fn, void *ctx, struct cw_err *e)
{
	return txn_result(db_txn_group(d, fn, ctx), e);
}
