/* expr.h — the rule expressions of report templates: numbers, field codes,
 * + - * /, parentheses. A rule compares two expressions with < <= > >= == !=.
 *
 * expr_parse() builds a small tree once (when a template loads); expr_eval()
 * evaluates it against a lookup function. Parse errors name the position.
 */
#ifndef CW_EXPR_H
#define CW_EXPR_H
#include <stddef.h>

struct expr;

/* Looks a field code up: 0 with *v set, or -1 when the field has no value. */
typedef int (*expr_lookup)(void *ctx, const char *field, double *v);

/* Parses text. NULL on error with a message (Chinese and English) in err. */
struct expr *expr_parse(const char *text, char *err, size_t errlen);
void expr_free(struct expr *e);
/* Evaluates e. 0 with *out set; -1 when a field has no value or a division by
 * zero happens (the rule cannot be judged). */
int expr_eval(const struct expr *e, expr_lookup lookup, void *ctx, double *out);
/* Calls fn for every field code e mentions (to check they exist). */
void expr_fields(const struct expr *e, void (*fn)(void *ctx, const char *field), void *ctx);

enum cmp_op { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE };
/* Parses "<", "<=", ">", ">=", "==" (or "="), "!=". 0 or -1. */
int cmp_parse(const char *s, enum cmp_op *op);
int cmp_holds(enum cmp_op op, double a, double b);
const char *cmp_text(enum cmp_op op);

#endif
