/* person.h — vulnerable people at home (特殊服务对象): the registry's rules,
 * shared by the API, the CSV import, the demo and the exports (SPEC §3.6).
 *
 * Citizen ID and phone are stored encrypted (pii.h) with their masked forms
 * beside them; person_json() shows the masked forms unless asked to unmask,
 * which decrypts (the caller audits the view). Risk class and the next due
 * visit are derived on every write, never entered.
 */
#ifndef CW_PERSON_H
#define CW_PERSON_H
#include <jansson.h>
#include <stdint.h>
#include "auth.h"
#include "codes.h"
#include "db.h"
#include "enums.h"
#include "jspec.h"
#include "buf.h"
#include "pii.h"

struct req;

extern const struct enum_val person_categories[];
extern const struct enum_val person_situations[];
extern const struct enum_val person_chronic[];
extern const struct enum_val person_vaccination[];
extern const struct enum_val visit_modes[];
extern const struct enum_val risk_classes[];

/* Column list of person_json(); selected with PERSON_FROM. */
#define PERSON_COLS                                                                                             \
	"p.id, p.name, p.categories, p.division_code, COALESCE(dv.name, ''), p.address, p.cid_masked, "           \
	"p.phone_masked, p.birth_date, p.sex, p.guardian, COALESCE(p.worker_id, 0), COALESCE(w.name, ''), "       \
	"p.situation, p.chronic_disease, p.vaccination, p.risk_class, p.risk_score, p.risk_reasons, p.registered, " \
	"COALESCE(p.next_due, ''), COALESCE(p.last_visit, ''), p.visit_count, p.created_at, p.updated_at, "        \
	"p.version, p.cid_enc, p.cid_hash, p.phone_enc"
#define PERSON_FROM                                                                                             \
	" FROM persons p LEFT JOIN divisions dv ON dv.code = p.division_code LEFT JOIN users w ON w.id = p.worker_id "

/* JSON of a row selected with PERSON_COLS. unmask=1 decrypts citizen_id and
 * phone (a decryption failure shows the masked value and sets
 * "pii_error": true). */
json_t *person_json(db_stmt *st, int unmask);

/* Scores the health risk of SPEC §3.6 at the local date today (YYYYMMDD):
 * age 65-79 → 1, 80+ → 2; chronic disease stable → 1, unstable → 2;
 * vaccination incomplete → 1, none → 2; 0-1 green, 2-3 yellow, 4-6 red.
 * Appends the reasons ({factor, points, message}) to reasons when not NULL.
 * Returns the score; *cls is "green", "yellow" or "red". */
int person_risk(const char *birth_date, int today, const char *chronic, const char *vaccination, const char **cls,
                json_t *reasons);
/* The same score with its reasons as the JSON text stored in
 * persons.risk_reasons (what json_dumps of person_risk's reasons gives), into
 * out (512 bytes hold any). Returns the score, or -1 when out is too small. */
int person_risk_text(const char *birth_date, int today, const char *chronic, const char *vaccination,
                     const char **cls, char *out, size_t outlen);
/* Days between visits for a risk class (cfg.visit_days_*). */
int visit_interval(const char *cls);
/* Next due date into out (11 bytes, "" when the person needs no visits:
 * moved, deceased, in an institution): the last visit (or the registration
 * date) plus the class's interval. */
void person_next_due(const char *situation, const char *cls, const char *last_visit, const char *registered,
                     char out[11]);

/* Years of age on the local date today (YYYYMMDD). */
int person_age(const char *birth_date, int today);

/* Checks a create (existing: NULL) or a merged patch body that passed the
 * JSON spec: categories, GB 11643 citizen ID (birth date and sex derived into
 * ci), a real township in the user's scope, phone, responsible worker. Problems
 * are appended to errs as {field, code, message}. towns, when not NULL, is a
 * JSON object used as a set of township codes already found real (an import
 * asks the database once per township, not once per row). 0 or a DB_* error. */
int person_check(db *d, const struct user *u, json_t *obj, int today, json_t *errs, struct cid_info *ci,
                 json_t *towns);

/* The township rule of person_check: div a real township (towns as there)
 * inside u's scope. 0; 1 with *code and *msg (static) set; or a DB_* error. */
int person_division_check(db *d, const struct user *u, const char *div, json_t *towns, const char **code,
                          const char **msg);
/* The worker rule of person_check: an enabled worker or official whose scope
 * holds div. 0; 1 when not; or a DB_* error. */
