/* person_bulk.c — many people per INSERT, their audit rows in chunks (see
 * person_bulk.h).
 *
 * Two batches of PIPE_ROWS take turns: while the caller's thread inserts one
 * batch (PERSON_BULK_ROWS per statement: SQLite, or a PostgreSQL round trip
 * each) and checks the rows of the next, a helper thread computes the
 * columns of the batch just filled
 * (encryption, keyed hash, masks, risk, the audit text: a fifth of an
 * import's CPU). The helper touches only its batch's slots, never the
 * database; the two meet under one mutex when a batch changes hands — a
 * few hundred times per import, not once per statement: on a VM each
 * hand-over's wake-up costs tens of microseconds.
 */
#include "person_bulk.h"
#include "audit.h"
#include "buf.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERSON_ROW                                                                                            \
	"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22, $23)"

/* One queued person: its text copied (sizes: person_spec's limits in
 * characters, 4 bytes each at most), its computed columns and audit text. */
struct slot {
	struct person_in in;
	struct person_cols c;
	char name[204], cats[320], div[16], address[804], phone[84], guardian[404];
	char chronic[16], vacc[16], situation[24];
	struct buf after; /* its audit row's `after` */
};

#define PIPE_ROWS (8 * PERSON_BULK_ROWS)

struct batch {
	struct slot rows[PIPE_ROWS];
	size_t n;
	int failed; /* a row's columns could not be computed (a bug) */
};

/* One audit row waiting: offsets into the text arena. */
struct pending {
	size_t id, div, after;
};

struct person_bulk {
	db *d;
	const struct user *u;
	int64_t now;
	struct batch batch[2];
	struct batch *fill;   /* being filled by person_bulk_add */
	struct batch *ready;  /* handed over earlier: inserted at the next turn */
	pthread_t helper;
	int helper_on;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *job;    /* the helper's batch; NULL when it is idle */
	int quit;
	size_t na;                         /* queued audit rows */
	struct pending audit[PERSON_BULK_AUDIT];
	struct audit_rec recs[PERSON_BULK_AUDIT];
	struct buf text;                   /* the audit rows' text, NUL-separated */
	char *sql_full;                    /* the INSERT of PERSON_BULK_ROWS people */
};

static void after_text(struct slot *s);

/* Computes the columns and audit text of every row of j. */
static void compute(const struct person_bulk *b, struct batch *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (person_cols_make(b->u, b->now, &j->rows[i].in, &j->rows[i].c) != 0)
			j->failed = 1;
		else
			after_text(&j->rows[i]);
	}
}

static void *helper_main(void *arg)
{
	struct person_bulk *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->job && !b->quit)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->job)
			break;
		struct batch *j = b->job;
		pthread_mutex_unlock(&b->mu);
		compute(b, j);
		pthread_mutex_lock(&b->mu);
		b->job = NULL;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Waits until the helper has finished its batch. */
static void wait_idle(struct person_bulk *b)
{
	if (!b->helper_on)
		return;
	pthread_mutex_lock(&b->mu);
	while (b->job)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

/* Has j's columns computed: by the helper (started on first use), or here
 * when it cannot be started. */
static void submit(struct person_bulk *b, struct batch *j)
{
	if (!b->helper_on && pthread_create(&b->helper, NULL, helper_main, b) == 0)
		b->helper_on = 1;
	if (!b->helper_on) {
		compute(b, j);
		return;
	}
	pthread_mutex_lock(&b->mu);
	b->job = j;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

struct person_bulk *person_bulk_new(db *d, const struct user *u, int64_t now)
{
	struct person_bulk *b = xcalloc(1, sizeof *b);
	b->d = d;
	b->u = u;
	b->now = now;
	b->fill = &b->batch[0];
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	return b;
}

void person_bulk_free(struct person_bulk *b)
{
	if (!b)
		return;
	if (b->helper_on) {
		pthread_mutex_lock(&b->mu);
		b->quit = 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->helper, NULL);
	}
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < PIPE_ROWS; i++)
			buf_free(&b->batch[k].rows[i].after);
	buf_free(&b->text);
	free(b->sql_full);
	free(b);
}

/* Copies s into dst (n bytes); NULL stays NULL. -1 when it does not fit. */
static int copy(char *dst, size_t n, const char *s, const char **out)
{
	if (!s) {
		*out = NULL;
		return 0;
	}
	if (cw_strlcpy(dst, s, n) >= n)
		return -1;
	*out = dst;
	return 0;
}

