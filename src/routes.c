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

	{"GET", "/api/v1/templates", h_templates_list, CAP_LOGIN, 0, "report templates"},
	{"GET", "/api/v1/templates/{code}", h_template_get, CAP_LOGIN, 0, "a template's current version, in full"},
	{"GET", "/api/v1/reports", h_reports_list, CAP_REPORT_READ, 0, "reports of a template in scope (review queue)"},
	{"GET", "/api/v1/reports/{template}/{institution_id}/{period}", h_report_get, CAP_LOGIN, 0, "one report"},
	{"PUT", "/api/v1/reports/{template}/{institution_id}/{period}", h_report_put, CAP_LOGIN, F_JSON,
	 "save a draft or submit (idempotent by client_key)"},
	{"POST", "/api/v1/reports/{template}/{institution_id}/{period}/validate", h_report_validate, CAP_LOGIN, F_JSON,
	 "dry run: errors and warnings, nothing stored"},
	{"POST", "/api/v1/reports/{template}/{institution_id}/{period}/zero", h_report_zero, CAP_LOGIN, F_JSON,
	 "zero report: nothing new today"},
	{"POST", "/api/v1/reports/{template}/{institution_id}/{period}/review", h_report_review, CAP_REPORT_REVIEW, F_JSON,
	 "approve or return"},
	{"GET", "/api/v1/reports/{template}/{institution_id}/{period}/prefill", h_report_prefill, CAP_LOGIN, 0,
	 "values carried from the last report"},
	{"GET", "/api/v1/reports/{template}/{institution_id}/{period}/history", h_report_history, CAP_LOGIN, 0,
	 "every change of a value"},
	{"GET", "/api/v1/completeness", h_completeness, CAP_REPORT_READ, 0, "expected, submitted, on time, late, missing"},
	{"GET", "/api/v1/rollups", h_rollups, CAP_REPORT_READ, 0, "live sums by division (or by institution)"},
	{"GET", "/api/v1/series", h_series, CAP_REPORT_READ, 0, "a field over time for a division"},

	{"GET", "/api/v1/surveys", h_surveys_list, CAP_REPORT_READ, 0, "survey campaigns with progress in scope"},
	{"POST", "/api/v1/surveys/{code}/targets", h_survey_targets, CAP_REPORT_REVIEW, F_JSON,
	 "add institutions (by division or id) to a campaign's targets"},
	{"GET", "/api/v1/exports/{kind}", h_dispatch_export, CAP_REPORT_READ | CAP_EXPORT, 0,
	 "a day's roll-up, missing list or raw reports as xlsx or CSV"},

	{"GET", "/api/v1/items", h_items_list, CAP_LOGIN, 0, "the item catalogue (drugs, tests, devices, supplies)"},
	{"GET", "/api/v1/difficulties", h_difficulties_list, CAP_NEED_READ, 0,
	 "difficulties in scope, with unresolved counts by category and division"},
	{"POST", "/api/v1/difficulties", h_difficulties_create, CAP_NEED_WRITE, F_JSON, "record an institution's difficulty"},
	{"PATCH", "/api/v1/difficulties/{id}", h_difficulty_patch, CAP_NEED_WRITE, F_JSON,
	 "edit, respond, move open → coordinating → resolved"},
	{"GET", "/api/v1/needs", h_needs_list, CAP_NEED_READ, 0, "needs in scope with requested, pledged, in transit, received"},
	{"POST", "/api/v1/needs", h_needs_create, CAP_NEED_WRITE, F_JSON, "raise a need for an institution"},
	{"GET", "/api/v1/needs/summary", h_needs_summary, CAP_NEED_READ, 0, "needs summed by item and division"},
	{"GET", "/api/v1/needs/export", h_needs_export, CAP_NEED_READ | CAP_EXPORT, 0,
	 "the needs list (紧急药品物资需求清单) as xlsx or CSV"},
	{"GET", "/api/v1/needs/{id}", h_need_get, CAP_NEED_READ, 0, "one need with its pledges"},
	{"PATCH", "/api/v1/needs/{id}", h_need_patch, CAP_NEED_WRITE, F_JSON, "edit, confirm or dismiss a proposal, cancel"},
	{"GET", "/api/v1/partners", h_partners_list, CAP_NEED_READ, 0, "partners serving the scope"},
	{"POST", "/api/v1/partners", h_partners_create, CAP_MATCH, F_JSON, "register a partner organisation"},
	{"GET", "/api/v1/partners/{id}", h_partner_get, CAP_NEED_READ, 0, "one partner"},
	{"GET", "/api/v1/offers", h_offers_list, CAP_NEED_READ, 0, "offers serving the scope (a partner: its own)"},
	{"POST", "/api/v1/offers", h_offers_create, CAP_NEED_READ, F_JSON, "register an offer (partner, or an official)"},
	{"PATCH", "/api/v1/offers/{id}", h_offer_patch, CAP_NEED_READ, F_JSON, "edit or withdraw an offer"},
	{"POST", "/api/v1/matching/proposals", h_matching_proposals, CAP_MATCH, F_JSON,
	 "propose pledges for a division's needs (nothing stored)"},
	{"GET", "/api/v1/pledges", h_pledges_list, CAP_NEED_READ, 0, "pledges in scope (a partner: its own)"},
	{"POST", "/api/v1/pledges", h_pledges_create, CAP_MATCH, F_JSON, "confirm a proposal as a pledge"},
	{"PATCH", "/api/v1/pledges/{id}", h_pledge_patch, CAP_NEED_READ, F_JSON, "ship, receive or cancel a pledge"},

	{"GET", "/api/v1/audit", h_audit_list, CAP_AUDIT, 0, "audit rows in scope"},
};

const size_t nroutes = sizeof routes / sizeof routes[0];
