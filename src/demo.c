/* demo.c — a small, real-looking demo: institutions in Wuhan, Xiaogan and
 * Beijing, and one user of each role. Every write goes through the same
 * functions as the API (inst_check/inst_insert, user_create), so demo data
 * obeys every rule. */
#include "demo.h"
#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "codes.h"
#include "institution.h"
#include "report.h"
#include "template.h"
#include "user.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *type, *ownership, *division, *address, *contact, *phone, *medical, *status;
	int beds;
} insts[] = {
    {"武汉市江岸区社会福利院", "social_welfare", "public", "420102", "江岸区解放大道1号", "李红", "027-82801234", "internal", "closed", 320},
    {"江岸区大智街敬老院", "elderly_care", "public", "420102002", "大智街道友谊路12号", "王建国", "13871001234", "contracted", "closed", 80},
    {"江岸区一元颐养中心", "elderly_care", "public_private", "420102003", "一元街道胜利街88号", "陈芳", "13971005678", "contracted", "normal", 150},
    {"武汉市儿童福利院", "child_welfare", "public", "420106", "武昌区徐家棚街道和平大道500号", "张敏", "027-88001122", "internal", "closed", 400},
    {"武昌区积玉桥养老院", "elderly_care", "private", "420106001", "积玉桥街道临江大道66号", "刘伟", "13607101111", "contracted", "partial", 120},
    {"武昌区杨园康养中心", "elderly_care", "private", "420106002", "杨园街道铁机路20号", "赵丽", "13707102222", "none", "normal", 60},
    {"洪山区珞南福利院", "elderly_care", "public", "420111001", "珞南街道珞喻路100号", "孙强", "13807103333", "contracted", "closed", 200},
    {"洪山区未成年人救助保护中心", "minor_protection", "public", "420111", "洪山区关山大道8号", "周静", "027-87654321", "contracted", "normal", 50},
    {"东西湖区精神卫生福利院", "mental_welfare", "public", "420112", "东西湖区吴家山街三秀路5号", "吴军", "027-83891234", "internal", "closed", 180},
    {"孝南区特困供养服务中心", "elderly_care", "public", "420902", "孝南区槐荫大道200号", "郑华", "0712-2881234", "contracted", "normal", 240},
    {"荆州区社会福利院", "social_welfare", "public", "421003", "荆州区荆中路9号", "黄平", "0716-8461234", "internal", "resumed", 260},
    {"北京市朝阳区第一社会福利院", "social_welfare", "public", "110105", "朝阳区十八里店南桥", "马骏", "010-67381234", "internal", "normal", 600},
};

static const struct {
	const char *login, *name, *role, *scope;
	int inst; /* 1-based index into insts for reporters */
	int pii;
	const char *what;
} users[] = {
    {"admin", "系统管理员", "admin", "", 0, 1, "national administrator (全国管理员)"},
    {"mz.hubei", "湖北省民政厅 王科长", "official", "42", 0, 0, "Hubei provincial official"},
    {"mz.wuhan", "武汉市民政局 李科长", "official", "4201", 0, 1, "Wuhan city official"},
    {"mz.jiangan", "江岸区民政局 陈干部", "official", "420102", 0, 0, "Jiang'an county official"},
    {"mz.hongshan", "洪山区民政局 周干部", "official", "420111", 0, 0, "Hongshan county official"},
    {"leader", "民政部 领导", "leader", "", 0, 0, "national leader (read-only)"},
    {"jg.dazhi", "大智街敬老院 填报员", "reporter", NULL, 2, 0, "reporter of 江岸区大智街敬老院"},
    {"jg.etfly", "武汉市儿童福利院 填报员", "reporter", NULL, 4, 0, "reporter of 武汉市儿童福利院"},
    {"cun.dazhi", "大智街道 儿童主任", "worker", "420102002", 0, 0, "township worker / child director"},
    {"ngo.hubei", "湖北省慈善总会", "partner", "42", 0, 0, "charity serving Hubei"},
};

/* A valid GB 32100 code for demo institution i: 52 (civil affairs, private
 * non-enterprise) or 12 (public institution) + division + organisation code. */
static void demo_uscc(int i, const char *division, const char *ownership, char out[19])
{
	char c;
	snprintf(out, 19, "%s%.6s%08d", strcmp(ownership, "public") == 0 ? "12" : "52", division, 73100000 + i * 137);
	/* organisation code: 8 digits + a ninth digit */
	out[16] = (char)('0' + i % 10);
	out[17] = 0;
	uscc_check_char(out, &c);
	out[17] = c;
	out[18] = 0;
}

