/* expr.c — a recursive-descent parser and evaluator for rule expressions.
 *
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/') unary)*
 *   unary  := '-' unary | atom
 *   atom   := number | field | '(' expr ')'
 *   field  := [a-z_][a-z0-9_]*
 *
 * A parsed expression is one allocation: the header, its nodes and the text of
 * its field codes. Every node consumes at least one character of the text
 * (a number, a field code, a unary minus or a binary operator), so a text of
 * n characters needs at most n nodes and n + n field-code bytes (the codes and
 * their terminating NULs).
 */
#include "expr.h"
#include "buf.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPR_MAX_TEXT 1000

enum kind { E_NUM, E_FIELD, E_NEG, E_ADD, E_SUB, E_MUL, E_DIV };

struct node {
	enum kind kind;
	double num;
	const char *field;
	const struct node *a, *b;
};

struct expr {
	const struct node *root;
	struct node *nodes; /* cap entries, inside this allocation */
	size_t n, cap;
	char *names;        /* field codes, inside this allocation */
	size_t nlen, ncap;
};

struct parser {
	const char *s, *p;
	char *err;
	size_t errlen;
	int depth;
	struct expr *e;
};

static struct node *node(struct parser *ps, enum kind k)
{
	struct expr *e = ps->e;
	if (e->n == e->cap) /* cannot happen: see the bound above */
		abort();
	struct node *n = &e->nodes[e->n++];
	memset(n, 0, sizeof *n);
	n->kind = k;
	return n;
}

void expr_free(struct expr *e)
{
	free(e);
}

static void skip(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static struct node *fail(struct parser *ps, const char *what)
{
	if (!ps->err[0])
		snprintf(ps->err, ps->errlen, "表达式第 %d 个字符处%s (at %d: %s)", (int)(ps->p - ps->s) + 1, what,
		         (int)(ps->p - ps->s) + 1, *ps->p ? ps->p : "end");
	return NULL;
}

static struct node *parse_expr(struct parser *ps);

static struct node *parse_atom(struct parser *ps)
{
	skip(ps);
	const char *p = ps->p;
	if (*p == '(') {
		ps->p++;
		if (++ps->depth > 32)
			return fail(ps, "括号嵌套过深");
		struct node *e = parse_expr(ps);
		ps->depth--;
		if (!e)
			return NULL;
		skip(ps);
		if (*ps->p != ')')
			return fail(ps, "缺少右括号");
		ps->p++;
		return e;
	}
	if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || !isfinite(v))
			return fail(ps, "数字格式错误");
		ps->p = end;
		struct node *e = node(ps, E_NUM);
		e->num = v;
		return e;
	}
	if ((*p >= 'a' && *p <= 'z') || *p == '_') {
		const char *q = p;
		while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')
			q++;
		size_t len = (size_t)(q - p);
		if (len > 64)
			return fail(ps, "字段代码过长");
		struct expr *x = ps->e;
		if (x->nlen + len + 1 > x->ncap) /* cannot happen: see the bound above */
			abort();
		char *name = x->names + x->nlen;
		memcpy(name, p, len);
		name[len] = 0;
		x->nlen += len + 1;
		struct node *e = node(ps, E_FIELD);
		e->field = name;
		ps->p = q;
		return e;
	}
	return fail(ps, *p ? "应为数字、字段代码或左括号" : "表达式不完整");
}

static struct node *parse_unary(struct parser *ps)
{
	skip(ps);
	if (*ps->p == '-') {
		ps->p++;
		if (++ps->depth > 32)
			return fail(ps, "嵌套过深");
		struct node *a = parse_unary(ps);
		ps->depth--;
		if (!a)
			return NULL;
		struct node *e = node(ps, E_NEG);
		e->a = a;
		return e;
	}
	return parse_atom(ps);
}

static struct node *parse_binary(struct parser *ps, int level)
{
	struct node *a = level ? parse_unary(ps) : parse_binary(ps, 1);
	while (a) {
		skip(ps);
		char c = *ps->p;
		enum kind k;
		if (level == 0 && (c == '+' || c == '-'))
			k = c == '+' ? E_ADD : E_SUB;
		else if (level == 1 && (c == '*' || c == '/'))
			k = c == '*' ? E_MUL : E_DIV;
		else
			break;
		ps->p++;
		struct node *b = level ? parse_unary(ps) : parse_binary(ps, 1);
		if (!b)
			return NULL;
		struct node *e = node(ps, k);
		e->a = a;
		e->b = b;
		a = e;
	}
	return a;
}

