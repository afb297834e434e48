/* fuzz_pii.c — the personal-data cipher and the people rules on arbitrary
 * input: a value encrypted for a field and record decrypts to itself there and
 * nowhere else; arbitrary ciphertext text never decrypts nor crashes; risk
 * scoring and due dates take any birth date or visit date text. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "person.h"
#include "pii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
		if (sodium_init() < 0)
			abort();
		config_defaults();
		pii_set_key(key);
		ready = 1;
	}
	char *s = malloc(size + 1), enc[PII_ENC_MAX], out[PII_ENC_MAX], due[11], h[PII_HASH_LEN];
	memcpy(s, data, size);
	s[size] = 0;
	/* arbitrary text as a ciphertext: refused (a forgery would need the key) */
	if (pii_decrypt("citizen_id", "r", s, out, sizeof out) == 0 && s[0])
		abort();
	size_t n = strlen(s);
	if (n > 0 && n <= 64) {
		if (pii_encrypt("phone", s, s, enc, sizeof enc) != 0)
			abort();
		if (pii_decrypt("phone", s, enc, out, sizeof out) != 0 || strcmp(out, s) != 0)
			abort();
		if (pii_decrypt("citizen_id", s, enc, out, sizeof out) == 0)
			abort();
	}
	pii_hash(s, h);
	const char *cls;
	int score = person_risk(s, 20261130, s, s, &cls, NULL);
	if (score < 0 || score > 6)
		abort();
	person_next_due("at_home", cls, s, "2026-11-30", due);
	if (strlen(due) != 10 && due[0])
		abort();
	free(s);
	return 0;
}
