/* test_csv.c — CSV reading (encodings, RFC 4180, errors) and writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"

static int parse(const char *s, size_t n, struct csv_table *t, char *err)
{
	return csv_parse(s, n, t, err, 200);
}

static void utf8_with_and_without_bom(void **state)
{
	(void)state;
	struct csv_table t;
	char err[200];
	const char *plain = "机构名称,床位数\n湖北省养老院,120\n";
	assert_int_equal(parse(plain, strlen(plain), &t, err), 0);
	assert_string_equal(t.encoding, "UTF-8");
	assert_int_equal(t.nrows, 2);
	assert_string_equal(csv_cell(&t, 0, 0), "机构名称");
	assert_string_equal(csv_cell(&t, 1, 0), "湖北省养老院");
	assert_string_equal(csv_cell(&t, 1, 1), "120");
	assert_string_equal(csv_cell(&t, 1, 7), ""); /* missing cells read as empty */
	csv_free(&t);
	const char *bom = "\xEF\xBB\xBF" " 机构名称 ,床位数\r\n养老院,1\r\n";
	assert_int_equal(parse(bom, strlen(bom), &t, err), 0);
	assert_string_equal(csv_cell(&t, 0, 0), "机构名称"); /* BOM and spaces gone from the header */
	assert_int_equal(csv_row_line(&t, 1), 2);
	csv_free(&t);
}

static void gb18030_detected(void **state)
{
	(void)state;
	const char *utf8 = "名称,地址\n养老院,湖北省武汉市\n";
	char gb[256], *in = (char *)utf8, *out = gb;
	size_t inl = strlen(utf8), outl = sizeof gb;
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	assert_int_not_equal(iconv(cd, &in, &inl, &out, &outl), (size_t)-1);
	iconv_close(cd);
	size_t n = sizeof gb - outl;
	assert_int_not_equal(memcmp(gb, utf8, n < strlen(utf8) ? n : strlen(utf8)), 0); /* really re-encoded */
	struct csv_table t;
	char err[200];
	assert_int_equal(parse(gb, n, &t, err), 0);
	assert_string_equal(t.encoding, "GB18030");
	assert_string_equal(csv_cell(&t, 1, 0), "养老院");
	assert_string_equal(csv_cell(&t, 1, 1), "湖北省武汉市");
	csv_free(&t);
}

static void quoting(void **state)
{
	(void)state;
	struct csv_table t;
	char err[200];
	const char *s = "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,end\n\n";
	assert_int_equal(parse(s, strlen(s), &t, err), 0);
	assert_int_equal(t.nrows, 3);
	assert_string_equal(csv_cell(&t, 1, 0), "x, y");
	assert_string_equal(csv_cell(&t, 1, 1), "say \"hi\"");
	assert_string_equal(csv_cell(&t, 1, 2), "two\nlines");
	assert_int_equal(csv_row_line(&t, 2), 4); /* the quoted newline counts */
	assert_string_equal(csv_cell(&t, 2, 1), "");
	assert_int_equal(csv_row_cols(&t, 2), 3);
	csv_free(&t);
}

static void errors(void **state)
{
	(void)state;
	struct csv_table t;
	char err[200];
	const char *open = "a,b\n1,\"unterminated\n";
	assert_int_equal(parse(open, strlen(open), &t, err), -1);
	assert_non_null(strstr(err, "第 2 行"));
	const char *stray = "a,b\n1,x\"y\n";
	assert_int_equal(parse(stray, strlen(stray), &t, err), -1);
	const char *junk = "a,b\n\"q\"z,1\n";
	assert_int_equal(parse(junk, strlen(junk), &t, err), -1);
	const char bin[] = {'a', ',', 0, 'b', '\n', (char)0xff};
	assert_int_equal(parse(bin, sizeof bin, &t, err), -1);
	/* bytes valid in neither UTF-8 nor GB18030 */
	const char bad[] = {'a', '\n', (char)0x81, (char)0x20, '\n'};
	assert_int_equal(parse(bad, sizeof bad, &t, err), -1);
	assert_non_null(strstr(err, "第 2 行"));
}

static void writer(void **state)
{
	(void)state;
	struct buf b = {0};
	csv_write_bom(&b);
	csv_write_field(&b, "名称");
	csv_write_field(&b, "a,b");
	csv_write_field(&b, "say \"hi\"");
	csv_end_row(&b);
	csv_write_field(&b, "=HYPERLINK(\"x\")");
	csv_write_field(&b, "-12.5");
	csv_write_field(&b, "@SUM(A1)");
	csv_write_field(&b, "");
	csv_write_field(&b, "+86 27");
	csv_end_row(&b);
	assert_string_equal(b.data, "\xEF\xBB\xBF名称,\"a,b\",\"say \"\"hi\"\"\"\r\n"
	                            "\"'=HYPERLINK(\"\"x\"\")\",-12.5,\"'@SUM(A1)\",,\"'+86 27\"\r\n");
	/* what we write, we read back */
	struct csv_table t;
	char err[200];
	assert_int_equal(parse(b.data, b.len, &t, err), 0);
	assert_string_equal(csv_cell(&t, 0, 2), "say \"hi\"");
	assert_string_equal(csv_cell(&t, 1, 1), "-12.5");
	csv_free(&t);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(utf8_with_and_without_bom), cmocka_unit_test(gb18030_detected),
	    cmocka_unit_test(quoting), cmocka_unit_test(errors), cmocka_unit_test(writer),
	};
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
