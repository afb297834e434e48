/* person.c — the people registry's rules and the /api/v1/persons handlers. */
#include "person.h"
#include "audit.h"
#include "clock.h"
#include "config.h"
#include "division.h"
#include "handlers.h"
#include "http.h"
#include "pii.h"
#include "scope.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct enum_val person_categories[] = {
    {"isolated_elderly", "孤寡老人", NULL},
    {"unable_to_return_elderly", "无法返院老人", NULL},
    {"left_behind_elderly", "留守老人", NULL},
    {"left_behind_child", "留守儿童", NULL},
    {"scattered_orphan", "社会散居孤儿", "散居孤儿"},
    {"child_in_difficulty", "困境儿童", NULL},
    {"de_facto_unsupported_child", "事实无人抚养儿童", NULL},
    {"foster_child", "家庭寄养儿童", NULL},
    {"extremely_poor", "特困人员", NULL},
    {NULL, NULL, NULL},
};
const struct enum_val person_situations[] = {
    {"at_home", "居家", NULL},
    {"isolated_at_home", "居家隔离", NULL},
    {"in_hospital", "住院", NULL},
    {"in_institution", "入住机构", NULL},
    {"moved", "迁出", NULL},
    {"deceased", "已故", "死亡"},
    {NULL, NULL, NULL},
};
const struct enum_val person_chronic[] = {
    {"none", "无", "无慢性病"},
    {"stable", "慢性病稳定", "稳定"},
    {"unstable", "慢性病不稳定", "不稳定"},
    {NULL, NULL, NULL},
};
const struct enum_val person_vaccination[] = {
    {"full", "全程接种", "已全程接种"},
    {"incomplete", "未全程接种", "部分接种"},
    {"none", "未接种", NULL},
    {NULL, NULL, NULL},
};
const struct enum_val visit_modes[] = {
    {"in_person", "上门走访", "入户"},
    {"phone", "电话", "电话探视"},
    {"video", "视频", "视频探视"},
    {NULL, NULL, NULL},
};
const struct enum_val risk_classes[] = {
    {"red", "红色（高风险）", "红"},
    {"yellow", "黄色（中风险）", "黄"},
    {"green", "绿色（低风险）", "绿"},
    {NULL, NULL, NULL},
};

static const char *const chronic_codes[] = {"none", "stable", "unstable", NULL};
static const char *const vacc_codes[] = {"full", "incomplete", "none", NULL};
static const char *const situation_codes[] = {"at_home", "isolated_at_home", "in_hospital", "in_institution",
                                              "moved", "deceased", NULL};

const struct jfield person_spec[] = {
    {"name", J_STR, 1, 1, 50, NULL, "姓名", 0},
    {"citizen_id", J_STR, 1, 1, 18, NULL, "公民身份号码", 0},
    {"categories", J_ARR, 1, 0, 0, NULL, "对象类别", 0},
    {"division_code", J_STR, 1, 1, 9, NULL, "所在乡镇（街道）", 0},
    {"address", J_STR, 0, 0, 200, NULL, "住址", 0},
    {"phone", J_STR, 0, 0, 20, NULL, "联系电话", 0},
    {"guardian", J_STR, 0, 0, 100, NULL, "监护人或联系人", 0},
    {"chronic_disease", J_ENUM, 0, 0, 0, chronic_codes, "慢性病情况", 0},
    {"vaccination", J_ENUM, 0, 0, 0, vacc_codes, "疫苗接种情况", 0},
    {"situation", J_ENUM, 0, 0, 0, situation_codes, "生活状况", 0},
    {"worker_id", J_INT, 0, 0, 1LL << 62, NULL, "责任人（工作人员）", 1},
    {NULL, 0, 0, 0, 0, NULL, NULL, 0},
};

int person_age(const char *birth_date, int today)
{
	int y, m, d;
	if (date_parse(birth_date, &y, &m, &d) != 0)
		return 0;
	int age = today / 10000 - y;
	if (today % 10000 < m * 100 + d)
		age--;
	return age < 0 ? 0 : age;
}

struct reason {
	const char *factor;
	int points;
	char msg[80];
};

/* The scoring itself: up to three reasons into why; returns the score. */
static int risk_core(const char *birth_date, int today, const char *chronic, const char *vaccination,
                     const char **cls, struct reason why[3], int *nwhy)
{
	int score = 0, age = person_age(birth_date, today), n = 0;
	if (age >= 80) {
		why[n] = (struct reason){"age", 2, ""};
		snprintf(why[n++].msg, sizeof why[0].msg, "年龄 %d 岁（80 岁及以上）", age);
	} else if (age >= 65) {
		why[n] = (struct reason){"age", 1, ""};
		snprintf(why[n++].msg, sizeof why[0].msg, "年龄 %d 岁（65-79 岁）", age);
	}
	if (chronic && !strcmp(chronic, "unstable"))
		why[n++] = (struct reason){"chronic_disease", 2, "慢性病不稳定"};
	else if (chronic && !strcmp(chronic, "stable"))
		why[n++] = (struct reason){"chronic_disease", 1, "慢性病稳定"};
	if (vaccination && !strcmp(vaccination, "none"))
		why[n++] = (struct reason){"vaccination", 2, "未接种疫苗"};
	else if (vaccination && !strcmp(vaccination, "incomplete"))
		why[n++] = (struct reason){"vaccination", 1, "未全程接种疫苗"};
	for (int i = 0; i < n; i++)
		score += why[i].points;
	*nwhy = n;
	*cls = score >= 4 ? "red" : score >= 2 ? "yellow" : "green";
	return score;
}

