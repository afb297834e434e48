/* person_bulk.c — many people per INSERT, their audit rows in chunks (see
 * person_bulk.h). */
#include "person_bulk.h"
#include "audit.h"
#include "buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERSON_ROW                                                                                            \
	"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22)"

/* One queued person: its text copied (sizes: person_spec's limits in
 * characters, 4 bytes each at most) and its computed columns. */
struct slot {
	struct person_in in;
	struct person_cols c;
	char name[204], cats[320], div[16], address[804], phone[84], guardian[404];
	char chronic[16], vacc[16], situation[24];
};

/* One audit row waiting: offsets into the text arena. */
struct pending {
	size_t id, div, after;
};

struct person_bulk {
	db *d;
	const struct user *u;
	int64_t now;
	int64_t written;
	size_t n;                          /* queued people */
	struct slot rows[PERSON_BULK_ROWS];
	size_t na;                         /* queued audit rows */
	struct pending audit[PERSON_BULK_AUDIT];
	struct audit_rec recs[PERSON_BULK_AUDIT];
	struct buf text;                   /* the audit rows' text, NUL-separated */
	char *sql_full;                    /* the INSERT of PERSON_BULK_ROWS people */
};

struct person_bulk *person_bulk_new(db *d, const struct user *u, int64_t now)
{
	struct person_bulk *b = xcalloc(1, sizeof *b);
	b->d = d;
	b->u = u;
	b->now = now;
	return b;
}

void person_bulk_free(struct person_bulk *b)
{
	if (!b)
		return;
	buf_free(&b->text);
	free(b->sql_full);
	free(b);
}

int64_t person_bulk_written(const struct person_bulk *b)
{
	return b->written;
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

/* The audit row of person s stored as id: its masked form, keys sorted as
 * the audit log's JSON always is. */
static int audit_add(struct person_bulk *b, const struct slot *s, int64_t id)
{
	struct buf *t = &b->text;
	struct pending *p = &b->audit[b->na];
	p->id = t->len;
	buf_printf(t, "%lld", (long long)id);
	buf_putc(t, 0);
	p->div = t->len;
	buf_puts(t, s->in.division_code);
	buf_putc(t, 0);
	p->after = t->len;
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
	buf_putc(t, 0);
	return ++b->na == PERSON_BULK_AUDIT ? audit_flush(b) : 0;
}

/* Inserts the queued people in one statement; their ids come back with
 * their ciphertexts (unique: a random nonce each), which pair each id with
 * its person whatever order the engine returns them in. */
static int flush(struct person_bulk *b)
{
	int64_t ids[PERSON_BULK_ROWS] = {0};
	size_t got = 0, n = b->n;
	if (!n)
		return 0;
	if (n == PERSON_BULK_ROWS && !b->sql_full)
		b->sql_full = db_rows_sql("INSERT INTO persons(" PERSON_INSERT_COLS ") VALUES ", PERSON_ROW,
		                          PERSON_INSERT_PARAMS, (int)n, " RETURNING id, cid_enc");
	char *sql = n == PERSON_BULK_ROWS ? b->sql_full
	                                  : db_rows_sql("INSERT INTO persons(" PERSON_INSERT_COLS ") VALUES ", PERSON_ROW,
	                                                PERSON_INSERT_PARAMS, (int)n, " RETURNING id, cid_enc");
	db_stmt *st = db_prepare(b->d, sql);
	if (sql != b->sql_full)
		free(sql);
	if (!st)
		return DB_ERROR;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = person_bind(st, (int)i * PERSON_INSERT_PARAMS, &b->rows[i].in, &b->rows[i].c, b->now);
	while (rc == 0 || rc == DB_ROW) {
		if ((rc = db_step(st)) != DB_ROW)
			break;
		const char *enc = db_column_text(st, 1);
		size_t j = got;
		if (j >= n || strcmp(b->rows[j].c.cid_enc, enc) != 0)
			for (j = 0; j < n && strcmp(b->rows[j].c.cid_enc, enc) != 0; j++)
				;
		if (j == n || ids[j]) {
			rc = DB_ERROR;
			break;
		}
		ids[j] = db_column_int64(st, 0);
		got++;
	}
	db_reset(st);
	if (rc != DB_DONE)
		return rc == 0 || rc == DB_ROW ? DB_ERROR : rc;
	if (got != n)
		return DB_ERROR;
	b->written += (int64_t)n;
	b->n = 0;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = audit_add(b, &b->rows[i], ids[i]);
	return rc;
}

int person_bulk_add(struct person_bulk *b, const struct person_in *in)
{
	struct slot *s = &b->rows[b->n];
	s->in = *in;
	if (copy(s->name, sizeof s->name, in->name, &s->in.name) || copy(s->cats, sizeof s->cats, in->categories, &s->in.categories) ||
	    copy(s->div, sizeof s->div, in->division_code, &s->in.division_code) ||
	    copy(s->address, sizeof s->address, in->address, &s->in.address) ||
	    copy(s->phone, sizeof s->phone, in->phone, &s->in.phone) ||
	    copy(s->guardian, sizeof s->guardian, in->guardian, &s->in.guardian) ||
	    copy(s->chronic, sizeof s->chronic, in->chronic, &s->in.chronic) ||
	    copy(s->vacc, sizeof s->vacc, in->vaccination, &s->in.vaccination) ||
	    copy(s->situation, sizeof s->situation, in->situation, &s->in.situation) || !s->in.name ||
	    !s->in.categories || s->in.categories[0] != ',' || !s->in.division_code ||
	    person_cols_make(b->u, b->now, &s->in, &s->c) != 0)
		return DB_ERROR; /* a bug: the checks let through what they should not */
	return ++b->n == PERSON_BULK_ROWS ? flush(b) : 0;
}

int person_bulk_finish(struct person_bulk *b)
{
	int rc = flush(b);
	return rc ? rc : audit_flush(b);
}
