-- 003 surveys: the target set of a survey campaign (a template of period
-- "once"). A campaign without targets addresses every active institution of
-- its types.
CREATE TABLE survey_targets (
  template_code TEXT NOT NULL,
  institution_id BIGINT NOT NULL REFERENCES institutions(id),
  added_by TEXT NOT NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (template_code, institution_id)
);
