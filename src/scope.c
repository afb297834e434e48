/* scope.c — division-code prefix arithmetic. */
#include "scope.h"
#include <string.h>

int code_level(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	switch (n) {
	case 0: return 0;
	case 2: return 1;
	case 4: return 2;
	case 6: return 3;
	case 9: return 4;
	default: return -1;
	}
}

int code_shape_ok(const char *s)
{
	return code_level(s) >= 0;
}

int scope_contains(const char *scope, const char *code)
{
	size_t n = strlen(scope);
	return strncmp(scope, code, n) == 0;
}

void scope_range(const char *scope, char *lo, char *hi)
{
	size_t n = strlen(scope);
	if (n >= SCOPE_MAX)
		n = SCOPE_MAX - 1;
	memcpy(lo, scope, n);
	lo[n] = 0;
	if (n == 0) {
		/* every code is digits, which sort below '~' */
		strcpy(hi, "~");
		return;
	}
	memcpy(hi, scope, n);
	hi[n] = 0;
	hi[n - 1]++; /* '9' + 1 = ':' still sorts after every digit */
}

void code_parent(const char *code, char *out)
{
	static const size_t up[] = {0, 0, 2, 4, 6};
	int l = code_level(code);
	size_t n = l > 0 ? up[l] : 0;
	memcpy(out, code, n);
	out[n] = 0;
}
