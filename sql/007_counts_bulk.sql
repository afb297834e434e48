-- 007 bulk registry imports on PostgreSQL: there every update of one row
-- inside a transaction leaves a row version the next update must step over,
-- so 45,000 imported institutions bumping the national and provincial count
-- rows one by one took minutes. A bulk import sets carewatch.bulk_counts for
-- its own transaction (SET LOCAL), the trigger then leaves the counts alone,
-- and the import recounts them once before it commits (institution_io.c).
-- SQLite updates rows in place: its triggers stay as they are.
--@pg
CREATE OR REPLACE FUNCTION inst_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('carewatch.bulk_counts', true) = 'on' THEN
    RETURN NULL;
  END IF;
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
--@all