static int audit_flush(struct person_bulk *b)
{
	for (size_t i = 0; i < b->na; i++)
		b->recs[i] = (struct audit_rec){"person.create", "person", b->text.data + b->audit[i].id,
		                                b->text.data + b->audit[i].div, NULL, b->text.data + b->audit[i].after};
	int rc = audit_write_recs(b->d, b->u, b->now, b->recs, b->na);
	b->na = 0;
	buf_reset(&b->text);
	return rc;
}

static void json_field(struct buf *t, const char *key, const char *v)
{
	buf_puts(t, ",\"");
	buf_puts(t, key);
	buf_puts(t, "\":");
	buf_json_str(t, v ? v : "");
}

/* The audit form of person s (its `after`): its masked form, keys sorted as
 * the audit log's JSON always is. Runs on the helper thread. */
static void after_text(struct slot *s)
{
	struct buf *t = &s->after;
	buf_reset(t);
	buf_puts(t, "{\"address\":");
	buf_json_str(t, s->in.address ? s->in.address : "");
	buf_puts(t, ",\"categories\":[");
	/* ",a,b," → "a","b" (codes: nothing to escape) */
	const char *c = s->in.categories + 1;
	for (int first = 1; *c; first = 0) {
		const char *e = strchr(c, ',');
		buf_puts(t, first ? "\"" : ",\"");
		buf_append(t, c, (size_t)(e - c));
		buf_putc(t, '"');
		c = e + 1;
	}
	buf_putc(t, ']');
	json_field(t, "chronic_disease", s->in.chronic ? s->in.chronic : "none");
	json_field(t, "citizen_id", s->c.cid_masked);
	json_field(t, "division_code", s->in.division_code);
	json_field(t, "guardian", s->in.guardian);
	json_field(t, "name", s->in.name);
	json_field(t, "phone", s->c.phone_masked);
	json_field(t, "risk_class", s->c.cls);
	json_field(t, "situation", s->in.situation ? s->in.situation : "at_home");
	json_field(t, "vaccination", s->in.vaccination ? s->in.vaccination : "full");
	if (s->c.worker)
		buf_printf(t, ",\"worker_id\":%lld}", (long long)s->c.worker);
	else
		buf_puts(t, ",\"worker_id\":null}");
}

/* Queues the audit row of person s, stored as id. */
static int audit_add(struct person_bulk *b, const struct slot *s, int64_t id)
{
	struct buf *t = &b->text;
	struct pending *p = &b->audit[b->na];
	char num[24];
	p->id = t->len;
	buf_append(t, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)id) + 1);
	p->div = t->len;
	buf_append(t, s->in.division_code, strlen(s->in.division_code) + 1);
	p->after = t->len;
	buf_append(t, buf_str(&s->after), s->after.len + 1);
	return ++b->na == PERSON_BULK_AUDIT ? audit_flush(b) : 0;
}

/* The ids of batch j's n rows, inserted by st (no RETURNING) on SQLite: an
 * INTEGER PRIMARY KEY gives each new row the largest id so far plus one, in
 * the order of the VALUES, and this transaction is the only writer — so the
 * ids are the n up to last_insert_rowid(). Checked on the first and last row
 * (their ciphertexts are unique: a random nonce each). */
static int sqlite_ids(struct person_bulk *b, const struct slot *rows, size_t n, int64_t ids[])
{
	int64_t last = 0;
	int rc = db_query_int64(b->d, &last, "SELECT last_insert_rowid()", "");
	if (rc != DB_ROW)
		return rc < 0 ? rc : DB_ERROR;
	for (size_t i = 0; i < n; i++)
		ids[i] = last - (int64_t)(n - 1 - i);
	const size_t probe[2] = {0, n - 1};
	for (int k = 0; k < 2; k++) {
		db_stmt *st = db_prepare(b->d, "SELECT cid_enc FROM persons WHERE id = $1");
		if (!st)
			return DB_ERROR;
		db_bindf(st, "I", ids[probe[k]]);
		rc = db_step(st);
		int same = rc == DB_ROW && !strcmp(db_column_text(st, 0), rows[probe[k]].c.cid_enc);
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc;
		if (!same)
			return DB_ERROR; /* not as SQLite documents it: stop rather than audit wrong ids */
	}
	return 0;
}

/* The INSERT of n people (OR FAIL on SQLite: db_insert_many; a failure
 * rolls back the whole import). Caller frees. */
static char *insert_sql(const db *d, size_t n, const char *ret)
{
	struct buf q = {0};
	buf_puts(&q, db_insert_many(d));
	buf_puts(&q, "persons(" PERSON_INSERT_COLS ") VALUES ");
	char *sql = db_rows_sql(buf_str(&q), PERSON_ROW, PERSON_INSERT_PARAMS, (int)n, ret);
	buf_free(&q);
	return sql;
}

