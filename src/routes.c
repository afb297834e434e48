/* routes.c — the one route table. The dispatcher (http.c) enforces each
 * entry's capability and flags before the handler runs; docs/openapi.json
 * describes exactly these routes (a test checks the two agree). */
#include "handlers.h"
#include "http.h"

const struct route routes[] = {
	{"GET", "/healthz", h_healthz, 0, F_PUBLIC, "liveness and database check"},
	{"GET", "/metrics", h_metrics, 0, F_PUBLIC, "Prometheus metrics"},
	{"GET", "/api/v1/openapi.json", h_openapi, 0, F_PUBLIC, "this API's OpenAPI document"},

	{"POST", "/api/v1/session", h_session_create, 0, F_PUBLIC | F_JSON | F_NO_CSRF, "log in"},
	{"GET", "/api/v1/session", h_session_get, 0, F_PUBLIC, "the current user and CSRF token"},
	{"DELETE", "/api/v1/session", h_session_delete, CAP_LOGIN, 0, "log out"},

	{"GET", "/api/v1/users", h_users_list, CAP_USERS, 0, "users in scope"},
	{"POST", "/api/v1/users", h_users_create, CAP_USERS, F_JSON, "create a user in scope"},
	{"GET", "/api/v1/users/{id}", h_user_get, CAP_USERS, 0, "one user"},
	{"PATCH", "/api/v1/users/{id}", h_user_patch, CAP_USERS, F_JSON, "edit, disable or reset a user"},

	{"GET", "/api/v1/divisions", h_divisions_list, CAP_LOGIN, 0, "children of a division, or a name search"},
	{"GET", "/api/v1/divisions/{code}", h_division_get, CAP_LOGIN, 0, "a division with its path to the root"},

	{"GET", "/api/v1/institutions", h_institutions_list, CAP_INST_READ, 0, "institutions in scope"},
	{"POST", "/api/v1/institutions", h_institutions_create, CAP_INST_WRITE, F_JSON, "register an institution"},
	{"GET", "/api/v1/institutions/{id}", h_institution_get, CAP_INST_READ, 0, "one institution"},
	{"PATCH", "/api/v1/institutions/{id}", h_institution_patch, CAP_INST_WRITE, F_JSON, "edit an institution"},
	{"GET", "/api/v1/institutions/{id}/history", h_institution_history, CAP_INST_READ, 0, "status history"},
	{"GET", "/api/v1/exports/institutions", h_institutions_export, CAP_INST_READ | CAP_EXPORT, 0,
	 "institutions in scope as CSV or xlsx"},
	{"POST", "/api/v1/imports/institutions", h_institutions_import, CAP_INST_WRITE, F_BODY_RAW,
	 "import institutions from CSV (UTF-8 or GB18030)"},

	{"GET", "/api/v1/audit", h_audit_list, CAP_AUDIT, 0, "audit rows in scope"},
};

const size_t nroutes = sizeof routes / sizeof routes[0];
