/* test_codes.c — GB 11643 citizen IDs, GB 32100 credit codes, masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "codes.h"

#define TODAY 20261122

static const char *cid_code(const char *id)
{
	const char *code = "ok", *msg = NULL;
	struct cid_info ci;
	if (cid_check(id, TODAY, &ci, &code, &msg) == 0)
		return "ok";
	assert_non_null(msg);
	return code;
}

static void cid_valid_examples(void **state)
{
	(void)state;
	struct cid_info ci;
	const char *code, *msg;
	/* the example printed in GB 11643-1999 itself */
	assert_int_equal(cid_check("11010519491231002X", TODAY, &ci, &code, &msg), 0);
	assert_string_equal(ci.birth_date, "1949-12-31");
	assert_int_equal(ci.sex, 'F'); /* sequence 002: even */
	assert_string_equal(ci.id, "11010519491231002X");
	/* lower-case x is accepted and normalised */
	assert_int_equal(cid_check("11010519491231002x", TODAY, &ci, &code, &msg), 0);
	assert_string_equal(ci.id, "11010519491231002X");
	/* a 29 February in a leap year; sequence 001: odd = male; check char 7 computed by MOD 11-2 */
	assert_string_equal(cid_code("420102200002290017"), "ok");
	assert_int_equal(cid_check("420102200002290017", TODAY, &ci, &code, &msg), 0);
	assert_int_equal(ci.sex, 'M');
	assert_string_equal(ci.birth_date, "2000-02-29");
}

static void cid_invalid(void **state)
{
	(void)state;
	assert_string_equal(cid_code("110105194912310021"), "cid_checksum");    /* wrong check char */
	assert_string_equal(cid_code("11010519491231002"), "cid_length");      /* 17 chars */
	assert_string_equal(cid_code("11010519491231002XX"), "cid_length");
	assert_string_equal(cid_code(""), "cid_length");
	assert_string_equal(cid_code("1101051949123100AX"), "cid_chars");
	assert_string_equal(cid_code("11010519491231X02X"), "cid_chars");
	assert_string_equal(cid_code("420102199902300019"), "cid_birth_date"); /* 30 February */
	assert_string_equal(cid_code("420102202302290018"), "cid_birth_date"); /* 2023 not a leap year */
	assert_string_equal(cid_code("420102190002290010"), "cid_birth_date"); /* 1900 not a leap year */
	assert_string_equal(cid_code("420102203001010013"), "cid_birth_date"); /* in the future */
	assert_string_equal(cid_code("420102189912310019"), "cid_birth_date"); /* before 1900 */
	assert_string_equal(cid_code("990102200001010010"), "cid_region");
	assert_int_equal(cid_check(NULL, TODAY, NULL, &(const char *){0}, &(const char *){0}), -1);
}

static void cid_checksum_every_position(void **state)
{
	(void)state;
	/* changing any single digit of a valid number must be caught */
	const char *good = "11010519491231002X";
	for (int i = 0; i < 17; i++) {
		char id[19];
		strcpy(id, good);
		id[i] = id[i] == '9' ? '8' : (char)(id[i] + 1);
		assert_string_not_equal(cid_code(id), "ok");
	}
}

static void masking(void **state)
{
	(void)state;
	char out[32];
	cid_mask("42010220000229001X", out);
	assert_string_equal(out, "4201**********001X");
	phone_mask("13871001234", out);
	assert_string_equal(out, "138****1234");
	phone_mask("027-82801234", out);
	assert_string_equal(out, "027*****1234");
	phone_mask("12345", out);
	assert_string_equal(out, "****5");
	phone_mask("", out);
	assert_string_equal(out, "");
}

static const char *uscc_code(const char *in)
{
	char out[19];
	const char *code = "ok", *msg;
	return uscc_check(in, out, &code, &msg) == 0 ? "ok" : code;
}

static void uscc_valid(void **state)
{
	(void)state;
	char out[19];
	const char *code, *msg;
	/* published codes of real organisations */
	assert_string_equal(uscc_code("91350100M000100Y43"), "ok");
	assert_string_equal(uscc_code("911100001000072813"), "ok");
	assert_string_equal(uscc_code("91110000100010433L"), "ok");
	/* lower case is normalised */
	assert_int_equal(uscc_check("91350100m000100y43", out, &code, &msg), 0);
	assert_string_equal(out, "91350100M000100Y43");
}

static void uscc_invalid(void **state)
{
	(void)state;
	assert_string_equal(uscc_code("91350100M000100Y44"), "uscc_checksum");
	assert_string_equal(uscc_code("91350100M000100Y4"), "uscc_length");
	assert_string_equal(uscc_code("91350100I000100Y43"), "uscc_chars"); /* I is not in the alphabet */
	assert_string_equal(uscc_code("91350100O000100Y43"), "uscc_chars");
	assert_string_equal(uscc_code("9135010SM000100Y43"), "uscc_chars");
	assert_string_equal(uscc_code("91350100V000100Y43"), "uscc_chars");
	assert_string_equal(uscc_code("91350100Z000100Y43"), "uscc_chars");
	assert_string_equal(uscc_code("91350A00M000100Y43"), "uscc_division");
	assert_string_equal(uscc_code("H1350100M000100Y43"), "uscc_authority");
}

static void uscc_generator_round_trip(void **state)
{
	(void)state;
	char c, code18[19];
	const char *bases[] = {"52420102MJ0000001", "12110105400000123", "5142010273100137A"};
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		assert_int_equal(uscc_check_char(bases[i], &c), 0);
		memcpy(code18, bases[i], 17);
		code18[17] = c;
		code18[18] = 0;
		assert_string_equal(uscc_code(code18), "ok");
		/* every other check char is refused */
		const char *alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY";
		for (const char *a = alpha; *a; a++)
			if (*a != c) {
				code18[17] = *a;
				assert_string_equal(uscc_code(code18), "uscc_checksum");
			}
	}
	assert_int_equal(uscc_check_char("5242010!MJ0000001", &c), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cid_valid_examples), cmocka_unit_test(cid_invalid),
	    cmocka_unit_test(cid_checksum_every_position), cmocka_unit_test(masking),
	    cmocka_unit_test(uscc_valid), cmocka_unit_test(uscc_invalid),
	    cmocka_unit_test(uscc_generator_round_trip),
	};
	return cmocka_run_group_tests_name("codes", tests, NULL, NULL);
}
