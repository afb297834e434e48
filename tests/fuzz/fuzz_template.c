/* fuzz_template.c — the template loader: a template file's JSON through every
 * check template_load applies (sections, fields, bounds, options, rules and
 * their expressions, campaign dates). A refusal must say why. */
#include <stdint.h>
#include <stdlib.h>
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[600] = "";
	if (template_check_text("fuzz.json", (const char *)data, size, err, sizeof err) != 0 && !err[0])
		abort();
	return 0;
}
