-- 004 institution counts: institutions that are expected to report (every
-- status but 'suspended') per division prefix — the nation (''), province,
-- city and county — and type. Kept by triggers on the registry, so every
-- path that changes an institution (API, import, migration, SQL by hand) keeps
-- them right (rows that fall to zero go, so two databases with the same
-- registry hold the same rows), and completeness reads "expected" from a few rows instead of
-- counting the registry on every request.
CREATE TABLE inst_counts (
  division_code @CODE@ NOT NULL,
  type TEXT NOT NULL,
  n BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (division_code, type)
);

INSERT INTO inst_counts(division_code, type, n)
SELECT p, type, COUNT(*) FROM (
  SELECT '' AS p, type FROM institutions WHERE status <> 'suspended'
  UNION ALL SELECT substr(division_code, 1, 2), type FROM institutions WHERE status <> 'suspended'
  UNION ALL SELECT substr(division_code, 1, 4), type FROM institutions WHERE status <> 'suspended'
  UNION ALL SELECT substr(division_code, 1, 6), type FROM institutions WHERE status <> 'suspended'
) x GROUP BY p, type;

--@sqlite
CREATE TRIGGER inst_counts_insert AFTER INSERT ON institutions WHEN NEW.status <> 'suspended' BEGIN
  INSERT INTO inst_counts(division_code, type, n)
  SELECT p, NEW.type, 1 FROM (SELECT '' AS p UNION ALL SELECT substr(NEW.division_code, 1, 2)
    UNION ALL SELECT substr(NEW.division_code, 1, 4) UNION ALL SELECT substr(NEW.division_code, 1, 6)) WHERE 1
  ON CONFLICT (division_code, type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER inst_counts_update AFTER UPDATE OF status, type, division_code ON institutions BEGIN
  UPDATE inst_counts SET n = n - 1 WHERE OLD.status <> 'suspended' AND type = OLD.type AND division_code IN
    ('', substr(OLD.division_code, 1, 2), substr(OLD.division_code, 1, 4), substr(OLD.division_code, 1, 6));
  DELETE FROM inst_counts WHERE n = 0 AND type = OLD.type;
  INSERT INTO inst_counts(division_code, type, n)
  SELECT p, NEW.type, 1 FROM (SELECT '' AS p UNION ALL SELECT substr(NEW.division_code, 1, 2)
    UNION ALL SELECT substr(NEW.division_code, 1, 4) UNION ALL SELECT substr(NEW.division_code, 1, 6))
  WHERE NEW.status <> 'suspended'
  ON CONFLICT (division_code, type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER inst_counts_delete AFTER DELETE ON institutions WHEN OLD.status <> 'suspended' BEGIN
  UPDATE inst_counts SET n = n - 1 WHERE type = OLD.type AND division_code IN
    ('', substr(OLD.division_code, 1, 2), substr(OLD.division_code, 1, 4), substr(OLD.division_code, 1, 6));
  DELETE FROM inst_counts WHERE n = 0 AND type = OLD.type;
END;
--@pg
CREATE FUNCTION inst_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'suspended' THEN
    UPDATE inst_counts SET n = n - 1 WHERE type = OLD.type AND division_code IN
      ('', substr(OLD.division_code, 1, 2), substr(OLD.division_code, 1, 4), substr(OLD.division_code, 1, 6));
    DELETE FROM inst_counts WHERE n = 0 AND type = OLD.type;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'suspended' THEN
    INSERT INTO inst_counts(division_code, type, n)
    SELECT p, NEW.type, 1 FROM unnest(ARRAY['', substr(NEW.division_code, 1, 2), substr(NEW.division_code, 1, 4),
      substr(NEW.division_code, 1, 6)]) AS p
    ON CONFLICT (division_code, type) DO UPDATE SET n = inst_counts.n + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER inst_counts_insert AFTER INSERT OR DELETE ON institutions FOR EACH ROW EXECUTE FUNCTION inst_counts_keep();
CREATE TRIGGER inst_counts_update AFTER UPDATE OF status, type, division_code ON institutions FOR EACH ROW
  EXECUTE FUNCTION inst_counts_keep();
--@all