int person_worker_check(db *d, int64_t worker, const char *div);

/* A checked person to store, as text (a create body or an import row).
 * Strings are borrowed; NULL optional ones read as their defaults. */
struct person_in {
	const char *name;
	const char *categories;    /* as stored: ",code,code," */
	const char *division_code;
	const char *address, *phone, *guardian;          /* NULL: "" */
	const char *chronic, *vaccination, *situation;   /* codes; NULL: none, full, at_home */
	int64_t worker;            /* responsible worker, 0 for none */
	int worker_default;        /* none given: a worker registering is the responsible one */
	struct cid_info ci;        /* from cid_check (normalised ID, birth date, sex) */
};

/* The person_in of a checked create body (cid_info from person_check); its
 * categories text goes to cats (the caller frees it), the rest is borrowed
 * from obj. */
void person_in_json(json_t *obj, const struct cid_info *ci, struct buf *cats, struct person_in *in);

/* The columns stored for a person_in beside its own text: the keyed ID hash,
 * the ciphertexts, the masked forms, risk class, score and reasons, the
 * registration and next due dates. */
struct person_cols {
	char hash[PII_HASH_LEN], cid_enc[PII_ENC_MAX], phone_enc[PII_ENC_MAX];
	char cid_masked[24], phone_masked[24];
	char today[11], due[11], sex[2];
	char reasons[512];
	int64_t cid_key;           /* pii_hash_key(hash) */
	const char *cls;           /* static */
	int score;
	int64_t worker;            /* 0: NULL */
};

/* Computes the columns of in registered by u (NULL: command line) at now.
 * Needs the personal-data key. 0 or -1 (no key, value too long). */
int person_cols_make(const struct user *u, int64_t now, const struct person_in *in, struct person_cols *c);

/* The columns an INSERT of a person names, in the order person_bind binds
 * them ($1..$23; created_at and updated_at both take $22). */
#define PERSON_INSERT_COLS                                                                                      \
	"name, categories, division_code, address, cid_enc, cid_hash, cid_masked, phone_enc, phone_masked, "       \
	"birth_date, sex, guardian, worker_id, situation, chronic_disease, vaccination, risk_class, risk_score, "    \
	"risk_reasons, registered, next_due, created_at, updated_at, cid_key"
#define PERSON_INSERT_PARAMS 23
/* Binds a person's 23 values at $base+1 .. $base+23, without copying: in and
 * c must stay unchanged until the statement is reset. 0 or a DB_* error. */
int person_bind(db_stmt *st, int base, const struct person_in *in, const struct person_cols *c, int64_t now);

/* 1 if a phone number is acceptable (digits, -, + and spaces; 7+ digits). */
int person_phone_ok(const char *s);

/* Inserts a checked person (a create body that passed person_check) inside
 * the caller's write transaction, with its audit row. Needs the personal-data
 * key. 0 with *id set, or DB_*. Imports store many at once: person_bulk.h. */
int person_insert(db *d, const struct user *u, int64_t now, json_t *obj, const struct cid_info *ci, int64_t *id);

/* The JSON spec of a create/patch body. */
extern const struct jfield person_spec[];

/* 1 if the user may see a person in division (scope; workers their scope). */
int person_visible(const struct user *u, const char *division);

/* A visit to record (visit_insert). u may be NULL (demo, CLI): no scope
 * check. findings is a normalised object. */
struct visit_in {
	const struct user *u;
	int64_t now;
	int64_t person;
	const char *date, *mode, *help;
	json_t *findings;
	const char *follow_up;
	int follow_needed;
	const char *client_key;  /* NULL, or a key that makes a retry a replay */
	/* out */
	int replayed;      /* 1: the key was used before; visit_id is that visit */
	char due[11];      /* the person's next due date ("" when none) */
	int64_t visit_id;
	const char *err_code, *err_msg;  /* set when DB_APP is returned */
};
/* Records a visit inside the caller's write transaction: stores it, moves
 * the person's last visit and next due date (the risk class rescored), and
 * audits. 0; DB_DONE when the person does not exist or is not visible; DB_APP
 * with err_* set; or a DB_* error. */
int visit_insert(db *d, struct visit_in *v);

/* Replies 503 pii_key_unavailable and returns -1 when no key is loaded. */
int pii_ready_or_reply(struct req *r);

/* Loads one visible person (masked) into *out (new reference) with its
 * division into div (SCOPE_MAX) when div is not NULL; replies 404. 0/-1. */
