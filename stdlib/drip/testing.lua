-- drip.testing — test journeys like code, with busted, on the virtual clock.
-- The real engine and an in-memory SQLite store; nothing is delivered.
--
--   local testing = require "drip.testing"
--   local sim = testing.new { journeys = { "scripts/abandoned_cart.lua" }, start = "2026-11-02T09:00:00Z" }
--   sim:identify("u1", { email = "ava@example.com", consent = { email = true } })
--   sim:track("u1", "Cart Updated", { cart_url = "https://shop.test/c/1" })
--   sim:advance "1h"
--   local mail = sim:expect_sent { channel = "email", contact = "u1", at = "1h" }
--   assert.matches("cart", mail.message.subject)
local Store = require "drip.store"
local policy = require "drip.policy"
local utm = require "drip.utm"
local Engine = require "drip.engine"
local events = require "drip.events"
local time = require "drip.time"
local duration = require "drip.duration"
local simulate = require "drip.cmd_simulate"
local config = require "drip.config"
local suggest = require "drip.suggest"

local testing = {}

local Sim = {}
Sim.__index = Sim

-- A key that is none of `known` is a mistake the test would not show: a
-- misspelt option is left at its default (`journey =` would load every
-- script), and a misspelt filter matches nothing (so expect_none passes).
local function check_keys(t, known, what, level)
  for k in pairs(t or {}) do
    if not known[k] then
      local near = type(k) == "string" and suggest.nearest(k, suggest.names(known))
      error(string.format("%s: no %s '%s'%s (known: %s)", what, what == "testing.new" and "option" or "field",
        tostring(k), near and string.format("; did you mean '%s'?", near) or "",
        table.concat(suggest.names(known), ", ")), level + 1)
    end
  end
end

local OPTIONS = { journeys = true, start = true, timezone = true, consent = true, frequency_cap = true,
                  quiet_hours = true, global_control = true, utm = true, config = true }
-- the fields of a send record that sent, expect_sent and expect_none match on ("at" also a time after start)
local SEND_FIELDS = { at = true, contact = true, journey = true, kind = true, channel = true, to = true,
                      message = true, kind_of_message = true, segments = true, encoding = true, ucs2_chars = true,
                      topic = true }

