/* template.c — loading, checking and publishing report templates. */
#include "template.h"
#include "assets.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "enums.h"
#include "log.h"
#include <dirent.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEMPLATES 64

static struct template registry[MAX_TEMPLATES];
static int nregistry;

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int bad(struct ctx *c, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct ctx *c, const char *where, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s: %s", c->file, where, msg);
	return -1;
}

static int code_ok(const char *s, int dash)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 2 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || (dash && *p == '-')))
			return 0;
	return 1;
}

static const char *zh(json_t *o)
{
	return json_is_object(o) ? json_string_value(json_object_get(o, "zh")) : json_string_value(o);
}

static const char *en(json_t *o)
{
	const char *s = json_is_object(o) ? json_string_value(json_object_get(o, "en")) : NULL;
	return s ? s : zh(o);
}

static int parse_field(struct ctx *c, json_t *f, const char *section, struct tfield *out)
{
	static const char *types[] = {"integer", "decimal", "boolean", "date", "text", "choice"};
	static const char *aggs[] = {"none", "sum", "average", "count_true"};
	const char *code = json_string_value(json_object_get(f, "code"));
	char where[120];
	snprintf(where, sizeof where, "field '%s'", code ? code : "?");
	if (!code_ok(code, 0))
		return bad(c, where, "code must be lower-case letters, digits and _ (2-64 chars)");
	out->code = code;
	out->section = section;
	out->label = zh(json_object_get(f, "label"));
	out->label_en = en(json_object_get(f, "label"));
	if (!out->label || !*out->label)
		return bad(c, where, "label.zh is required");
	const char *type = json_string_value(json_object_get(f, "type"));
	int ti = -1;
	for (int i = 0; type && i < 6; i++)
		if (!strcmp(types[i], type))
			ti = i;
	if (ti < 0)
		return bad(c, where, "type must be integer, decimal, boolean, date, text or choice");
	out->type = (enum ftype)ti;
	out->unit = json_string_value(json_object_get(f, "unit"));
	out->item = json_string_value(json_object_get(f, "item"));
	out->required = json_is_true(json_object_get(f, "required"));
	out->flow = json_is_true(json_object_get(f, "flow"));
	json_t *mn = json_object_get(f, "min"), *mx = json_object_get(f, "max");
	if (mn && !json_is_number(mn))
		return bad(c, where, "min must be a number");
	if (mx && !json_is_number(mx))
		return bad(c, where, "max must be a number");
	out->has_min = mn != NULL;
	out->has_max = mx != NULL;
	out->min = mn ? json_number_value(mn) : 0;
	out->max = mx ? json_number_value(mx) : 0;
	if (out->has_min && out->has_max && out->min > out->max)
		return bad(c, where, "min is greater than max");
	out->maxlen = (int)json_integer_value(json_object_get(f, "max_length"));
	if (out->type == FT_TEXT && out->maxlen <= 0)
		out->maxlen = 2000;
	const char *agg = json_string_value(json_object_get(f, "aggregate"));
	if (!agg)
		agg = (out->type == FT_INT || out->type == FT_DEC) ? "sum" : out->type == FT_BOOL ? "count_true" : "none";
	int ai = -1;
	for (int i = 0; i < 4; i++)
		if (!strcmp(aggs[i], agg))
			ai = i;
	if (ai < 0)
		return bad(c, where, "aggregate must be none, sum, average or count_true");
	out->agg = (enum fagg)ai;
	if ((out->agg == AGG_SUM || out->agg == AGG_AVG) && out->type != FT_INT && out->type != FT_DEC)
		return bad(c, where, "only numeric fields can be summed or averaged");
	if (out->agg == AGG_COUNT_TRUE && out->type != FT_BOOL)
		return bad(c, where, "count_true needs a boolean field");
	if (out->type == FT_CHOICE) {
		out->options = json_object_get(f, "options");
		if (!json_is_array(out->options) || json_array_size(out->options) == 0)
			return bad(c, where, "a choice field needs options [{\"value\",\"label\"}]");
		size_t i;
		json_t *o;
		json_array_foreach(out->options, i, o)
		{
			if (!json_is_string(json_object_get(o, "value")) || !zh(json_object_get(o, "label")))
				return bad(c, where, "option %zu needs a value and a label", i + 1);
		}
	}
	return 0;
}

struct refcheck {
	const struct template *t;
	const char *bad_field;
};

static void check_ref(void *vc, const char *field)
{
	struct refcheck *r = vc;
	const struct tfield *f = template_field(r->t, field);
	if (!r->bad_field && (!f || (f->type != FT_INT && f->type != FT_DEC)))
		r->bad_field = field;
}