#define DEMO_DAYS 21

/* Small deterministic generator, so every demo looks the same. */
static unsigned rnd(unsigned *s, unsigned n)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) % n;
}

/* Plausible daily values for an institution with `beds` beds on day k of an
 * outbreak that peaks in the middle of the period. */
static json_t *day_values(const struct template *t, int beds, int k, unsigned *s, double *stock)
{
	int residents = beds * (70 + (int)rnd(s, 20)) / 100;
	int staff = residents / 3 + 2;
	int wave = k < DEMO_DAYS / 2 ? k : DEMO_DAYS - k;
	int cur = residents * wave / 60 + (int)rnd(s, 3);
	int sev = cur / 8;
	json_t *v = json_object();
	int child = !strcmp(t->code, "child-daily-2022");
	json_object_set_new(v, child ? "children_present" : "residents_present", json_integer(residents));
	json_object_set_new(v, "staff_on_duty", json_integer(staff));
	json_object_set_new(v, "staff_shortage", json_integer((int)rnd(s, 3)));
	json_object_set_new(v, "closed_management", json_boolean(wave > 2));
	json_object_set_new(v, "new_infected", json_integer(wave > 0 ? (int)rnd(s, (unsigned)(wave / 2 + 2)) : 0));
	json_object_set_new(v, "currently_infected", json_integer(cur));
	json_object_set_new(v, "severe_cases", json_integer(sev));
	json_object_set_new(v, "referred_to_hospital", json_integer(sev ? (int)rnd(s, (unsigned)sev + 1) : 0));
	json_object_set_new(v, "staff_infected", json_integer((int)rnd(s, 3)));
	json_object_set_new(v, "fever_today", json_integer(cur / 2));
	if (child) {
		json_object_set_new(v, "health_check_done", json_true());
		json_object_set_new(v, "in_isolation", json_integer(cur / 2));
	} else {
		json_object_set_new(v, "new_deaths", json_integer(0));
		json_object_set_new(v, "antigen_tests", json_integer(residents / 2));
		int red = residents / 10, yellow = residents / 4;
		json_object_set_new(v, "risk_red", json_integer(red));
		json_object_set_new(v, "risk_yellow", json_integer(yellow));
		json_object_set_new(v, "risk_green", json_integer(residents - red - yellow));
		int full = residents * 8 / 10;
		json_object_set_new(v, "vaccinated_full", json_integer(full));
		json_object_set_new(v, "vaccinated_booster", json_integer(full * 6 / 10));
		json_object_set_new(v, "vaccinated_none", json_integer(residents / 10));
		json_object_set_new(v, "living_supply_days", json_integer(7 + (int)rnd(s, 20)));
		json_object_set_new(v, "emergency_plan", json_true());
	}
	for (int i = 0; i < t->nfields; i++) {
		const struct tfield *f = &t->fields[i];
		if (!f->item || strncmp(f->code, "stock_", 6) != 0)
			continue;
		int used = 1 + (int)rnd(s, (unsigned)(residents / 10 + 2));
		double *st = &stock[i];
		if (*st <= 0)
			*st = residents * 3;
		*st -= used;
		if (*st < residents / 4)
			*st += residents * 2; /* a delivery */
		char used_code[80];
		snprintf(used_code, sizeof used_code, "used_%s", f->code + 6);
		json_object_set_new(v, f->code, json_integer((json_int_t)*st));
		if (template_field(t, used_code))
			json_object_set_new(v, used_code, json_integer(used));
	}
	return v;
}

/* Three weeks of daily reports up to today, a few late and today's partly
 * missing, so the dashboard shows something real. Returns the count or -1. */
