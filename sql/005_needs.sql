-- 005 needs list and precise matching (需求清单与精准对接): the item
-- catalogue, difficulties, needs, partners, offers and pledges.
--
-- The database itself keeps the pledge counters and refuses what must never
-- happen, whichever path writes (API, CLI, SQL by hand) and however requests
-- race: triggers on pledges move the counters of their need and offer in the
-- same statement, and CHECK constraints refuse a need pledged beyond its
-- quantity or an offer beyond what it holds (a second racing pledge waits for
-- the first's row lock and then fails the CHECK). A pledge moves only
-- pledged → shipped → received or pledged → cancelled; anything else (e.g.
-- shipping a pledge twice) is refused by a trigger.

-- One list of drugs, tests, devices and supplies (SPEC §2), shared with the
-- templates' stock_<item> fields and used by needs and offers.
CREATE TABLE items (
  code TEXT PRIMARY KEY,
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL,
  category TEXT NOT NULL CHECK (category IN ('drug', 'test', 'device', 'protective', 'living')),
  unit TEXT NOT NULL,
  sort INTEGER NOT NULL
);
INSERT INTO items(code, name_zh, name_en, category, unit, sort) VALUES
  ('antipyretic', '解热镇痛药', 'antipyretics', 'drug', '人份', 1),
  ('children_antipyretic', '儿童退烧药', 'children''s antipyretics', 'drug', '人份', 2),
  ('cough', '止咳药', 'cough medicine', 'drug', '人份', 3),
  ('chinese_medicine', '中成药', 'Chinese patent medicine', 'drug', '人份', 4),
  ('antiviral', '抗病毒药', 'antivirals', 'drug', '人份', 5),
  ('antigen_kit', '抗原检测试剂', 'antigen test kits', 'test', '人份', 6),
  ('oximeter', '指夹式血氧仪', 'finger oximeters', 'device', '台', 7),
  ('oxygen_concentrator', '制氧机', 'oxygen concentrators', 'device', '台', 8),
  ('oxygen_bag', '氧气袋/氧气瓶', 'oxygen bags/cylinders', 'device', '个', 9),
  ('mask_surgical', '医用外科口罩', 'surgical masks', 'protective', '只', 10),
  ('mask_n95', 'N95口罩', 'N95 masks', 'protective', '只', 11),
  ('protective_suit', '防护服', 'protective suits', 'protective', '套', 12),
  ('gloves', '手套', 'gloves', 'protective', '副', 13),
  ('disinfectant', '消毒液', 'disinfectant', 'protective', '升', 14),
  ('goggles', '护目镜', 'goggles', 'protective', '副', 15),
  ('living_supplies', '生活物资', 'living supplies', 'living', '天', 16);

-- 困难问题: open → coordinating → resolved, with the department's response.
CREATE TABLE difficulties (
  id @ID@,
  institution_id BIGINT NOT NULL REFERENCES institutions(id),
  division_code @CODE@ NOT NULL,
  category TEXT NOT NULL CHECK (category IN ('medical', 'drugs', 'supplies', 'staff', 'funds', 'other')),
  text TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'coordinating', 'resolved')),
  response TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX difficulties_division ON difficulties(division_code, id);

-- References read [county code]-[sequence]: one counter row per county.
CREATE TABLE need_counters (
  county @CODE@ PRIMARY KEY,
  seq BIGINT NOT NULL
);

-- A need: state is proposed (made from a report whose days of supply fell
-- under the threshold; the reporter confirms or dismisses it), active,
-- dismissed or cancelled. committed = quantity of its pledges that are not
-- cancelled (a receipt of less lowers it to what arrived, so the rest can be
-- pledged again); in_transit = shipped, not yet received; received = what
-- arrived. The displayed status derives from these (need.c).
CREATE TABLE needs (
  id @ID@,
  ref TEXT UNIQUE,
  institution_id BIGINT NOT NULL REFERENCES institutions(id),
  division_code @CODE@ NOT NULL,
  item TEXT NOT NULL REFERENCES items(code),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  urgency TEXT NOT NULL CHECK (urgency IN ('urgent', 'high', 'normal')),
  needed_by TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('proposed', 'active', 'dismissed', 'cancelled')),
  source TEXT NOT NULL DEFAULT 'manual',
  source_period TEXT,
  committed BIGINT NOT NULL DEFAULT 0,
  in_transit BIGINT NOT NULL DEFAULT 0,
  received BIGINT NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  CHECK (committed >= 0 AND committed <= quantity),
  CHECK (in_transit >= 0 AND in_transit <= committed),
  CHECK (received >= 0 AND received <= committed),
  CHECK (state = 'active' OR committed = 0)
);
CREATE INDEX needs_division ON needs(division_code, id);
CREATE INDEX needs_institution ON needs(institution_id, item, state);

CREATE TABLE partners (
  id @ID@,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('charity', 'social_work', 'volunteer')),
  division_code @CODE@ NOT NULL,
  contact_name TEXT NOT NULL DEFAULT '',
  contact_phone TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX partners_division ON partners(division_code, id);

-- An offer serves the division subtree division_code; pledged counts its
-- quantity promised to needs (cancelled pledges give it back).
CREATE TABLE offers (
  id @ID@,
  partner_id BIGINT NOT NULL REFERENCES partners(id),
  item TEXT NOT NULL REFERENCES items(code),
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  division_code @CODE@ NOT NULL,
  available_from TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'withdrawn')),
  pledged BIGINT NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK (pledged >= 0 AND pledged <= quantity)
);
CREATE INDEX offers_item ON offers(item, division_code);
CREATE INDEX offers_partner ON offers(partner_id, id);

