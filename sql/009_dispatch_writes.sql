-- 009 fewer writes per submitted report.
--
-- reports_institution (institution_id, template_code, period) duplicates the
-- unique key (template_code, institution_id, period) for every query there
-- is (all name the template), and costs every report an insert into a random
-- page of a third index. Institutions are never deleted, so the foreign key
-- needs no index starting with institution_id either. SQLite drops it.
-- PostgreSQL keeps it: while a bulk import fills a table it has no
-- statistics for, its generic plan for "this institution's report of this
-- day" picked reports_period_division and filtered the whole day's rows —
-- the first national day's import went from 18 s to 98 s for 20,000 reports.
--@sqlite
DROP INDEX IF EXISTS reports_institution;
--
-- Roll-up rows move in one statement: cw_merge(sums, contrib, sign)
-- returns sums + sign × contrib for the roll-up format {"field":[sum, count]}
-- (keys sorted, sums that cancel written as 0), so a counted report updates
-- each level's row with one INSERT … ON CONFLICT DO UPDATE instead of reading
-- the sums back and writing them in a second statement. SQLite has the same
-- function in C (src/rollup_sql.c, registered on every connection).
--@pg
CREATE OR REPLACE FUNCTION cw_merge(sums text, contrib text, sign integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '{' || COALESCE(
    (SELECT string_agg(to_json(k)::text || ':[' || trim_scale(CASE WHEN abs(s) < 1e-9 THEN 0 ELSE s END)::text ||
                       ',' || trim_scale(n)::text || ']', ',' ORDER BY k COLLATE "C")
       FROM (SELECT k, SUM(s) AS s, SUM(n) AS n FROM (
               SELECT key AS k, (value->>0)::numeric AS s, (value->>1)::numeric AS n FROM jsonb_each(sums::jsonb)
               UNION ALL
               SELECT key, sign * (value->>0)::numeric, sign * (value->>1)::numeric FROM jsonb_each(contrib::jsonb)
             ) parts GROUP BY k) merged),
    '') || '}'
$$;
--@all