static int demo_reports(db *d, const int64_t *inst_ids, int64_t now)
{
	struct user u = {.id = 0, .role = ROLE_OFFICIAL, .scope = "", .caps = role_caps(ROLE_OFFICIAL)};
	cw_strlcpy(u.login, "demo", sizeof u.login);
	char today[11], day[11];
	clock_local_date(now, today);
	unsigned seed = 2022;
	int n = 0;
	for (size_t i = 0; i < sizeof insts / sizeof insts[0]; i++) {
		const char *tcode = !strcmp(insts[i].type, "child_welfare") || !strcmp(insts[i].type, "minor_protection")
		                        ? "child-daily-2022"
		                        : "elderly-daily-2022";
		const struct template *t = template_find(tcode);
		if (!t || !template_applies(t, insts[i].type))
			continue;
		double stock[128] = {0};
		for (int k = 0; k < DEMO_DAYS; k++) {
			date_add_days(today, k - (DEMO_DAYS - 1), day);
			if (k == DEMO_DAYS - 1 && i % 3 == 0)
				continue; /* not reported yet today */
			json_t *v = day_values(t, insts[i].beds, k, &seed, stock);
			struct cw_err e;
			int y, m, dd;
			date_parse(day, &y, &m, &dd);
			int late = rnd(&seed, 10) == 0;
			struct report_save s = {.t = t, .institution_id = inst_ids[i], .period = day, .submit = 1, .values = v,
			                        .confirm_warnings = 1, .u = &u,
			                        .now = clock_local_to_unix(y, m, dd, late ? 18 : 9 + (int)rnd(&seed, 8), 0),
			                        .details = json_array()};
			int rc = report_save(d, &s, &e);
			if (rc != 0) {
				char *det = json_dumps(s.details, JSON_COMPACT);
				fprintf(stderr, "carewatch: demo report %s %s: %s %s\n", insts[i].name, day, e.msg, det ? det : "");
				free(det);
			}
			json_decref(s.details);
			json_decref(v);
			if (rc != 0)
				return -1;
			n++;
		}
	}
	return n;
}

int demo_load(db *d, FILE *out)
{
	int64_t id = 0, inst_ids[sizeof insts / sizeof insts[0]];
	int64_t now = clock_now();
	struct cw_err e;
	if (user_find_login(d, "admin", &id) == DB_ROW) {
		fprintf(out, "demo data already present\n");
		goto print;
	}
	for (size_t i = 0; i < sizeof insts / sizeof insts[0]; i++) {
		char uscc[19];
		demo_uscc((int)i + 1, insts[i].division, insts[i].ownership, uscc);
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "name", insts[i].name, "uscc", uscc,
		                      "type", insts[i].type, "ownership", insts[i].ownership, "division_code",
		                      insts[i].division, "address", insts[i].address, "contact_name", insts[i].contact,
		                      "contact_phone", insts[i].phone, "medical", insts[i].medical, "status",
		                      insts[i].status, "beds", (json_int_t)insts[i].beds);
		json_t *errs = json_array();
		int rc = db_begin(d, 1);
		if (rc == 0)
			rc = inst_check(d, NULL, o, 0, errs);
		if (rc == 0 && json_array_size(errs) == 0)
			rc = inst_insert(d, NULL, now, o, NULL, &inst_ids[i]);
		else if (rc == 0)
			rc = DB_APP;
		if (rc == 0)
			rc = db_commit(d);
		else
			db_rollback(d);
		if (rc != 0) {
			char *s = json_dumps(errs, JSON_COMPACT);
			fprintf(stderr, "carewatch: demo institution %s: %d %s %s\n", insts[i].name, rc, s ? s : "", d->err);
			free(s);
		}
		json_decref(errs);
		json_decref(o);
		if (rc != 0)
			return -1;
	}
	int64_t partner = 0;
	if (demo_partner(d, now, &partner) != 0) {
		fprintf(stderr, "carewatch: demo partner: %s\n", d->err);
		return -1;
	}
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
		struct user_input in = {users[i].login, users[i].name, users[i].role, users[i].scope, DEMO_PASSWORD,
		                        users[i].inst ? inst_ids[users[i].inst - 1] : 0,
		                        !strcmp(users[i].role, "partner") ? partner : 0, users[i].pii};
		if (user_create(d, NULL, now, &in, &id, &e) != 0) {
			fprintf(stderr, "carewatch: demo user %s: %s\n", users[i].login, e.msg);
			return -1;
		}
	}
	int nrep = demo_reports(d, inst_ids, now);
	if (nrep < 0 || demo_persons(d, now, out) < 0)
		return -1;
	const char *divs[sizeof insts / sizeof insts[0]];
	for (size_t i = 0; i < sizeof insts / sizeof insts[0]; i++)
		divs[i] = insts[i].division;
	if (demo_needs(d, inst_ids, divs, partner, now) != 0) {
		fprintf(stderr, "carewatch: demo needs: %s\n", d->err);
		return -1;
	}
	fprintf(out, "demo data: %zu institutions, %zu users, %d daily reports over %d days\n",
	        sizeof insts / sizeof insts[0], sizeof users / sizeof users[0], nrep, DEMO_DAYS);
print:
	fprintf(out, "demo logins (password %s):\n", DEMO_PASSWORD);
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
		fprintf(out, "  %-12s %-9s %s\n", users[i].login, users[i].role, users[i].what);
	return 0;
}
