/* buf.h — one growable byte buffer used everywhere (like Fossil's Blob / Redis sds).
 *
 * A zeroed struct buf is a valid empty buffer. The data is always NUL-terminated
 * (when non-NULL) so it can be handed to C string functions. The owner frees it
 * with buf_free(). Allocation failure aborts: the process cannot continue sanely.
 */
#ifndef CW_BUF_H
#define CW_BUF_H
#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Appends s as a JSON string: quotes, backslashes and control characters
 * escaped; valid UTF-8 passes through (callers hold valid UTF-8). */
void buf_json_str(struct buf *b, const char *s);
/* Returns the data (never NULL: "" when empty); the caller now owns it. */
char *buf_steal(struct buf *b);
/* Returns a NUL-terminated view, "" when empty. */
const char *buf_str(const struct buf *b);

/* xmalloc family: abort on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Copies src into dst of size n, always NUL-terminating; returns strlen(src). */
size_t cw_strlcpy(char *dst, const char *src, size_t n);

#endif
