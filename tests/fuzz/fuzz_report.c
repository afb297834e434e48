/* fuzz_report.c — a request body as the reports API sees it: JSON parsing
 * (as the dispatcher does) and checking against the shipped templates. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include "config.h"
#include "report.h"
#include "template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[600];
	(void)argc;
	(void)argv;
	config_defaults();
	if (template_load(err, sizeof err) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	json_t *values = json_object_get(body, "values");
	if (!json_is_object(values))
		values = body;
	for (int i = 0; i < template_count(); i++) {
		json_t *details = json_array();
		int warnings = 0;
		report_check(template_at(i), values, 1, details, &warnings);
		json_decref(details);
	}
	json_decref(body);
	return 0;
}