static int parse_rule(struct ctx *c, const struct template *t, json_t *j, int index, struct trule *out)
{
	char where[64], perr[200];
	snprintf(where, sizeof where, "rule %d", index + 1);
	out->left_text = json_string_value(json_object_get(j, "left"));
	out->right_text = json_string_value(json_object_get(j, "right"));
	out->message = json_string_value(json_object_get(j, "message"));
	const char *op = json_string_value(json_object_get(j, "op"));
	const char *sev = json_string_value(json_object_get(j, "severity"));
	if (!out->message || !*out->message)
		return bad(c, where, "message (Chinese) is required");
	if (cmp_parse(op, &out->op) != 0)
		return bad(c, where, "op must be one of < <= > >= == !=");
	if (!sev || (strcmp(sev, "error") && strcmp(sev, "warning")))
		return bad(c, where, "severity must be error or warning");
	out->error = !strcmp(sev, "error");
	if (!(out->left = expr_parse(out->left_text, perr, sizeof perr)))
		return bad(c, where, "left: %s", perr);
	if (!(out->right = expr_parse(out->right_text, perr, sizeof perr)))
		return bad(c, where, "right: %s", perr);
	struct refcheck r = {t, NULL};
	expr_fields(out->left, check_ref, &r);
	expr_fields(out->right, check_ref, &r);
	if (r.bad_field)
		return bad(c, where, "'%s' is not a numeric field of this template", r.bad_field);
	return 0;
}

/* "ratios": [{"code","label":{"zh","en"},"numerator","denominator","scale","unit"}] */
static int parse_ratios(struct ctx *c, struct template *t, json_t *ratios)
{
	size_t i;
	json_t *r;
	if (ratios && !json_is_array(ratios))
		return bad(c, "ratios", "must be a list");
	t->ratios = xcalloc(json_array_size(ratios) + 1, sizeof *t->ratios);
	json_array_foreach(ratios, i, r)
	{
		char where[64];
		snprintf(where, sizeof where, "ratio %zu", i + 1);
		struct tratio *o = &t->ratios[t->nratios];
		o->code = json_string_value(json_object_get(r, "code"));
		o->label = zh(json_object_get(r, "label"));
		o->label_en = en(json_object_get(r, "label"));
		o->unit = json_string_value(json_object_get(r, "unit"));
		o->num = json_string_value(json_object_get(r, "numerator"));
		o->den = json_string_value(json_object_get(r, "denominator"));
		json_t *sc = json_object_get(r, "scale");
		o->scale = sc ? json_number_value(sc) : 1;
		if (!code_ok(o->code, 0) || !o->label)
			return bad(c, where, "needs a code and a label.zh");
		if (template_field(t, o->code) || template_ratio(t, o->code))
			return bad(c, where, "code '%s' is already used by a field or ratio", o->code);
		if (sc && (!json_is_number(sc) || o->scale <= 0))
			return bad(c, where, "scale must be a positive number");
		const char *parts[2] = {o->num, o->den}, *names[2] = {"numerator", "denominator"};
		for (int k = 0; k < 2; k++) {
			const struct tfield *f = parts[k] ? template_field(t, parts[k]) : NULL;
			if (!f || f->agg != AGG_SUM)
				return bad(c, where, "%s '%s' must be a summed number field of this template", names[k],
				           parts[k] ? parts[k] : "");
		}
		t->nratios++;
	}
	return 0;
}

