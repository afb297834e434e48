-- 001 core: divisions, users, sessions, tokens, institutions, audit.
-- Engine-neutral DDL; markers @ID@ @CODE@ @BLOB@ and --@sqlite/--@pg sections
-- are rewritten by db_dialect() (src/db.c).

CREATE TABLE divisions (
  code @CODE@ PRIMARY KEY,
  name TEXT NOT NULL,
  parent @CODE@ NOT NULL,
  level INTEGER NOT NULL
);
CREATE INDEX divisions_parent ON divisions(parent, code);

CREATE TABLE institutions (
  id @ID@,
  name TEXT NOT NULL,
  uscc TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  ownership TEXT NOT NULL,
  division_code @CODE@ NOT NULL REFERENCES divisions(code),
  address TEXT NOT NULL DEFAULT '',
  beds INTEGER NOT NULL DEFAULT 0,
  contact_name TEXT NOT NULL DEFAULT '',
  contact_phone TEXT NOT NULL DEFAULT '',
  medical TEXT NOT NULL DEFAULT 'none',
  status TEXT NOT NULL DEFAULT 'normal',
  risk_level TEXT NOT NULL DEFAULT 'low',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX institutions_division ON institutions(division_code, id);

CREATE TABLE institution_status_history (
  id @ID@,
  institution_id BIGINT NOT NULL REFERENCES institutions(id),
  status TEXT NOT NULL,
  changed_at BIGINT NOT NULL,
  changed_by TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX institution_status_history_inst ON institution_status_history(institution_id, id);

CREATE TABLE users (
  id @ID@,
  login TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  scope @CODE@ NOT NULL DEFAULT '',
  institution_id BIGINT REFERENCES institutions(id),
  partner_id BIGINT,
  pii INTEGER NOT NULL DEFAULT 0,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX users_scope ON users(scope);

CREATE TABLE sessions (
  key TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE tokens (
  key TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  label TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);

-- The audit log is append-only and hash-chained: hash = BLAKE2b-256 over the
-- previous hash and the row's fields (src/audit.c). audit_head holds the
-- chain's tip; updating it first serializes writers on both engines.
CREATE TABLE audit (
  seq BIGINT PRIMARY KEY,
  ts BIGINT NOT NULL,
  actor_id BIGINT,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  division_code @CODE@ NOT NULL DEFAULT '',
  before_json TEXT,
  after_json TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_object ON audit(object_type, object_id);

CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head(id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

--@sqlite
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
--@pg
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit rows are append-only';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
--@all
