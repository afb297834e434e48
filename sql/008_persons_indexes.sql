-- 008 fewer index writes per registered person (issue 6: a bulk import of
-- people at ≥ 50,000/s). Every person was written into five b-trees: the
-- table, persons_division (division_code, id), persons_due (division_code,
-- next_due), persons_worker (worker_id, next_due) and persons_cid.
--
-- persons_division and persons_due become one index, (division_code, id,
-- next_due): lists walk it in their order (division, then id), and the due
-- lists (a county's overdue list, a township's worklist) walk the same
-- division range reading next_due from the index, as they read it from
-- persons_due before: the same entries either way, as both are led by
-- division_code and a county or township is a range of it.
--
-- persons_worker only holds people who have a responsible worker: the only
-- query that can use it asks for one worker's people (worker_id = $n), which
-- never matches a NULL.
DROP INDEX persons_due;
DROP INDEX persons_division;
CREATE INDEX persons_division ON persons(division_code, id, next_due);
DROP INDEX persons_worker;
CREATE INDEX persons_worker ON persons(worker_id, next_due) WHERE worker_id IS NOT NULL;
