-- drip.preview — one journey run for one contact alone, on a virtual clock
-- in a store in memory, for `drip preview` and GET /v1/journeys/{name}/preview.
-- Owns making the previewed contact (a stored one's traits and the events of
-- their 90 days before, or none; traits given over them; every channel
-- allowed and an address on each), entering it (on the trigger event: the
-- contact's latest stored one, or the properties given), and collecting the
-- records of that one instance. The store it reads is only read.
local Store = require "drip.store"
local Engine = require "drip.engine"
local events = require "drip.events"
local json = require "drip.json"
local time = require "drip.time"
local policy = require "drip.policy"
local schedule = require "drip.schedule"
local host = require "drip_host"

local preview = {}

preview.LONGEST = 400 * 86400 -- how far the clock may run for one instance
local HISTORY = 90 * 86400     -- a stored contact's events before the entry it keeps
preview.MAX_RECORDS = 2000     -- a journey that loops (wait "1m" forever) stops here
-- what stands in for an address the contact does not have
local STAND_IN = { email = "preview@example.com", phone = "+15555550100", push_token = "preview-device-token",
                   telegram_chat_id = "100000001" }

function preview.random_key()
  return string.format("%08x%08x", math.random(0, 0xffffffff), math.random(0, 0xffffffff))
end

-- JSON text that should be an object -> table | nil, "NAME: not a JSON object such as EXAMPLE"
function preview.json_object(name, text, example)
  local t = type(text) == "string" and json.decode(text)
  if type(t) ~= "table" or t[1] ~= nil or getmetatable(t) then -- (an empty [] is a marked json.array)
    return nil, string.format("%s: not a JSON object such as '%s'", name, example)
  end
  return t
end

-- The contact as the preview runs it: its traits with every channel
-- consented, no unsubscribe or bounce, and an address on each channel
-- (`to` on `channel`) -> traits, sorted list of the traits stood in for
local function previewed(traits, channel, to)
  local t, stand_ins = {}, {}
  for k, v in pairs(traits) do t[k] = v end
  for _, group in ipairs({ "consent", "unsubscribed", "bounced" }) do
    t[group] = nil
    for _, ch in ipairs(policy.TO_PEOPLE) do t[group .. "." .. ch] = nil end
  end
  t["unsubscribed.transactional"] = nil
  t.consent = { email = true, sms = true, push = true, telegram = true }
  for _, ch in ipairs(policy.TO_PEOPLE) do
    local trait = policy.ADDRESS_TRAIT[ch]
    if channel == ch then
      t[trait] = to
    elseif not policy.address(ch, t) then
      t[trait], stand_ins[#stand_ins + 1] = STAND_IN[trait], trait
    end
  end
  table.sort(stand_ins)
  return t, stand_ins
end

-- Events that come after the entry, as written: "Order Completed +2h", with
-- its properties after it as a JSON object ("Order Completed +2h
-- {\"revenue\":50}") -> list of { event =, after = seconds, properties = },
-- in time order | nil, message
function preview.later_events(texts)
  local list = {}
  for i, text in ipairs(texts or {}) do
    local name, after, props = tostring(text):match("^%s*(.-)%s+%+(%S+)%s*(.-)%s*$")
    local secs = after and require("drip.duration").parse(after)
    if not name or name == "" or not secs then
      return nil, string.format("'%s': not an event after the entry such as 'Order Completed +2h'", text)
    end
    local properties, err = {}, nil
    if props ~= "" then
      properties, err = preview.json_object("'" .. text .. "'", props, '{"revenue":50}')
      if not properties then return nil, err end
    end
    list[#list + 1] = { event = name, after = secs, properties = properties, order = i }
  end
  table.sort(list, function(a, b) return a.after < b.after or (a.after == b.after and a.order < b.order) end)
  return list
end

-- Who is previewed. store: where a stored contact is found (nil: none); id:
-- theirs (as resolved); traits, properties: given, or nil; later: events
-- after the entry (preview.later_events). -> { id =, real = their stored
-- traits | nil, traits =, props =, said = where the properties came from |
-- nil, history = { path =, clock = } | nil, later = }
function preview.subject(store, id, trigger, traits, props, later)
  local who = { id = id or "preview", traits = {}, props = props, said = props and "given" or nil, later = later }
  if store and id then
    who.real = store:contact(id) or {}
    for k, v in pairs(who.real) do who.traits[k] = v end
    local ev = not props and trigger.kind == "event" and store:last_event(id, trigger.event, math.mininteger)
    if ev then who.props, who.said = ev.properties or {}, "its latest, " .. tostring(ev.timestamp) end
    who.history = { path = store.path, clock = tonumber(store:meta("clock")) }
  end
  for k, v in pairs(traits or {}) do who.traits[k] = v end
  who.props = who.props or {}
  return who
end

-- Run journey `name` (from `file`, its directory `dir`) for `who`, with
-- `to` as its address on `channel` when given -> { records = those of its
-- one instance, started = the entry's time, warnings =, stand_ins =,
-- unsubscribe = { base =, secret = } its links are signed with, cut =
-- true when it stopped at MAX_RECORDS, schedule_passed = true when a one-off
-- broadcast's time has passed (it enters now) }
-- | nil, message
function preview.run(conf, file, dir, name, who, channel, to)
  local store = assert(Store.open(":memory:"))
  store:own_instances()
  local history = who.history
  local now = history and history.clock or host.time()
  if history then store:copy_contact_events(history.path, who.id, now - HISTORY, now) end
  -- links that work nowhere: a click in a preview must not unsubscribe the real contact
  local out = { records = {}, warnings = {},
                unsubscribe = { base = conf.public_url or "http://127.0.0.1:8425", secret = preview.random_key() } }
  local ended = false
  local rules = {}
  for k, v in pairs(conf) do rules[k] = v end
  rules.caps, rules.quiet, rules.control = {}, nil, nil -- (every message shows, now)
  local engine = Engine.new({
    store = store, conf = rules,
    sink = function(rec)
      if rec.journey ~= name or ended then return end
      out.records[#out.records + 1] = rec
      ended = rec.kind == "exit"
    end,
    warn = function(msg) out.warnings[#out.warnings + 1] = msg end,
    unsubscribe = out.unsubscribe,
  })
  local errors = engine:load({ file }, dir)
  if #errors > 0 then
    store:close()
    return nil, table.concat(errors, "\n")
  end
  local def = engine.latest[name]
  def.reentry = { mode = "once" } -- (one instance: no later entry, by a schedule or a quiet spell)
  engine.now = now
  store:begin()
  local function feed(obj) engine:ingest(assert(events.normalize(obj, nil, engine.now))) end
  local traits
  traits, out.stand_ins = previewed(who.traits, channel, to)
  feed({ type = "identify", userId = who.id, traits = traits, messageId = "preview-1" })
  local kind = def.trigger.kind
  if kind == "event" then
    feed({ type = "track", userId = who.id, event = def.trigger.event, properties = who.props, messageId = "preview-2" })
  else
    local due = kind == "schedule" and select(2, schedule.first(def.trigger.rule, engine:zone_of(traits), engine.now))
    if due then engine:run_until(due) end -- (a broadcast starts at its time, in the contact's zone)
    out.schedule_passed = kind == "schedule" and not due or nil -- (a one-off: shown as if now)
    if #out.records == 0 then -- (a segment trigger may have started it already)
      engine:start(def, who.id, { type = kind, event = kind, userId = who.id, timestamp = time.iso(engine.now) }, nil,
        kind)
      engine:drain()
    end
  end
  out.started = out.records[1] and time.parse(out.records[1].at) or engine.now
  for i, e in ipairs(who.later or {}) do -- (marked in the records where they come)
    if ended then break end -- (nothing later changes an instance that ended)
    engine:run_until(out.started + e.after)
    if not ended then out.records[#out.records + 1] = { at = time.iso(engine.now), kind = "event", event = e.event } end
    feed({ type = "track", userId = who.id, event = e.event, properties = e.properties, messageId = "preview-later-" .. i })
  end
  engine:settle(engine.now + preview.LONGEST, function() -- (one instance: not a later entry)
    return not ended and #out.records < preview.MAX_RECORDS
  end)
  out.cut = not ended and #out.records >= preview.MAX_RECORDS
  store:close()
  return out
end

-- What the contact's own rules say of a send record (real: their stored
-- traits) -> the reason it would not reach them | nil
function preview.would_stop(rec, real, conf)
  if not real or rec.kind ~= "send" then return nil end
  local ok, why = policy.check(rec.channel, rec.kind_of_message, real, { consent = conf.consent,
    phone_country = conf.phone_country, topic = rec.topic })
  return not ok and why or nil
end

-- The run as one JSON document (GET /v1/journeys/{name}/preview)
function preview.document(name, who, trigger, out, conf)
  local records = json.array()
  local doc = { journey = name, contact = who.id, stored = who.real ~= nil,
                entered_on = trigger.kind == "event" and trigger.event or trigger.kind,
                properties = trigger.kind == "event" and who.props or nil, properties_from = who.said,
                started_at = time.iso(out.started), stand_ins = json.array(out.stand_ins), records = records,
                cut_at_records = out.cut and preview.MAX_RECORDS or nil, schedule_passed = out.schedule_passed }
  for _, rec in ipairs(out.records) do
    local r = {}
    for k, v in pairs(rec) do r[k] = v end
    r.after = time.parse(rec.at) - out.started
    r.would_stop = preview.would_stop(rec, who.real, conf)
    records[#records + 1] = r
  end
  return doc
end

return preview
