/* demo.h — demo data for `carewatch init --demo`. */
#ifndef CW_DEMO_H
#define CW_DEMO_H
#include <stdint.h>
#include <stdio.h>
#include "db.h"

/* The password of every demo user. */
#define DEMO_PASSWORD "carewatch2026"

/* Adds demo institutions and users (idempotent: does nothing when the demo
 * admin exists) and prints the logins to out. 0 or -1 after printing why. */
int demo_load(db *d, FILE *out);

/* demo_needs.c: the demo partner (湖北省慈善总会), then difficulties, needs,
 * offers and pledges for the demo institutions (ids and divisions by index).
 * Each 0 or a DB_* error. */
int demo_partner(db *d, int64_t now, int64_t *id);
int demo_needs(db *d, const int64_t *inst_ids, const char *const *inst_divs, int64_t partner, int64_t now);
/* Adds demo people at home with visits and subsidies (demo_persons.c);
 * skipped without the personal-data key. The count, or -1 after printing why. */
int demo_persons(db *d, int64_t now, FILE *out);

#endif
