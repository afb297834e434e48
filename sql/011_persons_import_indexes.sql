-- 011 indexes an import into a large registry appends to (issue 6). At 10
-- million people an import of 200,000 dirtied ~90,000 index leaves, read,
-- changed and written to the WAL at commit: a cost growing with the
-- registry, not with the file. Both indexes now lead with something new
-- people share, so their entries land side by side.
--
-- The citizen-ID key is random: persons_cid_key got one new entry on a
-- random leaf per person, nearly every leaf of it per import.
-- persons_cid_gen leads with the person's generation, id >> 20 (1,048,576
-- ids each): new people have the highest ids, so their keys go into the last
-- one or two generations' part of the index. A lookup names every
-- generation (PERSON_CID_MATCH in src/person.h): one seek each, ten at 10
-- million people.
DROP INDEX persons_cid_key;
CREATE INDEX persons_cid_gen ON persons((id >> 20), cid_key);
-- persons_division (code, id, next_due) took a leaf per township an import
-- touched (41,352 townships); persons_county leads with the county (the
-- township code's first six digits as a number; people are registered at
-- township level, nine digits) and then the id, so a county's new people
-- follow each other at the end of its range: a leaf per county (2,978).
-- Lists name the county range and the code range (PERSON_IN_RANGE) and are
-- ordered by county, then registration (PERSON_ORDER). CAST and / rather
-- than substr(): an index on a function call makes SQLite open a statement
-- journal for every multi-row INSERT (measured: a third slower).
DROP INDEX persons_division;
CREATE INDEX persons_county ON persons((CAST(division_code AS BIGINT) / 1000), id, division_code, next_due);
