/* handlers.h — every route handler, grouped by the file that implements it. */
#ifndef CW_HANDLERS_H
#define CW_HANDLERS_H
struct req;

/* health.c */
int h_healthz(struct req *r);
int h_metrics(struct req *r);
int h_openapi(struct req *r);
/* session.c */
int h_session_create(struct req *r);
int h_session_get(struct req *r);
int h_session_delete(struct req *r);
/* user.c */
int h_users_list(struct req *r);
int h_users_create(struct req *r);
int h_user_get(struct req *r);
int h_user_patch(struct req *r);
/* division.c */
int h_divisions_list(struct req *r);
int h_division_get(struct req *r);
/* institution.c */
int h_institutions_list(struct req *r);
int h_institutions_create(struct req *r);
int h_institution_get(struct req *r);
int h_institution_patch(struct req *r);
int h_institution_history(struct req *r);
/* institution_io.c */
int h_institutions_export(struct req *r);
int h_institutions_import(struct req *r);
/* report_api.c */
int h_templates_list(struct req *r);
int h_template_get(struct req *r);
int h_report_get(struct req *r);
int h_report_put(struct req *r);
int h_report_zero(struct req *r);
int h_report_validate(struct req *r);
int h_report_review(struct req *r);
int h_report_prefill(struct req *r);
int h_report_history(struct req *r);
/* dashboard_api.c */
int h_completeness(struct req *r);
int h_rollups(struct req *r);
int h_series(struct req *r);
int h_reports_list(struct req *r);
/* dispatch_export.c */
int h_dispatch_export(struct req *r);
/* survey.c */
int h_surveys_list(struct req *r);
int h_survey_targets(struct req *r);
/* item.c */
int h_items_list(struct req *r);
/* difficulty.c */
int h_difficulties_list(struct req *r);
int h_difficulties_create(struct req *r);
int h_difficulty_patch(struct req *r);
/* need.c */
int h_needs_list(struct req *r);
int h_needs_create(struct req *r);
int h_needs_summary(struct req *r);
int h_need_get(struct req *r);
int h_need_patch(struct req *r);
/* need_export.c */
int h_needs_export(struct req *r);
/* partner.c */
int h_partners_list(struct req *r);
int h_partners_create(struct req *r);
int h_partner_get(struct req *r);
int h_offers_list(struct req *r);
int h_offers_create(struct req *r);
int h_offer_patch(struct req *r);
/* matching.c */
int h_matching_proposals(struct req *r);
/* pledge.c */
int h_pledges_list(struct req *r);
int h_pledges_create(struct req *r);
int h_pledge_patch(struct req *r);
/* person.c */
int h_persons_list(struct req *r);
int h_persons_create(struct req *r);
int h_person_get(struct req *r);
int h_person_patch(struct req *r);
/* person_io.c */
int h_persons_import(struct req *r);
int h_persons_export(struct req *r);
/* visit.c */
int h_visits_create(struct req *r);
int h_person_visits(struct req *r);
int h_visits_overdue(struct req *r);
int h_visits_due(struct req *r);
int h_visits_coverage(struct req *r);
/* subsidy.c */
int h_person_subsidies(struct req *r);
int h_subsidy_put(struct req *r);
int h_subsidies_list(struct req *r);
int h_subsidies_export(struct req *r);
/* gap.c */
int h_gaps(struct req *r);
/* audit_api.c */
int h_audit_list(struct req *r);

#endif
