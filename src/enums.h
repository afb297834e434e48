/* enums.h — the coded values of the registry with their Chinese labels. One
 * table each, used for validation, JSON labels, imports (Chinese or code) and
 * exports. */
#ifndef CW_ENUMS_H
#define CW_ENUMS_H

struct enum_val {
	const char *code;
	const char *zh;
	const char *alias; /* another accepted Chinese spelling on import, or NULL */
};

extern const struct enum_val inst_types[];
extern const struct enum_val inst_ownerships[];
extern const struct enum_val inst_medicals[];
extern const struct enum_val inst_statuses[];
extern const struct enum_val risk_levels[];

/* Chinese label of a code ("" when unknown). */
const char *enum_label(const struct enum_val *t, const char *code);
/* Code for a code or a Chinese label/alias; NULL when unknown. */
const char *enum_parse(const struct enum_val *t, const char *s);
/* 1 if code is one of the table's codes (labels not accepted). */
int enum_valid(const struct enum_val *t, const char *code);

#endif