int person_risk(const char *birth_date, int today, const char *chronic, const char *vaccination, const char **cls,
                json_t *reasons)
{
	struct reason why[3];
	int n, score = risk_core(birth_date, today, chronic, vaccination, cls, why, &n);
	for (int i = 0; reasons && i < n; i++)
		json_array_append_new(reasons, json_pack("{s:s,s:i,s:s}", "factor", why[i].factor, "points", why[i].points,
		                                         "message", why[i].msg));
	return score;
}

/* Appends s to out (outlen bytes, *len used), NUL-terminated: 0, or -1 when
 * it does not fit. */
static int put(char *out, size_t outlen, size_t *len, const char *s)
{
	size_t k = strlen(s);
	if (*len + k >= outlen)
		return -1;
	memcpy(out + *len, s, k + 1);
	*len += k;
	return 0;
}

int person_risk_text(const char *birth_date, int today, const char *chronic, const char *vaccination,
                     const char **cls, char *out, size_t outlen)
{
	struct reason why[3];
	int n, score = risk_core(birth_date, today, chronic, vaccination, cls, why, &n);
	/* what json_dumps gives for the reasons (messages and factors hold nothing
	 * to escape): [{"factor":"age","points":2,"message":"…"},…] */
	size_t len = 0;
	int bad = put(out, outlen, &len, "[");
	for (int i = 0; i < n; i++) {
		char pts[2] = {(char)('0' + why[i].points), 0};
		bad |= put(out, outlen, &len, i ? ",{\"factor\":\"" : "{\"factor\":\"");
		bad |= put(out, outlen, &len, why[i].factor);
		bad |= put(out, outlen, &len, "\",\"points\":");
		bad |= put(out, outlen, &len, pts);
		bad |= put(out, outlen, &len, ",\"message\":\"");
		bad |= put(out, outlen, &len, why[i].msg);
		bad |= put(out, outlen, &len, "\"}");
	}
	bad |= put(out, outlen, &len, "]");
	return bad ? -1 : score;
}

int visit_interval(const char *cls)
{
	if (!strcmp(cls, "red"))
		return (int)cfg.visit_days_red;
	if (!strcmp(cls, "yellow"))
		return (int)cfg.visit_days_yellow;
	return (int)cfg.visit_days_green;
}

void person_next_due(const char *situation, const char *cls, const char *last_visit, const char *registered,
                     char out[11])
{
	out[0] = 0;
	if (!strcmp(situation, "moved") || !strcmp(situation, "deceased") || !strcmp(situation, "in_institution"))
		return;
	const char *base = last_visit && *last_visit ? last_visit : registered;
	if (date_add_days(base, visit_interval(cls), out) != 0)
		out[0] = 0;
}

int person_visible(const struct user *u, const char *division)
{
	return scope_contains(u->scope, division);
}

static json_t *labelled(const struct enum_val *t, const char *code)
{
	return json_string(enum_label(t, code));
}

/* ",a,b," → ["a","b"] */
static json_t *categories_json(const char *s)
{
	json_t *a = json_array();
	const char *p = s;
	while (*p) {
		if (*p == ',') {
			p++;
			continue;
		}
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		json_array_append_new(a, json_stringn(p, n));
		p += n;
	}
	return a;
}

