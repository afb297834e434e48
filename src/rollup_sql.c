/* rollup_sql.c — cw_merge(sums, contrib, sign) for SQLite (rollup_sql.h).
 *
 * Roll-up rows are rewritten on every counted report, four levels each, so
 * this parses the one shape they have by hand instead of building a jansson
 * tree per level: an object of string keys, each an array of two numbers. */
#include "rollup_sql.h"
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 512

/* A key points into the text it was read from (alive for the call). */
struct entry {
	const char *key;
	size_t len;
	double s, n;
};

struct set {
	struct entry *e;
	int len;
};

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A JSON number: integers of up to 15 digits directly (nearly all of them:
 * counts and people), anything else through strtod. */
static const char *number(const char *p, double *x)
{
	p = ws(p);
	const char *q = p + (*p == '-');
	long long v = 0;
	int digits = 0;
	while (*q >= '0' && *q <= '9' && digits < 16)
		v = v * 10 + (*q++ - '0'), digits++;
	if (digits && digits < 16 && *q != '.' && *q != 'e' && *q != 'E' && !(*q >= '0' && *q <= '9')) {
		*x = *p == '-' ? -(double)v : (double)v;
		return ws(q);
	}
	char *end;
	*x = strtod(p, &end);
	return end == p || !isfinite(*x) ? NULL : ws(end);
}

static struct entry *find(struct set *st, const char *key, size_t len)
{
	for (int i = 0; i < st->len; i++)
		if (st->e[i].len == len && !memcmp(st->e[i].key, key, len))
			return &st->e[i];
	return NULL;
}

/* Adds sign × each entry of text to st (new keys appended). 0 or -1. */
static int add(struct set *st, const char *text, int sign)
{
	const char *p = ws(text);
	if (*p++ != '{')
		return -1;
	p = ws(p);
	if (*p == '}')
		return *ws(p + 1) ? -1 : 0;
	for (;;) {
		double s, n;
		if (*p++ != '"')
			return -1;
		const char *key = p;
		/* field codes are plain ASCII: an escape is not ours */
		while (*p && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			p++;
		size_t len = (size_t)(p - key);
		if (*p++ != '"' || !len)
			return -1;
		p = ws(p);
		if (*p++ != ':')
			return -1;
		p = ws(p);
		if (*p++ != '[' || !(p = number(p, &s)) || *p++ != ',' || !(p = number(p, &n)) || *p++ != ']')
			return -1;
		struct entry *e = find(st, key, len);
		if (!e) {
			if (st->len == MAX_KEYS)
				return -1;
			e = &st->e[st->len++];
			*e = (struct entry){key, len, 0, 0};
		}
		e->s += sign * s;
		e->n += sign * n;
		p = ws(p);
		if (*p == '}')
			return *ws(p + 1) ? -1 : 0;
		if (*p++ != ',')
			return -1;
		p = ws(p);
	}
}

static int by_key(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

void rollup_put_num(struct buf *out, double x)
{
	char t[40];
	if (x == floor(x) && fabs(x) < 9007199254740992.0) {
		/* integral: digits by hand, no printf */
		unsigned long long v = (unsigned long long)fabs(x);
		char *e = t + sizeof t, *p = e;
		do
			*--p = (char)('0' + v % 10);
		while (v /= 10);
		if (x < 0)
			*--p = '-';
		buf_append(out, p, (size_t)(e - p));
		return;
	}
	snprintf(t, sizeof t, "%.17g", x);
	buf_puts(out, t);
}

int rollup_merge_text(const char *sums, const char *contrib, int sign, struct buf *out)
{
	struct entry e[MAX_KEYS];
	struct set st = {e, 0};
	if (add(&st, sums, 1) != 0 || add(&st, contrib, sign) != 0)
		return -1;
	qsort(st.e, (size_t)st.len, sizeof *st.e, by_key);
	buf_reserve(out, strlen(sums) + strlen(contrib) + 16);
	buf_putc(out, '{');
	for (int i = 0; i < st.len; i++) {
		struct entry *x = &st.e[i];
		if (fabs(x->s) < 1e-9)
			x->s = 0;
		buf_puts(out, i ? ",\"" : "\"");
		buf_append(out, x->key, x->len);
		buf_puts(out, "\":[");
		rollup_put_num(out, x->s);
		buf_putc(out, ',');
		rollup_put_num(out, x->n);
		buf_putc(out, ']');
	}
	buf_putc(out, '}');
	return 0;
}

static void cw_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const char *sums = (const char *)sqlite3_value_text(argv[0]);
	const char *contrib = (const char *)sqlite3_value_text(argv[1]);
	int sign = sqlite3_value_int(argv[2]);
	struct buf out = {0};
	if (!sums || !contrib || (sign != 1 && sign != -1) ||
	    rollup_merge_text(sums, contrib, sign, &out) != 0) {
		sqlite3_result_error(ctx, "cw_merge: not a roll-up object", -1);
		return;
	}
	int len = (int)out.len;
	sqlite3_result_text(ctx, buf_steal(&out), len, free);
}

int rollup_sql_register(sqlite3 *h)
{
	return sqlite3_create_function_v2(h, "cw_merge", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, cw_merge, NULL,
	                                  NULL, NULL);
}
