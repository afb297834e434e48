-- 002 reports: templates (versions), reports, value history, idempotency
-- keys, and the live roll-ups maintained in the same transaction as every
-- accepted, edited or returned report.

CREATE TABLE templates (
  code TEXT NOT NULL,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  PRIMARY KEY (code, version)
);

CREATE TABLE reports (
  id @ID@,
  template_code TEXT NOT NULL,
  template_version INTEGER NOT NULL,
  institution_id BIGINT NOT NULL REFERENCES institutions(id),
  division_code @CODE@ NOT NULL,
  period TEXT NOT NULL,
  status TEXT NOT NULL,
  vals TEXT NOT NULL,
  derived TEXT NOT NULL DEFAULT '{}',
  warnings_confirmed INTEGER NOT NULL DEFAULT 0,
  first_submitted_at BIGINT,
  submitted_at BIGINT,
  on_time INTEGER NOT NULL DEFAULT 0,
  submitted_by TEXT,
  reviewed_by TEXT,
  reviewed_at BIGINT,
  review_reason TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (template_code, institution_id, period)
);
CREATE INDEX reports_period_division ON reports(template_code, period, division_code);
CREATE INDEX reports_institution ON reports(institution_id, template_code, period);

CREATE TABLE report_changes (
  id @ID@,
  report_id BIGINT NOT NULL REFERENCES reports(id),
  field TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  actor TEXT NOT NULL,
  changed_at BIGINT NOT NULL
);
CREATE INDEX report_changes_report ON report_changes(report_id, id);

-- A client's retry carries the same key: the first request's outcome stands.
CREATE TABLE report_keys (
  client_key TEXT PRIMARY KEY,
  report_id BIGINT NOT NULL REFERENCES reports(id),
  created_at BIGINT NOT NULL
);

-- One row per template, period and division at every level ('' national,
-- province, city, county): counts and the packed sums {"field":[sum,count]}.
CREATE TABLE rollups (
  template_code TEXT NOT NULL,
  period TEXT NOT NULL,
  division_code @CODE@ NOT NULL,
  n_reports BIGINT NOT NULL DEFAULT 0,
  n_on_time BIGINT NOT NULL DEFAULT 0,
  n_late BIGINT NOT NULL DEFAULT 0,
  sums TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (template_code, period, division_code)
);
CREATE INDEX rollups_series ON rollups(template_code, division_code, period);