static struct node *parse_expr(struct parser *ps)
{
	return parse_binary(ps, 0);
}

struct expr *expr_parse(const char *text, char *err, size_t errlen)
{
	err[0] = 0;
	size_t len = text ? strnlen(text, EXPR_MAX_TEXT + 1) : 0;
	if (!text || len > EXPR_MAX_TEXT) {
		snprintf(err, errlen, "表达式为空或过长 (empty or too long)");
		return NULL;
	}
	size_t cap = len ? len : 1, ncap = 2 * cap;
	struct expr *e = xcalloc(1, sizeof *e + cap * sizeof(struct node) + ncap);
	e->nodes = (struct node *)(e + 1);
	e->cap = cap;
	e->names = (char *)(e->nodes + cap);
	e->ncap = ncap;
	struct parser ps = {text, text, err, errlen, 0, e};
	const struct node *root = parse_expr(&ps);
	if (root) {
		skip(&ps);
		if (*ps.p)
			root = fail(&ps, "有多余的字符");
	}
	if (!root) {
		free(e);
		return NULL;
	}
	e->root = root;
	return e;
}

static int eval(const struct node *e, expr_lookup lookup, void *ctx, double *out)
{
	double a = 0, b = 0;
	switch (e->kind) {
	case E_NUM:
		*out = e->num;
		return 0;
	case E_FIELD:
		return lookup(ctx, e->field, out);
	case E_NEG:
		if (eval(e->a, lookup, ctx, &a) != 0)
			return -1;
		*out = -a;
		return 0;
	default:
		break;
	}
	if (eval(e->a, lookup, ctx, &a) != 0 || eval(e->b, lookup, ctx, &b) != 0)
		return -1;
	switch (e->kind) {
	case E_ADD: *out = a + b; break;
	case E_SUB: *out = a - b; break;
	case E_MUL: *out = a * b; break;
	case E_DIV:
		if (b == 0)
			return -1;
		*out = a / b;
		break;
	default:
		return -1;
	}
	return isfinite(*out) ? 0 : -1;
}

int expr_eval(const struct expr *e, expr_lookup lookup, void *ctx, double *out)
{
	return eval(e->root, lookup, ctx, out);
}

static void fields(const struct node *e, void (*fn)(void *ctx, const char *field), void *ctx)
{
	if (!e)
		return;
	if (e->kind == E_FIELD)
		fn(ctx, e->field);
	fields(e->a, fn, ctx);
	fields(e->b, fn, ctx);
}

void expr_fields(const struct expr *e, void (*fn)(void *ctx, const char *field), void *ctx)
{
	if (e)
		fields(e->root, fn, ctx);
}
static const struct {
	const char *s;
	enum cmp_op op;
} cmps[] = {{"<=", CMP_LE}, {">=", CMP_GE}, {"==", CMP_EQ}, {"!=", CMP_NE}, {"<", CMP_LT}, {">", CMP_GT}, {"=", CMP_EQ}};

int cmp_parse(const char *s, enum cmp_op *op)
{
	for (size_t i = 0; s && i < sizeof cmps / sizeof cmps[0]; i++)
		if (strcmp(s, cmps[i].s) == 0) {
			*op = cmps[i].op;
			return 0;
		}
	return -1;
}

int cmp_holds(enum cmp_op op, double a, double b)
{
	const double eps = 1e-9;
	switch (op) {
	case CMP_LT: return a < b - eps;
	case CMP_LE: return a <= b + eps;
	case CMP_GT: return a > b + eps;
	case CMP_GE: return a >= b - eps;
	case CMP_EQ: return fabs(a - b) <= eps;
	case CMP_NE: return fabs(a - b) > eps;
	}
	return 0;
}

const char *cmp_text(enum cmp_op op)
{
	static const char *t[] = {"<", "≤", ">", "≥", "=", "≠"};
	return t[op];
}
