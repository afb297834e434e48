/* demo.h — demo data for `carewatch init --demo`. */
#ifndef CW_DEMO_H
#define CW_DEMO_H
#include <stdio.h>
#include "db.h"

/* The password of every demo user. */
#define DEMO_PASSWORD "carewatch2026"

/* Adds demo institutions and users (idempotent: does nothing when the demo
 * admin exists) and prints the logins to out. 0 or -1 after printing why. */
int demo_load(db *d, FILE *out);

#endif
