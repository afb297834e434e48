/* log.h — structured logs: one JSON object per line on stderr.
 *
 * log_bug() marks our own defects (an invariant broken in carewatch), apart from
 * log_op() for the client's bad input or an operational condition — the
 * GNUNET_break / GNUNET_break_op split of GNU Taler.
 */
#ifndef CW_LOG_H
#define CW_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

void log_set_level(enum log_level l);
int log_parse_level(const char *s, enum log_level *out);
int log_enabled(enum log_level l);
/* msg is free text; kv is an optional already-encoded JSON fragment
 * (`"k":"v",...`, without braces) or NULL. */
void log_line(enum log_level l, const char *event, const char *kv);
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_bug(...) log_bug_at(__FILE__, __LINE__, __VA_ARGS__)
void log_bug_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