static int parse_template(struct ctx *c, json_t *def, struct template *t)
{
	static const char *periods[] = {"daily", "weekly", "once"};
	t->def = def;
	t->code = json_string_value(json_object_get(def, "code"));
	if (!code_ok(t->code, 1))
		return bad(c, "code", "must be lower-case letters, digits, - and _");
	t->title = zh(json_object_get(def, "title"));
	t->title_en = en(json_object_get(def, "title"));
	if (!t->title)
		return bad(c, "title", "title.zh is required");
	const char *period = json_string_value(json_object_get(def, "period"));
	int pi = -1;
	for (int i = 0; period && i < 3; i++)
		if (!strcmp(periods[i], period))
			pi = i;
	if (pi < 0)
		return bad(c, "period", "must be daily, weekly or once");
	t->period = (enum period_kind)pi;
	json_t *types = json_object_get(def, "institution_types");
	if (!json_is_array(types) || !json_array_size(types))
		return bad(c, "institution_types", "a non-empty list of institution types is required");
	t->ntypes = (int)json_array_size(types);
	t->types = xcalloc((size_t)t->ntypes, sizeof *t->types);
	for (int i = 0; i < t->ntypes; i++) {
		t->types[i] = json_string_value(json_array_get(types, (size_t)i));
		if (!enum_valid(inst_types, t->types[i]))
			return bad(c, "institution_types", "unknown institution type '%s'", t->types[i] ? t->types[i] : "?");
	}
	const char *dl = json_string_value(json_object_get(def, "deadline"));
	int hh, mm;
	if (!dl || sscanf(dl, "%2d:%2d", &hh, &mm) != 2 || strlen(dl) != 5 || hh > 23 || mm > 59 || hh < 0 || mm < 0)
		return bad(c, "deadline", "must be HH:MM local time");
	t->deadline_min = hh * 60 + mm;
	json_t *od = json_object_get(def, "open_days");
	if (!json_is_integer(od) || json_integer_value(od) < 0 || json_integer_value(od) > 366)
		return bad(c, "open_days", "must be an integer 0..366");
	t->open_days = (int)json_integer_value(od);
	if (t->period == PERIOD_ONCE) {
		json_t *camp = json_object_get(def, "campaign");
		const char *o = json_string_value(json_object_get(camp, "opens"));
		const char *cl = json_string_value(json_object_get(camp, "closes"));
		int y, m, d;
		if (!o || !cl || date_parse(o, &y, &m, &d) || date_parse(cl, &y, &m, &d) || strcmp(o, cl) > 0)
			return bad(c, "campaign", "opens and closes must be dates YYYY-MM-DD, opens first");
		cw_strlcpy(t->opens, o, sizeof t->opens);
		cw_strlcpy(t->closes, cl, sizeof t->closes);
	}
	json_t *sections = json_object_get(def, "sections");
	if (!json_is_array(sections) || !json_array_size(sections))
		return bad(c, "sections", "at least one section is required");
	size_t i, k;
	json_t *s, *f;
	int n = 0;
	json_array_foreach(sections, i, s)
		n += (int)json_array_size(json_object_get(s, "fields"));
	t->fields = xcalloc((size_t)n + 1, sizeof *t->fields);
	json_array_foreach(sections, i, s)
	{
		const char *sc = json_string_value(json_object_get(s, "code"));
		char where[64];
		snprintf(where, sizeof where, "section %zu", i + 1);
		if (!code_ok(sc, 0) || !zh(json_object_get(s, "title")))
			return bad(c, where, "needs a code and a title.zh");
		json_t *fields = json_object_get(s, "fields");
		if (!json_is_array(fields) || !json_array_size(fields))
			return bad(c, where, "needs fields");
		json_array_foreach(fields, k, f)
		{
			struct tfield tf = {0};
			if (parse_field(c, f, sc, &tf) != 0)
				return -1;
			if (template_field(t, tf.code))
				return bad(c, "fields", "field code '%s' appears twice", tf.code);
			t->fields[t->nfields++] = tf;
		}
	}
	json_t *rules = json_object_get(def, "rules");
	if (rules && !json_is_array(rules))
		return bad(c, "rules", "must be a list");
	t->rules = xcalloc(json_array_size(rules) + 1, sizeof *t->rules);
	json_array_foreach(rules, i, s)
	{
		if (parse_rule(c, t, s, (int)i, &t->rules[t->nrules]) != 0)
			return -1;
		t->nrules++;
	}
	if (parse_ratios(c, t, json_object_get(def, "ratios")) != 0)
		return -1;
	char *canon = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)canon, strlen(canon), NULL, 0);
	sodium_bin2hex(t->hash, sizeof t->hash, h, sizeof h);
	free(canon);
	return 0;
}

/* Parses one template's text into *t (zeroed first). 0, or -1 with c->err;
 * on failure *t holds what was allocated so far (release() frees it). */
static int parse_text(struct ctx *c, const char *file, const char *text, size_t len, struct template *t)
{
	json_error_t je;
	memset(t, 0, sizeof *t);
	json_t *def = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!def || !json_is_object(def))
		return json_decref(def), bad(c, "JSON", "line %d column %d: %s", je.line, je.column, je.text);
	t->file = xstrdup(file);
	return parse_template(c, def, t);
}

/* Frees what parse_text allocated (the rule at index nrules may be half-parsed). */
static void release(struct template *t)
{
	for (int i = 0; t->rules && i <= t->nrules; i++) {
		expr_free(t->rules[i].left);
		expr_free(t->rules[i].right);
	}
	free(t->rules);
	free(t->ratios);
	free(t->fields);
	free(t->types);
	free((char *)t->file);
	json_decref(t->def);
	memset(t, 0, sizeof *t);
}