CREATE TABLE pledges (
  id @ID@,
  need_id BIGINT NOT NULL REFERENCES needs(id),
  offer_id BIGINT NOT NULL REFERENCES offers(id),
  partner_id BIGINT NOT NULL REFERENCES partners(id),
  division_code @CODE@ NOT NULL,
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  status TEXT NOT NULL DEFAULT 'pledged' CHECK (status IN ('pledged', 'shipped', 'received', 'cancelled')),
  received_quantity BIGINT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  shipped_at BIGINT,
  received_at BIGINT,
  cancelled_at BIGINT,
  updated_at BIGINT NOT NULL,
  CHECK ((status = 'received') = (received_quantity IS NOT NULL)),
  CHECK (received_quantity IS NULL OR (received_quantity >= 0 AND received_quantity <= quantity))
);
CREATE INDEX pledges_need ON pledges(need_id, id);
CREATE INDEX pledges_offer ON pledges(offer_id, id);
CREATE INDEX pledges_division ON pledges(division_code, id);
CREATE INDEX pledges_partner ON pledges(partner_id, id);

--@sqlite
CREATE TRIGGER pledges_no_bad_insert BEFORE INSERT ON pledges WHEN NEW.status <> 'pledged' BEGIN
  SELECT RAISE(ABORT, 'a pledge starts as pledged');
END;
CREATE TRIGGER pledges_counts_insert AFTER INSERT ON pledges BEGIN
  UPDATE needs SET committed = committed + NEW.quantity WHERE id = NEW.need_id;
  UPDATE offers SET pledged = pledged + NEW.quantity WHERE id = NEW.offer_id;
END;
CREATE TRIGGER pledges_no_bad_update BEFORE UPDATE ON pledges
WHEN NEW.need_id <> OLD.need_id OR NEW.offer_id <> OLD.offer_id OR NEW.quantity <> OLD.quantity
  OR NOT ((OLD.status = 'pledged' AND NEW.status IN ('shipped', 'cancelled'))
       OR (OLD.status = 'shipped' AND NEW.status = 'received')) BEGIN
  SELECT RAISE(ABORT, 'pledge transition refused');
END;
CREATE TRIGGER pledges_counts_update AFTER UPDATE OF status ON pledges BEGIN
  UPDATE needs SET
    in_transit = in_transit + CASE WHEN NEW.status = 'shipped' THEN NEW.quantity
                                   WHEN NEW.status = 'received' THEN -NEW.quantity ELSE 0 END,
    received = received + CASE WHEN NEW.status = 'received' THEN NEW.received_quantity ELSE 0 END,
    committed = committed - CASE WHEN NEW.status = 'cancelled' THEN NEW.quantity
                                 WHEN NEW.status = 'received' THEN NEW.quantity - NEW.received_quantity ELSE 0 END
  WHERE id = NEW.need_id;
  UPDATE offers SET pledged = pledged - NEW.quantity WHERE id = NEW.offer_id AND NEW.status = 'cancelled';
END;
CREATE TRIGGER pledges_no_delete BEFORE DELETE ON pledges BEGIN
  SELECT RAISE(ABORT, 'pledges are never deleted');
END;
--@pg
CREATE FUNCTION pledges_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- migrate-db copies pledges whose counters are copied too
  IF current_setting('carewatch.copying', true) = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'pledges are never deleted' USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pledged' THEN
      RAISE EXCEPTION 'a pledge starts as pledged' USING ERRCODE = 'check_violation';
    END IF;
    UPDATE needs SET committed = committed + NEW.quantity WHERE id = NEW.need_id;
    UPDATE offers SET pledged = pledged + NEW.quantity WHERE id = NEW.offer_id;
    RETURN NEW;
  END IF;
  IF NEW.need_id <> OLD.need_id OR NEW.offer_id <> OLD.offer_id OR NEW.quantity <> OLD.quantity
     OR NOT ((OLD.status = 'pledged' AND NEW.status IN ('shipped', 'cancelled'))
          OR (OLD.status = 'shipped' AND NEW.status = 'received')) THEN
    RAISE EXCEPTION 'pledge transition refused' USING ERRCODE = 'check_violation';
  END IF;
  UPDATE needs SET
    in_transit = in_transit + CASE WHEN NEW.status = 'shipped' THEN NEW.quantity
                                   WHEN NEW.status = 'received' THEN -NEW.quantity ELSE 0 END,
    received = received + CASE WHEN NEW.status = 'received' THEN NEW.received_quantity ELSE 0 END,
    committed = committed - CASE WHEN NEW.status = 'cancelled' THEN NEW.quantity
                                 WHEN NEW.status = 'received' THEN NEW.quantity - NEW.received_quantity ELSE 0 END
  WHERE id = NEW.need_id;
  IF NEW.status = 'cancelled' THEN
    UPDATE offers SET pledged = pledged - NEW.quantity WHERE id = NEW.offer_id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER pledges_keep_insert AFTER INSERT ON pledges FOR EACH ROW EXECUTE FUNCTION pledges_keep();
CREATE TRIGGER pledges_keep_update BEFORE UPDATE OR DELETE ON pledges FOR EACH ROW EXECUTE FUNCTION pledges_keep();
--@all
