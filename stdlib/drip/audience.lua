-- drip.audience — who a journey reaches beyond single events: named segments
-- (membership tests, and entries when traits change or an event arrives) and
-- schedule triggers (broadcasts per time zone, with a staged rollout).
-- Installs its methods on the Engine; the engine calls them from ingest,
-- route, set_traits, index and run_until.
--
-- Membership is not stored: a segment is entered when the contact is a
-- member after a change and was not before it (traits before and after an
-- identify or set(); the count of a `did` event without and with this one).
-- `inactive` segments are entered by time, through the inactivity timers.
local json = require "drip.json"
local time = require "drip.time"
local journey = require "drip.journey"
local steps = require "drip.steps"
local sandbox = require "drip.sandbox"
local segments = require "drip.segments"
local schedule = require "drip.schedule"

local PAGE = 500 -- contacts read at a time by a broadcast

return function(Engine)

-- Read scripts/segments.lua: name -> segment (see drip.segments). Returns an
-- error (then the segments read before stay) or nil. Triggers are indexed by
-- Engine:load, which reads the segments before the journeys.
-- segments_loaded: the names are known (the file loaded, or there is none),
-- so a trigger naming another one is warned about; not after a file that
-- failed, whose error is the one to tell.
function Engine:read_segments(path)
  self.segments_loaded = false
  local source, read_err, readable = journey.read(path)
  if not source then
    self.segments_loaded = not readable
    return readable and read_err or nil
  end
  local env = sandbox.new_env({}, self.random)
  local chunk, err = load(source, "@" .. path, "t", env)
  if not chunk then return err end
  local ok, result = journey.run_chunk(chunk)
  if not ok then return (tostring(result):gsub("\nstack traceback:.*", "")) end
  if type(result) ~= "table" then return path .. ":1: segments.lua must return a table of name = predicate" end
  local loaded, order, line_of = {}, {}, {}
  for name in pairs(result) do
    order[#order + 1] = name
    line_of[name] = journey.line_of(source, "%f[%w_]" .. tostring(name) .. "%s*=", 1)
  end
  -- in the file's order, so that of two bad segments the first is told, every time
  table.sort(order, function(a, b)
    if line_of[a] ~= line_of[b] then return line_of[a] < line_of[b] end
    return tostring(a) < tostring(b)
  end)
  for _, name in ipairs(order) do
    local seg, serr = segments.parse(result[name])
    if not seg then return string.format("%s:%d: segment '%s' %s", path, line_of[name], tostring(name), serr) end
    seg.name = tostring(name)
    loaded[seg.name] = seg
  end
  self.segments, self.segments_loaded = loaded, true
  self.segments_file, self.segments_source = path, source -- (for warnings that name a line)
  return nil
end

-- membership ------------------------------------------------------------------

function Engine:member(seg, contact, traits)
  if seg.kind == "traits" then
    return self:call_user("segment '" .. seg.name .. "'", seg.fn, self:watched(traits or {})) and true or false
  end
  if seg.kind == "did" then
    return segments.counts(seg, self.store:count_events(contact, seg.event, segments.since(seg, self.now)))
  end
  local last = self.store:last_activity(contact)
  return last ~= nil and self.now - last >= seg.secs
end

function Engine:in_segment(name, contact, traits) return self:member(self.segments[name], contact, traits) end

-- names of the segments a contact is in now
function Engine:segments_of(contact, traits)
  local names = json.array()
  for name, seg in pairs(self.segments) do
    if self:member(seg, contact, traits) then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

-- the segment a trigger names (or its inline function), nil for everyone,
-- false when the name is unknown (then nobody)
function Engine:trigger_segment(def)
  local s = def.trigger.segment
  if type(s) == "function" then return { kind = "traits", fn = s, name = "of " .. def.name } end
  if s == nil then return nil end
  local seg = self.segments[s]
  if not seg and self.segments_loaded then
    self:warn_once("segment of " .. def.name, string.format("%s: unknown segment '%s' in trigger", def.file, s))
  end
  return seg or false
end

-- segment triggers --------------------------------------------------------------

-- Sort the segment and schedule triggers of the newest definitions (from index).
function Engine:index_audience(names)
  self.on_traits, self.on_did, self.scheduled = {}, {}, {}
  for _, name in ipairs(names) do
    local def = self.latest[name]
    local t = def.trigger
    local seg = (t.kind == "segment" or t.kind == "schedule") and self:trigger_segment(def)
    if t.kind == "schedule" then
      if seg ~= false then self.scheduled[#self.scheduled + 1] = def end
    elseif t.kind == "segment" and seg then
      if seg.kind == "traits" then
        self.on_traits[#self.on_traits + 1] = { def = def, seg = seg }
      elseif seg.kind == "did" then
        local list = self.on_did[seg.event] or {}
        list[#list + 1] = { def = def, seg = seg }
        self.on_did[seg.event] = list
      else
        self.inactive[#self.inactive + 1] = { def = def, secs = seg.secs }
      end
    end
  end
  self.schedules_dirty = #self.scheduled > 0
end

-- within the trigger's rollout and allowed to enter again
function Engine:may_start(def, contact)
  local share = def.trigger.rollout
  if share and share < 100 and schedule.position(contact, def.name) >= share then return false end
  return self:may_enter(def, contact)
end

-- Merge trait changes into a contact -> new traits, the stored traits text before.
function Engine:put_traits(contact, changes)
  local before = self.store:contact_json(contact)
  local traits = before and json.decode(before) or {}
  steps.merge(traits, changes)
  self.store:put_contact(contact, traits, self.now, before == nil)
  if self.zones and type(traits.timezone) == "string" and not self.zones[traits.timezone] then
    self.schedules_dirty = true
  end
  return traits, before
end

-- Start the journeys whose trait segment the contact has just entered.
-- ev, seq: the event that changed the traits (seq nil for a journey's set()).
function Engine:enter_trait_segments(contact, before_json, after, ev, seq)
  if #self.on_traits == 0 then return end
  local before = before_json and json.decode(before_json)
  for _, t in ipairs(self.on_traits) do
    if not (before and self:member(t.seg, contact, before)) and self:member(t.seg, contact, after)
        and self:may_start(t.def, contact) then
      self:start(t.def, contact, ev, seq, "segment")
    end
  end
end

-- Start the journeys whose `did` segment this event (already stored) has made the contact enter.
function Engine:enter_did_segments(contact, ev, seq)
  local triggers = self.on_did[ev.event]
  if not triggers then return end
  for _, t in ipairs(triggers) do
    local count = self.store:count_events(contact, ev.event, segments.since(t.seg, self.now))
    if segments.counts(t.seg, count) and not segments.counts(t.seg, count - 1) and self:may_start(t.def, contact) then
      self:start(t.def, contact, ev.data, seq, "segment")
    end
  end
end

-- schedules ---------------------------------------------------------------------

-- Make sure every scheduled journey has its next occurrence planned in every
-- zone its contacts live in (the default zone, and each valid timezone trait).
-- bound: occurrences before it are past and skipped.
function Engine:plan_schedules(bound)
  self.schedules_dirty = false
  self.zones = {} -- timezone trait -> the zone it is scheduled in
  local zones = { [self.timezone] = true }
  for _, raw in ipairs(self.store:contact_zones()) do
    self.zones[raw] = time.zone_for(raw) or self.timezone
    zones[self.zones[raw]] = true
  end
  for _, def in ipairs(self.scheduled) do
    for zone in pairs(zones) do self:plan_schedule(def, zone, bound) end
  end
end

function Engine:plan_schedule(def, zone, bound)
  local t = def.trigger
  local row = self.store:schedule(def.name, zone)
  if row and row.spec == t.schedule then
    if not row.due and row.occurrence and t.rollout > row.swept then
      row.due = bound -- a one-off sent to a smaller share: the new share's rest goes now
      self.store:put_schedule(def.name, zone, row)
      self:note_due(bound, "schedules")
    end
    return
  end
  local occurrence, due = schedule.first(t.rule, zone, bound)
  self.store:put_schedule(def.name, zone, { spec = t.schedule, occurrence = occurrence, due = due, swept = 0 })
  if due then self:note_due(due, "schedules") end
end

-- One occurrence of a scheduled journey, in one zone, is due: reach the next
-- page of its contacts; the row stays due until the last page (so drip run
-- serves requests between pages). -> how many contacts were looked at
function Engine:fire_schedule(row)
  local name, zone, due = row[1], row[2], row[3]
  if due > self.now then self.now = due end
  local st = self.store:schedule(name, zone)
  local def = self.latest[name]
  local looked = 1
  if def and def.trigger.kind == "schedule" and def.trigger.schedule == st.spec then
    local last
    looked, last = self:broadcast_page(def, zone, st.swept, st.cursor)
    st.cursor = last
    if last then
      self:note_due(st.due, "schedules") -- the next page is due now
    else
      self:next_occurrence(def, zone, st)
    end
  else
    st.due, st.cursor = nil, nil -- the journey was removed or its schedule changed (re-planned on load)
  end
  self.store:put_schedule(name, zone, st)
  return math.max(1, looked)
end

-- after the last page: wait for the next occurrence, or for none
function Engine:next_occurrence(def, zone, st)
  local next_occurrence, next_due = schedule.after(def.trigger.rule, zone, st.occurrence)
  if next_occurrence then
    st.occurrence, st.due, st.swept = next_occurrence, next_due, 0
    self:note_due(next_due, "schedules")
  else
    st.due, st.swept = nil, def.trigger.rollout
  end
end

-- the timezone traits scheduled in `zone`, and whether contacts without one are
function Engine:traits_in_zone(zone)
  local raws = {}
  for raw, z in pairs(self.zones or {}) do
    if z == zone then raws[#raws + 1] = raw end
  end
  table.sort(raws)
  return raws, zone == self.timezone
end

-- Start `def` for the next page of the zone's contacts (after `cursor`) in
-- its segment whose rollout position is in [from, rollout).
-- -> contacts looked at, the last one when more may follow (else nil)
function Engine:broadcast_page(def, zone, from, cursor)
  local seg = self:trigger_segment(def)
  if seg == false then return 0, nil end
  local raws, unset = self:traits_in_zone(zone)
  local page = self.store:contacts_in_zones(raws, unset, cursor or "", PAGE)
  for _, row in ipairs(page) do
    local contact = row[1]
    local pos = schedule.position(contact, def.name)
    if pos >= from and pos < def.trigger.rollout and (not seg or self:member(seg, contact, json.decode(row[2])))
        and self:may_enter(def, contact) then
      self:start(def, contact, { type = "schedule", event = "schedule", userId = contact,
                                 timestamp = time.iso(self.now) }, nil, "schedule")
      self:drain()
    end
  end
  return #page, #page == PAGE and page[#page][1] or nil
end

end