json_t *person_json(db_stmt *st, int unmask)
{
	const char *cats = db_column_text(st, 2), *sit = db_column_text(st, 13), *chr = db_column_text(st, 14),
	           *vac = db_column_text(st, 15), *cls = db_column_text(st, 16);
	json_t *cat = categories_json(cats), *labels = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(cat, i, c) json_array_append_new(labels, labelled(person_categories, json_string_value(c)));
	json_t *j = json_pack("{s:I,s:s,s:o,s:o,s:s,s:s,s:s}", "id", (json_int_t)db_column_int64(st, 0), "name",
	                      db_column_text(st, 1), "categories", cat, "category_labels", labels, "division_code",
	                      db_column_text(st, 3), "division_name", db_column_text(st, 4), "address",
	                      db_column_text(st, 5));
	const char *cid = db_column_text(st, 6), *phone = db_column_text(st, 7);
	char cid_plain[PII_ENC_MAX], phone_plain[PII_ENC_MAX];
	int masked = 1;
	if (unmask) {
		const char *h = db_column_text(st, 27);
		if (pii_decrypt("citizen_id", h, db_column_text(st, 26), cid_plain, sizeof cid_plain) == 0 &&
		    pii_decrypt("phone", h, db_column_text(st, 28), phone_plain, sizeof phone_plain) == 0) {
			cid = cid_plain;
			phone = phone_plain;
			masked = 0;
		} else
			json_object_set_new(j, "pii_error", json_true());
	}
	json_object_set_new(j, "citizen_id", json_string(cid));
	json_object_set_new(j, "phone", json_string(phone));
	json_object_set_new(j, "masked", json_boolean(masked));
	json_object_set_new(j, "birth_date", json_string(db_column_text(st, 8)));
	json_object_set_new(j, "sex", json_string(db_column_text(st, 9)));
	json_object_set_new(j, "age", json_integer(person_age(db_column_text(st, 8), clock_local_ymd(clock_now()))));
	json_object_set_new(j, "guardian", json_string(db_column_text(st, 10)));
	int64_t w = db_column_int64(st, 11);
	json_object_set_new(j, "worker_id", w ? json_integer(w) : json_null());
	json_object_set_new(j, "worker_name", json_string(db_column_text(st, 12)));
	json_object_set_new(j, "situation", json_string(sit));
	json_object_set_new(j, "situation_label", labelled(person_situations, sit));
	json_object_set_new(j, "chronic_disease", json_string(chr));
	json_object_set_new(j, "vaccination", json_string(vac));
	json_object_set_new(j, "risk_class", json_string(cls));
	json_object_set_new(j, "risk_label", labelled(risk_classes, cls));
	json_object_set_new(j, "risk_score", json_integer(db_column_int64(st, 17)));
	json_t *reasons = json_loads(db_column_text(st, 18), 0, NULL);
	json_object_set_new(j, "risk_reasons", reasons ? reasons : json_array());
	json_object_set_new(j, "visit_interval_days", json_integer(visit_interval(cls)));
	json_object_set_new(j, "registered", json_string(db_column_text(st, 19)));
	const char *due = db_column_text(st, 20), *last = db_column_text(st, 21);
	json_object_set_new(j, "next_due", *due ? json_string(due) : json_null());
	json_object_set_new(j, "last_visit", *last ? json_string(last) : json_null());
	json_object_set_new(j, "visit_count", json_integer(db_column_int64(st, 22)));
	json_object_set_new(j, "created_at", json_integer(db_column_int64(st, 23)));
	json_object_set_new(j, "updated_at", json_integer(db_column_int64(st, 24)));
	json_object_set_new(j, "version", json_integer(db_column_int64(st, 25)));
	return j;
}

static void add(json_t *errs, const char *field, const char *code, const char *msg)
{
	json_array_append_new(errs, json_pack("{s:s,s:s,s:s}", "field", field, "code", code, "message", msg));
}

int person_phone_ok(const char *s)
{
	int digits = 0;
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p != '-' && *p != '+' && *p != ' ')
			return 0;
	}
	return digits >= 7;
}

int person_division_check(db *d, const struct user *u, const char *div, json_t *towns, const char **code,
                          const char **msg)
{
	int level = 0, rc;
	if (towns && json_object_get(towns, div)) {
		rc = DB_ROW;
		level = 4;
	} else {
		rc = code_shape_ok(div) && *div ? division_exists(d, div, &level) : DB_DONE;
		if (towns && rc == DB_ROW && level == 4)
			json_object_set_new(towns, div, json_true());
	}
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	*code = rc == DB_DONE ? "unknown_division"
	        : level != 4 ? "division_level"
	        : !scope_contains(u ? u->scope : "", div) ? "out_of_scope"
	                                                  : NULL;
	*msg = rc == DB_DONE ? "行政区划代码不存在"
	       : level != 4 ? "服务对象须登记到乡镇（街道）一级"
	                    : "所在区划不在您的管辖范围内";
	return *code ? 1 : 0;
}

