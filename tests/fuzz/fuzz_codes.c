/* fuzz_codes.c — GB 11643 citizen IDs and GB 32100 credit codes. A code
 * accepted once is accepted again after normalisation; masks keep length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "codes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[32], mask[64];
	const char *code, *msg;
	struct cid_info ci;
	memcpy(s, data, size);
	s[size] = 0;
	if (cid_check(s, 20261122, &ci, &code, &msg) == 0) {
		if (cid_check(ci.id, 20261122, NULL, &code, &msg) != 0)
			abort();
		cid_mask(ci.id, mask);
		if (strlen(mask) != 18)
			abort();
	}
	if (uscc_check(s, out, &code, &msg) == 0 && uscc_check(out, out, &code, &msg) != 0)
		abort();
	if (strlen(s) < 40) {
		phone_mask(s, mask);
		if (strlen(mask) != strlen(s))
			abort();
	}
	free(s);
	return 0;
}
