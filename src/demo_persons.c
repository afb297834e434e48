/* demo_persons.c — demo people at home (特殊服务对象) with visits and
 * subsidies, through the same functions as the API (person_check,
 * person_insert, visit_insert), so demo data obeys every rule. Some visits
 * are overdue, some due this week; one citizen ID is registered twice and one
 * unsupported child has no subsidy, so the gap check shows something. */
#include "demo.h"
#include "audit.h"
#include "clock.h"
#include "person.h"
#include "pii.h"
#include "user.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙"};
static const char *const given[] = {"秀英", "桂兰", "建国", "德明", "玉珍", "小雨", "子涵", "浩然", "淑芬", "志强",
                                    "梓萱", "凤英", "春生", "思远", "金花", "国庆", "一诺", "明轩"};
static const struct {
	const char *division, *street;
} places[] = {
    {"420102002", "大智街道友谊路"}, {"420102002", "大智街道中山大道"}, {"420102002", "大智街道黄石路"},
    {"420102003", "一元街道胜利街"}, {"420106001", "积玉桥街道临江大道"}, {"420111001", "珞南街道珞喻路"},
};

/* a profile: birth year offset, categories, chronic, vaccination, situation */
static const struct {
	int age;
	const char *cats[2];
	const char *chronic, *vacc, *situation;
} profiles[] = {
    {86, {"isolated_elderly", "extremely_poor"}, "unstable", "none", "at_home"},
    {78, {"left_behind_elderly", NULL}, "stable", "incomplete", "at_home"},
    {82, {"isolated_elderly", NULL}, "stable", "full", "at_home"},
    {69, {"unable_to_return_elderly", NULL}, "none", "full", "at_home"},
    {9, {"left_behind_child", NULL}, "none", "full", "at_home"},
    {12, {"scattered_orphan", NULL}, "none", "full", "at_home"},
    {7, {"de_facto_unsupported_child", "child_in_difficulty"}, "none", "incomplete", "at_home"},
    {5, {"foster_child", NULL}, "none", "full", "at_home"},
    {91, {"isolated_elderly", "extremely_poor"}, "unstable", "incomplete", "in_hospital"},
    {74, {"extremely_poor", NULL}, "none", "none", "isolated_at_home"},
    {15, {"child_in_difficulty", NULL}, "stable", "full", "at_home"},
    {80, {"left_behind_elderly", NULL}, "none", "full", "at_home"},
};

#define NPERSONS 36

static void demo_cid(const char *region, int y, int m, int d, int seq, char out[19])
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%.6s%04d%02d%02d%03d", region, y % 10000, m % 100, d % 100, seq % 1000);
	memcpy(out, tmp, 17);
	int sum = 0;
	for (int i = 0; i < 17; i++)
		sum += (out[i] - '0') * w[i];
	out[17] = "10X98765432"[sum % 11];
	out[18] = 0;
}

