/* err.h — a domain error shared by the API and the CLI: an HTTP status, a
 * stable snake_case code, a Chinese message and the field it concerns. Domain
 * functions fill one; the API replies with it (reply_err), the CLI prints it. */
#ifndef CW_ERR_H
#define CW_ERR_H

struct cw_err {
	int status;      /* 0 = no error */
	int dbrc;        /* a DB_* code when the database failed, else 0 */
	char code[48];
	char field[64];
	char msg[300];
};

void err_set(struct cw_err *e, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Records a database failure (maps to 503/409/500 when replied). */
void err_db(struct cw_err *e, int rc);

struct db;
/* Runs fn in a transaction (db_txn); a body returning DB_APP has filled e
 * itself, any other failure is recorded with err_db(). 0 or -1. */
int db_txn_err(struct db *d, int write, int (*fn)(struct db *, void *), void *ctx, struct cw_err *e);
/* The same through db_txn_group (write transactions that may share a commit). */
int db_txn_group_err(struct db *d, int (*fn)(struct db *, void *), void *ctx, struct cw_err *e);

struct req;
/* Replies with e (a database failure through reply_db_error). Returns 0. */
int reply_err(struct req *r, const struct cw_err *e);

#endif
