-- 006 vulnerable people at home (特殊服务对象): the registry, home visits and
-- subsidies. Citizen ID and phone are never stored in clear: *_enc hold
-- XChaCha20-Poly1305 ciphertexts (src/pii.c), cid_hash a keyed BLAKE2b hash
-- for exact search and the duplicate check, *_masked what every list shows.
-- Dates are local (Asia/Shanghai) ISO text computed in C.

-- A keyed hash of a constant under the personal-data key: `serve` refuses to
-- start with a key that does not match it. Never the key itself.
CREATE TABLE pii_key_check (
  id INTEGER PRIMARY KEY,
  value TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE persons (
  id @ID@,
  name TEXT NOT NULL,
  categories TEXT NOT NULL,             -- ",code,code," (LIKE '%,code,%')
  division_code @CODE@ NOT NULL REFERENCES divisions(code),
  address TEXT NOT NULL DEFAULT '',
  cid_enc TEXT NOT NULL,
  cid_hash TEXT NOT NULL,
  cid_masked TEXT NOT NULL,
  phone_enc TEXT NOT NULL DEFAULT '',
  phone_masked TEXT NOT NULL DEFAULT '',
  birth_date TEXT NOT NULL,
  sex TEXT NOT NULL,
  guardian TEXT NOT NULL DEFAULT '',
  worker_id BIGINT REFERENCES users(id),
  situation TEXT NOT NULL DEFAULT 'at_home',
  chronic_disease TEXT NOT NULL DEFAULT 'none',
  vaccination TEXT NOT NULL DEFAULT 'full',
  risk_class TEXT NOT NULL,
  risk_score INTEGER NOT NULL,
  risk_reasons TEXT NOT NULL DEFAULT '[]',
  registered TEXT NOT NULL,             -- local date of registration
  next_due TEXT,                        -- NULL: no visits due (moved, deceased)
  last_visit TEXT,
  visit_count INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX persons_division ON persons(division_code, id);
-- the county overdue list and the township worklist: a range of division
-- codes, then due dates in order
CREATE INDEX persons_due ON persons(division_code, next_due);
CREATE INDEX persons_worker ON persons(worker_id, next_due);
CREATE INDEX persons_cid ON persons(cid_hash);

CREATE TABLE visits (
  id @ID@,
  person_id BIGINT NOT NULL REFERENCES persons(id),
  visit_date TEXT NOT NULL,
  mode TEXT NOT NULL,
  visitor_id BIGINT,
  visitor TEXT NOT NULL,
  findings TEXT NOT NULL DEFAULT '{}',  -- JSON: {health, supplies, safety} or {text}
  help TEXT NOT NULL DEFAULT '',
  follow_up TEXT NOT NULL DEFAULT '',
  follow_up_needed INTEGER NOT NULL DEFAULT 0,
  next_due TEXT NOT NULL,
  client_key TEXT,                      -- a phone's retry of one visit is stored once
  created_at BIGINT NOT NULL
);
CREATE INDEX visits_person ON visits(person_id, visit_date);
CREATE UNIQUE INDEX visits_client_key ON visits(client_key);

CREATE TABLE subsidies (
  id @ID@,
  person_id BIGINT NOT NULL REFERENCES persons(id),
  division_code @CODE@ NOT NULL,
  month TEXT NOT NULL,                  -- YYYY-MM
  amount_cents BIGINT NOT NULL,
  paid_date TEXT,                       -- NULL: not paid yet
  note TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  UNIQUE (person_id, month)
);
CREATE INDEX subsidies_division ON subsidies(division_code, month);
