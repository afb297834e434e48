/* jspec.h — JSON input checked against a declared spec in one call
 * (GNU Taler's TALER_MHD_parse_json_data idea).
 *
 * A spec is an array of struct jfield ending with {NULL}. jspec_check() walks
 * the object once: unknown fields, missing required fields, wrong types, string
 * lengths (in characters), integer bounds and enumerations. Every problem is
 * collected as {"field","code","message"} so a form can show all of them.
 */
#ifndef CW_JSPEC_H
#define CW_JSPEC_H
#include <jansson.h>
#include "utf8.h"

struct req;

enum jtype { J_STR, J_INT, J_NUM, J_BOOL, J_ENUM, J_OBJ, J_ARR, J_ANY };

struct jfield {
	const char *name;
	enum jtype type;
	int required;
	long long min, max;          /* J_INT/J_NUM bounds; J_STR length in chars (max 0 = 10000) */
	const char *const *values;   /* J_ENUM: NULL-terminated allowed values */
	const char *label;           /* Chinese label for messages, e.g. "机构名称" */
	int nullable;                /* JSON null accepted (means "clear") */
};

/* Checks obj against spec. partial=1 (PATCH): required fields may be absent.
 * Returns NULL when all is well, or a new array of problems. */
json_t *jspec_check(json_t *obj, const struct jfield *spec, int partial);

/* Checks and, on problems, replies 422 with the first problem's code and field
 * and all problems in "details"; returns -1. Returns 0 when all is well. */
int jspec_check_or_reply(struct req *r, json_t *obj, const struct jfield *spec, int partial);


/* Convenience getters: string or NULL; integer or def. */
const char *jstr(json_t *obj, const char *key);
long long jint(json_t *obj, const char *key, long long def);

#endif
