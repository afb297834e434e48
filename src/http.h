/* http.h — the request context, the route table and the reply helpers.
 *
 * The dispatcher (http.c) answers 404/405, authenticates, checks the route's
 * capability and the CSRF token, enforces the body limit and parses a JSON body
 * before a handler runs. A handler reads `struct req`, does its work and sets
 * the response through one of the reply_* helpers, then returns 0. Helpers named
 * *_or_reply send the error themselves and return -1, so the caller just
 * returns.
 *
 * No request state lives in globals: everything is in struct req, which is
 * allocated per request and freed when the response is done.
 */
#ifndef CW_HTTP_H
#define CW_HTTP_H
#include <jansson.h>
#include <stdint.h>
#include "auth.h"
#include "buf.h"
#include "db.h"

struct MHD_Connection;

#define REQ_MAX_PARAMS 4
#define REQ_MAX_HEADERS 6

struct req {
	struct MHD_Connection *conn;
	const char *method;
	char *path;                    /* decoded path, no query string */
	const struct route *route;
	int route_index;
	char *params[REQ_MAX_PARAMS];  /* {name} segments of the route, in order */
	int nparams;
	struct buf body;               /* raw request body */
	int sent;                      /* response queued */
	int queued;                    /* handed to a worker (workers.c) */
	unsigned long long discarded; /* bytes of a refused body read and dropped */
	json_t *json;                  /* parsed body for routes with F_JSON */
	struct user user;              /* valid when authed */
	int authed;
	db *db;                        /* this worker thread's connection */
	int64_t now;                   /* request time (clock_now()) */
	/* response */
	int status;
	json_t *resp;                  /* JSON response, or */
	struct buf out;                /* raw response bytes */
	const char *ctype;
	char *disposition;             /* Content-Disposition, owned */
	char *hdr_name[REQ_MAX_HEADERS];
	char *hdr_value[REQ_MAX_HEADERS];
	int nhdr;
	const char *err_code;          /* for the log line */
	int64_t t0_us;
	const char *const *qv;         /* without a connection (fuzzing): name, value, …, NULL */
};

typedef int (*handler_fn)(struct req *r);

enum route_flags {
	F_PUBLIC = 1 << 0,   /* no authentication needed */
	F_JSON = 1 << 1,     /* body must be a JSON object (parsed into r->json) */
	F_BODY_RAW = 1 << 2, /* body accepted as raw bytes (e.g. CSV upload) */
	F_NO_CSRF = 1 << 3,  /* state change allowed without CSRF (login) */
};

struct route {
	const char *method;
	const char *path;      /* e.g. "/api/v1/institutions/{id}" */
	handler_fn fn;
	unsigned cap;          /* CAP_* required (0 with F_PUBLIC) */
	unsigned flags;
	const char *summary;   /* one line, for docs and the OpenAPI check */
};

extern const struct route routes[];
extern const size_t nroutes;

/* Starts the server on cfg.listen and serves until SIGTERM/SIGINT; then stops
 * accepting, lets in-flight requests finish (bounded wait) and returns 0.
 * Prints "listening on http://HOST:PORT" on stdout once bound. */
int http_serve(void);
/* Matches a decoded path against a route pattern with {name} segments; on a
 * match fills r's params (when r is not NULL). 1 match, 0 not. */
int http_match_path(const char *pattern, const char *path, struct req *r);

/* --- reply helpers: each sets the response and returns 0 --- */
int reply_json(struct req *r, int status, json_t *body);           /* steals body */
int reply_error(struct req *r, int status, const char *code, const char *message, const char *field);
/* Error with a details array (steals details). */
int reply_error_details(struct req *r, int status, const char *code, const char *message,
                        const char *field, json_t *details);
int reply_db_error(struct req *r, int rc);
int reply_raw(struct req *r, int status, const char *ctype, const void *data, size_t len);
/* Marks the response as a download with a (UTF-8) file name. */
void reply_attachment(struct req *r, const char *filename);
int reply_no_content(struct req *r);
/* Replies 200 with an export file: xlsx or CSV bytes, named for download. */
int reply_file(struct req *r, int xlsx, const struct buf *data, const char *filename);
void req_add_header(struct req *r, const char *name, const char *value);

/* Standard errors. */
int reply_not_found(struct req *r);
int reply_forbidden(struct req *r);

/* --- request helpers --- */
/* Query argument or NULL. */
const char *req_query(struct req *r, const char *name);
/* Request header or NULL. */
const char *req_header(struct req *r, const char *name);
/* Path parameter i of the route (0-based). */
const char *req_param(struct req *r, int i);
/* Parses path parameter i as a positive id; on failure replies 404, returns -1. */
int req_param_id_or_reply(struct req *r, int i, int64_t *out);
/* Reads an integer query argument with default and bounds; replies 400
 * (invalid_query) and returns -1 when malformed or out of bounds. */
int req_query_long_or_reply(struct req *r, const char *name, long def, long lo, long hi, long *out);
/* Reads the `division` query argument, checks its shape and that it lies inside
 * the user's scope (default: the user's scope). Replies 400/404 and returns -1
 * on failure. out holds SCOPE_MAX bytes. */
int req_division_or_reply(struct req *r, const char *name, char *out);

/* Paging: reads page (1..) and per_page (1..max, default def). */
int req_paging_or_reply(struct req *r, long def, long max, long *limit, long *offset);

#endif
