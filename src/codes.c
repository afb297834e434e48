/* codes.c — GB 11643 and GB 32100 checks and masking. */
#include "codes.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int real_date(int y, int m, int d)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1)
		return 0;
	return d <= dm[m - 1] + (m == 2 && is_leap(y));
}

static int fail(const char **code, const char **msg, const char *c, const char *m)
{
	*code = c;
	*msg = m;
	return -1;
}

int cid_check(const char *id, int today, struct cid_info *out, const char **code, const char **msg)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char map[] = "10X98765432";
	char s[19];
	if (!id || strlen(id) != 18)
		return fail(code, msg, "cid_length", "公民身份号码应为 18 位");
	for (int i = 0; i < 18; i++) {
		char c = id[i];
		if (i == 17 && (c == 'x' || c == 'X'))
			c = 'X';
		else if (!isdigit((unsigned char)c))
			return fail(code, msg, "cid_chars", "公民身份号码前 17 位应为数字，末位为数字或 X");
		s[i] = c;
	}
	s[18] = 0;
	int p = (s[0] - '0') * 10 + (s[1] - '0');
	if (!((p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) || (p >= 41 && p <= 46) ||
	      (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 || p == 81 || p == 82))
		return fail(code, msg, "cid_region", "公民身份号码的地址码不是有效的省级行政区划");
	int y = atoi((char[]){s[6], s[7], s[8], s[9], 0});
	int m = (s[10] - '0') * 10 + (s[11] - '0');
	int d = (s[12] - '0') * 10 + (s[13] - '0');
	if (y < 1900 || !real_date(y, m, d) || y * 10000 + m * 100 + d > today)
		return fail(code, msg, "cid_birth_date", "公民身份号码中的出生日期无效");
	int sum = 0;
	for (int i = 0; i < 17; i++)
		sum += (s[i] - '0') * w[i];
	if (map[sum % 11] != s[17])
		return fail(code, msg, "cid_checksum", "公民身份号码校验码错误，请核对");
	if (out) {
		memcpy(out->id, s, sizeof out->id);
		memcpy(out->birth_date, s + 6, 4);
		out->birth_date[4] = '-';
		memcpy(out->birth_date + 5, s + 10, 2);
		out->birth_date[7] = '-';
		memcpy(out->birth_date + 8, s + 12, 2);
		out->birth_date[10] = 0;
		out->sex = ((s[16] - '0') % 2) ? 'M' : 'F';
	}
	return 0;
}

void cid_mask(const char *id, char *out)
{
	size_t n = strlen(id);
	if (n <= 8) {
		memset(out, '*', n);
		out[n] = 0;
		return;
	}
	memmove(out, id, 4); /* out may be id itself (masking in place) */
	memset(out + 4, '*', n - 8);
	memmove(out + n - 4, id + n - 4, 4);
	out[n] = 0;
}

void phone_mask(const char *phone, char *out)
{
	size_t n = strlen(phone);
	size_t head = n >= 11 ? 3 : n >= 7 ? 2 : 0, tail = n >= 7 ? 4 : n >= 3 ? 1 : 0;
	memmove(out, phone, head); /* out may be phone itself (masking in place) */
	for (size_t i = head; i + tail < n; i++)
		out[i] = '*';
	memmove(out + n - tail, phone + n - tail, tail);
	out[n] = 0;
}

static const char USCC_ALPHA[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int uscc_value(char c)
{
	const char *p = c ? strchr(USCC_ALPHA, c) : NULL;
	return p ? (int)(p - USCC_ALPHA) : -1;
}

int uscc_check_char(const char *first17, char *out)
{
	/* weights 3^(i-1) mod 31 for positions 1..17 */
	int w = 1, sum = 0;
	for (int i = 0; i < 17; i++) {
		int v = uscc_value((char)toupper((unsigned char)first17[i]));
		if (v < 0)
			return -1;
		sum += v * w;
		w = (w * 3) % 31;
	}
	*out = USCC_ALPHA[(31 - sum % 31) % 31];
	return 0;
}

int uscc_check(const char *in, char *out, const char **code, const char **msg)
{
	char s[19], c;
	if (!in || strlen(in) != 18)
		return fail(code, msg, "uscc_length", "统一社会信用代码应为 18 位");
	for (int i = 0; i < 18; i++) {
		s[i] = (char)toupper((unsigned char)in[i]);
		if (uscc_value(s[i]) < 0)
			return fail(code, msg, "uscc_chars",
			            "统一社会信用代码含有无效字符（只能是数字和除 I、O、S、V、Z 以外的大写字母）");
	}
	s[18] = 0;
	/* position 1: registration authority (1-9, A-G, Y); position 2: kind */
	if (!strchr("123456789ABCDEFGY", s[0]) || s[1] == '0')
		return fail(code, msg, "uscc_authority", "统一社会信用代码的登记管理部门码或机构类别码无效");
	for (int i = 2; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return fail(code, msg, "uscc_division", "统一社会信用代码第 3-8 位应为行政区划码（数字）");
	uscc_check_char(s, &c);
	if (c != s[17])
		return fail(code, msg, "uscc_checksum", "统一社会信用代码校验码错误，请核对");
	memcpy(out, s, 19);
	return 0;
}