int demo_persons(db *d, int64_t now, FILE *out)
{
	int64_t worker = 0;
	char today[11];
	int n = 0, nv = 0;
	if (!pii_ready()) {
		fprintf(out, "demo people skipped: no personal-data key\n");
		return 0;
	}
	user_find_login(d, "cun.dazhi", &worker);
	clock_local_date(now, today);
	int ty = clock_local_ymd(now) / 10000;
	int64_t registered_at = now - 90 * 86400; /* registered three months ago */
	char dup_cid[19] = "";
	for (int i = 0; i < NPERSONS; i++) {
		int p = i % (int)(sizeof profiles / sizeof profiles[0]), k = i % (int)(sizeof places / sizeof places[0]);
		char name[64], cid[19], addr[128], phone[16];
		snprintf(name, sizeof name, "%s%s", surnames[i % 12], given[(i * 7) % 18]);
		demo_cid(places[k].division, ty - profiles[p].age - (i % 3 == 0), 1 + i % 12, 1 + (i * 5) % 28, 100 + i * 3,
		         cid);
		if (i == NPERSONS - 1 && dup_cid[0])
			memcpy(cid, dup_cid, sizeof cid); /* registered twice, in another area */
		if (i == 4)
			memcpy(dup_cid, cid, sizeof cid);
		snprintf(addr, sizeof addr, "%s%d号", places[k].street, 3 + i * 2);
		snprintf(phone, sizeof phone, "139%08d", 27100000 + i * 7919);
		json_t *cats = json_array();
		for (int c = 0; c < 2 && profiles[p].cats[c]; c++)
			json_array_append_new(cats, json_string(profiles[p].cats[c]));
		json_t *o = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", name, "citizen_id", cid,
		                      "categories", cats, "division_code", places[k].division, "address", addr, "phone", phone,
		                      "guardian", profiles[p].age < 18 ? "祖母 13800001111" : "村（居）委会 027-82800000",
		                      "chronic_disease", profiles[p].chronic, "vaccination", profiles[p].vacc, "situation",
		                      profiles[p].situation);
		if (worker && !strcmp(places[k].division, "420102002"))
			json_object_set_new(o, "worker_id", json_integer(worker));
		json_t *errs = json_array();
		struct cid_info ci;
		int64_t id = 0;
		int rc = db_begin(d, 1);
		if (rc == 0)
			rc = person_check(d, NULL, o, clock_local_ymd(now), errs, &ci, NULL);
		if (rc == 0 && json_array_size(errs))
			rc = DB_APP;
		if (rc == 0)
			rc = person_insert(d, NULL, registered_at, o, &ci, &id);
		/* visits: none for some, long ago for others (overdue), recent for most */
		int visits = i % 7 == 3 ? 0 : 1 + i % 3;
		for (int v = 0; rc == 0 && v < visits; v++) {
			char date[11];
			int ago = (v + 1) * (8 + (i * 11) % 23) - (i % 4) * 3;
			if (ago < 0)
				ago = 0;
			date_add_days(today, -ago, date);
			struct visit_in vi = {.now = now, .person = id, .date = date,
			                      .mode = v % 3 == 0 ? "in_person" : v % 3 == 1 ? "phone" : "video",
			                      .help = i % 2 ? "送米面油、测血压" : "电话问候，提醒按时服药",
			                      .findings = json_pack("{s:s,s:s,s:s}", "health", i % 5 ? "身体状况平稳" : "血压偏高，需复查",
			                                            "supplies", "生活物资充足", "safety", "水电燃气正常"),
			                      .follow_up = i % 5 ? "" : "联系社区医生上门复查", .follow_needed = i % 5 == 0};
			rc = visit_insert(d, &vi);
			json_decref(vi.findings);
			nv += rc == 0;
		}
		/* subsidies for orphans and unsupported children: the last three months */
		if (rc == 0 && (json_array_size(cats) && (!strcmp(profiles[p].cats[0], "scattered_orphan") ||
		                                          (!strcmp(profiles[p].cats[0], "de_facto_unsupported_child") && i > 6)))) {
			for (int mth = 1; rc == 0 && mth <= 3; mth++) {
				char month[16], paid[24];
				int ym = ty * 12 + (clock_local_ymd(now) / 100 % 100 - 1) - (mth - 1); /* this month, then back */
				snprintf(month, sizeof month, "%04d-%02d", (ym / 12) % 10000, ym % 12 + 1);
				snprintf(paid, sizeof paid, "%s-10", month);
				int unpaid = (mth == 2 && i % 2) || mth == 1; /* last month late for some; this month not yet */
				int64_t r = db_run(d, "INSERT INTO subsidies(person_id, division_code, month, amount_cents, paid_date, "
				                      "note, updated_at) VALUES ($1, $2, $3, $4, $5, '', $6) ON CONFLICT DO NOTHING",
				                   "IttITI", id, places[k].division, month, (int64_t)(i % 2 ? 95000 : 120000),
				                   unpaid ? "" : paid, now);
				rc = r < 0 ? (int)r : 0;
			}
		}
		if (rc == 0)
			rc = db_commit(d);
		else
			db_rollback(d);
		if (rc != 0) {
			char *s = json_dumps(errs, JSON_COMPACT);
			fprintf(stderr, "carewatch: demo person %s: %d %s %s\n", name, rc, s ? s : "", d->err);
			free(s);
		}
		json_decref(errs);
		json_decref(o);
		if (rc != 0)
			return -1;
		n++;
	}
	fprintf(out, "demo people at home: %d with %d visits (worker cun.dazhi looks after 大智街道)\n", n, nv);
	return n;
}