static int add_template(const char *file, const char *text, size_t len, char *err, size_t errlen)
{
	struct ctx c = {file, err, errlen};
	if (nregistry == MAX_TEMPLATES)
		return bad(&c, "file", "too many templates (at most %d)", MAX_TEMPLATES);
	struct template *t = &registry[nregistry];
	if (parse_text(&c, file, text, len, t) != 0)
		return -1; /* fatal at start-up: the partial template is never used */
	for (int i = 0; i < nregistry; i++)
		if (!strcmp(registry[i].code, t->code))
			return bad(&c, "code", "'%s' is also defined in %s", t->code, registry[i].file);
	nregistry++;
	return 0;
}

int template_check_text(const char *file, const char *text, size_t len, char *err, size_t errlen)
{
	struct ctx c = {file, err, errlen};
	struct template t;
	int rc = parse_text(&c, file, text, len, &t);
	release(&t);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: cannot open the templates directory", dir);
		return -1;
	}
	char *names[MAX_TEMPLATES + 1];
	int n = 0, rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n <= MAX_TEMPLATES) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".json"))
			names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof *names, cmp_names);
	for (int i = 0; i < n; i++) {
		struct buf path = {0}, text = {0};
		buf_printf(&path, "%s/%s", dir, names[i]);
		FILE *f = rc ? NULL : fopen(path.data, "rb");
		if (f) {
			char chunk[8192];
			size_t k;
			while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
				buf_append(&text, chunk, k);
			fclose(f);
			rc = add_template(path.data, buf_str(&text), text.len, err, errlen);
		} else if (!rc) {
			snprintf(err, errlen, "%s: cannot read", path.data);
			rc = -1;
		}
		buf_free(&path);
		buf_free(&text);
		free(names[i]);
	}
	return rc;
}

int template_load(char *err, size_t errlen)
{
	if (nregistry)
		return 0;
	if (cfg.templates_dir[0])
		return load_dir(cfg.templates_dir, err, errlen);
	for (size_t i = 0; i < cw_assets_count; i++)
		if (!strncmp(cw_assets[i].name, "templates/", 10) &&
		    add_template(cw_assets[i].name, (const char *)cw_assets[i].data, cw_assets[i].len, err, errlen) != 0)
			return -1;
	return 0;
}

struct pub_ctx {
	char *err;
	size_t errlen;
};

static int publish_txn(db *d, void *vc)
{
	(void)vc;
	for (int i = 0; i < nregistry; i++) {
		struct template *t = &registry[i];
		db_stmt *st = db_prepare(d, "SELECT version, hash FROM templates WHERE code = $1 ORDER BY version DESC LIMIT 1");
		if (!st)
			return DB_ERROR;
		db_bindf(st, "t", t->code);
		int rc = db_step(st), same = 0;
		int64_t version = 0;
		if (rc == DB_ROW) {
			version = db_column_int64(st, 0);
			same = !strcmp(db_column_text(st, 1), t->hash);
		}
		db_reset(st);
		if (rc != DB_ROW && rc != DB_DONE)
			return rc;
		if (!same) {
			char *def = json_dumps(t->def, JSON_COMPACT | JSON_SORT_KEYS);
			int64_t n = db_run(d, "INSERT INTO templates(code, version, hash, definition, published_at) "
			                      "VALUES ($1, $2, $3, $4, $5)",
			                   "tIttI", t->code, version + 1, t->hash, def, clock_now());
			free(def);
			if (n < 0)
				return n == DB_CONSTRAINT ? DB_BUSY : (int)n; /* another node published: read again */
			version++;
			log_msg(LOG_INFO, "published template %s version %lld", t->code, (long long)version);
		}
		t->version = (int)version;
	}
	return 0;
}

int template_publish(db *d, char *err, size_t errlen)
{
	struct pub_ctx c = {err, errlen};
	int rc = db_txn(d, 1, publish_txn, &c);
	if (rc != 0)
		snprintf(err, errlen, "publishing templates: %s", d->err);
	return rc;
}

const struct template *template_find(const char *code)
{
	for (int i = 0; code && i < nregistry; i++)
		if (!strcmp(registry[i].code, code))
			return &registry[i];
	return NULL;
}

int template_count(void)
{
	return nregistry;
}

const struct template *template_at(int i)
{
	return i >= 0 && i < nregistry ? &registry[i] : NULL;
}

const struct tfield *template_field(const struct template *t, const char *code)
{
	for (int i = 0; i < t->nfields; i++)
		if (!strcmp(t->fields[i].code, code))
			return &t->fields[i];
	return NULL;
}

const struct tratio *template_ratio(const struct template *t, const char *code)
{
	for (int i = 0; code && i < t->nratios; i++)
		if (!strcmp(t->ratios[i].code, code))
			return &t->ratios[i];
	return NULL;
}

int template_applies(const struct template *t, const char *inst_type)
{
	for (int i = 0; i < t->ntypes; i++)
		if (!strcmp(t->types[i], inst_type))
			return 1;
	return 0;
}
