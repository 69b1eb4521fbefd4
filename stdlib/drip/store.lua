-- drip.store — all of drip's state in one SQLite file (WAL).
-- Owns the schema, its version, every query, and transactions. The engine
-- talks to the store only through these methods, so another backend could
-- replace this file without touching the engine.
local host = require "drip_host"
local json = require "drip.json"
local events = require "drip.events"
local TimerWindow = require "drip.timer_window"
local policy = require "drip.policy"
local objects = require "drip.objects"

local Store = {}
Store.__index = Store

local SCHEMA_VERSION = 3

-- the indexes by contact of events and messages: left out while a new store
-- is bulk loaded (see Store:bulk_events)
local BY_CONTACT = "CREATE INDEX IF NOT EXISTS events_contact ON events(contact, name, ts); "
  .. "CREATE INDEX IF NOT EXISTS outbox_contact ON outbox(contact, created_at)"

-- the indexes only a served store needs: one finds the messages sent to an
-- address (a provider's bounce or complaint: drip.feedback), one the opens,
-- clicks and unsubscribes among the events (drip.records). drip run makes them; a
-- simulation, which has no use for them, never does: each index kept on
-- events costs every insert (a fifth more for this one alone).
local FOR_SERVING = "CREATE INDEX IF NOT EXISTS outbox_address ON outbox(address COLLATE NOCASE) WHERE address IS NOT NULL; "
  .. "CREATE INDEX IF NOT EXISTS events_engaged ON events(seq) "
  .. "WHERE name IN ('Email Opened', 'Email Link Clicked', 'SMS Link Clicked', 'Unsubscribed', 'Resubscribed')"

-- the index that finds an event's messageId seen before: left out while a
-- new store is loaded with events known to be distinct (Store:events_unique)
local BY_MESSAGE_ID = "CREATE UNIQUE INDEX IF NOT EXISTS events_message_id ON events(message_id) WHERE message_id IS NOT NULL;"

local SCHEMA = [[
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS contacts (
  id TEXT PRIMARY KEY, traits TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, contact TEXT NOT NULL, type TEXT NOT NULL, name TEXT,
  ts INTEGER NOT NULL, message_id TEXT, internal INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scripts (
  hash TEXT PRIMARY KEY, journey TEXT NOT NULL, file TEXT, source TEXT NOT NULL, loaded_at INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS instances (
  id INTEGER PRIMARY KEY, journey TEXT NOT NULL, version TEXT NOT NULL, contact TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1, entered_at INTEGER NOT NULL, trigger_seq INTEGER,
  trigger_name TEXT, traits TEXT, wait_seq INTEGER, wait_event TEXT,
  ended_at INTEGER, exit_reason TEXT, converted INTEGER NOT NULL DEFAULT 0, value REAL, error TEXT
);
CREATE INDEX IF NOT EXISTS instances_contact ON instances(contact, journey, entered_at);
CREATE INDEX IF NOT EXISTS instances_active ON instances(contact) WHERE active = 1;
CREATE TABLE IF NOT EXISTS steps (
  instance INTEGER NOT NULL, seq INTEGER NOT NULL, result TEXT NOT NULL, PRIMARY KEY (instance, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (
  id INTEGER PRIMARY KEY, due INTEGER NOT NULL, instance INTEGER NOT NULL, seq INTEGER, kind TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS timers_due ON timers(due, id);
CREATE TABLE IF NOT EXISTS inactivity (
  contact TEXT NOT NULL, journey TEXT NOT NULL, due INTEGER NOT NULL, PRIMARY KEY (contact, journey)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inactivity_due ON inactivity(due);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY, instance INTEGER NOT NULL, seq INTEGER NOT NULL, channel TEXT NOT NULL,
  address TEXT, kind TEXT NOT NULL, message TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
  created_at INTEGER NOT NULL, UNIQUE (instance, seq)
);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY, message INTEGER NOT NULL, at INTEGER NOT NULL, status TEXT NOT NULL, detail TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_message ON deliveries(message);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY, instance INTEGER NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT
);
CREATE INDEX IF NOT EXISTS history_instance ON history(instance);
CREATE TABLE IF NOT EXISTS schedules (
  journey TEXT NOT NULL, zone TEXT NOT NULL, spec TEXT NOT NULL, occurrence TEXT, due INTEGER,
  swept REAL NOT NULL DEFAULT 0, cursor TEXT, PRIMARY KEY (journey, zone)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS schedules_due ON schedules(due) WHERE due IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (
  journey TEXT NOT NULL, day INTEGER NOT NULL, metric TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL,
  c TEXT NOT NULL, n NOT NULL, PRIMARY KEY (journey, day, metric, a, b, c)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pauses (
  id INTEGER PRIMARY KEY, journey TEXT NOT NULL, since INTEGER NOT NULL, until INTEGER,
  refused INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS pauses_open ON pauses(journey) WHERE until IS NULL;
]] .. BY_MESSAGE_ID -- (also when a load stopped midway left it to build)

-- Schema 2 (delivery): who a message is for, when it is next due (NULL once
-- it is final), attempts made, when it went out, and the provider's answer.
-- Schema 3 (segments, schedules, backtest): the message's step label, and the
-- contact's timezone trait as a column so a broadcast finds a zone's contacts;
-- then the SMS segments a message takes (for stats; NULL on older rows);
-- then when an email was first opened and first clicked (drip.tracking),
-- and the topic a marketing message named (its unsubscribe link is for it).
-- The zones index holds only contacts with a timezone trait (most have
-- none): an index of every contact cost a tenth of each identify's time,
-- and a broadcast's pages read contacts in id order anyway.
local ADDED_COLUMNS = {
  outbox = { "contact TEXT", "due INTEGER", "attempts INTEGER NOT NULL DEFAULT 0", "sent_at INTEGER",
             "detail TEXT", "label TEXT", "segments INTEGER", "opened_at INTEGER", "clicked_at INTEGER", "topic TEXT" },
  contacts = { "tz TEXT" },
  schedules = { "cursor TEXT" }, -- (made by a build of this schema 3 without it)
}
local ADDED_INDEXES = [[
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(channel, due) WHERE due IS NOT NULL;
CREATE INDEX IF NOT EXISTS history_variant ON history(instance) WHERE kind = 'variant';
DROP INDEX IF EXISTS contacts_tz;
CREATE INDEX IF NOT EXISTS contacts_zone ON contacts(tz) WHERE tz IS NOT NULL;
CREATE INDEX IF NOT EXISTS instances_entered ON instances(entered_at);
]]

-- events of an attached store `src` copied in (backtest's and preview's scratch stores)
local COPY_EVENTS = "INSERT INTO events(contact, type, name, ts, message_id, internal, body) "
  .. "SELECT contact, type, name, ts, message_id, internal, body FROM src.events "

-- Each conversion (a 'convert' row of history) of the instances `where`
-- picks, with the message it credits: the latest of its instance's messages
-- not suppressed, made at or before it (last touch). `first`: the
-- instance's first conversion, which counts it converted; `value`: its revenue.
local function credits(where)
  return "SELECT i.journey AS journey, i.entered_at AS entered_at, o.label AS label, o.channel AS channel, "
    .. "h.id = (SELECT min(id) FROM history WHERE instance = i.id AND kind = 'convert') AS first, "
    .. "json_extract(h.data, '$.value') AS value FROM instances i "
    .. "JOIN history h ON h.instance = i.id AND h.kind = 'convert' "
    .. "JOIN outbox o ON o.id = (SELECT id FROM outbox WHERE instance = i.id AND status <> 'suppressed' "
    .. "AND created_at <= h.at ORDER BY seq DESC LIMIT 1) WHERE o.label IS NOT NULL" .. (where or "")
end

local QUERIES = {
  meta_get = "SELECT value FROM meta WHERE key = ?",
  meta_set = "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  contact_get = "SELECT traits FROM contacts WHERE id = ?",
  contact_any = "SELECT 1 FROM contacts LIMIT 1",
  instance_any = "SELECT 1 FROM instances LIMIT 1",
  temp_objects = "SELECT count(*) FROM temp.sqlite_master",
  contact_touch = "INSERT OR IGNORE INTO contacts(id, created_at) VALUES (?, ?)",
  contact_put = "INSERT INTO contacts(id, traits, created_at, tz) VALUES (?, ?, ?, ?) "
    .. "ON CONFLICT(id) DO UPDATE SET traits = excluded.traits, tz = excluded.tz",
  contact_zones = "SELECT DISTINCT tz FROM contacts WHERE tz IS NOT NULL",
  contact_has_trait = "SELECT 1 FROM contacts, json_each(contacts.traits) WHERE json_each.key = ? LIMIT 1",
  contacts_page = "SELECT id, traits FROM contacts WHERE id > ? ORDER BY id LIMIT ?",
  contacts_in_zones = "SELECT id, traits FROM contacts WHERE id > ?1 AND (tz IN (SELECT value FROM json_each(?2)) "
    .. "OR (?3 AND tz IS NULL)) ORDER BY id LIMIT ?4",
  event_count = "SELECT count(*) FROM events WHERE contact = ?1 AND name = ?2 AND ts >= coalesce(?3, ts)",
  event_names = "SELECT name, count(*) FROM events WHERE contact = ? AND name IS NOT NULL GROUP BY name ORDER BY name",
  schedule_get = "SELECT spec, occurrence, due, swept, cursor FROM schedules WHERE journey = ? AND zone = ?",
  schedule_put = "INSERT INTO schedules(journey, zone, spec, occurrence, due, swept, cursor) VALUES (?, ?, ?, ?, ?, ?, ?) "
    .. "ON CONFLICT(journey, zone) DO UPDATE SET spec = excluded.spec, occurrence = excluded.occurrence, "
    .. "due = excluded.due, swept = excluded.swept, cursor = excluded.cursor",
  schedules_due = "SELECT journey, zone, due FROM schedules WHERE due <= ? ORDER BY due, journey, zone LIMIT ?",
  schedule_next = "SELECT min(due) FROM schedules",
  schedule_next_once = "SELECT min(due) FROM schedules WHERE spec NOT LIKE 'daily %'",
  event_add = "INSERT OR IGNORE INTO events(contact, type, name, ts, message_id, internal, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
  event_get = "SELECT body FROM events WHERE seq = ?",
  event_any = "SELECT 1 FROM events LIMIT 1",
  event_last = "SELECT body FROM events WHERE contact = ? AND name = ? AND ts >= ? ORDER BY ts DESC, seq DESC LIMIT 1",
  event_last_activity = "SELECT max(ts) FROM events WHERE contact = ? AND internal = 0",
  script_put = "INSERT OR IGNORE INTO scripts(hash, journey, file, source, loaded_at) VALUES (?, ?, ?, ?, ?)",
  script_get = "SELECT source, file FROM scripts WHERE hash = ?",
  script_latest = "SELECT source, file FROM scripts WHERE journey = ? ORDER BY loaded_at DESC LIMIT 1",
  script_journeys = "SELECT DISTINCT journey FROM scripts ORDER BY journey",
  instance_add = "INSERT INTO instances(id, journey, version, contact, active, entered_at, trigger_seq, trigger_name, "
    .. "traits, wait_seq, wait_event, ended_at, exit_reason, converted, value, error) "
    .. "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  -- ids are never given twice, also after `forget` removed the newest rows:
  -- an idempotency key is made of the instance id, and delivery marks a
  -- message by its id (meta 'high_TABLE': the highest id a forget removed)
  instances_next_id = "SELECT max(coalesce((SELECT max(id) FROM instances), 0), "
    .. "coalesce((SELECT value FROM meta WHERE key = 'high_instances'), 0)) + 1",
  outbox_next_id = "SELECT max(coalesce((SELECT max(id) FROM outbox), 0), "
    .. "coalesce((SELECT value FROM meta WHERE key = 'high_outbox'), 0)) + 1",
  instance_get = "SELECT id, journey, version, contact, active, entered_at, trigger_seq, trigger_name, traits, "
    .. "wait_seq, wait_event FROM instances WHERE id = ?",
  instances_active = "SELECT id, journey, version, wait_seq, wait_event, entered_at FROM instances "
    .. "WHERE contact = ? AND active = 1 ORDER BY id",
  instance_last_entry = "SELECT max(entered_at) FROM instances WHERE contact = ? AND journey = ?",
  instance_wait = "UPDATE instances SET wait_seq = ?, wait_event = ? WHERE id = ?",
  instance_convert = "UPDATE instances SET converted = 1 WHERE id = ? AND converted = 0",
  instance_value = "UPDATE instances SET value = coalesce(value, 0) + ? WHERE id = ?",
  instance_end = "UPDATE instances SET active = 0, ended_at = ?, exit_reason = ?, error = ?, wait_seq = NULL, "
    .. "wait_event = NULL WHERE id = ? AND active = 1",
  step_add = "INSERT INTO steps(instance, seq, result) VALUES (?, ?, ?)",
  steps_of = "SELECT result FROM steps WHERE instance = ? ORDER BY seq",
  timer_add = "INSERT INTO timers(due, instance, seq, kind) VALUES (?, ?, ?, ?)",
  timer_put = "INSERT INTO timers(id, due, instance, seq, kind) VALUES (?, ?, ?, ?, ?)",
  timers_next_id = "SELECT coalesce(max(id), 0) + 1 FROM timers", -- (the id SQLite would give)
  timers_due = "SELECT id, due, instance, seq, kind FROM timers WHERE due <= ? ORDER BY due, id LIMIT ?",
  timer_del = "DELETE FROM timers WHERE id = ?",
  timer_next_wake = "SELECT min(due) FROM timers WHERE instance = ? AND kind = 'wake' AND due >= ?",
  timer_next = "SELECT min(due) FROM timers",
  timers_after = "SELECT id, due, instance, seq, kind FROM timers WHERE (due, id) > (?, ?) ORDER BY due, id LIMIT ?",
  inactivity_set = "INSERT INTO inactivity(contact, journey, due) VALUES (?, ?, ?) "
    .. "ON CONFLICT(contact, journey) DO UPDATE SET due = excluded.due",
  inactivity_due = "SELECT contact, journey, due FROM inactivity WHERE due <= ? ORDER BY due, contact, journey LIMIT ?",
  inactivity_del = "DELETE FROM inactivity WHERE contact = ? AND journey = ?",
  inactivity_next = "SELECT min(due) FROM inactivity",
  outbox_add = "INSERT INTO outbox(id, instance, seq, channel, address, kind, message, status, reason, created_at, "
    .. "contact, due, label, segments, topic) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  outbox_due = "SELECT o.id, o.instance, o.seq, o.channel, o.address, o.kind, o.message, o.attempts, o.contact, "
    .. "i.journey, o.created_at, o.topic FROM outbox o LEFT JOIN instances i ON i.id = o.instance "
    .. "WHERE o.channel = ? AND o.due <= ? ORDER BY o.due, o.id LIMIT ?",
  outbox_next_due = "SELECT min(due) FROM outbox WHERE channel = ? AND due IS NOT NULL",
  outbox_claim = "UPDATE outbox SET status = 'sending', due = NULL, attempts = attempts + 1 WHERE id = ?",
  outbox_mark = "UPDATE outbox SET status = ?, due = ?, reason = ?, detail = ?, sent_at = ? WHERE id = ?",
  outbox_resume = "UPDATE outbox SET status = 'queued', due = ? WHERE status = 'sending'",
  outbox_pending = "SELECT channel, count(*) FROM outbox WHERE due IS NOT NULL GROUP BY channel",
  outbox_sent_count = "SELECT count(*) FROM outbox WHERE contact = ?1 AND kind = 'marketing' AND created_at > ?2 "
    .. "AND status IN ('queued', 'deferred', 'held', 'sending', 'sent', 'simulated') AND (?3 IS NULL OR channel = ?3)",
  delivery_add = "INSERT INTO deliveries(message, at, status, detail) VALUES (?, ?, ?, ?)",
  -- the contacts an address was sent to on a channel, with the latest message sent there (drip.feedback)
  sent_to_address = "SELECT contact, max(id) FROM outbox WHERE address = ?1 COLLATE NOCASE AND channel = ?2 "
    .. "AND status = 'sent' AND contact IS NOT NULL GROUP BY contact ORDER BY contact",
  -- tracked clicks and opens (drip.tracking)
  message_engagement = "SELECT o.contact, i.journey, o.instance, o.channel, o.label, o.opened_at, o.clicked_at, o.message "
    .. "FROM outbox o LEFT JOIN instances i ON i.id = o.instance WHERE o.id = ?",
  message_opened = "UPDATE outbox SET opened_at = ?2 WHERE id = ?1 AND opened_at IS NULL",
  message_clicked = "UPDATE outbox SET clicked_at = ?2 WHERE id = ?1 AND clicked_at IS NULL",
  -- the records of drip records (drip.records), each source after an id of it, in id order:
  -- ?1 after, ?2 since (at), ?3 journey or NULL, ?4 limit
  records_enter = "SELECT id, entered_at, contact, journey, id, trigger_name FROM instances "
    .. "WHERE id > ?1 AND entered_at >= ?2 AND (?3 IS NULL OR journey = ?3) ORDER BY id LIMIT ?4",
  records_history = "SELECT h.id, h.at, i.contact, i.journey, h.instance, h.kind, h.data FROM history h "
    .. "JOIN instances i ON i.id = h.instance WHERE h.id > ?1 AND h.at >= ?2 AND (?3 IS NULL OR i.journey = ?3) "
    .. "AND h.kind <> 'enter' ORDER BY h.id LIMIT ?4",
  records_delivery = "SELECT d.id, d.at, i.contact, i.journey, o.instance, d.status, d.detail, o.id, o.channel, "
    .. "o.address, o.label FROM deliveries d JOIN outbox o ON o.id = d.message JOIN instances i ON i.id = o.instance "
    .. "WHERE d.id > ?1 AND d.at >= ?2 AND (?3 IS NULL OR i.journey = ?3) ORDER BY d.id LIMIT ?4",
  -- (the events drip made of tracked opens and clicks carry the message's id: see drip.api; unsubscribes
  -- are the contact's. A served store finds them by the index events_engaged, another reads its events once.)
  records_events = "SELECT seq, ts, contact, json_extract(body, '$.properties.journey'), NULL, name, "
    .. "json_extract(body, '$.properties.message_id'), json_extract(body, '$.properties.message'), "
    .. "json_extract(body, '$.properties.url'), json_extract(body, '$.properties.channel'), "
    .. "json_extract(body, '$.properties.topic'), json_extract(body, '$.properties.reason') "
    .. "FROM events WHERE seq > ?1 AND ts >= ?2 "
    .. "AND name IN ('Email Opened', 'Email Link Clicked', 'SMS Link Clicked', 'Unsubscribed', 'Resubscribed') "
    .. "AND (name IN ('Unsubscribed', 'Resubscribed') OR json_extract(body, '$.properties.message_id') IS NOT NULL) "
    .. "AND (?3 IS NULL OR json_extract(body, '$.properties.journey') = ?3) ORDER BY seq LIMIT ?4",
  records_enter_end = "SELECT coalesce(max(id), 0) FROM instances",
  records_history_end = "SELECT coalesce(max(id), 0) FROM history",
  records_delivery_end = "SELECT coalesce(max(id), 0) FROM deliveries",
  records_events_end = "SELECT coalesce(max(seq), 0) FROM events",
  serving_indexes = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('outbox_address', 'events_engaged')",
  -- pauses (drip.pause): a journey's open pause has no `until`
  pauses_open = "SELECT journey, since, refused FROM pauses WHERE until IS NULL ORDER BY journey",
  pause_add = "INSERT INTO pauses(journey, since) VALUES (?, ?)",
  pause_refused = "UPDATE pauses SET refused = refused + 1 WHERE journey = ? AND until IS NULL",
  pause_end = "UPDATE pauses SET until = ?2 WHERE journey = ?1 AND until IS NULL",
  pauses_of = "SELECT since, until FROM pauses WHERE journey = ? ORDER BY since",
  -- a journey's messages still due to go (their instance may have ended), or already held
  outbox_of_journey = "SELECT o.id, o.status, i.exit_reason FROM outbox o JOIN instances i ON i.id = o.instance "
    .. "WHERE i.journey = ?1 AND (o.status = ?2 OR (?2 = 'due' AND o.due IS NOT NULL)) ORDER BY o.id",
  count_of_journey = "SELECT count(*) FROM outbox o JOIN instances i ON i.id = o.instance "
    .. "WHERE i.journey = ? AND o.status = ?",
  history_of = "SELECT at, kind, data FROM history WHERE instance = ? ORDER BY id",
  -- exact, from the rows, for instances entered in [?1, ?2)
  stats_journeys = "SELECT journey, count(*), sum(active), sum(converted), coalesce(sum(value), 0), "
    .. "coalesce(sum(exit_reason = 'error'), 0) FROM instances WHERE entered_at >= ?1 AND entered_at < ?2 "
    .. "GROUP BY journey",
  stats_exits = "SELECT journey, exit_reason, count(*) FROM instances WHERE entered_at >= ?1 AND entered_at < ?2 "
    .. "AND active = 0 GROUP BY 1, 2",
  stats_steps = "SELECT i.journey, s.seq, json_extract(s.result, '$[0]'), count(*) FROM steps s "
    .. "JOIN instances i ON i.id = s.instance WHERE i.entered_at >= ?1 AND i.entered_at < ?2 GROUP BY 1, 2, 3",
  stats_messages = "SELECT i.journey, o.channel, o.status, coalesce(o.reason, ''), count(*) FROM outbox o "
    .. "JOIN instances i ON i.id = o.instance WHERE i.entered_at >= ?1 AND i.entered_at < ?2 GROUP BY 1, 2, 3, 4",
  stats_segments = "SELECT i.journey, o.channel, sum(o.segments) FROM outbox o JOIN instances i ON i.id = o.instance "
    .. "WHERE o.segments IS NOT NULL AND i.entered_at >= ?1 AND i.entered_at < ?2 GROUP BY 1, 2",
  stats_engaged = "SELECT i.journey, o.channel, count(o.opened_at), count(o.clicked_at) FROM outbox o "
    .. "JOIN instances i ON i.id = o.instance WHERE o.opened_at IS NOT NULL AND i.entered_at >= ?1 AND i.entered_at < ?2 "
    .. "GROUP BY 1, 2",
  stats_labels = "SELECT journey, label, channel, sum(out), sum(opened), sum(clicked), sum(converted), sum(revenue) "
    .. "FROM (SELECT i.journey AS journey, o.label AS label, o.channel AS channel, o.status <> 'suppressed' AS out, "
    .. "o.opened_at IS NOT NULL AS opened, o.clicked_at IS NOT NULL AS clicked, 0 AS converted, 0 AS revenue "
    .. "FROM outbox o JOIN instances i ON i.id = o.instance "
    .. "WHERE o.label IS NOT NULL AND i.entered_at >= ?1 AND i.entered_at < ?2 "
    .. "UNION ALL SELECT journey, label, channel, 0, 0, 0, first, coalesce(value, 0) FROM ("
    .. credits(" AND i.entered_at >= ?1 AND i.entered_at < ?2") .. ")) GROUP BY 1, 2, 3",
  stats_variants = "SELECT i.journey, json_extract(h.data, '$.split'), json_extract(h.data, '$.variant'), "
    .. "count(*), sum(i.converted) FROM history h JOIN instances i ON i.id = h.instance "
    .. "WHERE h.kind = 'variant' AND i.entered_at >= ?1 AND i.entered_at < ?2 GROUP BY 1, 2, 3",
  -- the same shapes from the counters of entry days >= ?1
  counted_journeys = "SELECT journey, sum(n) FILTER (WHERE metric = 'entered'), "
    .. "coalesce(sum(n) FILTER (WHERE metric = 'entered'), 0) - coalesce(sum(n) FILTER (WHERE metric = 'exit'), 0), "
    .. "coalesce(sum(n) FILTER (WHERE metric = 'converted'), 0), coalesce(sum(n) FILTER (WHERE metric = 'revenue'), 0), "
    .. "coalesce(sum(n) FILTER (WHERE metric = 'exit' AND a = 'error'), 0) FROM counters WHERE day >= ?1 "
    .. "GROUP BY journey HAVING sum(n) FILTER (WHERE metric = 'entered') > 0",
  counted_exits = "SELECT journey, a, sum(n) FROM counters WHERE day >= ?1 AND metric = 'exit' GROUP BY 1, 2",
  counted_steps = "SELECT journey, CAST(a AS INTEGER), b, sum(n) FROM counters WHERE day >= ?1 AND metric = 'step' "
    .. "GROUP BY 1, 2, 3",
  counted_messages = "SELECT journey, a, b, c, sum(n) FROM counters WHERE day >= ?1 AND metric = 'message' "
    .. "GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0",
  counted_engaged = "SELECT journey, a, coalesce(sum(n) FILTER (WHERE b = 'opened'), 0), "
    .. "coalesce(sum(n) FILTER (WHERE b = 'clicked'), 0) FROM counters WHERE day >= ?1 AND metric = 'engaged' GROUP BY 1, 2",
  counted_labels = "SELECT journey, a, b, coalesce(sum(n) FILTER (WHERE c = 'out'), 0), "
    .. "coalesce(sum(n) FILTER (WHERE c = 'opened'), 0), coalesce(sum(n) FILTER (WHERE c = 'clicked'), 0), "
    .. "coalesce(sum(n) FILTER (WHERE c = 'converted'), 0), coalesce(sum(n) FILTER (WHERE c = 'revenue'), 0) "
    .. "FROM counters WHERE day >= ?1 AND metric = 'label' GROUP BY 1, 2, 3",
  counted_segments = "SELECT journey, a, sum(n) FROM counters WHERE day >= ?1 AND metric = 'segments' GROUP BY 1, 2",
  counted_variants = "SELECT journey, a, b, coalesce(sum(n) FILTER (WHERE metric = 'variant'), 0), "
    .. "coalesce(sum(n) FILTER (WHERE metric = 'variant_converted'), 0) FROM counters "
    .. "WHERE day >= ?1 AND metric IN ('variant', 'variant_converted') GROUP BY 1, 2, 3",
  counter_add = "INSERT INTO counters(journey, day, metric, a, b, c, n) VALUES (?, ?, ?, ?, ?, ?, ?) "
    .. "ON CONFLICT(journey, day, metric, a, b, c) DO UPDATE SET n = n + excluded.n",
  instance_day = "SELECT journey, entered_at FROM instances WHERE id = ?",
  instance_entry = "SELECT entered_at, trigger_name FROM instances WHERE id = ?",
  -- the contact's latest instance of a journey that ended since ?3 unconverted (a goal's `within`)
  instance_ended_unconverted = "SELECT id, exit_reason FROM instances WHERE contact = ?1 AND journey = ?2 "
    .. "AND active = 0 AND converted = 0 AND ended_at >= ?3 ORDER BY ended_at DESC, id DESC LIMIT 1",
  message_state = "SELECT instance, channel, status, coalesce(reason, '') FROM outbox WHERE id = ?",
  sending_by_instance = "SELECT instance, channel, coalesce(reason, ''), count(*) FROM outbox WHERE status = 'sending' "
    .. "GROUP BY 1, 2, 3",
  data_version = "PRAGMA data_version",
  -- what a conversion of the instance now credits (see credits)
  last_message = "SELECT label, channel FROM outbox WHERE instance = ? AND status <> 'suppressed' "
    .. "ORDER BY seq DESC LIMIT 1",
  variants_of = "SELECT json_extract(data, '$.split'), json_extract(data, '$.variant') FROM history "
    .. "WHERE instance = ? AND kind = 'variant'",
  messages_of = "SELECT id, channel, address, status, reason, attempts, sent_at, due, detail, opened_at, clicked_at FROM outbox "
    .. "WHERE instance = ? ORDER BY seq",
  deliveries_of = "SELECT at, status, detail FROM deliveries WHERE message = ? ORDER BY id",
  instance_next_timer = "SELECT min(due) FROM timers WHERE instance = ?",
  history_add = "INSERT INTO history(instance, at, kind, data) VALUES (?, ?, ?, ?)",
  contact_row = "SELECT traits, created_at FROM contacts WHERE id = ?",
  -- (a scan: asked only when no contact has the id given)
  contacts_known_as = "SELECT id, CASE WHEN lower(id) = lower(?1) THEN 'id' "
    .. "WHEN lower(json_extract(traits, '$.email')) = lower(?1) THEN 'email' ELSE 'phone' END FROM contacts "
    .. "WHERE lower(id) = lower(?1) OR lower(json_extract(traits, '$.email')) = lower(?1) "
    .. "OR json_extract(traits, '$.phone') = ?2 ORDER BY id LIMIT 6",
  -- phones stored other than in plain international form (spaces, dashes, 00, national, Persian digits)
  contacts_written_phones = "SELECT id, json_extract(traits, '$.phone') AS phone FROM contacts "
    .. "WHERE phone GLOB '*[^0-9+]*' OR phone NOT GLOB '+*' ORDER BY id",
  contact_instances = "SELECT id, journey, version, active, entered_at, trigger_name, wait_event, ended_at, "
    .. "exit_reason, converted, value, error FROM instances WHERE contact = ? ORDER BY id",
  contact_events = "SELECT body FROM events WHERE contact = ? ORDER BY ts DESC, seq DESC LIMIT ?",
  -- (before what `drip prune` removed instances of, whether an event started one is not known)
  events_unstarted = "SELECT e.ts, e.body FROM events e WHERE e.contact = ?1 AND e.name = ?2 AND e.internal = 0 "
    .. "AND e.ts >= coalesce((SELECT value FROM meta WHERE key = 'pruned_before'), 0) "
    .. "AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.contact = ?1 AND i.journey = ?3 AND i.trigger_seq = e.seq) "
    .. "ORDER BY e.ts DESC, e.seq DESC LIMIT ?4",
  script_first_loaded = "SELECT min(loaded_at) FROM scripts WHERE journey = ?",
  active_by_journey = "SELECT journey, coalesce(sum(n) FILTER (WHERE metric = 'entered'), 0) "
    .. "- coalesce(sum(n) FILTER (WHERE metric = 'exit'), 0) FROM counters GROUP BY journey",
  -- (of the contacts whose drip_bucket(contact, ?3) is ?4: with ?3 = 1 and ?4 = 0, all)
  bt_entered = "SELECT journey, count(*), count(DISTINCT contact), sum(converted), coalesce(sum(value), 0) "
    .. "FROM instances WHERE entered_at BETWEEN ?1 AND ?2 AND (?3 = 1 OR drip_bucket(contact, ?3) = ?4) GROUP BY journey",
  bt_messages = "SELECT i.journey, o.channel, o.label, o.status = 'suppressed', count(*) "
    .. "FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.entered_at BETWEEN ?1 AND ?2 "
    .. "AND (?3 = 1 OR drip_bucket(i.contact, ?3) = ?4) GROUP BY 1, 2, 3, 4",
  bt_paths = "SELECT i.journey, i.contact, i.id, i.converted, o.channel, o.label, o.status "
    .. "FROM instances i LEFT JOIN outbox o ON o.instance = i.id WHERE i.entered_at BETWEEN ?1 AND ?2 "
    .. "AND (?3 = 1 OR drip_bucket(i.contact, ?3) = ?4) ORDER BY i.journey, i.contact, i.id, o.seq",
  -- a message of the period with no step label (stored before drip kept them: schema 3)
  bt_unlabelled = "SELECT 1 FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.entered_at BETWEEN ?1 AND ?2 "
    .. "AND o.label IS NULL AND o.status <> 'suppressed' LIMIT 1",
  -- (the bt_copy_* and bt_order: of the contacts whose drip_bucket(contact, ?3) is ?4; with ?3 = 1, all)
  bt_copy_contacts = "INSERT INTO contacts(id, traits, created_at, tz) SELECT id, traits, created_at, tz FROM src.contacts "
    .. "WHERE ?3 = 1 OR drip_bucket(id, ?3) = ?4",
  bt_copy_events = COPY_EVENTS .. "WHERE ts >= ?1 AND ts < ?2 AND (?3 = 1 OR drip_bucket(contact, ?3) = ?4)",
  preview_copy_events = COPY_EVENTS .. "WHERE contact = ?1 AND ts >= ?2 AND ts <= ?3",
  -- messages before the period, for frequency caps (under instance ids no instance has)
  bt_copy_outbox = "INSERT INTO outbox(instance, seq, channel, kind, message, status, reason, created_at, contact) "
    .. "SELECT -instance, seq, channel, kind, '{}', status, reason, created_at, contact FROM src.outbox "
    .. "WHERE created_at >= ?1 AND created_at < ?2 AND (?3 = 1 OR drip_bucket(contact, ?3) = ?4)",
  bt_order = "INSERT INTO temp.replay(ts, seq) SELECT ts, seq FROM src.events "
    .. "WHERE ts BETWEEN ?1 AND ?2 AND internal = 0 AND (?3 = 1 OR drip_bucket(contact, ?3) = ?4) ORDER BY ts, seq",
  bt_page = "SELECT r.rowid, e.body FROM temp.replay r JOIN src.events e ON e.seq = r.seq "
    .. "WHERE r.rowid > ? ORDER BY r.rowid LIMIT ?",
  events_span = "SELECT min(ts), max(ts) FROM events WHERE internal = 0",
  waking_next = "SELECT min(t.due) FROM timers t JOIN instances i ON i.id = t.instance WHERE i.active = 1",
  to_migrate = "SELECT id FROM instances WHERE journey = ? AND active = 1 AND version <> ? ORDER BY id",
  instance_version = "UPDATE instances SET version = ? WHERE id = ?",
}

-- Counters (what `drip stats` reads): per journey and day of entry, counts
-- kept as the rows change, so stats need not scan instances, steps and the
-- outbox. A store made before them is counted once, from its rows, on open.
local DAY = 86400
local BACKFILL = {
  "SELECT journey, entered_at / 86400, 'entered', '', '', '', count(*) FROM instances GROUP BY 1, 2",
  "SELECT journey, entered_at / 86400, 'exit', coalesce(exit_reason, ''), '', '', count(*) FROM instances "
    .. "WHERE active = 0 GROUP BY 1, 2, 4",
  "SELECT journey, entered_at / 86400, 'converted', '', '', '', sum(converted) FROM instances GROUP BY 1, 2",
  "SELECT journey, entered_at / 86400, 'revenue', '', '', '', coalesce(sum(value), 0) FROM instances GROUP BY 1, 2",
  "SELECT i.journey, i.entered_at / 86400, 'step', s.seq, json_extract(s.result, '$[0]'), '', count(*) "
    .. "FROM steps s JOIN instances i ON i.id = s.instance GROUP BY 1, 2, 4, 5",
  "SELECT i.journey, i.entered_at / 86400, 'message', o.channel, o.status, coalesce(o.reason, ''), count(*) "
    .. "FROM outbox o JOIN instances i ON i.id = o.instance GROUP BY 1, 2, 4, 5, 6",
  "SELECT i.journey, i.entered_at / 86400, 'segments', o.channel, '', '', sum(o.segments) "
    .. "FROM outbox o JOIN instances i ON i.id = o.instance WHERE o.segments IS NOT NULL GROUP BY 1, 2, 4",
  "SELECT i.journey, i.entered_at / 86400, 'variant', json_extract(h.data, '$.split'), "
    .. "json_extract(h.data, '$.variant'), '', count(*) FROM history h JOIN instances i ON i.id = h.instance "
    .. "WHERE h.kind = 'variant' GROUP BY 1, 2, 4, 5",
  "SELECT i.journey, i.entered_at / 86400, 'variant_converted', json_extract(h.data, '$.split'), "
    .. "json_extract(h.data, '$.variant'), '', sum(i.converted) FROM history h JOIN instances i ON i.id = h.instance "
    .. "WHERE h.kind = 'variant' GROUP BY 1, 2, 4, 5",
  "SELECT i.journey, i.entered_at / 86400, 'label', o.label, o.channel, 'out', count(*) FROM outbox o "
    .. "JOIN instances i ON i.id = o.instance WHERE o.label IS NOT NULL AND o.status <> 'suppressed' GROUP BY 1, 2, 4, 5",
  "SELECT i.journey, i.entered_at / 86400, 'label', o.label, o.channel, 'opened', count(o.opened_at) FROM outbox o "
    .. "JOIN instances i ON i.id = o.instance WHERE o.label IS NOT NULL AND o.opened_at IS NOT NULL GROUP BY 1, 2, 4, 5",
  "SELECT i.journey, i.entered_at / 86400, 'label', o.label, o.channel, 'clicked', count(o.clicked_at) FROM outbox o "
    .. "JOIN instances i ON i.id = o.instance WHERE o.label IS NOT NULL AND o.clicked_at IS NOT NULL GROUP BY 1, 2, 4, 5",
  "SELECT i.journey, i.entered_at / 86400, 'engaged', o.channel, 'opened', '', count(o.opened_at) FROM outbox o "
    .. "JOIN instances i ON i.id = o.instance WHERE o.opened_at IS NOT NULL GROUP BY 1, 2, 4",
  "SELECT i.journey, i.entered_at / 86400, 'engaged', o.channel, 'clicked', '', count(o.clicked_at) FROM outbox o "
    .. "JOIN instances i ON i.id = o.instance WHERE o.clicked_at IS NOT NULL GROUP BY 1, 2, 4",
}
-- the conversions each message is credited with (counted once on a store
-- whose counters were made before they were)
local BACKFILL_CREDITS = {
  "SELECT journey, entered_at / 86400, 'label', label, channel, 'converted', sum(first) FROM (" .. credits()
    .. ") GROUP BY 1, 2, 4, 5 HAVING sum(first) > 0",
  "SELECT journey, entered_at / 86400, 'label', label, channel, 'revenue', sum(value) FROM (" .. credits()
    .. ") WHERE value IS NOT NULL GROUP BY 1, 2, 4, 5",
}
for _, select in ipairs(BACKFILL_CREDITS) do BACKFILL[#BACKFILL + 1] = select end

-- What `forget` erases, in order: rows hanging off the contact's instances first.
local FORGET = { "steps", "timers", "deliveries", "messages", "history", "instances", "events", "inactivity", "contact" }
local OF_INSTANCES = " WHERE instance IN (SELECT id FROM instances WHERE contact = ?1)"
-- QUERIES.<verb>_steps, _deliveries, _messages and _history: the rows
-- hanging off the instances that `of_instances` (" WHERE instance IN ...") picks
local function hanging_rows(verb, of_instances)
  QUERIES[verb .. "_steps"] = "DELETE FROM steps" .. of_instances
  QUERIES[verb .. "_deliveries"] = "DELETE FROM deliveries WHERE message IN (SELECT id FROM outbox" .. of_instances .. ")"
  QUERIES[verb .. "_messages"] = "DELETE FROM outbox" .. of_instances
  QUERIES[verb .. "_history"] = "DELETE FROM history" .. of_instances
end
hanging_rows("forget", OF_INSTANCES)
QUERIES.forget_timers = "DELETE FROM timers" .. OF_INSTANCES
QUERIES.forget_instances = "DELETE FROM instances WHERE contact = ?1"
QUERIES.forget_events = "DELETE FROM events WHERE contact = ?1"
QUERIES.forget_inactivity = "DELETE FROM inactivity WHERE contact = ?1"
QUERIES.forget_contact = "DELETE FROM contacts WHERE id = ?1"

-- The page cache: 64 MiB (a negative cache_size is in KiB).
local CACHE = -65536

-- Build indexes over rows already there (CREATE INDEX sorts them all). With
-- temp_store MEMORY, drip's setting, SQLite sorts every row in one run in
-- memory; allowed temporary files, it sorts runs the size of its page cache
-- and merges them. Runs of 2 MiB (a core's second-level cache) sort the
-- 1,000,000 events of a bulk load in 0.6 s instead of 1.5, for each of their
-- two indexes. Not in a store with temporary tables (a change of temp_store
-- drops them), and in memory as before when temporary files cannot be made.
local SORT_CACHE = -2000
function Store:build_indexes(sql)
  local db = self.db
  local switched = self:q("temp_objects"):first() == 0
    and pcall(db.exec, db, "PRAGMA temp_store = FILE; PRAGMA cache_size = " .. SORT_CACHE)
  local ok, err = pcall(db.exec, db, sql)
  if switched then db:exec("PRAGMA cache_size = " .. CACHE .. "; PRAGMA temp_store = MEMORY") end
  if not ok and switched then ok, err = pcall(db.exec, db, sql) end
  if not ok then error(err, 0) end
end

-- what opening a store another process holds says (a simulation filling a
-- new store: see Store:bulk_events)
local LOADING = "another drip process is writing it (a simulation filling a new store keeps it until it ends); "
  .. "try again when that is done"
local function locked(err) return tostring(err):find("database is locked", 1, true) ~= nil end

-- Why the file at path is not for drip (another program's database, or not
-- a database at all: drip would add its tables to it), or nil when it is
-- drip's or empty; and 1 when it cannot tell now (another process holds
-- it), not 2 (bad input).
local function not_drips(db, path)
  local ok, tables = pcall(function()
    return db:prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):column()
  end) -- (a read: a new file's page size is still to be set)
  if not ok then
    if locked(tables) then return path .. ": " .. LOADING, 1 end
    local why = tostring(tables):gsub("^.-sqlite: ", ""):gsub("%s*%(in: .*%)$", "")
    return string.format("%s: not a store drip made (%s)", path, why)
  end
  if #tables == 0 then return nil end
  for _, name in ipairs(tables) do
    if name == "meta" then return nil end
  end
  if #tables > 5 then tables = { tables[1], tables[2], tables[3], tables[4], tables[5], "…" } end
  return string.format("%s: not a store drip made (an SQLite database with the tables %s); give drip a file of its own",
    path, table.concat(tables, ", "))
end

-- Why path cannot hold a store (a directory, a device, a directory that is
-- not there), or nil.
local function unfit_path(path)
  if path == ":memory:" or path == "" then return nil end
  local kind = host.file_kind(path)
  if kind == "directory" then return path .. ": a directory, not a store (give a file's path)" end
  if kind == "other" then return path .. ": not a regular file (give a file's path)" end
  if kind then return nil end
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" and host.file_kind(dir) ~= "directory" then
    return string.format("%s: there is no directory %s to make it in", path, dir)
  end
  return nil
end

-- Store.open(path, opts) -> store | nil, error, 2 when path is not for drip
-- (bad input). opts.synchronous: "FULL" (default) | "NORMAL" | "OFF";
-- opts.page_size: bytes per page of a store this call creates (SQLite's 4096
-- by default; an existing file keeps its own); opts.private: a store no other
-- process opens (see Store:begin); opts.scratch: a store kept only for what
-- the engine reads back and backtest compares (instances, their steps,
-- timers, events and messages): no history and no counts for stats
function Store.open(path, opts)
  opts = opts or {}
  local unfit = unfit_path(path)
  if unfit then return nil, unfit, 2 end
  local db, err = host.open(path)
  if not db then return nil, err end
  local foreign, status = not_drips(db, path)
  if foreign then
    db:close()
    return nil, foreign, status or 2
  end
  local self = objects.new({ db = db, path = path, private = opts.private or false, scratch = opts.scratch or false,
                              stmts = {}, in_tx = false, tally = {},
                              saved = {}, next_ids = {},
                              days = {}, days_n = 0, unwritten = {}, unwritten_n = 0, unwritten_of = {},
                              unwritten_contacts = {}, unwritten_contacts_n = 0 }, Store)
  local ok, perr = pcall(function()
    if opts.page_size then db:exec("PRAGMA page_size = " .. math.tointeger(opts.page_size)) end
    db:exec("PRAGMA journal_mode = WAL")
    db:exec("PRAGMA synchronous = " .. (opts.synchronous or "FULL"))
    db:exec("PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = " .. CACHE)
    db:exec(SCHEMA)
  end)
  if not ok then return nil, path .. ": " .. (locked(perr) and LOADING or tostring(perr)) end
  local version = self:meta("schema_version")
  if version and tonumber(version) > SCHEMA_VERSION then
    return nil, string.format("%s: made by a newer drip (schema %s, this drip knows %d)", path, version, SCHEMA_VERSION)
  end
  ok, perr = pcall(self.upgrade, self)
  if not ok then return nil, path .. ": cannot upgrade the schema: " .. tostring(perr) end
  ok, perr = pcall(self.count_existing, self)
  if not ok then return nil, path .. ": cannot count the existing instances: " .. tostring(perr) end
  self:set_meta("schema_version", SCHEMA_VERSION)
  return self
end

-- Store.open_existing(path, synchronous) for the commands that read a store
-- drip made (synchronous: "FULL" unless told)
-- -> store | nil, message, exit status (2: no such file, 1: cannot open)
function Store.open_existing(path, synchronous)
  local f = io.open(path, "rb")
  if not f then return nil, path .. ": no such database", 2 end
  f:close()
  local store, err, status = Store.open(path, { synchronous = synchronous or "FULL" })
  if not store then return nil, err, status or 1 end
  return store
end

-- add what schemas 2 and 3 added to a file made before them
function Store:upgrade()
  for tbl, columns in pairs(ADDED_COLUMNS) do
    local have = {}
    for _, row in ipairs(self.db:prepare("PRAGMA table_info(" .. tbl .. ")"):all()) do have[row[2]] = true end
    for _, column in ipairs(columns) do
      local name = column:match("^[%w_]+")
      if not have[name] then
        self.db:exec("ALTER TABLE " .. tbl .. " ADD COLUMN " .. column)
        if name == "tz" then
          self.db:exec("UPDATE contacts SET tz = json_extract(traits, '$.timezone') "
            .. "WHERE json_type(traits, '$.timezone') = 'text'")
        end
      end
    end
  end
  self.db:exec(ADDED_INDEXES)
  self:build_indexes(BY_CONTACT) -- (also when a bulk load stopped midway left them to build)
end

-- Prepared statements are made on first use and kept. A query on the
-- instances table first writes the rows add_instance left unwritten (see
-- there), unless it is one this module answers with them.
local ANSWERED = { instance_add = true, instance_get = true, instances_active = true, instance_last_entry = true,
                   instance_wait = true, instance_convert = true, instance_value = true, instance_end = true,
                   instance_day = true }
local function reader_of(table_name, answered)
  return setmetatable({}, { __index = function(t, name)
    local yes = not answered[name] and (QUERIES[name] or ""):find("%f[%w_]" .. table_name .. "%f[^%w_]") ~= nil
    t[name] = yes
    return yes
  end })
end
local reads_instances = reader_of("instances", ANSWERED)
-- (and the timers left unwritten: see Store:add_timer; the timers window
-- reads the table's with timers_after, and holds the unwritten ones itself)
local reads_timers = reader_of("timers", { timer_put = true, timer_del = true, timers_next_id = true,
                                           timers_after = true })
-- (and the contacts' traits left unwritten: see Store:put_contact)
local reads_contacts = reader_of("contacts", { contact_get = true, contact_put = true, contact_touch = true })

-- (the statements that only add rows, made the most, are taken from
-- self.stmts directly once made: `(self.stmts.x or self:q("x"))`)
function Store:q(name)
  if self.unwritten_n > 0 and reads_instances[name] then self:write_instances() end
  if self.timer_window and reads_timers[name] then self:write_timers() end
  if self.unwritten_contacts_n > 0 and reads_contacts[name] then self:write_contacts() end
  local st = self.stmts[name]
  if not st then
    st = self.db:prepare(assert(QUERIES[name], name))
    self.stmts[name] = st
  end
  return st
end

-- Every transaction drip opens writes, so it takes the write lock at once:
-- begun as a read, it would fail at its first write, without waiting, had
-- another process (drip run beside an import) committed since. A private
-- store (a scratch one in memory, that no other process sees) begins as a
-- read: its write lock would also take that of a store it attached to read.
function Store:begin()
  if not self.in_tx then
    self.db:exec(self.private and "BEGIN" or "BEGIN IMMEDIATE")
    self.in_tx = true
  end
end

function Store:commit()
  self:write_contacts()
  self:write_instances()
  self:write_timers()
  self.next_ids = {}
  self:write_counts()
  if self.in_tx then
    self.db:exec("COMMIT")
    self.in_tx = false
  end
end

-- undo the open transaction (safe when none is open or it already failed)
function Store:rollback()
  self:drop_unwritten_timers()
  self:forget_active()
  self.tally, self.saved = {}, {}
  self:drop_unwritten()
  self:drop_unwritten_contacts()
  self.next_ids = {}
  if self.in_tx then
    pcall(self.db.exec, self.db, "ROLLBACK")
    self.in_tx = false
  end
end

-- fn() on one snapshot of the store (a read transaction, which takes no
-- lock a writer waits for; or the transaction open) -> what fn returns
function Store:snapshot(fn)
  if self.in_tx then return fn() end
  self.db:exec("BEGIN")
  local ok, result = pcall(fn)
  self.db:exec(ok and "COMMIT" or "ROLLBACK")
  if not ok then error(result, 0) end
  return result
end

-- Savepoints inside a transaction (one per request of a batch): the counts
-- made since are undone with the rows.
function Store:savepoint()
  self:write_contacts() -- (a rollback to it drops only the rows made after it)
  self:write_instances()
  self:write_timers()
  self.db:exec("SAVEPOINT request")
  local copy = {}
  for day, counts in pairs(self.tally) do
    local kept = {}
    for key, n in pairs(counts) do kept[key] = n end
    copy[day] = kept
  end
  self.saved[#self.saved + 1] = copy
end

function Store:release()
  self.db:exec("RELEASE request")
  self.saved[#self.saved] = nil
end

function Store:rollback_to()
  self:drop_unwritten_timers()
  self:forget_active()
  self:drop_unwritten()
  self:drop_unwritten_contacts()
  self.next_ids = {}
  self.db:exec("ROLLBACK TO request; RELEASE request")
  self.tally = table.remove(self.saved)
end

function Store:close()
  if not self.scratch then -- (a scratch store is dropped whole: no index left to build)
    self:index_by_contact()
    if self.unindexed_ids then self:build_indexes(BY_MESSAGE_ID) end
  end
  self:commit()
  self.stmts = {}
  if self.loading_alone then -- (the lock goes at the next access, which puts the log back)
    self.db:exec("PRAGMA locking_mode = NORMAL")
    pcall(self.db.exec, self.db, "PRAGMA journal_mode = WAL") -- (else at the next open)
  end
  self.db:close()
end

-- A store drip run serves holds real time and real sends; a simulation's
-- clock runs months ahead, and its waits would fire there for real. drip run
-- marks its store (meta 'served'), and simulate refuses one so marked.
-- dry: drip run --dry-run, whose messages are simulated, never delivered
function Store:mark_served(dry) self:set_meta("served", dry and "dry-run" or 1) end
function Store:served() return self:meta("served") ~= nil end
-- The store's time now: the wall clock for a store drip run serves (its
-- clock lags by a commit), a simulation's virtual clock for its store.
function Store:now()
  local clock = tonumber(self:meta("clock"))
  if clock and not self:served() then return clock end
  return math.max(host.time(), clock or 0)
end

-- how the messages of this store go out: "queued" (to deliver) or
-- "simulated" (a simulation's store, or one the last drip run served dry)
function Store:outbox_status()
  local served = self:meta("served")
  return (served == nil or served == "dry-run") and "simulated" or "queued"
end

-- The store's size on disk (its file and write-ahead log) and when `drip
-- prune` last cut: { bytes =, pruned_before = Unix time | nil }
function Store:facts()
  local bytes = 0
  for _, suffix in ipairs({ "", "-wal" }) do
    -- (by stat: a descriptor of the database opened and closed here would drop SQLite's locks)
    local kind, size = host.file_kind(self.path .. suffix)
    if kind == "file" then bytes = bytes + size end
  end
  return { bytes = bytes, pruned_before = tonumber(self:meta("pruned_before")) }
end

-- A consistent, compact copy of the store into a new file at `path` (one
-- read transaction: writers go on meanwhile)
function Store:copy_to(path) self.db:prepare("VACUUM INTO ?"):run(path) end

function Store:meta(key) return (self:q("meta_get"):first(key)) end
function Store:set_meta(key, value) self:q("meta_set"):run(key, value) end

-- contacts ------------------------------------------------------------------

-- the most rows of a table kept unwritten (contacts, instances: see
-- Store:put_contact and Store:add_instance)
local UNWRITTEN = 10000

-- traits table of a contact, or nil when unknown
function Store:contact(id)
  local traits = self:contact_json(id)
  return traits and json.decode(traits)
end

-- the stored traits text of a contact, or nil
function Store:contact_json(id)
  local kept = self.traits
  local traits = kept and kept.map[id]
  if traits then return traits end
  local unwritten = self.unwritten_contacts[id]
  if unwritten then return unwritten[1] end
  local made = self.made
  if made and not made:has(id) then return nil end -- (a store that began with none has only those it made)
  traits = self:q("contact_get"):first(id)
  if kept and traits then kept:put(id, traits) end
  return traits
end

-- A store that began with no contacts keeps the hashes of those it made
-- (store.made, a host.id_set; see Store:own_instances), up to MADE: a contact
-- not among them is new, and its first event need not look it up (a tenth of
-- a month's lookups of traits, each a miss). Past MADE (4 MiB of hashes) it
-- asks the store again, as a store that had contacts does.
local MADE = 200000
function Store:note_made(id)
  local made = self.made
  if not made or not made:add(id) then return end
  self.made_n = self.made_n + 1
  if self.made_n >= (self.made_limit or MADE) then self.made = false end
end

-- make sure the contact exists; true when it was new
function Store:touch_contact(id, now)
  self:note_made(id)
  if self.unwritten_contacts[id] then return false end
  local new = self:q("contact_touch"):run(id, now) > 0
  if new then self:made_contact(id, "{}") end
  return new
end

-- Within a transaction a contact's traits are kept in memory until it
-- commits or a query reads the contacts table (Store:q), as instances' rows
-- are (see Store:add_instance), and then written in id order: contacts come
-- in no order, and each written as it came went into a page of the table at
-- random (a twentieth of the cart month's time). Store:contact_json and
-- touch_contact read them. At most UNWRITTEN are kept; outside a
-- transaction they are written at once.
-- new: the caller knows the contact did not exist before
function Store:put_contact(id, traits, now, new)
  local tz = type(traits.timezone) == "string" and traits.timezone or nil
  local text = json.encode(traits)
  self:note_made(id)
  local row = self.unwritten_contacts[id]
  if row then
    row[1], row[3] = text, tz
  elseif not self.in_tx then
    self:q("contact_put"):run(id, text, now, tz)
  else
    if self.unwritten_contacts_n >= UNWRITTEN then self:write_contacts() end
    self.unwritten_contacts[id] = { text, now, tz }
    self.unwritten_contacts_n = self.unwritten_contacts_n + 1
  end
  if new then
    self:made_contact(id, text)
  elseif self.traits then
    self.traits:put(id, text)
  end
end

-- write the unwritten contacts, in id order (the first put's time is a new
-- contact's created_at; a contact already written keeps its own)
function Store:write_contacts()
  if self.unwritten_contacts_n == 0 then return end
  local rows, ids = self.unwritten_contacts, {}
  for id in pairs(rows) do ids[#ids + 1] = id end
  table.sort(ids)
  local put = self:q("contact_put")
  for i = 1, #ids do
    local id = ids[i]
    local row = rows[id]
    put:run(id, row[1], row[2], row[3])
  end
  self:drop_unwritten_contacts()
end

function Store:drop_unwritten_contacts()
  self.unwritten_contacts, self.unwritten_contacts_n = {}, 0
end

-- A contact this process made has no instances but those it will see made:
-- the kept lists know it has none active, and when it last entered each
-- journey (see Store:last_entry).
function Store:made_contact(id, traits_text)
  if not self.active then return end
  self:cache_active(id, {})
  self.traits:put(id, traits_text)
  self.entries:put(id, {})
end

-- the distinct timezone traits of all contacts
function Store:contact_zones() return self:q("contact_zones"):column() end
-- whether any contact has the (top-level) trait `name`
function Store:has_trait(name) return self:q("contact_has_trait"):first(name) ~= nil end

-- a page of { id, traits (JSON) } of every contact, after id `after`, in id order
function Store:contacts_page(after, limit) return self:q("contacts_page"):all(after, limit) end

-- a page of { id, traits } of the contacts whose timezone trait is one of
-- `zones` (or unset, with `unset`), after id `after`, in id order
function Store:contacts_in_zones(zones, unset, after, limit)
  return self:q("contacts_in_zones"):all(after, json.encode(zones), unset and 1 or 0, limit)
end

-- events --------------------------------------------------------------------

-- Bulk loading, for `drip simulate` and `drip backtest` on a store with no
-- events yet: event and message rows go in without their indexes by contact,
-- which are built in one pass when the store closes, or before the first
-- query that reads events or messages by contact (happened, did segments,
-- inactivity, frequency caps). Keeping the events' index row by row took a
-- tenth of a 1,000,000-event simulation; building it at the end takes 2 s.
-- A store with events already is not changed, and opening a store a bulk
-- load left without them builds them.
-- A store file being filled is this process's alone until it closes, with
-- a rollback journal instead of the write-ahead log: each page then goes to
-- the file once, not to the log and then the file (a twentieth of a
-- 1,000,000-event simulation), and a commit is as safe. Other processes
-- cannot open it meanwhile (see LOADING), so none can hold up the load.
-- The log is back when it closes (and at the next open, had it not closed).
function Store:bulk_events()
  if self:q("event_any"):first() then return false end
  if self.path ~= ":memory:" then
    self.db:exec("PRAGMA locking_mode = EXCLUSIVE")
    self.loading_alone = self.db:prepare("PRAGMA journal_mode = TRUNCATE"):first() == "truncate"
    if not self.loading_alone then self.db:exec("PRAGMA locking_mode = NORMAL") end -- (another has it open)
  end
  self.db:exec("DROP INDEX IF EXISTS events_contact; DROP INDEX IF EXISTS outbox_contact") -- (and the lock is taken)
  self.unindexed = true
  return true
end

-- A bulk load of events known to have distinct messageIds finds no repeat
-- to skip, so it leaves their index out too: a backtest's scratch store
-- (events a store has already told apart) for good, a simulation's new store
-- of a file with no messageId twice (events.scan) until it closes, where
-- building it takes a second against 3 s of keeping it row by row on
-- 1,000,000 events. `kept`: the store outlives the load (build it at close).
function Store:events_unique(kept)
  if not self.unindexed then return end
  self.db:exec("DROP INDEX IF EXISTS events_message_id")
  self.unindexed_ids = kept
end

-- build the indexes a bulk load left out (before any query on events or
-- messages by contact)
function Store:index_by_contact()
  if not self.unindexed then return end
  self.unindexed = nil
  self:build_indexes(BY_CONTACT)
end

-- add an event; returns its seq, or nil when its messageId was seen before
function Store:add_event(ev, body)
  local n = (self.stmts.event_add or self:q("event_add")):run(ev.userId, ev.type, ev.event, ev.ts, ev.messageId, ev.internal and 1 or 0, body)
  if n == 0 then return nil end
  return self.db:last_id()
end

-- a stored event as journeys see it (see events.with_properties), or nil
local function event_of(body)
  return body and events.with_properties(json.decode(body))
end

function Store:event(seq)
  return event_of(self:q("event_get"):first(seq))
end

-- a contact's latest events `name` that started no instance of `journey`
-- -> list of { ts =, event = decoded body }, newest first, at most limit
function Store:events_unstarted(contact, name, journey, limit)
  self:index_by_contact()
  local list = {}
  for i, row in ipairs(self:q("events_unstarted"):all(contact, name, journey, limit)) do
    list[i] = { ts = row[1], event = event_of(row[2]) }
  end
  return list
end

-- when the first version of a journey was loaded into the store, or nil
function Store:first_loaded(journey) return (self:q("script_first_loaded"):first(journey)) end

function Store:last_event(contact, name, since)
  self:index_by_contact()
  return event_of(self:q("event_last"):first(contact, name, since))
end

-- how many events `name` a contact has had since `since` (nil: ever)
function Store:count_events(contact, name, since)
  self:index_by_contact()
  return (self:q("event_count"):first(contact, name, since))
end

-- the names of a contact's track events and how often each came: { { name, n }, ... }
function Store:event_names(contact)
  self:index_by_contact()
  return self:q("event_names"):all(contact)
end

function Store:last_activity(contact)
  self:index_by_contact()
  return (self:q("event_last_activity"):first(contact))
end

-- scripts -------------------------------------------------------------------

function Store:put_script(def, now) self:q("script_put"):run(def.hash, def.name, def.file, def.source, now) end
function Store:script(hash) return self:q("script_get"):first(hash) end
-- the newest stored source of a journey -> source, file | nil
function Store:latest_script(journey) return self:q("script_latest"):first(journey) end
function Store:journey_names() return self:q("script_journeys"):column() end

-- The next id of `table` (instances, outbox) in this transaction.
function Store:new_id(table_name)
  local id = self.next_ids[table_name] or self:q(table_name .. "_next_id"):first()
  self.next_ids[table_name] = id + 1
  return id
end

-- instances -----------------------------------------------------------------

-- A new instance's row is kept in memory, and changed there, until the
-- transaction commits or a query reads the instances table (Store:q): an
-- instance that starts and ends within a transaction, as most do in a
-- simulation, is written once, whole, and its waits, conversion and end are
-- no statements of their own. The queries about one instance or contact
-- that the engine makes as it runs (ANSWERED) read these rows beside the
-- table's, so they need not write them first. Every id a transaction gives
-- is above the ids of rows written before it. At most UNWRITTEN are kept (about
-- as many as a simulation's transaction starts on the cart month; a load
-- whose instances all sleep would keep a transaction's worth of rows).

function Store:add_instance(journey, version, contact, now, trigger_seq, trigger_name, traits_json)
  if self.unwritten_n >= UNWRITTEN then self:write_instances() end
  local id = self:new_id("instances")
  self.unwritten[id] = { id = id, journey = journey, version = version, contact = contact, active = 1, entered_at = now,
                         trigger_seq = trigger_seq, trigger_name = trigger_name, traits = traits_json, converted = 0 }
  self.unwritten_n = self.unwritten_n + 1
  local ids = self.unwritten_of[contact]
  if ids then ids[#ids + 1] = id else self.unwritten_of[contact] = { id } end
  self:remember_day(id, journey, now)
  self:count(id, "entered")
  local entries = self.entries and self.entries.map[contact]
  if entries and (entries[journey] or now) <= now then entries[journey] = now end
  local rows = self.active and self.active[contact]
  if rows then
    local out = table.move(rows, 1, #rows, 1, {})
    out[#out + 1] = { id, journey, version, nil, nil, now }
    self:cache_active(contact, out)
  end
  return id
end

-- write the unwritten rows, in id order
function Store:write_instances()
  if self.unwritten_n == 0 then return end
  local ids = {}
  for id in pairs(self.unwritten) do ids[#ids + 1] = id end
  table.sort(ids)
  local insert = self:q("instance_add")
  for _, id in ipairs(ids) do
    local r = self.unwritten[id] -- (in instance_add's column order)
    insert:run(r.id, r.journey, r.version, r.contact, r.active, r.entered_at, r.trigger_seq, r.trigger_name, r.traits,
      r.wait_seq, r.wait_event, r.ended_at, r.exit_reason, r.converted, r.value, r.error)
  end
  self:drop_unwritten()
end

function Store:drop_unwritten()
  self.unwritten, self.unwritten_n, self.unwritten_of = {}, 0, {}
end

-- the unwritten rows of a contact that pass keep(row), in id order
local NO_ROWS = {}
function Store:unwritten_rows(contact, keep)
  local ids = self.unwritten_of[contact]
  if not ids then return NO_ROWS end
  local out = {}
  for _, id in ipairs(ids) do
    local row = self.unwritten[id]
    if keep(row) then out[#out + 1] = row end
  end
  return out
end

-- the fields of Store:instance, in instance_get's column order
local INSTANCE = { "id", "journey", "version", "contact", "active", "entered_at", "trigger_seq", "trigger_name", "traits",
                   "wait_seq", "wait_event" }

function Store:instance(id)
  local u, row = self.unwritten[id], nil
  if not u then
    row = self:q("instance_get"):all(id)[1]
    if not row then return nil end
  end
  local out = {}
  for i, k in ipairs(INSTANCE) do
    if u then out[k] = u[k] else out[k] = row[i] end
  end
  return out
end

-- Active instances by contact, kept in memory when this process alone writes
-- the store (simulate, backtest, journey tests: Store:own_instances). Routing
-- asks for a contact's active instances at every event it sends; a contact's
-- events come close together, so the last ACTIVE_CACHE contacts asked about
-- answer from memory. Every change of an active instance passes through this
-- module and updates the lists it holds. A list never gains or loses a row
-- in place (a new list replaces it), so a caller iterating one meets every
-- row the store held when it asked, as it would with rows of a query; only
-- a row's wait is changed in place (an instance's wait changes as it runs,
-- which its caller does after reading the row).
local ACTIVE_CACHE = 20000
-- The timers are kept too (see drip.timer_window): those not written yet,
-- and of the table's, the earliest, read TIMER_WINDOW at a time.
local TIMER_WINDOW = 256

-- Beside them, per contact (each map dropped whole when it holds the limit):
-- the traits text (a woken instance reads its contact's traits at every wait
-- it leaves; every write of traits passes through put_contact and
-- touch_contact), and for contacts this process made, the latest entry into
-- each journey (see made_contact). A store that began with no contacts also
-- keeps the hashes of those it made (see Store:note_made).
local Kept = {}
Kept.__index = Kept

-- (read as kept.map[key]; written through put, which keeps the bound)
local function kept_map(limit) return objects.new({ map = {}, n = 0, limit = limit }, Kept) end

function Kept:put(key, value)
  if self.map[key] == nil then
    if self.n >= self.limit then self.map, self.n = {}, 0 end
    self.n = self.n + 1
  end
  self.map[key] = value
end

-- the active lists only (contact -> rows, and instance id -> its contact, or false once it ended)
local function drop_active_lists(self)
  self.active, self.active_n, self.active_of = {}, 0, {}
end

-- limit: contacts kept (default ACTIVE_CACHE); timers: the table's timers the window reads at a time
function Store:own_instances(limit, timers)
  if self.made == nil then self.made, self.made_n = not self:q("contact_any"):first() and host.id_set(), 0 end
  -- every instance of a store that had none is this process's (see Engine:ingest)
  if self.made_every_instance == nil then self.made_every_instance = not self:q("instance_any"):first() end
  self.active_limit = limit or self.active_limit or ACTIVE_CACHE
  self.timers_kept = timers or self.timers_kept or TIMER_WINDOW
  drop_active_lists(self)
  self.traits, self.entries = kept_map(self.active_limit), kept_map(self.active_limit)
  self:write_timers() -- (the window, dropped, holds the timers not written yet)
  self.timer_window = nil
end

function Store:forget_active()
  if self.active then self:own_instances() end
end

-- replace contact's cached list by `rows`
function Store:cache_active(contact, rows)
  if not self.active[contact] then
    if self.active_n >= self.active_limit then drop_active_lists(self) end -- (the other kept maps have their own bounds)
    self.active_n = self.active_n + 1
  end
  self.active[contact] = rows
  for i = 1, #rows do self.active_of[rows[i][1]] = contact end
end

-- The cached row of instance id with its wait changed; or, when `ended`,
-- its list rebuilt without it.
function Store:edit_active(id, wait_seq, wait_event, ended)
  local contact = self.active and self.active_of[id]
  local rows = contact and self.active[contact]
  if not rows then return end
  if ended then
    local out = {}
    for i = 1, #rows do
      if rows[i][1] ~= id then out[#out + 1] = rows[i] end
    end
    self.active[contact], self.active_of[id] = out, false
    return
  end
  for i = 1, #rows do
    local row = rows[i]
    if row[1] == id then row[4], row[5] = wait_seq, wait_event return end
  end
end

-- What the kept lists say of instance id: its row { id, journey, version,
-- wait_seq, wait_event, entered_at } while it is active, false once it ended,
-- nil when they do not know.
function Store:kept_instance(id)
  local contact = self.active and self.active_of[id]
  if not contact then return contact end
  local rows = self.active[contact]
  for i = 1, #rows do
    if rows[i][1] == id then return rows[i] end
  end
  return nil
end

-- active instances of a contact: list of { id, journey, version, wait_seq, wait_event, entered_at }
function Store:active_instances(contact)
  local rows = self.active and self.active[contact]
  if rows then return rows end
  rows = self:q("instances_active"):all(contact)
  for _, u in ipairs(self:unwritten_rows(contact, function(u) return u.active == 1 end)) do
    rows[#rows + 1] = { u.id, u.journey, u.version, u.wait_seq, u.wait_event, u.entered_at }
  end
  if self.active then self:cache_active(contact, rows) end
  return rows
end

-- when contact last entered journey, or nil
function Store:last_entry(contact, journey)
  local entries = self.entries and self.entries.map[contact]
  if entries then return entries[journey] end
  local last = self:q("instance_last_entry"):first(contact, journey)
  for _, u in ipairs(self:unwritten_rows(contact, function(u) return u.journey == journey end)) do
    if not last or u.entered_at > last then last = u.entered_at end
  end
  return last
end

function Store:set_wait(id, seq, event)
  self:edit_active(id, seq, event)
  local u = self.unwritten[id]
  if u then
    u.wait_seq, u.wait_event = seq, event
  else
    self:q("instance_wait"):run(seq, event, id)
  end
end

-- count a conversion (the first of an instance converts it) with its revenue
function Store:convert(id, value)
  local u, converted = self.unwritten[id], nil
  if u then
    converted = u.converted == 0
    u.converted, u.value = 1, (u.value or 0) + (value or 0)
  else
    converted = self:q("instance_convert"):run(id) > 0
    self:q("instance_value"):run(value or 0, id)
  end
  if self.scratch then return end -- (what follows is counted for stats)
  if converted then
    self:count(id, "converted")
    for _, v in ipairs(self:q("variants_of"):all(id)) do self:count(id, "variant_converted", v[1], v[2]) end
  end
  if value then self:count(id, "revenue", nil, nil, nil, value) end
  local label, channel = self:q("last_message"):first(id)
  if label then
    if converted then self:count(id, "label", label, channel, "converted") end
    if value then self:count(id, "label", label, channel, "revenue", value) end
  end
end

-- the contact's latest instance of `journey` that ended at or after `since`
-- without converting -> id, its exit reason | nil
function Store:ended_unconverted(contact, journey, since)
  return self:q("instance_ended_unconverted"):first(contact, journey, since)
end

function Store:end_instance(id, now, reason, err)
  local u = self.unwritten[id]
  if u then
    if u.active ~= 1 then return false end
    u.active, u.ended_at, u.exit_reason, u.error, u.wait_seq, u.wait_event = 0, now, reason, err, nil, nil
  elseif self:q("instance_end"):run(now, reason, err, id) == 0 then
    return false
  end
  self:edit_active(id, nil, nil, true)
  self:count(id, "exit", reason)
  return true
end

-- steps ---------------------------------------------------------------------

-- op: the step's name (result's first item)
function Store:add_step(instance, seq, result, op)
  (self.stmts.step_add or self:q("step_add")):run(instance, seq, result)
  self:count(instance, "step", seq, op)
end

-- recorded results of an instance as an array indexed by seq (steps are
-- recorded in order, so the sequence has no gaps)
function Store:steps(instance) return self:q("steps_of"):column(instance) end

-- timers --------------------------------------------------------------------

-- A store this process alone writes (see own_instances) keeps the timers
-- it makes in memory, in its timers window, until the transaction commits
-- or a query reads the timers table: a timer made and fired within one
-- transaction, as most waits of a simulation are (an hour, a day: a
-- transaction holds some days of its clock), is no statement at all. Its
-- id is the one SQLite would give it. At most UNWRITTEN are kept.
function Store:add_timer(due, instance, seq, kind)
  if not self.active then
    self:q("timer_add"):run(due, instance, seq, kind)
    return
  end
  local window = self:timers()
  if window:unwritten() >= UNWRITTEN then self:write_timers() end
  window:add(self:new_id("timers"), math.tointeger(due) or due, instance, seq, kind) -- (as the column keeps it)
end

function Store:delete_timer(id)
  local window = self.active and self.timer_window
  if window and window:remove(id) == false then return end -- (one never written)
  self:q("timer_del"):run(id)
end

-- write the unwritten timers, in id order
function Store:write_timers()
  local window = self.timer_window
  if not window or window:unwritten() == 0 then return end
  local put = self:q("timer_put")
  for _, row in ipairs(window:take_unwritten()) do put:run(row[1], row[2], row[3], row[4], row[5]) end
end

-- (a rollback) the timers not written go with the window that holds them
function Store:drop_unwritten_timers()
  self.timer_window = nil
end

-- the timers window of an owned store, or nil
function Store:timers()
  if not self.active then return nil end
  local window = self.timer_window
  if not window then
    window = TimerWindow.new(self.timers_kept, function(end_due, end_id, limit)
      return self:q("timers_after"):all(end_due, end_id, limit)
    end)
    self.timer_window = window
  end
  return window
end

function Store:next_wake(instance, now) return (self:q("timer_next_wake"):first(instance, now)) end

function Store:set_inactivity(contact, journey, due) self:q("inactivity_set"):run(contact, journey, due) end
function Store:delete_inactivity(contact, journey) self:q("inactivity_del"):run(contact, journey) end

-- schedules: per journey and zone, the occurrence waited for -----------------

-- -> { spec, occurrence, due, swept, cursor } | nil
function Store:schedule(journey, zone)
  local row = self:q("schedule_get"):all(journey, zone)[1]
  return row and { spec = row[1], occurrence = row[2], due = row[3], swept = row[4], cursor = row[5] }
end

function Store:put_schedule(journey, zone, s)
  self:q("schedule_put"):run(journey, zone, s.spec, s.occurrence, s.due, s.swept, s.cursor)
end

-- What comes due, by source (see Engine:note_due): its rows due by `now`
-- in due order, and its earliest due time.
local DUE_QUERIES = {
  timers = { rows = "timers_due", next = "timer_next" },
  inactivity = { rows = "inactivity_due", next = "inactivity_next" },
  schedules = { rows = "schedules_due", next = "schedule_next" },
}

function Store:due_rows(source, now, limit)
  local window = source == "timers" and self:timers()
  return window and window:due(now, limit) or self:q(DUE_QUERIES[source].rows):all(now, limit)
end

function Store:next_due_of(source)
  local window = source == "timers" and self:timers()
  if window then return window:next_due() end
  return (self:q(DUE_QUERIES[source].next):first())
end

-- whether anything is due later besides a daily schedule's next day: a
-- timer, an inactivity trigger or a one-off broadcast
function Store:due_besides_daily()
  return (self:next_due_of("timers") or self:next_due_of("inactivity") or self:q("schedule_next_once"):first()) ~= nil
end

-- the earliest due time of any timer, inactivity trigger or schedule, or nil
function Store:next_due()
  local due
  for source in pairs(DUE_QUERIES) do
    local t = self:next_due_of(source)
    if t and (not due or t < due) then due = t end
  end
  return due
end

-- outbox and history --------------------------------------------------------

-- m: { instance, seq, channel, address, kind, message (JSON), status, reason, contact, due, label,
-- segments (of an SMS that is not suppressed), topic, id (from new_id("outbox"); else one is given) }
function Store:add_outbox(m, now)
  (self.stmts.outbox_add or self:q("outbox_add")):run(m.id or self:new_id("outbox"), m.instance, m.seq, m.channel, m.address, m.kind, m.message, m.status, m.reason, now,
    m.contact, m.due, m.label, m.segments, m.topic)
  self:count(m.instance, "message", m.channel, m.status, m.reason)
  if m.segments then self:count(m.instance, "segments", m.channel, nil, nil, m.segments) end
  if m.status ~= "suppressed" and m.label then self:count(m.instance, "label", m.label, m.channel, "out") end
end

-- marketing messages to `contact` made after `since` that went or will go
-- out (on `channel`, or on any when nil): what frequency caps count
function Store:marketing_sent(contact, since, channel)
  self:index_by_contact()
  return self:q("outbox_sent_count"):first(contact, since, channel)
end

local DUE_ROW = { "id", "instance", "seq", "channel", "address", "kind", "message", "attempts", "contact", "journey",
                  "created_at", "topic" }

-- up to `limit` messages of `channel` due at `now`, oldest first
function Store:due_messages(channel, now, limit)
  local out = {}
  for i, row in ipairs(self:q("outbox_due"):all(channel, now, limit)) do
    local m = {}
    for j, k in ipairs(DUE_ROW) do m[k] = row[j] end
    out[i] = m
  end
  return out
end

function Store:next_message_due(channel) return self:q("outbox_next_due"):first(channel) end

-- the message is on its way: not due any more, one more attempt
function Store:claim_message(id, now)
  local instance, channel, reason = self:uncount_message(id) -- a claim keeps the reason
  self:q("outbox_claim"):run(id)
  self:q("delivery_add"):run(id, now, "sending", nil)
  if instance then self:count(instance, "message", channel, "sending", reason) end
end

-- a delivery's outcome: status, next due time (retries) or nil, reason, detail (JSON)
function Store:mark_message(id, now, status, due, reason, detail)
  local instance, channel = self:uncount_message(id)
  self:q("outbox_mark"):run(status, due, reason, detail, status == "sent" and now or nil, id)
  self:q("delivery_add"):run(id, now, status, detail)
  if instance then self:count(instance, "message", channel, status, reason) end
end

-- The contacts to whom a message went at `address` on `channel` (in any
-- case): { { contact, latest message id }, ... } by contact
function Store:sent_to(address, channel)
  self:index_for_serving()
  return self:q("sent_to_address"):all(address, channel)
end

-- make the indexes of a served store when it has none (drip run does at its
-- start) -> the seconds it took, when it made them
function Store:index_for_serving()
  if self.serving_indexed then return nil end
  self.serving_indexed = true
  if self:q("serving_indexes"):first() == 2 then return nil end
  local started = host.clock()
  self:build_indexes(FOR_SERVING)
  return host.clock() - started
end

-- a state a provider told of later (see drip.feedback), kept with the
-- message's delivery states; the message's status stays as it is
function Store:note_delivery(id, now, status, detail) self:q("delivery_add"):run(id, now, status, detail) end

-- A tracked open or click ("open" | "click") of message `id` at `now`: the
-- first of each is kept on the message and counted for stats (a click of
-- an email counts as an open too: images may be off; an SMS has no opens).
-- One a program made (`scanned_by`: what gave it away; see
-- tracking.machine) is only a delivery state of the message, "scanned".
-- -> { contact, journey, channel, label, fields (the message's, JSON) } |
-- nil when the message is no longer stored
function Store:message_engaged(id, kind, now, scanned_by)
  local contact, journey, instance, channel, label, opened, clicked, fields = self:q("message_engagement"):first(id)
  if not instance then return nil end
  if scanned_by then
    self:note_delivery(id, now, "scanned", json.encode({ scanned = kind, by = scanned_by }))
    return { contact = contact, journey = journey, channel = channel, label = label, fields = fields }
  end
  if not opened and channel ~= "sms" then
    self:q("message_opened"):run(id, now)
    self:count(instance, "engaged", channel, "opened")
    if label then self:count(instance, "label", label, channel, "opened") end
  end
  if kind == "click" and not clicked then
    self:q("message_clicked"):run(id, now)
    self:count(instance, "engaged", channel, "clicked")
    if label then self:count(instance, "label", label, channel, "clicked") end
  end
  return { contact = contact, journey = journey, channel = channel, label = label, fields = fields }
end

-- messages left 'sending' by a stop or crash are due again -> how many
function Store:resume_sending(now)
  for _, r in ipairs(self:q("sending_by_instance"):all()) do
    self:count(r[1], "message", r[2], "sending", r[3], -r[4])
    self:count(r[1], "message", r[2], "queued", r[3], r[4])
  end
  return self:q("outbox_resume"):run(now)
end

-- channel -> messages waiting to be delivered
function Store:pending_by_channel()
  local out = {}
  for _, row in ipairs(self:q("outbox_pending"):all()) do out[row[1]] = row[2] end
  return out
end

-- A function that writes a record's history row (as add_history) and,
-- unless `lines` is false, its line to stdout (as host.write_record) in one
-- call (host.record_writer), or nil for a scratch store, which keeps no history.
function Store:record_writer(lines)
  if self.scratch then return nil end
  return host.record_writer(self:q("history_add"), lines ~= false)
end

function Store:add_history(instance, at, kind, data_json)
  if self.scratch then return end
  (self.stmts.history_add or self:q("history_add")):run(instance, at, kind, data_json)
end

-- views for the API and the toolkit ----------------------------------------------

-- The contacts someone may have meant by `text` when no contact has that id:
-- the one whose email or phone it is (a marketer knows people by those), or
-- an id that differs only in case. -> { { id =, by = "email"|"phone"|"id" }, ... } (at most 6)
-- A phone written the national way is a number of phone_country (drip.conf.lua's).
function Store:contacts_known_as(text, phone_country)
  local digits = policy.plain_number(text)
  local found = {}
  for _, row in ipairs(self:q("contacts_known_as"):all(text, digits)) do found[#found + 1] = { id = row[1], by = row[2] } end
  if #found == 0 and digits:match("^%+?%d+$") then -- (a scan of every contact: only when nothing else matched)
    for _, row in ipairs(self:q("contacts_written_phones"):all()) do
      if #found >= 6 then break end
      if type(row[2]) == "string" and policy.international(policy.plain_number(row[2]), phone_country) == digits then
        found[#found + 1] = { id = row[1], by = "phone" }
      end
    end
  end
  return found
end

local INSTANCE_VIEW = { "id", "journey", "version", "active", "entered_at", "trigger", "waiting_for", "ended_at",
                        "exit_reason", "converted", "value", "error" }

-- contact_view(id, recent) -> { id, traits, created_at, instances = {...}, events = {...},
-- pruned_before = when `drip prune` removed what came before, if the contact is older } | nil
function Store:contact_view(id, recent)
  self:index_by_contact()
  local traits, created = self:q("contact_row"):first(id)
  if not traits then return nil end
  local pruned = tonumber(self:meta("pruned_before"))
  local view = { id = id, traits = json.decode(traits), created_at = created, instances = json.array(),
                 events = json.array(), pruned_before = pruned and created < pruned and pruned or nil }
  for _, row in ipairs(self:q("contact_instances"):all(id)) do
    local inst = {}
    for i, k in ipairs(INSTANCE_VIEW) do inst[k] = row[i] end
    inst.active, inst.converted = inst.active == 1, inst.converted == 1
    view.instances[#view.instances + 1] = inst
  end
  for i, body in ipairs(self:q("contact_events"):column(id, recent or 50)) do view.events[i] = json.decode(body) end
  return view
end

local MESSAGE_VIEW = { "id", "channel", "address", "status", "reason", "attempts", "sent_at", "due", "detail",
                       "opened_at", "clicked_at" }

-- an instance's story: its records in order, its messages in step order, each
-- with the states it went through, and its next timer
function Store:instance_story(id)
  local story = { records = json.array(), messages = json.array(),
                  next_timer = self:q("instance_next_timer"):first(id) }
  local entered_at, trigger = self:q("instance_entry"):first(id) -- the entry is the instance row's
  if entered_at then story.records[1] = { at = entered_at, kind = "enter", data = { event = trigger } } end
  for _, row in ipairs(self:q("history_of"):all(id)) do
    if row[2] ~= "enter" then -- stores before this kept the entry in the history too
      story.records[#story.records + 1] = { at = row[1], kind = row[2], data = json.decode(row[3] or "{}") or {} }
    end
  end
  for i, row in ipairs(self:q("messages_of"):all(id)) do
    local m = {}
    for j, k in ipairs(MESSAGE_VIEW) do m[k] = row[j] end
    m.deliveries = json.array()
    for n, d in ipairs(self:q("deliveries_of"):all(m.id)) do m.deliveries[n] = { at = d[1], status = d[2], detail = d[3] } end
    story.messages[i] = m
  end
  return story
end

-- erase everything about a contact -> { table = rows removed } | nil when unknown
function Store:forget(id)
  self:index_by_contact()
  if not self:q("contact_row"):first(id) then return nil end
  self:forget_active()
  for _, table_name in ipairs({ "instances", "outbox" }) do -- their ids are not given again
    self:set_meta("high_" .. table_name, self:q(table_name .. "_next_id"):first() - 1)
  end
  self:set_meta("forgets", (self:meta("forgets") or 0) + 1)
  local removed = {}
  for _, what in ipairs(FORGET) do removed[what] = self:q("forget_" .. what):run(id) end
  return removed
end

-- prune -------------------------------------------------------------------------
-- What `drip prune` removes of what is older than a cutoff (see cmd_prune),
-- a chunk at a time. An ended instance goes with its steps, messages,
-- delivery states and history, unless it is its contact's latest in that
-- journey (reentry rules read it) or a message of it is not final yet. An
-- event goes unless an active instance of its contact entered before it or
-- on it (replays and happened() read those), it is its contact's newest, or
-- newest not emitted by a journey (the last activity inactive segments
-- read), or its name is kept (a segment or happened() counts it over a
-- longer time). ?1 cutoff.
local PRUNED_INSTANCES = " WHERE instance IN (SELECT id FROM temp.pruned)"
QUERIES.prune_pick = "INSERT INTO temp.pruned(id) SELECT i.id FROM instances i "
  .. "WHERE i.id >= ?2 AND i.id < ?3 AND i.active = 0 AND i.ended_at < ?1 "
  .. "AND i.id <> (SELECT j.id FROM instances j WHERE j.contact = i.contact AND j.journey = i.journey "
  .. "ORDER BY j.entered_at DESC, j.id DESC LIMIT 1) "
  .. "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.instance = i.id "
  .. "AND o.status IN ('queued', 'sending', 'deferred', 'held'))"
hanging_rows("prune", PRUNED_INSTANCES) -- (their timers, if any are left, find no instance when due and go)
QUERIES.prune_instances = "DELETE FROM instances WHERE id IN (SELECT id FROM temp.pruned)"
QUERIES.instances_last_id = "SELECT max(id) FROM instances"
QUERIES.prune_unpick = "DELETE FROM temp.pruned"
QUERIES.prune_events = "DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e WHERE e.seq >= ?2 AND e.seq < ?3 "
  .. "AND e.ts < ?1 AND coalesce(e.name, '') NOT IN (SELECT value FROM json_each(?4)) "
  .. "AND EXISTS (SELECT 1 FROM temp.newest n WHERE n.contact = e.contact AND e.ts < n.ts AND (n.internal = 0 "
  .. "OR e.internal = 1 OR EXISTS (SELECT 1 FROM events l WHERE l.contact = e.contact AND l.internal = 0 AND l.ts > e.ts))) "
  .. "AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.contact = e.contact AND i.active = 1 "
  .. "AND (i.entered_at <= e.ts OR i.trigger_seq = e.seq)))"
QUERIES.events_last_seq = "SELECT max(seq) FROM events"
local PRUNE_ORDER = { "steps", "deliveries", "messages", "history", "instances" }

-- Before pruning instances that ended before instance_cutoff: the scratch
-- tables, each contact's newest event time (and whether only journeys'
-- own events came then: internal = 1); and, unless only looking
-- (dry_run), the highest ids and the cutoff kept in meta.
function Store:prune_begin(instance_cutoff, dry_run)
  self:index_by_contact()
  self.db:exec("CREATE TEMP TABLE IF NOT EXISTS pruned (id INTEGER PRIMARY KEY); "
    .. "DROP TABLE IF EXISTS temp.newest; "
    .. "CREATE TEMP TABLE newest (contact TEXT PRIMARY KEY, ts INTEGER NOT NULL, internal INTEGER) WITHOUT ROWID; "
    -- (from the index: a twentieth of the time of reading the table for `internal`)
    .. "INSERT INTO temp.newest(contact, ts) SELECT contact, max(ts) FROM events INDEXED BY events_contact GROUP BY contact; "
    .. "UPDATE temp.newest SET internal = (SELECT min(e.internal) FROM events e "
    .. "WHERE e.contact = newest.contact AND e.ts = newest.ts)")
  if dry_run then return end
  for _, table_name in ipairs({ "instances", "outbox" }) do -- their ids are not given again (see forget)
    self:set_meta("high_" .. table_name, self:q(table_name .. "_next_id"):first() - 1)
  end
  self:set_meta("pruned_before", math.max(self:meta("pruned_before") or 0, instance_cutoff))
end

-- The prunable instances among ids [from, to) that ended before `cutoff`,
-- with what hangs off them. -> { table = rows removed }
function Store:prune_instances(cutoff, from, to)
  local removed = {}
  if self:q("prune_pick"):run(cutoff, from, to) > 0 then
    for _, what in ipairs(PRUNE_ORDER) do removed[what] = self:q("prune_" .. what):run() end
    self:q("prune_unpick"):run()
  end
  return removed
end

function Store:last_instance_id() return self:q("instances_last_id"):first() or 0 end

-- The prunable events among seqs [from, to) that came before `cutoff`,
-- keeping those named in `kept` (a list). -> rows removed
function Store:prune_events(cutoff, from, to, kept)
  return self:q("prune_events"):run(cutoff, from, to, json.encode(json.array(kept)))
end

function Store:last_event_seq() return self:q("events_last_seq"):first() or 0 end

-- The sources of every stored script version: { source, ... }
QUERIES.script_sources = "SELECT source FROM scripts"
function Store:script_sources() return self:q("script_sources"):column() end

-- Has a contact been forgotten, here or by another process, since the last
-- call? (What a long-running process keeps of contacts and instances is then stale.)
function Store:forgotten_since() return self:moved_since("forgets") end

-- Has another process committed to the store since the last call? (Never on
-- the first call; SQLite's data_version, which this connection's own commits
-- leave as it is.)
function Store:changed_elsewhere()
  local version = self:q("data_version"):first()
  local changed = self.data_version ~= nil and version ~= self.data_version
  self.data_version = version
  return changed
end

-- Has the meta counter `key` moved, here or in another process, since this
-- connection last looked? (Never on the first look.)
function Store:moved_since(key)
  local n = self:meta(key) or 0
  self.seen = self.seen or {}
  local changed = self.seen[key] ~= nil and n ~= self.seen[key]
  self.seen[key] = n
  return changed
end

-- pauses -----------------------------------------------------------------------------

-- journey name -> { since =, refused = } of the journeys paused now
function Store:paused_journeys()
  local out = {}
  for _, r in ipairs(self:q("pauses_open"):all()) do out[r[1]] = { since = r[2], refused = r[3] } end
  return out
end

-- Pause or resume, and tell other processes on the store (drip run reads
-- the pauses again when this counter moves).
function Store:add_pause(journey, now)
  self:q("pause_add"):run(journey, now)
  self:set_meta("pauses", (self:meta("pauses") or 0) + 1)
end
function Store:end_pause(journey, now)
  self:q("pause_end"):run(journey, now)
  self:set_meta("pauses", (self:meta("pauses") or 0) + 1)
end
function Store:refuse_paused_entry(journey) self:q("pause_refused"):run(journey) end
-- { { since, until (nil: open) }, ... } oldest first
function Store:pauses_of(journey) return self:q("pauses_of"):all(journey) end

-- a journey's messages with status `status`, or "due" for those due to go:
-- { { id, status, exit reason of their instance (nil: running) }, ... }
function Store:messages_of_journey(journey, status) return self:q("outbox_of_journey"):all(journey, status) end
-- how many of a journey's messages have status `status`
function Store:count_of_journey(journey, status) return (self:q("count_of_journey"):first(journey, status)) end

-- journey name -> active instances
function Store:active_counts()
  local counts = {}
  for _, row in ipairs(self:q("active_by_journey"):all()) do counts[row[1]] = row[2] end
  return counts
end

-- the rows behind `drip stats` for instances entered at or after `since`:
-- { journeys, exits, steps, messages, variants } as lists of row arrays (see QUERIES.stats_*)

-- ids of active instances of `journey` on a version other than `hash`
-- counters ----------------------------------------------------------------------

-- how many leading columns of each stats row name it (the rest are counts)
local STATS_KEYS = { journeys = 1, exits = 2, steps = 3, messages = 4, segments = 2, engaged = 2, labels = 3,
                     variants = 3 }

-- rows a and b of one stats shape, with the counts of rows of the same name added
local function merge_rows(a, b, nkey)
  local by, out = {}, {}
  for _, list in ipairs({ a, b }) do
    for _, row in ipairs(list) do
      local key = {}
      for i = 1, nkey do key[i] = tostring(row[i]) end
      key = table.concat(key, "\0")
      local have = by[key]
      if have then
        for i = nkey + 1, #row do have[i] = (have[i] or 0) + (row[i] or 0) end
      else
        by[key] = row
        out[#out + 1] = row
      end
    end
  end
  return out
end

-- The second half of a counter's key, "metric\0a\0b\0c", made once for
-- each (a journey's metrics and their names are few). Bounded.
local metric_keys, metric_keys_n = {}, 0
local function metric_key(metric, a, b, c)
  local by_a = metric_keys[metric] or {}
  local by_b = by_a[a] or {}
  local by_c = by_b[b] or {}
  local text = by_c[c]
  if text then return text end
  text = metric .. "\0" .. a .. "\0" .. b .. "\0" .. c
  if metric_keys_n >= 10000 then metric_keys, metric_keys_n = {}, 0 end
  metric_keys[metric], by_a[a], by_b[b], by_c[c] = by_a, by_b, by_c, text
  metric_keys_n = metric_keys_n + 1
  return text
end

-- Count n (default 1) of a metric for the instance's journey and entry day;
-- written with the transaction's commit. (self.tally: "journey\0day\0" ->
-- "metric\0a\0b\0c" -> n)
function Store:count(instance, metric, a, b, c, n)
  if self.scratch then return end
  local day = self.days[instance] -- "journey\0day\0"
  if not day then
    local u, journey, entered_at = self.unwritten[instance], nil, nil
    if u then
      journey, entered_at = u.journey, u.entered_at
    else
      journey, entered_at = self:q("instance_day"):first(instance)
    end
    if not journey then return end
    day = self:remember_day(instance, journey, entered_at)
  end
  local counts = self.tally[day]
  if not counts then
    counts = {}
    self.tally[day] = counts
  end
  local key = metric_key(metric, a or "", b or "", c or "")
  counts[key] = (counts[key] or 0) + (n or 1)
end

-- the instance's counter key prefix, "journey\0day\0", kept
function Store:remember_day(instance, journey, entered_at)
  local day = journey .. "\0" .. entered_at // DAY .. "\0"
  if self.days_n >= 20000 then self.days, self.days_n = {}, 0 end
  self.days[instance], self.days_n = day, self.days_n + 1
  return day
end

function Store:write_counts()
  if next(self.tally) == nil then return end
  local st = self:q("counter_add")
  for journey_day, counts in pairs(self.tally) do
    local journey, day = journey_day:match("^(.-)%z(%d+)%z$")
    for key, n in pairs(counts) do
      if n ~= 0 then
        local metric, a, b, c = key:match("^(.-)%z(.-)%z(.-)%z(.*)$")
        st:run(journey, tonumber(day), metric, a, b, c, n)
      end
    end
  end
  self.tally = {}
end

-- A store made before counters: count what its rows hold, once; one
-- counted before conversions were credited to messages: count those, once.
function Store:count_existing()
  local counted = self:meta("counted")
  if counted and self:meta("credited") then return end
  self.db:exec("BEGIN")
  local ok, err = pcall(function()
    if not counted then self.db:exec("DELETE FROM counters") end
    for _, select in ipairs(counted and BACKFILL_CREDITS or BACKFILL) do
      self.db:exec("INSERT INTO counters(journey, day, metric, a, b, c, n) " .. select
        .. " ON CONFLICT(journey, day, metric, a, b, c) DO UPDATE SET n = n + excluded.n")
    end
    self:set_meta("counted", 1)
    self:set_meta("credited", 1)
  end)
  self.db:exec(ok and "COMMIT" or "ROLLBACK")
  if not ok then error(err, 0) end
end

-- the message's current state, to move its count when it changes
function Store:uncount_message(id)
  local instance, channel, status, reason = self:q("message_state"):first(id)
  if instance then self:count(instance, "message", channel, status, reason, -1) end
  return instance, channel, reason
end

-- Rows of stats for instances entered since `since`: counters for whole days,
-- the rows themselves for the part of the first day after `since`.
function Store:stats_rows(since)
  local first_day = -((-since) // DAY) -- the first whole day
  local out = {}
  for _, k in ipairs({ "journeys", "exits", "steps", "messages", "segments", "engaged", "labels", "variants" }) do
    out[k] = self:q("counted_" .. k):all(first_day)
    if since < first_day * DAY then
      local exact = self:q("stats_" .. k):all(since, first_day * DAY)
      out[k] = merge_rows(out[k], exact, STATS_KEYS[k])
    end
  end
  return out
end

-- records -----------------------------------------------------------------------

-- Rows of one source of drip records ("enter", "history", "delivery" or
-- "events"), after id `after`, at or after `since`, of `journey` (nil: all):
-- { id, at, contact, journey, instance, ... } in id order (see the records_* queries)
function Store:record_rows(source, after, since, journey, limit)
  return self:q("records_" .. source):all(after, since, journey, limit)
end

-- the last id of a source of drip records (0 when it has none)
function Store:records_end(source) return self:q("records_" .. source .. "_end"):first() end

-- backtest ----------------------------------------------------------------------

-- the bt_* queries' partition parameters (?3, ?4) of `part` ({ k, n }: the
-- contacts whose drip_bucket(contact, n) is k; nil: all) -> n, k
local function partition(part)
  if not part then return 1, 0 end
  return part[2], part[1]
end

-- What happened to journeys entered in [from, to] (to the contacts of `part`,
-- { k, n } as for replay_from; nil: all): rows of the bt_* queries.
function Store:backtest_rows(from, to, part)
  local n, k = partition(part)
  return { entered = self:q("bt_entered"):all(from, to, n, k), messages = self:q("bt_messages"):all(from, to, n, k),
           paths = self:q("bt_paths"):all(from, to, n, k) }
end

-- whether a message of the instances entered in [from, to] has no step label
function Store:backtest_unlabelled(from, to) return self:q("bt_unlabelled"):first(from, to) ~= nil end

-- Fill this (scratch) store from the store at `path` for a replay of
-- [from, to]: every contact, the events of `history` seconds before `from`
-- (for happened(), did segments and inactivity) and the messages (for
-- frequency caps), and the order in which the period's outside events are
-- replayed. -> how many events to replay
-- part: { k, n }, to take only partition k (0 .. n-1) of the contacts, by
-- drip_bucket(contact, n) (what host.bucket gives), events and messages with them
function Store:replay_from(path, from, to, history, part)
  self.db:prepare("ATTACH DATABASE ? AS src"):run(path)
  self:begin()
  self:forget_active()
  self.db:exec("CREATE TEMP TABLE replay (ts INTEGER NOT NULL, seq INTEGER NOT NULL)")
  self.made = false -- (contacts it did not make)
  local n, k = partition(part)
  self:q("bt_copy_contacts"):run(nil, nil, n, k)
  self:q("bt_copy_events"):run(from - history, from, n, k)
  self:q("bt_copy_outbox"):run(from - history, from, n, k)
  return self:q("bt_order"):run(from, to, n, k)
end

-- A preview's store (drip preview): one contact's events from `from` to `to`
-- copied from the store at path, for its segments and happened() to read.
function Store:copy_contact_events(path, contact, from, to)
  self.db:prepare("ATTACH DATABASE ? AS src"):run(path)
  self:q("preview_copy_events"):run(contact, from, to)
  self.db:exec("DETACH DATABASE src") -- (a transaction here would otherwise lock the store at path too)
end

-- the next page of events to replay, after position `after` -> a list of
-- events (a track event in the plain form made ready, any other as its
-- stored text: see stmt:events), the last position
function Store:replay_page(after, limit) return self:q("bt_page"):events(events.DECODE_LATER, after, limit) end

-- when the next timer of an active instance is due, or nil
function Store:next_waking() return self:q("waking_next"):first() end

-- the times of the first and last outside events stored -> first, last | nil (a full scan)
function Store:events_span() return self:q("events_span"):first() end

function Store:instances_to_migrate(journey, hash) return self:q("to_migrate"):column(journey, hash) end
function Store:set_version(id, hash)
  self:forget_active()
  self:q("instance_version"):run(hash, id)
end

return Store