int person_load_or_reply(struct req *r, int64_t id, json_t **out, char *div);

/* "4201**********123X"-style masked values for everyone, unmasked for
 * CAP_PII unless the request asks ?masked=1. */
int person_unmask_wanted(struct req *r);

/* List and export filters: ?division= ?category= ?q= (name) ?citizen_id=
 * (exact, through the keyed hash) ?worker= (id or "me") ?risk_class=. */
struct person_filter {
	char division[16], lo[16], hi[16];
	char category[48];
	char name[220];
	char cid_hash[65];         /* "": any */
	int64_t cid_key;           /* pii_hash_key(cid_hash); 0 with "" */
	int64_t worker;
	char risk[8];
};
/* Reads the filters; replies 400/404 and returns -1 on bad input. */
int person_filters_or_reply(struct req *r, struct person_filter *f);
/* The generations of persons' ids, 0 to the newest (id >> 20), as a
 * subquery; and the match of one citizen ID (key k, full hash h: SQL
 * expressions) on the persons row t through persons_cid_gen — one index seek
 * per generation (sql/011_persons_import_indexes.sql). Every citizen-ID lookup uses
 * it: the index cannot be searched by cid_key alone. */
#define PERSON_CID_GENS                                                                                           \
	"(WITH RECURSIVE gen(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM gen "                      \
	"WHERE n < (SELECT COALESCE(MAX(id), 0) >> 20 FROM persons)) SELECT n FROM gen)"
#define PERSON_CID_MATCH(t, k, h) "(" t ".id >> 20) IN " PERSON_CID_GENS " AND " t ".cid_key = " k " AND " t ".cid_hash = " h

/* persons t in the division range [lo, hi) that scope_range made from the
 * prefix lo (SQL expressions, lo text): through persons_county — the
 * county (PERSON_COUNTY: the township code's first six digits, as a number)
 * within the prefix's counties, then the code itself. Every list of people
 * by area uses it; the code range alone would not use any index. Lists are
 * ordered by PERSON_ORDER, the index's own order: by county, then by
 * registration (sql/011_persons_import_indexes.sql). */
#define PERSON_COUNTY(t) "(CAST(" t ".division_code AS BIGINT) / 1000)"
#define PERSON_IN_RANGE(t, lo, hi)                                                                                 \
	"(" PERSON_COUNTY(t) " BETWEEN " PERSON_COUNTY_OF(lo, "000000") " AND " PERSON_COUNTY_OF(lo, "999999") ") AND "   \
	t ".division_code >= " lo " AND " t ".division_code < " hi
/* The first (pad "000000") or last ("999999") county under the prefix p. The
 * "+ 0" leaves the number without a type affinity, as the index's own
 * expression has none: SQLite uses an index for a comparison only when their
 * affinities agree (a bare CAST would make it walk the whole index). */
#define PERSON_COUNTY_OF(p, pad) "(CAST(substr(CAST(" p " AS TEXT) || '" pad "', 1, 6) AS BIGINT) + 0)"
#define PERSON_ORDER(t) PERSON_COUNTY(t) ", " t ".id"

/* The WHERE clause of a person_filter over persons p, $1..$8 bound by
 * person_where_bind; AREA_CID is PERSON_BY_CID when f->cid_hash is set,
 * PERSON_ANY_CID otherwise. An ID search names the key and hash without an
 * OR and the area without the county range, so both engines look the person
 * up in persons_cid_gen (a PostgreSQL generic plan would otherwise walk the
 * area's part of persons_county and filter); any other list seeks the area
 * in persons_county. */
#define PERSON_WHERE(AREA_CID)                                                                                     \
	"WHERE " AREA_CID " AND ($3 = '' OR p.categories LIKE $3) AND ($4 = '' OR p.name LIKE $4 ESCAPE '\\') "       \
	"AND ($6 = 0 OR p.worker_id = $6) AND ($7 = '' OR p.risk_class = $7) "
#define PERSON_BY_CID "p.division_code >= $1 AND p.division_code < $2 AND " PERSON_CID_MATCH("p", "$8", "$5")
#define PERSON_ANY_CID PERSON_IN_RANGE("p", "$1", "$2") " AND ($5 = '' OR (p.cid_key = $8 AND p.cid_hash = $5))"
int person_where_bind(db_stmt *st, const struct person_filter *f);

/* Writes one audit row in its own write transaction (views, exports). */
int person_audit_view(struct req *r, const char *action, const char *object_id, const char *division, json_t *after);

#endif
