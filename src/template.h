/* template.h — report templates (data sets) are data, not code.
 *
 * JSON files (templates/NAME.json, built in, or cfg.templates_dir) are loaded and
 * checked at start; a broken one stops the program with a message naming the
 * file, the field and the problem. Each is published to the `templates` table:
 * a changed definition (by hash) becomes a new version; a report keeps the
 * version it was filed under. After template_load() the registry is read-only.
 */
#ifndef CW_TEMPLATE_H
#define CW_TEMPLATE_H
#include <jansson.h>
#include "db.h"
#include "expr.h"

enum ftype { FT_INT, FT_DEC, FT_BOOL, FT_DATE, FT_TEXT, FT_CHOICE };
enum fagg { AGG_NONE, AGG_SUM, AGG_AVG, AGG_COUNT_TRUE };
enum period_kind { PERIOD_DAILY, PERIOD_WEEKLY, PERIOD_ONCE };

struct tfield {
	const char *code, *label, *label_en, *unit, *section, *item;
	enum ftype type;
	enum fagg agg;
	double min, max;
	int has_min, has_max, required;
	int flow;             /* counts today's events (zero in a zero report) */
	int maxlen;           /* text */
	json_t *options;      /* choice: [{"value","label"}] */
};

struct trule {
	const char *left_text, *right_text, *message;
	struct expr *left, *right;
	enum cmp_op op;
	int error;            /* 1 error (blocks), 0 warning (needs confirmation) */
};

/* A ratio of two summed fields (e.g. the fully vaccinated share of residents):
 * computed from the summed parts at every level, never as an average of ratios. */
struct tratio {
	const char *code, *label, *label_en, *unit;
	const char *num, *den; /* field codes, both summed numbers */
	double scale;          /* 100 for a percentage */
};

struct template {
	const char *code, *title, *title_en, *file;
	int version;
	enum period_kind period;
	const char **types;   /* institution types it applies to */
	int ntypes;
	int deadline_min;     /* minutes after local midnight of the period day */
	int open_days;        /* days after the period it stays open */
	char opens[11], closes[11]; /* PERIOD_ONCE campaign dates */
	struct tfield *fields;
	int nfields;
	struct trule *rules;
	int nrules;
	struct tratio *ratios;
	int nratios;
	json_t *def;          /* the definition as loaded (owned) */
	char hash[65];
};

/* Loads and checks every template (built in, or from cfg.templates_dir).
 * 0, or -1 with err naming file, field and problem. */
int template_load(char *err, size_t errlen);
/* Checks one template's JSON text as template_load would, without registering
 * it (the fuzz target's entry). 0, or -1 with err naming file, field, problem. */
int template_check_text(const char *file, const char *text, size_t len, char *err, size_t errlen);
/* Publishes new versions to the database and sets each template's version.
 * 0 or a DB_* error. */
int template_publish(db *d, char *err, size_t errlen);
const struct template *template_find(const char *code);
int template_count(void);
const struct template *template_at(int i);
const struct tfield *template_field(const struct template *t, const char *code);
/* The template's ratio of that code, or NULL. */
const struct tratio *template_ratio(const struct template *t, const char *code);
/* 1 if the template applies to institutions of this type. */
int template_applies(const struct template *t, const char *inst_type);

#endif
