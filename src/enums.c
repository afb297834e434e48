/* enums.c — coded values and labels of the registry. */
#include "enums.h"
#include <string.h>

const struct enum_val inst_types[] = {
    {"elderly_care", "养老机构", "特困供养服务机构"},
    {"child_welfare", "儿童福利机构", NULL},
    {"minor_protection", "未成年人救助保护机构", NULL},
    {"social_welfare", "综合性社会福利机构", "社会福利院"},
    {"mental_welfare", "精神卫生福利机构", NULL},
    {"other", "其他", NULL},
    {NULL, NULL, NULL},
};

const struct enum_val inst_ownerships[] = {
    {"public", "公办", NULL},
    {"private", "民办", NULL},
    {"public_private", "公建民营", NULL},
    {NULL, NULL, NULL},
};

const struct enum_val inst_medicals[] = {
    {"internal", "内设医疗机构", NULL},
    {"contracted", "签约医疗机构", NULL},
    {"none", "无", "未配备"},
    {NULL, NULL, NULL},
};

const struct enum_val inst_statuses[] = {
    {"normal", "正常运营", "正常"},
    {"closed", "封闭管理", NULL},
    {"partial", "部分恢复", NULL},
    {"resumed", "恢复服务", NULL},
    {"suspended", "暂停服务", "暂停"},
    {NULL, NULL, NULL},
};

const struct enum_val risk_levels[] = {
    {"high", "高风险", "高"},
    {"medium", "中风险", "中"},
    {"low", "低风险", "低"},
    {NULL, NULL, NULL},
};

const char *enum_label(const struct enum_val *t, const char *code)
{
	for (; code && t->code; t++)
		if (strcmp(t->code, code) == 0)
			return t->zh;
	return "";
}

const char *enum_parse(const struct enum_val *t, const char *s)
{
	for (; s && t->code; t++)
		if (!strcmp(t->code, s) || !strcmp(t->zh, s) || (t->alias && !strcmp(t->alias, s)))
			return t->code;
	return NULL;
}

int enum_valid(const struct enum_val *t, const char *code)
{
	for (; code && t->code; t++)
		if (strcmp(t->code, code) == 0)
			return 1;
	return 0;
}
