/* jspec.c — declarative JSON input checking. */
#include "jspec.h"
#include "http.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long jint(json_t *obj, const char *key, long long def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

static void problem(json_t *arr, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(json_t *arr, const char *field, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "field", field, "code", code, "message", msg));
}

static const struct jfield *find(const struct jfield *spec, const char *name)
{
	for (; spec->name; spec++)
		if (strcmp(spec->name, name) == 0)
			return spec;
	return NULL;
}

json_t *jspec_check(json_t *obj, const struct jfield *spec, int partial)
{
	json_t *errs = json_array();
	const char *key;
	json_t *v;
	if (!json_is_object(obj)) {
		problem(errs, "", "invalid_type", "请求体必须是 JSON 对象");
		return errs;
	}
	json_object_foreach(obj, key, v)
	{
		if (!find(spec, key))
			problem(errs, key, "unknown_field", "未知字段");
	}
	for (const struct jfield *f = spec; f->name; f++) {
		const char *label = f->label ? f->label : f->name;
		v = json_object_get(obj, f->name);
		if (!v) {
			if (f->required && !partial)
				problem(errs, f->name, "required", "%s为必填项", label);
			continue;
		}
		if (json_is_null(v) && !f->nullable) {
			problem(errs, f->name, "invalid_type", "%s不能为空值", label);
			continue;
		}
		if (json_is_null(v))
			continue;
		switch (f->type) {
		case J_STR:
		case J_ENUM: {
			if (!json_is_string(v)) {
				problem(errs, f->name, "invalid_type", "%s必须是文本", label);
				break;
			}
			const char *s = json_string_value(v);
			if (f->type == J_ENUM) {
				int ok = 0;
				for (const char *const *e = f->values; e && *e; e++)
					if (strcmp(*e, s) == 0)
						ok = 1;
				if (!ok)
					problem(errs, f->name, "invalid_value", "%s的取值无效", label);
				break;
			}
			size_t n = utf8_chars(s);
			long long max = f->max ? f->max : 10000;
			if (strlen(s) != json_string_length(v))
				problem(errs, f->name, "invalid_value", "%s不能包含空字符", label);
			else if ((long long)n < f->min) {
				if (f->min == 1)
					problem(errs, f->name, "required", "%s不能为空", label);
				else
					problem(errs, f->name, "too_short", "%s至少 %lld 个字符", label, f->min);
			} else if ((long long)n > max)
				problem(errs, f->name, "too_long", "%s最多 %lld 个字符", label, max);
			break;
		}
		case J_INT:
			if (!json_is_integer(v))
				problem(errs, f->name, "invalid_type", "%s必须是整数", label);
			else if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
				problem(errs, f->name, "out_of_range", "%s必须在 %lld 到 %lld 之间", label, f->min, f->max);
			break;
		case J_NUM:
			if (!json_is_number(v))
				problem(errs, f->name, "invalid_type", "%s必须是数字", label);
			else if (json_number_value(v) < (double)f->min || json_number_value(v) > (double)f->max)
				problem(errs, f->name, "out_of_range", "%s必须在 %lld 到 %lld 之间", label, f->min, f->max);
			break;
		case J_BOOL:
			if (!json_is_boolean(v))
				problem(errs, f->name, "invalid_type", "%s必须是 true 或 false", label);
			break;
		case J_OBJ:
			if (!json_is_object(v))
				problem(errs, f->name, "invalid_type", "%s必须是对象", label);
			break;
		case J_ARR:
			if (!json_is_array(v))
				problem(errs, f->name, "invalid_type", "%s必须是数组", label);
			break;
		case J_ANY:
			break;
		}
	}
	if (json_array_size(errs) == 0) {
		json_decref(errs);
		return NULL;
	}
	return errs;
}

int jspec_check_or_reply(struct req *r, json_t *obj, const struct jfield *spec, int partial)
{
	json_t *errs = jspec_check(obj, spec, partial);
	if (!errs)
		return 0;
	json_t *first = json_array_get(errs, 0);
	const char *code = json_string_value(json_object_get(first, "code"));
	const char *field = json_string_value(json_object_get(first, "field"));
	char *msg = xstrdup(json_string_value(json_object_get(first, "message")));
	char *c = xstrdup(code), *f = xstrdup(field);
	reply_error_details(r, 422, c, msg, f, errs);
	free(msg);
	free(c);
	free(f);
	return -1;
}
