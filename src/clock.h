/* clock.h — the server's notion of "now" and local calendar days.
 *
 * Dates and deadlines are in cfg.timezone (default Asia/Shanghai; TZ is set at
 * start-up). For tests the operator may name a clock file (cfg.clock_file,
 * CAREWATCH_CLOCK_FILE) holding a Unix time that the server then takes as now;
 * it is read on every call so a test can move time. It is a start-up setting,
 * never reachable through the API.
 */
#ifndef CW_CLOCK_H
#define CW_CLOCK_H
#include <stdint.h>

/* Unix seconds, from the clock file when configured. */
int64_t clock_now(void);
/* Monotonic microseconds, for latency measurement. */
int64_t clock_mono_us(void);
/* Local calendar date of t as "YYYY-MM-DD" (out holds 11 bytes). */
void clock_local_date(int64_t t, char *out);
/* Local date of t as the integer YYYYMMDD. */
int clock_local_ymd(int64_t t);
/* Local time of t as "YYYY-MM-DD HH:MM:SS" (out holds 20 bytes). */
void clock_local_datetime(int64_t t, char *out);
/* Parses "YYYY-MM-DD" (a real date) into y/m/d. 0 or -1. */
int date_parse(const char *s, int *y, int *m, int *d);
/* Unix time of local wall-clock y-m-d hh:mm:00 in cfg.timezone. */
int64_t clock_local_to_unix(int y, int m, int d, int hh, int mm);
/* Adds days to a "YYYY-MM-DD" date, writing the result to out (11 bytes). 0/-1. */
int date_add_days(const char *s, int days, char *out);

#endif