/* Inserts n (≤ PERSON_BULK_ROWS) rows with their columns computed in one
 * statement. On PostgreSQL the ids come back with the ciphertexts, which pair
 * each id with its person whatever order the server returns them in; on
 * SQLite see sqlite_ids. */
static int insert_rows(struct person_bulk *b, const struct slot *rows, size_t n)
{
	int64_t ids[PERSON_BULK_ROWS] = {0};
	size_t got = 0;
	int lite = b->d->engine == DB_SQLITE;
	const char *ret = lite ? "" : " RETURNING id, cid_enc";
	if (n == PERSON_BULK_ROWS && !b->sql_full)
		b->sql_full = insert_sql(b->d, n, ret);
	char *sql = n == PERSON_BULK_ROWS ? b->sql_full : insert_sql(b->d, n, ret);
	db_stmt *st = db_prepare(b->d, sql);
	if (sql != b->sql_full)
		free(sql); /* the last, shorter statement of an import */
	if (!st)
		return DB_ERROR;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = person_bind(st, (int)i * PERSON_INSERT_PARAMS, &rows[i].in, &rows[i].c, b->now);
	while (rc == 0 || rc == DB_ROW) {
		if ((rc = db_step(st)) != DB_ROW)
			break;
		const char *enc = db_column_text(st, 1);
		size_t k = got;
		if (k >= n || strcmp(rows[k].c.cid_enc, enc) != 0)
			for (k = 0; k < n && strcmp(rows[k].c.cid_enc, enc) != 0; k++)
				;
		if (k == n || ids[k]) {
			rc = DB_ERROR;
			break;
		}
		ids[k] = db_column_int64(st, 0);
		got++;
	}
	int64_t changed = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	if (rc != DB_DONE)
		return rc == 0 || rc == DB_ROW ? DB_ERROR : rc;
	if (lite)
		rc = changed == (int64_t)n ? sqlite_ids(b, rows, n, ids) : DB_ERROR;
	else
		rc = got == n ? 0 : DB_ERROR;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = audit_add(b, &rows[i], ids[i]);
	return rc;
}

/* Inserts batch j, PERSON_BULK_ROWS people per statement. */
static int insert(struct person_bulk *b, struct batch *j)
{
	if (j->failed)
		return DB_ERROR;
	int rc = 0;
	for (size_t off = 0; off < j->n && rc == 0; off += PERSON_BULK_ROWS)
		rc = insert_rows(b, &j->rows[off], j->n - off < PERSON_BULK_ROWS ? j->n - off : PERSON_BULK_ROWS);
	return rc;
}

/* A full batch changes hands: the helper takes it, the batch it computed
 * before is inserted meanwhile, and then refilled. */
static int turn(struct person_bulk *b)
{
	struct batch *done = b->ready, *next = b->fill;
	wait_idle(b);
	submit(b, next);
	b->ready = next;
	int rc = done ? insert(b, done) : 0;
	b->fill = done ? done : &b->batch[1];
	b->fill->n = 0;
	b->fill->failed = 0;
	return rc;
}

int person_bulk_add(struct person_bulk *b, const struct person_in *in)
{
	struct slot *s = &b->fill->rows[b->fill->n];
	s->in = *in;
	if (copy(s->name, sizeof s->name, in->name, &s->in.name) ||
	    copy(s->cats, sizeof s->cats, in->categories, &s->in.categories) ||
	    copy(s->div, sizeof s->div, in->division_code, &s->in.division_code) ||
	    copy(s->address, sizeof s->address, in->address, &s->in.address) ||
	    copy(s->phone, sizeof s->phone, in->phone, &s->in.phone) ||
	    copy(s->guardian, sizeof s->guardian, in->guardian, &s->in.guardian) ||
	    copy(s->chronic, sizeof s->chronic, in->chronic, &s->in.chronic) ||
	    copy(s->vacc, sizeof s->vacc, in->vaccination, &s->in.vaccination) ||
	    copy(s->situation, sizeof s->situation, in->situation, &s->in.situation) || !s->in.name ||
	    !s->in.categories || s->in.categories[0] != ',' || !s->in.division_code)
		return DB_ERROR; /* a bug: the checks let through what they should not */
	return ++b->fill->n == PIPE_ROWS ? turn(b) : 0;
}

int person_bulk_finish(struct person_bulk *b)
{
	wait_idle(b);
	int rc = b->ready ? insert(b, b->ready) : 0;
	b->ready = NULL;
	if (rc == 0 && b->fill->n) {
		compute(b, b->fill);
		rc = insert(b, b->fill);
		b->fill->n = 0;
	}
	return rc ? rc : audit_flush(b);
}
