/* utf8.h — UTF-8 validation and character counting. */
#ifndef CW_UTF8_H
#define CW_UTF8_H
#include <stddef.h>

/* Number of UTF-8 characters in s (a NUL-terminated valid UTF-8 string). */
size_t utf8_chars(const char *s);
/* 1 if s (len bytes) is valid UTF-8 (no overlongs, surrogates or NUL bytes). */
int utf8_valid(const char *s, size_t len);

#endif