-- testing.new{ journeys = {paths}, start = ISO time, timezone =, consent =,
--              frequency_cap = { email = "3/7d" }, quiet_hours = { from =, to = },
--              global_control = "5%", utm = true | { source =, medium =, campaign = },
--              config = "drip.conf.lua" }
-- config: the policies of a drip.conf.lua (timezone, consent, frequency_cap,
-- quiet_hours, phone_country, global_control, utm), so that tests run under
-- production's; the options given here override its.
function testing.new(opts)
  check_keys(opts, OPTIONS, "testing.new", 2)
  local conf = {}
  if opts.config then
    local cerr
    conf, cerr = config.load(opts.config, true)
    if not conf then error(cerr, 2) end
  end
  if opts.global_control then
    local cerr
    conf.control, cerr = policy.parse_control(opts.global_control)
    if cerr then error(cerr, 2) end
  end
  if opts.utm ~= nil then
    local uerr
    conf.utm_tags, uerr = utm.check(opts.utm)
    if uerr then error(uerr, 2) end
  end
  local store = assert(Store.open(":memory:"))
  store:own_instances()
  local sim = setmetatable({ store = store, log = {}, mid = 0 }, Sim)
  local files, dir = simulate.locate(opts.journeys or { "scripts" })
  if not files then error(dir, 2) end
  local caps, cerr = policy.parse_caps(opts.frequency_cap)
  if not caps then error(cerr, 2) end
  local quiet, qerr = policy.parse_quiet(opts.quiet_hours)
  if qerr then error(qerr, 2) end
  sim.engine = Engine.new({
    store = store, conf = conf, timezone = opts.timezone, consent = opts.consent,
    caps = opts.frequency_cap and caps or nil, quiet = quiet,
    sink = function(rec) sim.log[#sim.log + 1] = rec end,
    warn = function(msg) sim.warnings = (sim.warnings or "") .. msg .. "\n" end,
  })
  local errs = sim.engine:load(files, dir)
  if #errs > 0 then error(table.concat(errs, "\n"), 2) end
  sim.start = assert(time.parse(opts.start or "2026-11-02T09:00:00Z"))
  sim.engine.now = sim.start
  store:begin()
  return sim
end

function Sim:now() return self.engine.now end

local function since_start(self, t) return duration.format(t - self.start) end

-- Feed one event object (Segment shape); timestamp defaults to now.
function Sim:event(obj)
  self.mid = self.mid + 1
  obj.messageId = obj.messageId or ("test-" .. self.mid)
  local ev, err = events.normalize(obj, nil, self.engine.now)
  if not ev then error(err, 3) end
  self.engine:run_until(ev.ts)
  return self.engine:ingest(ev)
end

function Sim:identify(contact, traits) return self:event({ type = "identify", userId = contact, traits = traits }) end

function Sim:track(contact, name, props)
  return self:event({ type = "track", userId = contact, event = name, properties = props or {} })
end

-- Move the virtual clock on by a duration ("2h") or to an ISO time, firing timers.
function Sim:advance(d)
  local t = time.parse(d) or (self.engine.now + duration.check(d, "advance"))
  self.engine:run_until(t)
end

-- Run the clock until no timer is left (at most `limit`, default 90d).
function Sim:settle(limit)
  self.engine:settle(self.engine.now + duration.check(limit or "90d", "settle"))
end

local function filter(list, want)
  local out = {}
  for _, r in ipairs(list) do
    local ok = true
    for k, v in pairs(want or {}) do
      if r[k] ~= v then ok = false end
    end
    if ok then out[#out + 1] = r end
  end
  return out
end

-- All records so far, optionally filtered by fields: sim:records{ kind = "exit" }
function Sim:records(want) return filter(self.log, want) end

-- A filter's field that a send has not, or channel that is none (a test of
-- `mail` would find nothing, and pass as expect_none)
local function check_filter(want, level)
  check_keys(want, SEND_FIELDS, "a send", level + 1)
  local channel = want and want.channel
  if channel ~= nil and not policy.CHANNELS[channel] then
    error(string.format("'%s' is not a channel (%s)", tostring(channel), policy.CHANNEL_NAMES), level + 1)
  end
end

-- Send records, optionally filtered: sim:sent{ channel = "sms", contact = "u1" }
function Sim:sent(want)
  check_filter(want, 2)
  local w = { kind = "send" }
  for k, v in pairs(want or {}) do w[k] = v end
  return filter(self.log, w)
end

-- Per journey: entered, converted, exited, failed, sent, deferred (by quiet hours), suppressed.
function Sim:stats()
  local out = {}
  for _, r in ipairs(self.log) do
    local s = out[r.journey]
      or { entered = 0, converted = 0, exited = 0, failed = 0, sent = 0, deferred = 0, suppressed = 0 }
    out[r.journey] = s
    if r.kind == "enter" then s.entered = s.entered + 1
    elseif r.kind == "convert" then s.converted = s.converted + 1
    elseif r.kind == "send" then s.sent = s.sent + 1
    elseif r.kind == "defer" then s.deferred = s.deferred + 1
    elseif r.kind == "suppress" then s.suppressed = s.suppressed + 1
    elseif r.kind == "exit" then
      if r.reason == "error" then s.failed = s.failed + 1 else s.exited = s.exited + 1 end
    end
  end
  return out
end

-- the names of the segments a contact is in now
function Sim:segments_of(contact) return self.engine:segments_of(contact, self.store:contact(contact)) end

-- What a contact's instances are doing now, for assertion messages.
function Sim:describe(contact)
  local lines = {}
  for _, row in ipairs(self.store:active_instances(contact)) do
    local id, name, wait_event = row[1], row[2], row[5]
    local due = self.store:next_wake(id, self.engine.now)
    local what = wait_event and ("waiting for " .. wait_event) or "waiting"
    if due then what = what .. " until " .. time.iso(due) .. " (+" .. since_start(self, due) .. ")" end
    lines[#lines + 1] = string.format("the %s instance is %s", name, what)
  end
  for _, r in ipairs(self:records({ contact = contact, kind = "exit" })) do
    lines[#lines + 1] = string.format("%s ended at +%s: %s%s", r.journey, since_start(self, time.parse(r.at)), r.reason,
      r.error and (" (" .. r.error .. ")") or "")
  end
  if #lines == 0 then return "no instance for " .. tostring(contact) end
  return table.concat(lines, "; ")
end

-- The messages matching `match` that were held back rather than sent, for
-- assertion messages: " (email suppressed at +1h: no_consent)" (the usual reason a
-- test expecting a send gets none is a contact without consent or address)
local function held_back(self, match)
  local notes = {}
  for _, kind in ipairs({ "suppress", "defer" }) do
    local want = { kind = kind }
    for k, v in pairs(match) do want[k] = v end
    for _, r in ipairs(filter(self.log, want)) do
      notes[#notes + 1] = string.format("%s %s at +%s: %s%s", r.channel,
        kind == "suppress" and "suppressed" or "deferred", since_start(self, time.parse(r.at)), r.reason,
        r["until"] and (" until " .. r["until"]) or "")
    end
  end
  if #notes == 0 then return "" end
  return " (" .. table.concat(notes, "; ") .. ")"
end

-- Assert exactly one matching send (at `at` after the start when given) and return it.
-- want: { channel =, contact =, journey =, at = "1h" | ISO time }
function Sim:expect_sent(want)
  check_filter(want, 2)
  local match = {}
  for k, v in pairs(want) do
    if k ~= "at" then match[k] = v end
  end
  local found = self:sent(match)
  local what = string.format("%s%s", want.channel or "a message", want.at and (" at +" .. want.at) or "")
  if want.at then
    local t = time.parse(want.at) or (self.start + duration.check(want.at, "at"))
    local at = {}
    for _, r in ipairs(found) do
      if time.parse(r.at) == t then at[#at + 1] = r end
    end
    if #at == 0 then
      local got = {}
      for _, r in ipairs(found) do got[#got + 1] = "+" .. since_start(self, time.parse(r.at)) end
      error(string.format("expected %s to %s, got %s%s; %s", what, tostring(want.contact or "anyone"),
        #got > 0 and ("one at " .. table.concat(got, ", ")) or "none", held_back(self, match),
        self:describe(want.contact)), 2)
    end
    found = at
  end
  if #found ~= 1 then
    error(string.format("expected one %s to %s, got %d%s; %s", what, tostring(want.contact or "anyone"), #found,
      #found == 0 and held_back(self, match) or "", self:describe(want.contact)), 2)
  end
  return found[1]
end

-- Assert that nothing matching was sent.
function Sim:expect_none(want)
  check_filter(want, 2)
  local found = self:sent(want)
  if #found > 0 then
    error(string.format("expected no %s, got %d (first at +%s: %s)", want.channel or "message", #found,
      since_start(self, time.parse(found[1].at)), found[1].message.subject or found[1].message.text or "?"), 2)
  end
end

return testing
