/* fuzz_jspec.c — registry request bodies through the declared JSON spec
 * (unknown fields, types, lengths in characters, bounds). */
#include <jansson.h>
#include <stdint.h>
#include "institution.h"
#include "jspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	if (!utf8_valid((const char *)data, size))
		return 0;
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!body)
		return 0;
	json_decref(jspec_check(body, inst_spec, 0));
	json_decref(jspec_check(body, inst_spec, 1));
	json_decref(body);
	return 0;
}
