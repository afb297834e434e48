-- 010 the citizen-ID index on a number (issue 6: imports and the size of
-- the registry). persons_cid indexed cid_hash, 64 hex characters: at 10
-- million people about 800 MB of index whose every entry lands on a random
-- page, and a people import spent a sixth of its time in it. cid_key holds
-- the first 15 hex digits of the same keyed hash as a number (60 bits,
-- src/pii.c pii_hash_key): an 8-byte key, a quarter of the index. Every
-- lookup names both (cid_key = $k AND cid_hash = $h), so two IDs whose keys
-- agree (one chance in 2^60 per pair) are still told apart by the full hash.
ALTER TABLE persons ADD COLUMN cid_key BIGINT NOT NULL DEFAULT 0;
--@sqlite
UPDATE persons SET cid_key = (((((((((((((((instr('0123456789abcdef', substr(cid_hash, 1, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 2, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 3, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 4, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 5, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 6, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 7, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 8, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 9, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 10, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 11, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 12, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 13, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 14, 1)) - 1) * 16 + instr('0123456789abcdef', substr(cid_hash, 15, 1)) - 1);
--@pg
UPDATE persons SET cid_key = ('x' || substr(cid_hash, 1, 15))::bit(60)::bigint;
--@all
DROP INDEX persons_cid;
CREATE INDEX persons_cid_key ON persons(cid_key);