int person_worker_check(db *d, int64_t worker, const char *div)
{
	db_stmt *st = db_prepare(d, "SELECT role, scope FROM users WHERE id = $1 AND disabled = 0");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", worker);
	int rc = db_step(st), ok = 0;
	if (rc == DB_ROW) {
		const char *role = db_column_text(st, 0);
		ok = (!strcmp(role, "worker") || !strcmp(role, "official")) && scope_contains(db_column_text(st, 1), div);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	return !ok;
}

int person_check(db *d, const struct user *u, json_t *obj, int today, json_t *errs, struct cid_info *ci,
                 json_t *towns)
{
	json_t *cats = json_object_get(obj, "categories");
	if (cats) {
		size_t i, k;
		json_t *c;
		int bad = !json_is_array(cats) || json_array_size(cats) == 0 || json_array_size(cats) > 9;
		json_array_foreach(cats, i, c)
		{
			if (!json_is_string(c) || !enum_valid(person_categories, json_string_value(c)))
				bad = 1;
			for (k = 0; !bad && k < i; k++)
				if (json_equal(c, json_array_get(cats, k)))
					bad = 1;
		}
		if (bad)
			add(errs, "categories", "invalid_category",
			    "对象类别应为一个或多个有效类别（孤寡老人、留守儿童、事实无人抚养儿童等），不可重复");
	}
	const char *cid = jstr(obj, "citizen_id");
	if (cid) {
		const char *code, *msg;
		if (cid_check(cid, today, ci, &code, &msg) != 0)
			add(errs, "citizen_id", code, msg);
		else
			json_object_set_new(obj, "citizen_id", json_string(ci->id));
	}
	const char *phone = jstr(obj, "phone");
	if (phone && *phone && !person_phone_ok(phone))
		add(errs, "phone", "invalid_phone", "联系电话格式错误（应为数字，可含 - 或 +）");
	const char *name = jstr(obj, "name");
	if (name && !*name)
		add(errs, "name", "required", "姓名为必填项");
	const char *div = jstr(obj, "division_code");
	if (div) {
		const char *code, *msg;
		int rc = person_division_check(d, u, div, towns, &code, &msg);
		if (rc < 0)
			return rc;
		if (rc)
			add(errs, "division_code", code, msg);
	}
	json_t *w = json_object_get(obj, "worker_id");
	if (json_is_integer(w) && div) {
		int rc = person_worker_check(d, (int64_t)json_integer_value(w), div);
		if (rc < 0)
			return rc;
		if (rc)
			add(errs, "worker_id", "invalid_worker", "责任人须为负责该乡镇（街道）的在用工作人员账号");
	}
	return 0;
}

/* ["a","b"] → ",a,b," into b */
static void categories_text(json_t *cats, struct buf *b)
{
	size_t i;
	json_t *c;
	buf_putc(b, ',');
	json_array_foreach(cats, i, c)
	{
		buf_puts(b, json_string_value(c));
		buf_putc(b, ',');
	}
}

/* The audit form of a person: nothing that identifies beyond the masked values. */
static json_t *audit_form(json_t *obj, const char *cid_masked, const char *phone_masked, const char *cls)
{
	json_t *a = json_deep_copy(obj);
	json_object_set_new(a, "citizen_id", json_string(cid_masked));
	json_object_set_new(a, "phone", json_string(phone_masked));
	if (cls)
		json_object_set_new(a, "risk_class", json_string(cls));
	return a;
}

int person_cols_make(const struct user *u, int64_t now, const struct person_in *in, struct person_cols *c)
{
	const char *phone = in->phone ? in->phone : "";
	if (!pii_ready())
		return -1;
	pii_hash(in->ci.id, c->hash);
	c->cid_key = pii_hash_key(c->hash);
	if (pii_encrypt("citizen_id", c->hash, in->ci.id, c->cid_enc, sizeof c->cid_enc) != 0 ||
	    pii_encrypt("phone", c->hash, phone, c->phone_enc, sizeof c->phone_enc) != 0)
		return -1;
	cid_mask(in->ci.id, c->cid_masked);
	cw_strlcpy(c->phone_masked, phone, sizeof c->phone_masked);
	phone_mask(c->phone_masked, c->phone_masked);
	/* the local date, worked out once per time stamp (an import shares one) */
	static _Thread_local int64_t last_now = -1;
	static _Thread_local char last_today[11];
	static _Thread_local int last_ymd;
	if (now != last_now) {
		clock_local_date(now, last_today);
		last_ymd = clock_local_ymd(now);
		last_now = now;
	}
	memcpy(c->today, last_today, sizeof c->today);
	c->score = person_risk_text(in->ci.birth_date, last_ymd, in->chronic ? in->chronic : "none",
	                            in->vaccination ? in->vaccination : "full", &c->cls, c->reasons, sizeof c->reasons);
	if (c->score < 0)
		return -1;
	person_next_due(in->situation ? in->situation : "at_home", c->cls, NULL, c->today, c->due);
	c->sex[0] = in->ci.sex;
	c->sex[1] = 0;
	c->worker = in->worker;
	if (!c->worker && in->worker_default && u && u->role == ROLE_WORKER)
		c->worker = u->id; /* a worker registers the people in their own care */
	return 0;
}

void person_in_json(json_t *obj, const struct cid_info *ci, struct buf *cats, struct person_in *in)
{
	json_t *w = json_object_get(obj, "worker_id");
	categories_text(json_object_get(obj, "categories"), cats);
	*in = (struct person_in){jstr(obj, "name"), buf_str(cats), jstr(obj, "division_code"), jstr(obj, "address"),
	                         jstr(obj, "phone"), jstr(obj, "guardian"), jstr(obj, "chronic_disease"),
	                         jstr(obj, "vaccination"), jstr(obj, "situation"),
	                         json_is_integer(w) ? (int64_t)json_integer_value(w) : 0, !w, *ci};
}

int person_insert(db *d, const struct user *u, int64_t now, json_t *obj, const struct cid_info *ci, int64_t *id)
{
	struct person_cols c;
	struct person_in in;
	struct buf cats = {0};
	int rc = DB_ERROR;
	person_in_json(obj, ci, &cats, &in);
	if (person_cols_make(u, now, &in, &c) != 0)
		goto cleanup;
	db_stmt *st = db_prepare(d, "INSERT INTO persons(" PERSON_INSERT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	                            "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22, $23) RETURNING id");
	if (!st)
		goto cleanup;
	rc = person_bind(st, 0, &in, &c, now);
	if (rc == 0)
		rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_column_int64(st, 0);
	db_reset(st);
	if (rc != DB_ROW) {
		rc = rc == DB_DONE || rc == 0 ? DB_ERROR : rc;
		goto cleanup;
	}
	json_t *after = audit_form(obj, c.cid_masked, c.phone_masked, c.cls);
	rc = audit_write_id(d, u, now, "person.create", "person", *id, in.division_code, NULL, after);
	json_decref(after);
cleanup:
	buf_free(&cats);
	return rc;
}

int person_bind(db_stmt *st, int base, const struct person_in *in, const struct person_cols *c, int64_t now)
{
	int rc = db_bind_text_static(st, base + 1, in->name);
	rc = rc ? rc : db_bind_text_static(st, base + 2, in->categories);
	rc = rc ? rc : db_bind_text_static(st, base + 3, in->division_code);
	rc = rc ? rc : db_bind_text_static(st, base + 4, in->address ? in->address : "");
	rc = rc ? rc : db_bind_text_static(st, base + 5, c->cid_enc);
	rc = rc ? rc : db_bind_text_static(st, base + 6, c->hash);
	rc = rc ? rc : db_bind_text_static(st, base + 7, c->cid_masked);
	rc = rc ? rc : db_bind_text_static(st, base + 8, c->phone_enc);
	rc = rc ? rc : db_bind_text_static(st, base + 9, c->phone_masked);
	rc = rc ? rc : db_bind_text_static(st, base + 10, in->ci.birth_date);
	rc = rc ? rc : db_bind_text_static(st, base + 11, c->sex);
	rc = rc ? rc : db_bind_text_static(st, base + 12, in->guardian ? in->guardian : "");
	rc = rc ? rc : c->worker ? db_bind_int64(st, base + 13, c->worker) : db_bind_null(st, base + 13);
	rc = rc ? rc : db_bind_text_static(st, base + 14, in->situation ? in->situation : "at_home");
	rc = rc ? rc : db_bind_text_static(st, base + 15, in->chronic ? in->chronic : "none");
	rc = rc ? rc : db_bind_text_static(st, base + 16, in->vaccination ? in->vaccination : "full");
	rc = rc ? rc : db_bind_text_static(st, base + 17, c->cls);
	rc = rc ? rc : db_bind_int64(st, base + 18, c->score);
	rc = rc ? rc : db_bind_text_static(st, base + 19, c->reasons);
	rc = rc ? rc : db_bind_text_static(st, base + 20, c->today);
	rc = rc ? rc : db_bind_text_static(st, base + 21, c->due[0] ? c->due : NULL);
	rc = rc ? rc : db_bind_int64(st, base + 22, now);
	rc = rc ? rc : db_bind_int64(st, base + 23, c->cid_key);
	return rc;
}

/* ---------- handlers ---------- */

int pii_ready_or_reply(struct req *r)
{
	if (pii_ready())
		return 0;
	reply_error(r, 503, "pii_key_unavailable",
	            "个人信息密钥不可用，暂不能访问服务对象数据，请联系系统管理员（Personal-data key unavailable）", NULL);
	return -1;
}

int person_unmask_wanted(struct req *r)
{
	const char *m = req_query(r, "masked");
	return (r->user.caps & CAP_PII) && !(m && !strcmp(m, "1"));
}

struct view_ctx {
	struct req *r;
	const char *action, *object_id, *division;
	json_t *after;
};

static int view_txn(db *d, void *vc)
{
	struct view_ctx *c = vc;
	return audit_write(d, &c->r->user, c->r->now, c->action, "person", c->object_id, c->division, NULL, c->after);
}

int person_audit_view(struct req *r, const char *action, const char *object_id, const char *division, json_t *after)
{
	struct view_ctx c = {r, action, object_id, division, after};
	return db_txn(r->db, 1, view_txn, &c);
}

/* Loads one visible person; unmask decrypts. */
static int load(struct req *r, int64_t id, int unmask, json_t **out, char *div)
{
	db_stmt *st = db_prepare(r->db, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.id = $1");
	if (!st)
		return reply_db_error(r, DB_ERROR), -1;
	db_bindf(st, "I", id);
	int rc = db_step(st);
	*out = NULL;
	if (rc == DB_ROW && person_visible(&r->user, db_column_text(st, 3))) {
		*out = person_json(st, unmask);
		if (div)
			cw_strlcpy(div, db_column_text(st, 3), SCOPE_MAX);
	}
	db_reset(st);
	if (*out)
		return 0;
	if (rc == DB_ROW || rc == DB_DONE)
		return reply_error(r, 404, "not_found", "未找到该服务对象，或不在您的权限范围内", NULL), -1;
	return reply_db_error(r, rc), -1;
}

int person_load_or_reply(struct req *r, int64_t id, json_t **out, char *div)
{
	return load(r, id, 0, out, div);
}

int h_person_get(struct req *r)
{
	int64_t id;
	json_t *j;
	char div[SCOPE_MAX], oid[24];
	int unmask = person_unmask_wanted(r);
	if (pii_ready_or_reply(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0 || load(r, id, unmask, &j, div) != 0)
		return 0;
	if (unmask && !json_is_true(json_object_get(j, "masked"))) {
		snprintf(oid, sizeof oid, "%lld", (long long)id);
		json_t *after = json_pack("{s:[s,s]}", "fields", "citizen_id", "phone");
		int rc = person_audit_view(r, "person.view_pii", oid, div, after);
		json_decref(after);
		if (rc != 0) {
			json_decref(j);
			return reply_db_error(r, rc); /* no audit row, no unmasked data */
		}
	}
	return reply_json(r, 200, j);
}

/* Reads the filters shared by lists and exports; replies 400 on bad input. */
int person_filters_or_reply(struct req *r, struct person_filter *f)
{
	memset(f, 0, sizeof *f);
	if (req_division_or_reply(r, "division", f->division) != 0)
		return -1;
	const char *cat = req_query(r, "category"), *q = req_query(r, "q"), *cid = req_query(r, "citizen_id");
	const char *risk = req_query(r, "risk_class"), *worker = req_query(r, "worker");
	if (cat && *cat) {
		if (!enum_valid(person_categories, cat))
			return reply_error(r, 400, "invalid_query", "查询参数 category 的取值无效", "category"), -1;
		snprintf(f->category, sizeof f->category, "%%,%s,%%", cat);
	}
	if (risk && *risk) {
		if (!enum_valid(risk_classes, risk))
			return reply_error(r, 400, "invalid_query", "查询参数 risk_class 的取值无效", "risk_class"), -1;
		cw_strlcpy(f->risk, risk, sizeof f->risk);
	}
	if (q && *q) {
		if (utf8_chars(q) > 50)
			return reply_error(r, 400, "invalid_query", "搜索词过长", "q"), -1;
		struct buf pat = {0};
		buf_putc(&pat, '%');
		for (const char *p = q; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				buf_putc(&pat, '\\');
			buf_putc(&pat, *p);
		}
		buf_putc(&pat, '%');
		cw_strlcpy(f->name, buf_str(&pat), sizeof f->name);
		buf_free(&pat);
	}
	if (cid && *cid) {
		char norm[19];
		size_t n = strlen(cid);
		if (n != 18)
			return reply_error(r, 400, "invalid_query", "按身份证号查询须输入完整的 18 位号码", "citizen_id"), -1;
		memcpy(norm, cid, 19);
		if (norm[17] == 'x')
			norm[17] = 'X';
		pii_hash(norm, f->cid_hash);
		f->cid_key = pii_hash_key(f->cid_hash);
	}
	if (worker && *worker) {
		if (!strcmp(worker, "me"))
			f->worker = r->user.id;
		else {
			char *end;
			long long w = strtoll(worker, &end, 10);
			if (*end || w <= 0)
				return reply_error(r, 400, "invalid_query", "查询参数 worker 应为用户编号或 me", "worker"), -1;
			f->worker = w;
		}
	}
	scope_range(f->division, f->lo, f->hi);
	return 0;
}

int person_where_bind(db_stmt *st, const struct person_filter *f)
{
	return db_bindf(st, "tttttItI", f->lo, f->hi, f->category, f->name, f->cid_hash, f->worker, f->risk, f->cid_key);
}

int h_persons_list(struct req *r)
{
	struct person_filter f;
	long limit, offset;
	int64_t total = 0;
	if (pii_ready_or_reply(r) != 0 || person_filters_or_reply(r, &f) != 0 ||
	    req_paging_or_reply(r, 20, 500, &limit, &offset) != 0)
		return 0;
	int unmask = person_unmask_wanted(r);
	int by_cid = f.cid_hash[0] != 0;
	db_stmt *st = db_prepare(r->db, by_cid ? "SELECT COUNT(*) FROM persons p " PERSON_WHERE(PERSON_BY_CID)
	                                       : "SELECT COUNT(*) FROM persons p " PERSON_WHERE(PERSON_ANY_CID));
	int rc = st ? person_where_bind(st, &f) : DB_ERROR;
	if (rc == 0 && (rc = db_step(st)) == DB_ROW)
		total = db_column_int64(st, 0);
	if (st)
		db_reset(st);
	if (rc != DB_ROW)
		return reply_db_error(r, rc);
	st = db_prepare(r->db, by_cid ? "SELECT " PERSON_COLS PERSON_FROM PERSON_WHERE(PERSON_BY_CID)
	                                "ORDER BY " PERSON_ORDER("p") " LIMIT $9 OFFSET $10"
	                              : "SELECT " PERSON_COLS PERSON_FROM PERSON_WHERE(PERSON_ANY_CID)
	                                "ORDER BY " PERSON_ORDER("p") " LIMIT $9 OFFSET $10");
	json_t *items = json_array(), *ids = json_array();
	rc = st ? person_where_bind(st, &f) : DB_ERROR;
	rc = rc ? rc : db_bind_int64(st, 9, (int64_t)limit);
	rc = rc ? rc : db_bind_int64(st, 10, (int64_t)offset);
	while ((rc == 0 || rc == DB_ROW) && (rc = db_step(st)) == DB_ROW) {
		json_array_append_new(items, person_json(st, unmask));
		json_array_append_new(ids, json_integer(db_column_int64(st, 0)));
	}
	db_reset(st);
	if (rc == DB_DONE && unmask && json_array_size(ids)) {
		json_t *after = json_pack("{s:[s,s],s:O,s:s}", "fields", "citizen_id", "phone", "ids", ids, "division",
		                          f.division);
		rc = person_audit_view(r, "person.list_pii", "list", f.division, after);
		json_decref(after);
		if (rc == 0)
			rc = DB_DONE;
	}
	json_decref(ids);
	if (rc != DB_DONE) {
		json_decref(items);
		return reply_db_error(r, rc);
	}
	return reply_json(r, 200, json_pack("{s:o,s:I,s:b}", "items", items, "total", (json_int_t)total, "masked", !unmask));
}

static int reply_problems(struct req *r, json_t *errs)
{
	json_t *first = json_array_get(errs, 0);
	char code[48], field[64], msg[300];
	cw_strlcpy(code, json_string_value(json_object_get(first, "code")), sizeof code);
	cw_strlcpy(field, json_string_value(json_object_get(first, "field")), sizeof field);
	cw_strlcpy(msg, json_string_value(json_object_get(first, "message")), sizeof msg);
	return reply_error_details(r, 422, code, msg, field, errs);
}

struct create_ctx {
	struct req *r;
	json_t *errs;
	int64_t id;
	int64_t duplicates;
};

static int create_txn(db *d, void *vc)
{
	struct create_ctx *c = vc;
	struct cid_info ci;
	json_array_clear(c->errs);
	int rc = person_check(d, &c->r->user, c->r->json, clock_local_ymd(c->r->now), c->errs, &ci, NULL);
	if (rc != 0)
		return rc;
	if (json_array_size(c->errs))
		return DB_APP;
	char hash[PII_HASH_LEN];
	pii_hash(ci.id, hash);
	rc = db_query_int64(d, &c->duplicates, "SELECT COUNT(*) FROM persons p WHERE " PERSON_CID_MATCH("p", "$1", "$2"),
	                    "It", pii_hash_key(hash), hash);
	if (rc != DB_ROW)
		return rc;
	return person_insert(d, &c->r->user, c->r->now, c->r->json, &ci, &c->id);
}

int h_persons_create(struct req *r)
{
	if (pii_ready_or_reply(r) != 0 || jspec_check_or_reply(r, r->json, person_spec, 0) != 0)
		return 0;
	struct create_ctx c = {r, json_array(), 0, 0};
	int rc = db_txn(r->db, 1, create_txn, &c);
	if (rc == DB_APP)
		return reply_problems(r, c.errs);
	json_decref(c.errs);
	if (rc != 0)
		return reply_db_error(r, rc);
	json_t *j;
	if (load(r, c.id, 0, &j, NULL) != 0)
		return 0;
	if (c.duplicates) /* the gap check lists them; the form warns at once */
		json_object_set_new(j, "warnings", json_pack("[{s:s,s:s,s:s}]", "field", "citizen_id", "code",
		                                             "duplicate_citizen_id", "message",
		                                             "该身份证号已有登记记录，请核对是否重复登记"));
	return reply_json(r, 201, j);
}

struct patch_ctx {
	struct req *r;
	int64_t id;
	json_t *errs;
	json_t *before;
};

static int patch_txn(db *d, void *vc)
{
	struct patch_ctx *c = vc;
	struct req *r = c->r;
	char hash[PII_HASH_LEN], cid_enc[PII_ENC_MAX], phone_enc[PII_ENC_MAX], phone_plain[PII_ENC_MAX];
	char birth[11], sex[2], registered[11], last_visit[11], cid_masked[24], phone_masked[24], due[11];
	struct cid_info ci;
	json_array_clear(c->errs);
	json_decref(c->before);
	c->before = NULL;
	int lrc = db_lock_row(d, "persons", c->id); /* read, then written back */
	if (lrc != 0)
		return lrc;
	db_stmt *st = db_prepare(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.id = $1");
	if (!st)
		return DB_ERROR;
	db_bindf(st, "I", c->id);
	int rc = db_step(st);
	if (rc == DB_ROW && person_visible(&r->user, db_column_text(st, 3))) {
		c->before = person_json(st, 0);
		cw_strlcpy(hash, db_column_text(st, 27), sizeof hash);
		cw_strlcpy(cid_enc, db_column_text(st, 26), sizeof cid_enc);
		cw_strlcpy(phone_enc, db_column_text(st, 28), sizeof phone_enc);
		cw_strlcpy(birth, db_column_text(st, 8), sizeof birth);
		cw_strlcpy(sex, db_column_text(st, 9), sizeof sex);
		cw_strlcpy(registered, db_column_text(st, 19), sizeof registered);
		cw_strlcpy(last_visit, db_column_text(st, 21), sizeof last_visit);
		cw_strlcpy(cid_masked, db_column_text(st, 6), sizeof cid_masked);
		cw_strlcpy(phone_masked, db_column_text(st, 7), sizeof phone_masked);
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (!c->before)
		return DB_DONE;
	/* the merged record, checked as a whole (citizen ID and phone only when given) */
	json_t *m = json_object();
	static const char *const keep[] = {"name", "categories", "division_code", "address", "guardian",
	                                   "chronic_disease", "vaccination", "situation", "worker_id", NULL};
	for (int i = 0; keep[i]; i++)
		json_object_set(m, keep[i], json_object_get(c->before, keep[i]));
	const char *k;
	json_t *v;
	json_object_foreach(r->json, k, v) json_object_set(m, k, v);
	rc = person_check(d, &r->user, m, clock_local_ymd(r->now), c->errs, &ci, NULL);
	if (rc == 0 && json_array_size(c->errs))
		rc = DB_APP;
	const char *new_phone = jstr(r->json, "phone");
	if (rc == 0 && jstr(m, "citizen_id")) {
		/* a new ID: a new hash, and the phone bound to it */
		if (!new_phone && pii_decrypt("phone", hash, phone_enc, phone_plain, sizeof phone_plain) != 0)
			rc = DB_ERROR;
		else {
			if (!new_phone)
				new_phone = phone_plain;
			pii_hash(ci.id, hash);
			if (pii_encrypt("citizen_id", hash, ci.id, cid_enc, sizeof cid_enc) != 0)
				rc = DB_ERROR;
			cid_mask(ci.id, cid_masked);
			cw_strlcpy(birth, ci.birth_date, sizeof birth);
			sex[0] = ci.sex;
			sex[1] = 0;
		}
	}
	if (rc == 0 && new_phone) {
		if (pii_encrypt("phone", hash, new_phone, phone_enc, sizeof phone_enc) != 0)
			rc = DB_ERROR;
		cw_strlcpy(phone_masked, new_phone, sizeof phone_masked);
		phone_mask(phone_masked, phone_masked);
	}
	sodium_memzero(phone_plain, sizeof phone_plain);
	if (rc != 0) {
		json_decref(m);
		return rc;
	}
	const char *cls;
	json_t *reasons = json_array();
	int score = person_risk(birth, clock_local_ymd(r->now), jstr(m, "chronic_disease"), jstr(m, "vaccination"), &cls,
	                        reasons);
	person_next_due(jstr(m, "situation"), cls, last_visit, registered, due);
	char *rtext = json_dumps(reasons, JSON_COMPACT);
	json_decref(reasons);
	struct buf cats = {0};
	categories_text(json_object_get(m, "categories"), &cats);
	json_t *w = json_object_get(m, "worker_id");
	st = db_prepare(d, "UPDATE persons SET name = $1, categories = $2, division_code = $3, address = $4, "
	                   "cid_enc = $5, cid_hash = $6, cid_masked = $7, phone_enc = $8, phone_masked = $9, "
	                   "birth_date = $10, sex = $11, guardian = $12, worker_id = $13, situation = $14, "
	                   "chronic_disease = $15, vaccination = $16, risk_class = $17, risk_score = $18, "
	                   "risk_reasons = $19, next_due = $20, updated_at = $21, cid_key = $23, version = version + 1 "
	                   "WHERE id = $22");
	rc = st ? db_bindf(st, "tttttttttttt", jstr(m, "name"), buf_str(&cats), jstr(m, "division_code"),
	                   jstr(m, "address"), cid_enc, hash, cid_masked, phone_enc, phone_masked, birth, sex,
	                   jstr(m, "guardian"))
	        : DB_ERROR;
	if (rc == 0) {
		if (json_is_integer(w))
			db_bind_int64(st, 13, (int64_t)json_integer_value(w));
		else
			db_bind_null(st, 13);
		db_bind_text(st, 14, jstr(m, "situation"));
		db_bind_text(st, 15, jstr(m, "chronic_disease"));
		db_bind_text(st, 16, jstr(m, "vaccination"));
		db_bind_text(st, 17, cls);
		db_bind_int64(st, 18, score);
		db_bind_text(st, 19, rtext);
		db_bind_text(st, 20, due[0] ? due : NULL);
		db_bind_int64(st, 21, r->now);
		db_bind_int64(st, 22, c->id);
		db_bind_int64(st, 23, pii_hash_key(hash));
		rc = db_step(st);
		rc = rc == DB_DONE ? 0 : rc;
	}
	if (st)
		db_reset(st);
	free(rtext);
	buf_free(&cats);
	/* subsidies carry the division for scoped lists */
	if (rc == 0 && db_run(d, "UPDATE subsidies SET division_code = $1 WHERE person_id = $2", "tI",
	                      jstr(m, "division_code"), c->id) < 0)
		rc = DB_ERROR;
	if (rc == 0) {
		json_t *after = audit_form(m, cid_masked, phone_masked, cls);
		json_t *bef = json_deep_copy(c->before);
		rc = audit_write_id(d, &r->user, r->now, "person.update", "person", c->id, jstr(m, "division_code"), bef,
		                    after);
		json_decref(bef);
		json_decref(after);
	}
	json_decref(m);
	return rc;
}

int h_person_patch(struct req *r)
{
	int64_t id;
	if (pii_ready_or_reply(r) != 0 || req_param_id_or_reply(r, 0, &id) != 0 ||
	    jspec_check_or_reply(r, r->json, person_spec, 1) != 0)
		return 0;
	if (json_object_size(r->json) == 0)
		return reply_error(r, 422, "nothing_to_change", "请求中没有要修改的内容", NULL);
	struct patch_ctx c = {r, id, json_array(), NULL};
	int rc = db_txn(r->db, 1, patch_txn, &c);
	json_decref(c.before);
	if (rc == DB_APP)
		return reply_problems(r, c.errs);
	json_decref(c.errs);
	if (rc == DB_DONE)
		return reply_error(r, 404, "not_found", "未找到该服务对象，或不在您的权限范围内", NULL);
	if (rc != 0)
		return reply_db_error(r, rc);
	json_t *j;
	if (load(r, id, 0, &j, NULL) != 0)
		return 0;
	return reply_json(r, 200, j);
}
