/* log.c — structured JSON-lines logging to stderr. */
#include "log.h"
#include "buf.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level l)
{
	min_level = l;
}

int log_enabled(enum log_level l)
{
	return l >= min_level;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

static void stamp(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

void log_line(enum log_level l, const char *event, const char *kv)
{
	if (l < min_level)
		return;
	char ts[40];
	stamp(ts, sizeof ts);
	struct buf b = {0};
	json_t *evs = json_string(event);
	char *ev = evs ? json_dumps(evs, JSON_ENCODE_ANY) : NULL;
	json_decref(evs);
	buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":%s", ts, names[l], ev ? ev : "\"?\"");
	free(ev);
	if (kv && *kv)
		buf_printf(&b, ",%s", kv);
	buf_puts(&b, "}\n");
	fwrite(b.data, 1, b.len, stderr);
	buf_free(&b);
}

static void vlog(enum log_level l, const char *event, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void vlog(enum log_level l, const char *event, const char *fmt, va_list ap)
{
	if (l < min_level)
		return;
	struct buf m = {0};
	buf_vprintf(&m, fmt, ap);
	json_t *s = json_string(buf_str(&m));
	if (!s) /* not UTF-8: keep the line, lose the text */
		s = json_string("(non-UTF-8 message)");
	char *enc = json_dumps(s, JSON_ENCODE_ANY);
	json_decref(s);
	struct buf kv = {0};
	buf_printf(&kv, "\"msg\":%s", enc ? enc : "\"\"");
	free(enc);
	log_line(l, event, kv.data);
	buf_free(&kv);
	buf_free(&m);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(l, "log", fmt, ap);
	va_end(ap);
}

void log_bug_at(const char *file, int line, const char *fmt, ...)
{
	struct buf m = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, "BUG %s:%d: %s", file, line, buf_str(&m));
	buf_free(&m);
}
