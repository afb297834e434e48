/* scope.h — division-code prefix arithmetic (GB/T 2260 codes as scopes).
 *
 * A scope is a division code used as a prefix: "" national, "42" Hubei,
 * "4201" Wuhan, "420102" a district, "420102001" a township. An object is in a
 * scope when its division code starts with the scope. In SQL the test is
 * `code >= lo AND code < hi` with [lo, hi) from scope_range(), which an index
 * serves on both engines (codes compare bytewise: @CODE@ columns).
 */
#ifndef CW_SCOPE_H
#define CW_SCOPE_H

#define SCOPE_MAX 16

/* 1 if s is a well-formed code: "" or 2, 4, 6 or 9 digits. */
int code_shape_ok(const char *s);
/* Level of a code by its length: 0 national, 1 province, 2 prefecture,
 * 3 county, 4 township; -1 if malformed. */
int code_level(const char *s);
/* 1 if code lies inside scope (prefix test). */
int scope_contains(const char *scope, const char *code);
/* Fills [lo, hi) for SQL range tests. lo and hi hold SCOPE_MAX bytes. */
void scope_range(const char *scope, char *lo, char *hi);
/* Writes the parent code of code (one level up) into out; "" for provinces. */
void code_parent(const char *code, char *out);

#endif
