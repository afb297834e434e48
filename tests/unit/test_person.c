/* test_person.c — risk scoring (SPEC §3.6), visit due dates across month and
 * year ends, and the personal-data cipher: round trip, binding to field and
 * record, tampering, a wrong key, the keyed hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "config.h"
#include "person.h"
#include "pii.h"

static void risk_scores(void **state)
{
	(void)state;
	const char *cls;
	json_t *why = json_array();
	/* today 2026-12-28 */
	assert_int_equal(person_risk("1940-03-12", 20261228, "unstable", "none", &cls, why), 6);
	assert_string_equal(cls, "red");
	assert_int_equal(json_array_size(why), 3);
	assert_int_equal(person_risk("1946-12-29", 20261228, "none", "full", &cls, NULL), 1); /* 79 until tomorrow */
	assert_string_equal(cls, "green");
	assert_int_equal(person_risk("1946-12-28", 20261228, "none", "full", &cls, NULL), 2); /* 80 today */
	assert_string_equal(cls, "yellow");
	assert_int_equal(person_risk("1961-12-28", 20261228, "stable", "incomplete", &cls, NULL), 3); /* 65 */
	assert_string_equal(cls, "yellow");
	assert_int_equal(person_risk("1962-01-01", 20261228, "none", "none", &cls, NULL), 2); /* 64 */
	assert_int_equal(person_risk("2015-05-05", 20261228, "none", "full", &cls, NULL), 0);
	assert_string_equal(cls, "green");
	assert_int_equal(person_risk("1950-01-01", 20261228, "stable", "incomplete", &cls, NULL), 3);
	assert_int_equal(person_risk("1930-01-01", 20261228, "stable", "incomplete", &cls, NULL), 4);
	assert_string_equal(cls, "red");
	/* the text form an import stores is what json_dumps makes of the reasons */
	static const char *const cases[][3] = {{"1940-03-12", "unstable", "none"}, {"1961-12-28", "stable", "incomplete"},
	                                       {"2015-05-05", "none", "full"}, {"1946-12-28", "none", "incomplete"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *r = json_array();
		char text[512];
		const char *c1, *c2;
		int s1 = person_risk(cases[i][0], 20261228, cases[i][1], cases[i][2], &c1, r);
		int s2 = person_risk_text(cases[i][0], 20261228, cases[i][1], cases[i][2], &c2, text, sizeof text);
		char *dumped = json_dumps(r, JSON_COMPACT);
		assert_int_equal(s1, s2);
		assert_string_equal(c1, c2);
		assert_string_equal(text, dumped);
		free(dumped);
		json_decref(r);
	}
	char small[20];
	assert_int_equal(person_risk_text("1940-03-12", 20261228, "unstable", "none", &cls, small, sizeof small), -1);
	assert_int_equal(person_age("2000-02-29", 20250228), 24);
	assert_int_equal(person_age("2000-02-29", 20250301), 25);
	json_decref(why);
}

static void due_dates(void **state)
{
	(void)state;
	char due[11];
	config_defaults();
	person_next_due("at_home", "red", "2026-12-28", "2026-01-01", due);
	assert_string_equal(due, "2027-01-04");
	person_next_due("at_home", "green", "2027-01-31", "2026-01-01", due);
	assert_string_equal(due, "2027-03-02");
	person_next_due("at_home", "yellow", "2028-02-20", "2026-01-01", due);
	assert_string_equal(due, "2028-03-06"); /* a leap year */
	person_next_due("in_hospital", "green", "", "2026-12-28", due);
	assert_string_equal(due, "2027-01-27"); /* never visited: from registration */
	person_next_due("moved", "red", "2026-12-28", "2026-01-01", due);
	assert_string_equal(due, "");
	person_next_due("deceased", "red", "", "2026-01-01", due);
	assert_string_equal(due, "");
	/* calendar arithmetic under it */
	assert_int_equal(date_add_days("2024-02-28", 1, due), 0);
	assert_string_equal(due, "2024-02-29");
	assert_int_equal(date_add_days("2024-03-01", -1, due), 0);
	assert_string_equal(due, "2024-02-29");
	assert_int_equal(date_add_days("2100-02-28", 1, due), 0);
	assert_string_equal(due, "2100-03-01"); /* not a leap year */
	assert_int_equal(date_add_days("2000-02-28", 1, due), 0);
	assert_string_equal(due, "2000-02-29"); /* a leap year */
	assert_int_equal(date_add_days("1999-12-31", 1, due), 0);
	assert_string_equal(due, "2000-01-01");
	assert_int_equal(date_add_days("2026-01-01", 365, due), 0);
	assert_string_equal(due, "2027-01-01");
	assert_int_equal(date_add_days("1970-01-01", -1, due), 0);
	assert_string_equal(due, "1969-12-31");
	assert_int_equal(date_add_days("2026-13-01", 1, due), -1);
	cfg.visit_days_red = 3;
	person_next_due("at_home", "red", "2026-12-30", "", due);
	assert_string_equal(due, "2027-01-02");
	config_defaults();
}

static void cipher(void **state)
{
	(void)state;
	unsigned char key[32], other[32];
	char enc[PII_ENC_MAX], out[PII_ENC_MAX], h1[PII_HASH_LEN], h2[PII_HASH_LEN];
	assert_true(sodium_init() >= 0);
	randombytes_buf(key, sizeof key);
	randombytes_buf(other, sizeof other);
	pii_forget();
	assert_int_equal(pii_encrypt("citizen_id", "r1", "11010519491231002X", enc, sizeof enc), -1); /* no key */
	pii_set_key(key);
	assert_int_equal(pii_encrypt("citizen_id", "r1", "11010519491231002X", enc, sizeof enc), 0);
	assert_null(strstr(enc, "11010519491231002X"));
	assert_int_equal(pii_decrypt("citizen_id", "r1", enc, out, sizeof out), 0);
	assert_string_equal(out, "11010519491231002X");
	/* bound to the field and the record */
	assert_int_equal(pii_decrypt("phone", "r1", enc, out, sizeof out), -1);
	assert_int_equal(pii_decrypt("citizen_id", "r2", enc, out, sizeof out), -1);
	/* tampering */
	char bad[PII_ENC_MAX];
	strcpy(bad, enc);
	bad[30] = bad[30] == 'A' ? 'B' : 'A';
	assert_int_equal(pii_decrypt("citizen_id", "r1", bad, out, sizeof out), -1);
	/* two encryptions differ (random nonces) but the keyed hash is stable */
	char enc2[PII_ENC_MAX];
	pii_encrypt("citizen_id", "r1", "11010519491231002X", enc2, sizeof enc2);
	assert_string_not_equal(enc, enc2);
	pii_hash("11010519491231002X", h1);
	pii_hash("11010519491231002X", h2);
	assert_string_equal(h1, h2);
	/* a wrong key neither decrypts nor hashes alike */
	pii_set_key(other);
	assert_int_equal(pii_decrypt("citizen_id", "r1", enc, out, sizeof out), -1);
	pii_hash("11010519491231002X", h2);
	assert_string_not_equal(h1, h2);
	/* empty stays empty */
	assert_int_equal(pii_encrypt("phone", "r1", "", enc, sizeof enc), 0);
	assert_string_equal(enc, "");
	pii_forget();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(risk_scores),
	    cmocka_unit_test(due_dates),
	    cmocka_unit_test(cipher),
	};
	return cmocka_run_group_tests_name("person", tests, NULL, NULL);
}
