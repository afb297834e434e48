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

/* Adds demo people at home with visits and subsidies (demo_persons.c);
 * skipped without the personal-data key. The count, or -1 after printing why. */
int demo_persons(db *d, int64_t now, FILE *out);

#endif
