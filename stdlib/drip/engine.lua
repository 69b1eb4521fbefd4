-- drip.engine — events in, journeys run, records out. The one engine behind
-- `drip simulate` and `drip run`: it knows nothing of where events and time
-- come from. The caller feeds events (engine:ingest) and moves the clock
-- (engine:run_until); the engine reads and writes only through the store and
-- reports every action to the sink as a record.
--
-- Instances are durable by recorded steps (see drip.steps): a sleeping
-- instance is only rows in the store; waking it rebuilds its coroutine by
-- replaying its script against the recorded results.
local host = require "drip_host"
local json = require "drip.json"
local time = require "drip.time"
local events = require "drip.events"
local journey = require "drip.journey"
local steps = require "drip.steps"
local policy = require "drip.policy"
local message_rules = require "drip.channels" -- what a message needs on each channel
local template = require "drip.template"
local utm = require "drip.utm"
local tracking = require "drip.tracking"
local locale = require "drip.locale"
local unsubscribe = require "drip.unsubscribe"
local audience = require "drip.audience"
local report = require "drip.report"
local suggest = require "drip.suggest"
local sandbox = require "drip.sandbox"
local objects = require "drip.objects"

local Engine = {}
Engine.__index = Engine
audience(Engine)

local MAX_INTERNAL_EVENTS = 10000 -- journey-emitted events handled per outside event
-- Contacts remembered as existing, to skip a write per event: up to
-- `known_cache` (default 200000). drip run keeps fewer: Lua's collector
-- traverses a table in one step, and a large one showed in request latency.
local KNOWN_CACHE = 200000

-- Recently slept instances are kept as live coroutines, up to `live_cache`
-- (default DRIP_LIVE_CACHE or 20000), so a wake soon after need not replay;
-- past it (and after a restart) an instance is only rows in the store and
-- waking it replays its history.
local LIVE_CACHE = tonumber(os.getenv("DRIP_LIVE_CACHE")) or 20000

-- Engine.new{ store=, sink=function(record) | record_lines=function(json_line),
--             write_record=function(at, contact, journey, kind, fields_json) -> true | nil,
--             record_writer=function(instance, at, kind, fields | fields_json, contact, journey) -> true | nil
--               (a record's history row and its line at once, or the row alone before the
--               sink has the record: Store:record_writer),
--             conf= (drip.config: timezone,
--             consent, caps, quiet), unsubscribe={ base=, secret= }, deliver=false,
--             warn=function(msg), live=false, live_cache=N, known_cache=N, keep_stored=false,
--             seed_by_contact=false }
-- timezone=, consent=, caps=, quiet= override conf's (defaults UTC, opt-in, none).
-- live: the caller keeps engine.now on the wall clock, so event timestamps
-- never move it (simulate lets them: its clock is the events' time).
-- keep_stored: a script that fails to compile when nothing of its file is
-- loaded yet (drip run starting) runs the version of that file the store last
-- loaded, as a reload keeps the previous one.
function Engine.new(opts)
  local conf = opts.conf or {}
  local self = objects.new({
    store = opts.store,
    sink = opts.sink, -- (none: records are only kept in the store, as backtest wants)
    record_lines = opts.record_lines, -- (instead of sink: records as JSON Lines, no record tables made)
    write_record = opts.write_record, -- (before record_lines: writes a record's line itself, or says it cannot)
    record_writer = opts.record_writer, -- (before the rest, for records kept in the history: see Engine:record)
    -- (no sink on a scratch store, which keeps no history: nothing reads records)
    unrecorded = opts.store.scratch and not (opts.sink or opts.record_lines or opts.write_record) or false,
    warn = opts.warn or function(msg) io.stderr:write("drip: warning: ", msg, "\n") end,
    timezone = opts.timezone or conf.timezone or "UTC",
    consent = opts.consent or conf.consent or "opt-in",
    phone_country = conf.phone_country, -- (the calling code of phones written the national way)
    caps = opts.caps or conf.caps or {},
    quiet = opts.quiet or conf.quiet,
    control = conf.control, -- the global control group's share (percent), or nil
    utm = conf.utm_tags, -- campaign parameters for the links of messages (drip.utm), or nil
    sms_short_links = conf.track and conf.track.sms_clicks or false, -- (an SMS's links go short: drip.tracking)
    unsubscribe = opts.unsubscribe or { base = "http://127.0.0.1:8425", secret = "drip-simulate" },
    deliver = opts.deliver or false,
    outbox_status = opts.deliver and "queued" or "simulated",
    queued = 0, -- messages put in the outbox to deliver, so far
    live_clock = opts.live or false,
    keep_stored = opts.keep_stored or false,
    seed_by_contact = opts.seed_by_contact or false,
    live_cache = opts.live_cache or LIVE_CACHE,
    known_cache = opts.known_cache or KNOWN_CACHE,
    steps_recorded = 0,
    defs = {},        -- script hash -> definition
    latest = {},      -- journey name -> newest definition
    by_trigger = {},  -- event name -> { definitions }
    late_goals = {},  -- event name -> { definitions whose goal converts `within` a while after the end }
    route_names = {}, -- event name -> true: route may act on it (see Engine:ingest)
    inactive = {},    -- { def =, secs = } of inactive triggers (and inactive segment triggers)
    segments = {},    -- name -> segment (see drip.segments)
    on_traits = {}, on_did = {}, scheduled = {}, -- segment and schedule triggers (see drip.audience)
    running = setmetatable({}, { __mode = "k" }), -- coroutine -> instance runtime
    queue = {},       -- journey-emitted events waiting to be handled
    steps_events = {}, -- journey name -> role -> { event name = true } of its wait_for and happened steps
    floors = {},      -- per source of due rows, nothing due before it (see note_due)
    -- routed_contact, routed_traits: the contact route is handling and its
    -- traits once a `where` has read them (see routed_contact_traits)
    templates = {},
    templates_dir = "scripts/templates", -- (Engine:load sets its journeys directory's)
    warned = {}, warned_n = 0,
    live = {}, live_count = 0, -- instance id -> runtime of a slept instance (cache)
    known = {}, known_count = 0,
  }, Engine)
  self.now = tonumber(self.store:meta("clock")) or 0
  self.paused = self.store:paused_journeys() -- journey name -> its pause (see drip.pause)
  self.check_options = { consent = false, to = false, phone_country = false, topic = false } -- (see pick_channel)
  self.send_fields = { channel = false, to = false, message = false, kind_of_message = false, segments = false,
                       encoding = false, ucs2_chars = false, topic = false } -- (see send)
  self.random = steps.random_function(self)
  self.api = steps.api(self)
  return self
end

-- the instance runtime of the running coroutine, or nil outside steps
function Engine:current()
  local co = coroutine.running()
  return self.running[co]
end

-- Drop what memory holds beyond the store (after a rolled-back transaction).
function Engine:reset_caches()
  self.floors, self.due_floor = {}, nil
  self.live, self.live_count = {}, 0
  self.known, self.known_count = {}, 0
  self.queue = {}
  self:read_pauses()
end

-- Read which journeys are paused (drip pause here, or beside drip run).
function Engine:read_pauses() self.paused = self.store:paused_journeys() end

-- Warn once per key. The keys seen are bounded: a key holds an error's text,
-- which a journey may make per contact, and drip run lives for months.
local WARNED_MAX = 1000
function Engine:warn_once(key, msg)
  if self.warned[key] then return end
  if self.warned_n >= WARNED_MAX then self.warned, self.warned_n = {}, 0 end
  self.warned[key], self.warned_n = true, self.warned_n + 1
  self.warn(msg)
end

-- loading ---------------------------------------------------------------------

-- stored: a version the store took before (recompiled for its instances)
function Engine:compile(source, file, stored)
  return journey.compile(source, file, self.api, self.random, stored)
end

-- Load journey files as the newest versions. Returns a list of errors
-- ("file:line: message"); files that fail are not loaded.
function Engine:load_journeys(files) return (self:reload(files)) end

-- Load a journeys directory: its segments.lua and templates/, then `files`
-- as in reload. -> errors (segments.lua's first), changes. The errors are
-- kept as self.load_errors (segments.lua's also as self.segments_error)
-- until the next load.
function Engine:load(files, dir)
  self.templates_dir = dir .. "/templates"
  local segments_error = self:read_segments(dir .. "/segments.lua")
  local errors, changes = self:reload(files)
  if segments_error then table.insert(errors, 1, segments_error) end
  self.load_errors, self.segments_error = errors, segments_error
  return errors, changes
end

-- Make `files` the journeys: new and changed scripts become the newest
-- versions, a script that fails to compile keeps its previous version, a
-- deleted script stops new entries. Running instances stay on their version.
-- -> errors, changes (list of { name =, version =, change = "loaded"|"removed" })
function Engine:reload(files)
  local errors, changes, latest, by_file = {}, {}, {}, {}
  for _, def in pairs(self.latest) do by_file[def.file] = def end
  for _, file in ipairs(files) do
    local source, err = journey.read(file)
    local def = by_file[file]
    if source and not (def and def.source == source) then def, err = self:compile(source, file) end
    if not source or err then
      errors[#errors + 1] = err
      def = by_file[file] or self:stored_def_of(file) -- the previous version keeps running
    end
    if def and latest[def.name] then
      errors[#errors + 1] = string.format("%s:1: journey name '%s' is already used by %s", file, def.name,
        latest[def.name].file)
    elseif def then
      latest[def.name] = def
      if not self.latest[def.name] or self.latest[def.name].hash ~= def.hash then
        changes[#changes + 1] = { name = def.name, version = def.hash, change = "loaded", file = file }
      end
    end
  end
  for name, def in pairs(self.latest) do
    if not latest[name] then
      changes[#changes + 1] = { name = name, version = def.hash, change = "removed", file = def.file }
    end
  end
  self:index(latest)
  self.templates = {}
  return errors, changes
end

-- The definition the store last loaded from file (drip run keeps the
-- versions it loads in meta 'loaded_files': file -> hash), when keep_stored, or nil.
function Engine:stored_def_of(file)
  if not self.keep_stored then return nil end
  local hash = json.decode(self.store:meta("loaded_files") or "{}")[file]
  local ok, def = pcall(self.def_for, self, hash or "")
  return hash and ok and def or nil
end

-- the loaded journey whose newest version came from file, or nil
function Engine:journey_of_file(file)
  for _, def in pairs(self.latest) do
    if def.file == file then return def end
  end
  return nil
end

-- the files of the loaded journeys' newest versions, and segments.lua when read
function Engine:user_files()
  local files = {}
  for _, name in ipairs(self:journey_names()) do files[#files + 1] = self.latest[name].file end
  if self.segments_file then files[#files + 1] = self.segments_file end
  return files
end

-- the names of the loaded journeys (their newest versions), sorted
function Engine:journey_names()
  local names = {}
  for name in pairs(self.latest) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- the trigger indexes of the newest definitions
function Engine:index(latest)
  self.latest, self.by_trigger, self.inactive, self.late_goals = latest, {}, {}, {}
  local names = self:journey_names() -- journeys start in name order, whatever the load order
  local files = {}
  for _, name in ipairs(names) do
    local def = latest[name]
    self.defs[def.hash] = def
    self.store:put_script(def, self.now)
    if def.file then files[def.file] = def.hash end
    local t = def.trigger
    self:note_route_names(def)
    if t.kind == "event" then
      self.route_names[t.event] = true
      local list = self.by_trigger[t.event] or {}
      list[#list + 1] = def
      self.by_trigger[t.event] = list
    elseif t.kind == "inactive" then
      self.inactive[#self.inactive + 1] = { def = def, secs = t.secs }
    end
    local goal = def.goal
    if goal and goal.within then
      local list = self.late_goals[goal.event] or {}
      list[#list + 1] = def
      self.late_goals[goal.event] = list
    end
  end
  self:index_audience(names)
  for name in pairs(self.on_did) do self.route_names[name] = true end
  if self.keep_stored then self.store:set_meta("loaded_files", json.encode(files)) end
end

-- The events route acts on, beside the triggers: those that end an
-- instance of def (goal, exit_on). With the events waits ask for, and those
-- did segments count, they are the names route is given when the store's
-- every instance is this process's (Store.made_every_instance): an event
-- of another name (a page view no journey looks at) could neither start,
-- end nor wake any, and is only stored. The names only grow, as instances
-- of a journey's earlier versions may still run.
function Engine:note_route_names(def)
  for name in pairs(def.ending) do self.route_names[name] = true end
end

-- a journey loaded now, or one the store has run
function Engine:knows_journey(name) return self.latest[name] ~= nil or self.store:latest_script(name) ~= nil end

-- the definition of a stored script version (instances stay on theirs)
function Engine:def_for(hash)
  local def = self.defs[hash]
  if def then return def end
  local source, file = self.store:script(hash)
  if not source then error("script version " .. hash .. " is not in the store") end
  local err
  def, err = self:compile(source, file, true)
  if not def then error(err) end
  self.defs[hash] = def
  self:note_route_names(def)
  return def
end

-- user code outside instances ---------------------------------------------------

-- Call a journey-supplied function (where, segment) under the instruction budget.
function Engine:call_user(what, fn, ...)
  local co = host.coroutine(fn)
  local ok, result = host.resume(co, ...)
  if ok and coroutine.status(co) ~= "dead" then ok, result = false, "cannot wait inside " .. what end
  if ok then host.recycle(co) end
  if not ok then
    self:warn_once(what .. tostring(result), what .. " failed: " .. tostring(result):gsub("\n.*", ""))
    return false
  end
  return result
end

-- Does an event routed for its contact match a trigger, goal or exit_on spec?
function Engine:matches(spec, ev)
  if not spec or spec.event ~= ev.event then return false end
  if not spec.where then return true end
  return self:call_user("where of '" .. spec.event .. "'", spec.where, ev.data, self:routed_contact_traits())
    and true or false
end

-- A contact's traits about to be given to user code, with simulate's watch
-- on reads of traits no contact has (see drip.trait_reads), when it is on.
function Engine:watched(traits)
  local reads = self.trait_reads
  if reads then return reads:watched(traits) end
  return traits
end

-- the traits of the contact route is handling, read when a `where` first needs them
function Engine:routed_contact_traits()
  local traits = self.routed_traits
  if not traits then
    traits = self:watched(self.store:contact(self.routed_contact) or {})
    self.routed_traits = traits
  end
  return traits
end

function Engine:zone_of(traits)
  local tz = traits and rawget(traits, "timezone") -- (drip's read, not a journey's: see drip.trait_reads)
  if tz == nil or tz == json.null then return self.timezone end
  local zone = type(tz) == "string" and time.zone_for(tz)
  if zone then return zone end
  self:warn_once("timezone\0" .. tostring(tz), string.format(
    "a contact's timezone %s is not a time zone (such as Asia/Tehran or Europe/Moscow) or an offset (+03:30); its times are in %s",
    json.encode(tz), self.timezone))
  return self.timezone
end

-- records -----------------------------------------------------------------------

-- A record to the sink, kept in the instance's history too.
-- who: an instance runtime or row with id, contact, journey; fields_json:
-- the fields' JSON when the caller has it
function Engine:record(who, kind, fields, fields_json)
  if self.unrecorded then return end
  local write = self.record_writer -- (the history row and the line in one call; or the row, for a sink)
  if write and write(who.id, self.now, kind, fields_json or fields, who.contact, who.journey) then
    if self.sink then self:report(who, kind, fields, fields_json) end
    return
  end
  fields_json = fields_json or json.encode(fields)
  self.store:add_history(who.id, self.now, kind, fields_json)
  self:report(who, kind, fields, fields_json)
end

-- The variant of a split (or the global control group) an instance goes
-- down: its record, and its count for the journey's stats.
function Engine:record_variant(R, split, variant)
  self:record(R, "variant", { split = split, variant = variant })
  self.store:count(R.id, "variant", split, variant)
end

-- The fields of records that name one thing only, and their JSON, kept by
-- that name (a journey's triggers and the reasons an instance ends are few):
-- named_fields("reason")["goal"] -> { { reason = "goal" }, '{"reason":"goal"}' }
local function named_fields(key)
  return setmetatable({}, { __index = function(kept, name)
    local fields = { [key] = name }
    kept[name] = { fields, json.encode(fields) }
    return kept[name]
  end })
end
local ENTERED_ON, ENDED_FOR = named_fields("event"), named_fields("reason")

-- A record to the sink only: the entry, which the instance row itself keeps.
function Engine:report(who, kind, fields, fields_json)
  local write = self.write_record
  if write and write(time.iso(self.now), who.contact, who.journey, kind, fields_json) then return end
  local lines = self.record_lines
  if lines then return lines(report.jsonl(time.iso(self.now), who.contact, who.journey, kind, fields_json)) end
  if not self.sink then return end
  local rec = { at = time.iso(self.now), contact = who.contact, journey = who.journey, kind = kind }
  for k, v in pairs(fields) do rec[k] = v end
  self.sink(rec, fields_json)
end

function Engine:record_step(R, op, value)
  self.steps_recorded = self.steps_recorded + 1
  self.store:add_step(R.id, R.pos, steps.encode(op, value), op)
end

-- events ------------------------------------------------------------------------

-- Take one validated event (see drip.events). Returns false for a duplicate messageId.
function Engine:ingest(ev)
  if ev.ts > self.now and not self.live_clock then self.now = ev.ts end
  local seq = self.store:add_event(ev, ev.body)
  if not seq then return false end
  local contact = ev.userId
  local fresh = false -- a contact this event made: no traits, no instances yet
  if ev.type == "identify" and ev.traits then
    local traits, before = self:put_traits(contact, ev.traits)
    if #self.on_traits > 0 then -- (ev.data, the line decoded whole, only when a segment may start a journey with it)
      self:enter_trait_segments(contact, before, traits, ev.data, seq)
    end
    self:note_known(contact)
  elseif not self.known[contact] then
    fresh = self.store:touch_contact(contact, self.now)
    self:note_known(contact)
  end
  if not ev.internal then
    local inactive = self.inactive
    for i = 1, #inactive do
      local t = inactive[i]
      self.store:set_inactivity(contact, t.def.name, self.now + t.secs)
      self:note_due(self.now + t.secs, "inactivity")
    end
  end
  if ev.type == "track" and (self.route_names[ev.event] or not self.store.made_every_instance) then
    self:route(ev, seq, fresh)
  end
  if self.queue[1] and not ev.internal then self:drain() end
  return true
end

-- the contact exists in the store: its next events need not make sure of it
function Engine:note_known(contact)
  if self.known[contact] then return end
  if self.known_count >= self.known_cache then self.known, self.known_count = {}, 0 end
  self.known[contact], self.known_count = true, self.known_count + 1
end

-- the revenue of a goal event: properties.revenue, .value or .total
local function event_value(data)
  local p = type(data.properties) == "table" and data.properties or {}
  local v = p.revenue or p.value or p.total
  if type(v) == "number" then return v end
  return json.null
end

local NONE = {}

-- the goal event ev converts instance `who` (after_end: one that ended
-- within its goal's window): its convert record and count, with the revenue
function Engine:goal_reached(who, ev, after_end)
  local value = event_value(ev.data)
  self:record(who, "convert", { event = ev.event, value = value, after_end = after_end })
  self.store:convert(who.id, value ~= json.null and value or nil)
end

function Engine:route(ev, seq, fresh)
  local contact = ev.userId
  self.routed_contact, self.routed_traits = contact, fresh and {} or nil
  local name_of_event = ev.event
  local triggered = self.by_trigger[name_of_event] or NONE
  local ended = NONE -- instance id -> true for the rows this event ended (the rest stay active for may_enter)
  local converted = NONE -- journey -> true when this event converted an active instance of it
  local rows = fresh and NONE or self.store:active_instances(contact)
  for i = 1, #rows do
    local row = rows[i]
    local id, name, version, wait_seq, wait_event, entered_at = row[1], row[2], row[3], row[4], row[5], row[6]
    local def = self.defs[version]
    local ok = def ~= nil
    if not ok then ok, def = pcall(self.def_for, self, version) end
    local ending = ok and def.ending[name_of_event]
    local ends = true
    if not ok then
      self:finish({ id = id, contact = contact, journey = name }, "error", tostring(def))
    elseif ending and self:matches(def.goal, ev) then
      local who = { id = id, contact = contact, journey = name }
      self:goal_reached(who, ev)
      self:finish(who, "goal")
      if converted == NONE then converted = {} end
      converted[name] = true
    elseif ending and self:exits_on(def, ev) then
      self:finish({ id = id, contact = contact, journey = name }, "exit_event", nil, name_of_event)
    else
      ends = false
      if wait_event == name_of_event then self:wake(id, ev.data, wait_seq, version) end
    end
    if ends then
      if ended == NONE then ended = {} end
      ended[id] = true
    end
  end
  for i = 1, #triggered do
    local def = triggered[i]
    if self:matches(def.trigger, ev) and (fresh or self:may_enter(def, contact, rows, ended)) then
      self:start(def, contact, rawget(ev, "data") or tostring(ev.body), seq, name_of_event, fresh and "{}" or nil)
    end
  end
  if self.on_did[name_of_event] then self:enter_did_segments(contact, ev, seq) end
  local late = not fresh and self.late_goals[name_of_event]
  if late then self:convert_after_end(late, contact, ev, converted) end
end

-- A goal event that comes `within` its goal's while after an instance ended
-- (ran to its end, timed out or called exit) without converting converts
-- the latest such instance of the contact, once: a convert record with
-- after_end. The journey's newest version says what its goal is. Not when
-- the event converted a running instance of the journey.
local LATE = { completed = true, expired = true, exit = true }
function Engine:convert_after_end(defs, contact, ev, converted)
  for i = 1, #defs do
    local def = defs[i]
    if not converted[def.name] and self:matches(def.goal, ev) then
      local id, reason = self.store:ended_unconverted(contact, def.name, self.now - def.goal.within)
      if id and LATE[reason] then self:goal_reached({ id = id, contact = contact, journey = def.name }, ev, true) end
    end
  end
end

-- a step of `journey` waited for (role "waits for") or looked back for
-- ("looks back for", happened) the event name `event`
function Engine:note_step_event(journey, role, event)
  local roles = self.steps_events[journey]
  if not roles then
    roles = {}
    self.steps_events[journey] = roles
  end
  local names = roles[role]
  if not names then
    names = {}
    roles[role] = names
  end
  names[event] = true
end

-- The event names the latest journeys start, convert or exit on, and those
-- their wait_for and happened steps have asked for, in journey order, then
-- those the `did` segments count, in segment order:
-- { { journey =, who = "journey 'name'", role = "starts on" | "converts on" | "exits on" | "waits for"
--     | "looks back for", event = } | { segment =, who = "segment 'name'", role = "counts", event = }, ... }
function Engine:awaited_events()
  local names = self:journey_names()
  local list = {}
  local function add(def, role, spec)
    if type(spec) == "table" and spec.event then
      list[#list + 1] = { journey = def.name, who = "journey '" .. def.name .. "'", role = role, event = spec.event }
    end
  end
  for _, name in ipairs(names) do
    local def = self.latest[name]
    add(def, "starts on", def.trigger)
    add(def, "converts on", def.goal)
    for _, spec in ipairs(def.exit_on) do add(def, "exits on", spec) end
    for _, role in ipairs({ "waits for", "looks back for" }) do
      local asked = {}
      for event in pairs((self.steps_events[name] or NONE)[role] or NONE) do asked[#asked + 1] = event end
      table.sort(asked)
      for _, event in ipairs(asked) do add(def, role, { event = event }) end
    end
  end
  for _, name in ipairs(suggest.names(self.segments)) do
    local seg = self.segments[name]
    if seg.kind == "did" then
      list[#list + 1] = { segment = name, who = "segment '" .. name .. "'", role = "counts", event = seg.event }
    end
  end
  return list
end

function Engine:exits_on(def, ev)
  local specs = def.exit_on
  for i = 1, #specs do
    if self:matches(specs[i], ev) then return true end
  end
  return false
end

-- When a still-active instance of journey `name` among the contact's active
-- rows (those of Store:active_instances) last entered, leaving out the ids
-- in `ended`; nil when none
local function latest_active(rows, ended, name)
  local latest
  for i = 1, #rows do
    local row = rows[i]
    if row[2] == name and not ended[row[1]] and (latest == nil or row[6] > latest) then latest = row[6] end
  end
  return latest
end

-- rows, ended (optional): route's active rows of the contact and the ids of
-- those the event ended; a still-active entry there answers "once", and a
-- recent one "after", without asking the store for the latest entry.
function Engine:may_enter(def, contact, rows, ended)
  local mode = def.reentry.mode
  if mode == "always" then return true end
  if mode == "active" then
    return latest_active(rows or self.store:active_instances(contact), ended or NONE, def.name) == nil
  end
  local seen = rows and latest_active(rows, ended or NONE, def.name)
  if seen and (mode == "once" or self.now < seen + def.reentry.secs) then return false end
  local last = self.store:last_entry(contact, def.name)
  if not last then return true end
  if mode == "once" then return false end
  return self.now >= last + def.reentry.secs
end

-- Journey-emitted events, handled after the step that emitted them.
function Engine:emit(R, name, props)
  local data = { type = "track", userId = R.contact, event = name, properties = props,
                 timestamp = time.iso(self.now), context = { journey = R.journey } }
  local body = json.encode_ordered(data, { "type", "userId", "event", "properties", "timestamp" })
  local ev = { type = "track", userId = R.contact, event = name, ts = self.now, internal = true,
               data = events.with_properties(json.decode(body)), body = body }
  self.queue[#self.queue + 1] = ev
  return true
end

function Engine:drain()
  local handled = 0
  while #self.queue > 0 do
    local ev = table.remove(self.queue, 1) -- an event, or a segment check after set()
    handled = handled + 1
    if handled > MAX_INTERNAL_EVENTS then
      self.warn(string.format("more than %d events emitted by journeys in one step; dropping the rest (a track() loop?)", MAX_INTERNAL_EVENTS))
      self.queue = {}
      return
    end
    if type(ev) == "function" then ev() else self:ingest(ev) end
  end
end

-- instances -----------------------------------------------------------------------

-- The first state of math.random in instance R's journey (its next states
-- are R.rng), seeded by the instance's id; with seed_by_contact (backtest,
-- whose instance ids depend on how it splits the contacts) by its contact
-- and entry time. Made when the journey first draws a number.
function Engine:first_random_state(R)
  local seed = self.seed_by_contact and host.bucket(R.contact .. "\0" .. R.entered_at, math.maxinteger) or R.id
  return steps.seed(seed, R.journey)
end

-- An instance's runtime, from its row's fields (wait_seq: the wait it sleeps
-- in, when it is rebuilt), with its journey's coroutine; event: the trigger
-- event's data, or its text, when the caller has it.
local function runtime(self, def, history, event, id, contact, entered_at, traits, trigger_seq, trigger_name, wait_seq)
  local R = {
    id = id, contact = contact, journey = def.name, def = def, entered_at = entered_at, entry_traits = traits,
    trigger_seq = trigger_seq, trigger_name = trigger_name, history = history, pos = 0, pending_seq = wait_seq,
    ctx = false, co = false, -- (below; rng and req come later: sized for them all)
  }
  local ctx = self:context(R, event)
  R.ctx = ctx
  R.co = host.coroutine(function() return def.steps(ctx) end)
  self.running[R.co] = R
  return R
end

-- traits_json: the contact's stored traits when the caller knows them
function Engine:start(def, contact, ev, seq, trigger_name, traits_json)
  if self.paused[def.name] then -- (no instance: a paused journey takes no one in)
    self.store:refuse_paused_entry(def.name)
    return
  end
  traits_json = traits_json or self.store:contact_json(contact) or "{}" -- stored as json.encode made it
  local id = self.store:add_instance(def.name, def.hash, contact, self.now, seq, trigger_name, traits_json)
  local R = runtime(self, def, {}, ev, id, contact, self.now, traits_json, seq, trigger_name)
  local entered = ENTERED_ON[trigger_name]
  self:report(R, "enter", entered[1], entered[2])
  if self.control then -- (each journey's stats then weigh its messages against the control group)
    self:record_variant(R, "global_control", policy.in_control(contact, self.control) and "control" or "treatment")
  end
  if def.timeout then self:add_timer(self.now + def.timeout, id, nil, "expire") end
  self:advance(R)
end

-- Replay a sleeping instance's recorded history on `def` up to the wait it
-- sleeps in, with no side effects (a step past the history is a divergence).
-- own: the history was recorded on `def` (a rebuild), so the replay re-runs
-- code that ran under the instruction budget, and the watchdog guards it
-- instead; otherwise (drip migrate trying a new version) the budget applies.
-- -> runtime, wait request | nil, error
function Engine:replay(inst, def, own)
  local R = runtime(self, def, self.store:steps(inst.id), nil, inst.id, inst.contact, inst.entered_at, inst.traits,
                    inst.trigger_seq, inst.trigger_name, inst.wait_seq)
  host.note_instance(R.id, R.journey)
  local ok, req = (own and host.replay_resume or host.resume)(R.co)
  if ok and (type(req) ~= "table" or not req.existing) then
    ok, req = false, "replay diverged: the instance sleeps at step " .. inst.wait_seq
      .. " but its script no longer reaches that wait"
  end
  if not ok then
    self.running[R.co] = nil
    return nil, req, R
  end
  return R, req
end

-- ctx's pairs: what is still to load is loaded first (see Engine:context)
local function context_pairs(ctx)
  local _ = ctx.contact, ctx.event
  return next, ctx, nil
end

-- The ctx of instance runtime R (with its trigger event's data, or its
-- JSON text, when the caller has it). Its contact, the traits at entry, is
-- decoded when first read: most journeys wait first, and a wait gives the
-- traits anew (see drip.steps). So is the event: an instance that sleeps
-- keeps its text (one string, where its data is a handful of tables and
-- strings to keep and to mark), and one that ends first never decodes it. A
-- replay's event is read from the store when first read: replayed steps
-- return recorded results and rarely need it.
function Engine:context(R, event)
  local text = type(event) == "string" and event or nil
  if text then event = nil end
  local function loaded(ctx, key)
    local value
    if key == "contact" then
      value = self:watched(R.entry_traits == "{}" and {} or json.decode(R.entry_traits))
    elseif key == "event" then
      value = text and events.with_properties(json.decode(text))
        or R.trigger_seq and self.store:event(R.trigger_seq)
        or { type = R.trigger_name, event = R.trigger_name, userId = R.contact, timestamp = time.iso(R.entered_at) }
    else
      return nil
    end
    rawset(ctx, key, value)
    return value
  end
  return setmetatable({ journey = R.journey, instance = R.id, event = event },
                      { __index = loaded, __pairs = context_pairs, __metatable = false })
end

-- Rebuild a sleeping instance (its row `inst` when the caller has read it)
-- up to the wait it sleeps in. Returns the runtime and that wait's request,
-- or nil when the instance failed.
function Engine:rebuild(id, inst)
  inst = inst or self.store:instance(id)
  if not inst or inst.active ~= 1 or not inst.wait_seq then return nil end
  local ok, def = pcall(self.def_for, self, inst.version)
  if not ok then
    self:finish({ id = id, contact = inst.contact, journey = inst.journey }, "error", tostring(def))
    return nil
  end
  local R, req, failed = self:replay(inst, def, true)
  if not R then
    self:fail(failed, req)
    return nil
  end
  return R, req
end

-- Keep a slept instance's coroutine for a quick wake (bounded; see LIVE_CACHE).
function Engine:keep_live(R, req)
  if self.live_cache <= 0 then return end
  if self.live_count >= self.live_cache then self.live, self.live_count = {}, 0 end
  R.req = req
  self.live[R.id], self.live_count = R, self.live_count + 1
end

function Engine:take_live(id, wait_seq, version)
  local R = self.live[id]
  if not R then return nil end
  self.live[id], self.live_count = nil, self.live_count - 1
  if R.req.seq ~= wait_seq or R.def.hash ~= version then return nil end -- moved on, or migrated
  self.running[R.co] = R
  return R, R.req
end

-- Wake a sleeping instance (on script `version`; its row `inst` when the
-- caller has read it) with the result of its wait (an event, or nil on a timer).
function Engine:wake(id, value, wait_seq, version, inst)
  local R, req = self:take_live(id, wait_seq, version)
  if not R then R, req = self:rebuild(id, inst) end
  if not R then return end
  if value ~= nil and req.where and not self:call_user("where of wait_for", req.where, value, R.ctx.contact) then
    self.running[R.co] = nil
    self:keep_live(R, req)
    return
  end
  self:note_wait(R, req, value)
  local traits_json = self.store:contact_json(R.contact) or "{}"
  local snapshot = traits_json ~= R.entry_traits and traits_json or nil
  self.steps_recorded = self.steps_recorded + 1
  self.store:add_step(R.id, req.seq, steps.encode(req.op, value, snapshot), req.op)
  -- the row's wait is not cleared here: advance ends with the next wait or
  -- the end of the instance (which clears it), in this same transaction
  R.pending_seq = nil
  self:advance(R, value, json.decode(traits_json))
end

-- Each wait and what ended it go in the instance's history (for explain;
-- not a record of simulate's output). Its text is kept by what it says (a
-- journey's waits say few different things): texts[op][event][ended_by].
local wait_texts, wait_texts_n = {}, 0 -- (bounded)
local function wait_text(op, event, ended_by)
  local by_event = wait_texts[op] or {}
  local by_end = by_event[event or false] or {}
  local text = by_end[ended_by]
  if text then return text end
  text = json.encode({ op = op, event = event, ended_by = ended_by })
  if wait_texts_n >= 1000 then wait_texts, wait_texts_n = {}, 0 end
  wait_texts[op], by_event[event or false], by_end[ended_by] = by_event, by_end, text
  wait_texts_n = wait_texts_n + 1
  return text
end

function Engine:note_wait(R, req, value)
  local ended_by = type(value) == "table" and value.event or (req.event and "timeout" or "time")
  self.store:add_history(R.id, self.now, "wait", wait_text(req.op, req.event, ended_by))
end

-- Resume an instance until it waits, ends or fails.
function Engine:advance(R, ...)
  host.note_instance(R.id, R.journey)
  local ok, req = host.resume(R.co, ...)
  if not ok then return self:fail(R, req) end
  if coroutine.status(R.co) == "dead" then
    self.running[R.co] = nil
    host.recycle(R.co) -- (its thread goes to the next instance)
    R.co = false
    return self:finish(R, "completed")
  end
  self.running[R.co] = nil -- sleeping instances are not kept in memory
  if req.op == "exit" then return self:finish(R, "exit", nil, req.detail) end
  self.store:set_wait(R.id, req.seq, req.event)
  if req.due then self:add_timer(req.due, R.id, req.seq, "wake") end
  if req.event then
    self.route_names[req.event] = true
    self:note_step_event(R.journey, "waits for", req.event)
  end
  self:keep_live(R, req)
end

function Engine:fail(R, traceback)
  self.running[R.co] = nil
  local text = tostring(traceback)
  local first = text:match("^[^\n]*")
  local message = sandbox.explain(first) -- (with what a journey has instead of a global it lacks)
  self:finish(R, "error", message, nil, message .. text:sub(#first + 1))
end

function Engine:finish(who, reason, err, detail, traceback)
  if self.live[who.id] then self.live[who.id], self.live_count = nil, self.live_count - 1 end
  if not self.store:end_instance(who.id, self.now, reason, traceback or err) then return end
  if err == nil and detail == nil then
    local ended = ENDED_FOR[reason]
    return self:record(who, "exit", ended[1], ended[2])
  end
  self:record(who, "exit", { reason = reason, error = err, detail = detail })
end

local STALLED = "stopped: a step ran too long inside one call of C code (a string pattern that backtracks?)"

-- For a store on disk (db_path), the file where the stall watch of
-- runtime/watchdog.c leaves the id of an instance that stopped drip by
-- running too long inside C. One left by the last run is failed now, not run
-- again. Call inside a transaction.
function Engine:watch_stalls(db_path)
  if not db_path or db_path == ":memory:" then return end
  local path = db_path .. "-stalled"
  host.set_stall_file(path)
  local f = io.open(path, "r")
  if not f then return end
  local id = tonumber(f:read("l"))
  f:close()
  local inst = id and self.store:instance(id)
  if inst and inst.active == 1 then
    self:finish({ id = id, contact = inst.contact, journey = inst.journey }, "error", STALLED)
  end
  os.remove(path)
end

-- step effects (called by drip.steps when a step runs live) -----------------------

-- A template's files (NAME.txt, .html, .subject, .preheader, .title: a push's)
-- -> { text =, html =, subject =, preheader =, title = }
local TEMPLATE_PARTS = { txt = "text", html = "html", subject = "subject", preheader = "preheader", title = "title" }
local ONE_LINE = { subject = true, preheader = true, title = true }
function Engine:template_fields(base)
  local cached = self.templates[base]
  if cached then return cached end
  local fields = {}
  for ext, field in pairs(TEMPLATE_PARTS) do
    local text, err, readable = journey.read(self.templates_dir .. "/" .. base .. "." .. ext)
    if readable then error(err, 0) end
    if ONE_LINE[field] and text then -- (one line, without the line end an editor adds)
      text = text:gsub("%s*[\r\n]+%s*", " "):match("^%s*(.-)%s*$")
    end
    fields[field] = text
  end
  self.templates[base] = fields
  return fields
end

-- The template `name` in the contact's language (the `language` trait, else
-- `locale`): for "fa-IR", NAME.fa-IR.*, else NAME.fa.*, else NAME.* -> fields.
-- A language's files are taken whole: no field comes from another language.
local INDEX = {} -- self.templates[INDEX]: template.index of the directory
function Engine:template_file(name, traits)
  if type(name) ~= "string" or not name:match("^[%w_%-%.]+$") or name:match("%.%.") then
    error("template: bad name '" .. tostring(name) .. "'", 0)
  end
  local index = self.templates[INDEX] or template.index(self.templates_dir)
  self.templates[INDEX] = index
  local bases = index[name] or {}
  for _, tag in ipairs(locale.contact_language(traits) or {}) do
    if bases[tag] then return self:template_fields(bases[tag]) end
  end
  if not bases[""] then error(template.not_found(name, self.templates_dir, bases), 0) end
  return self:template_fields(bases[""])
end

-- The partial `name` ({{> name}} in a message) in the contact's language: its
-- .html in an HTML field, else its .txt, without the line end an editor adds
function Engine:partial(name, traits, html)
  local fields = self:template_file(name, traits)
  local text = html and fields.html or fields.text
  if not text then error(string.format("template partial '%s' has no %s.%s", name, name, html and "html" or "txt"), 0) end
  return (text:gsub("\r?\n$", ""))
end

local CONTROL = { kind = true, template = true, to = true, channels = true, topic = true }

local function render_value(v, scope, html, watch)
  if type(v) == "string" then return template.render(v, scope, html, watch) end
  if type(v) == "table" then
    local out = setmetatable({}, getmetatable(v)) -- an empty json.array() stays a list
    for k, x in pairs(v) do out[k] = render_value(x, scope, false, watch) end
    return out
  end
  return v
end

-- A template's scope signs {{unsubscribe_url}} only when the template asks
-- for it, from what its hidden keys hold.
local ENGINE, CONTACT, CHANNEL, TOPIC = {}, {}, {}, {}
local SCOPE = { __index = function(scope, k)
  if k ~= "unsubscribe_url" then return nil end
  local engine = rawget(scope, ENGINE)
  local u = engine.unsubscribe
  return unsubscribe.url(u.base, u.secret, rawget(scope, CONTACT), rawget(scope, CHANNEL), engine.now,
                         rawget(scope, TOPIC))
end }

function Engine:render(R, msg, channel)
  local fields = msg -- (its fields but CONTROL's; with a template's first)
  if msg.template then
    fields = {}
    for k, v in pairs(self:template_file(msg.template, R.ctx.contact)) do fields[k] = v end
    for k, v in pairs(msg) do fields[k] = v end
  end
  local scope = self.scope -- (a render keeps nothing of it: one table, filled for each message)
  if not scope then
    scope = setmetatable({ [ENGINE] = self }, SCOPE)
    self.scope = scope
  end
  scope.contact, scope.event, scope.journey = R.ctx.contact, R.ctx.event, R.journey
  scope[CONTACT], scope[CHANNEL], scope[TOPIC] = R.contact, channel, msg.topic
  local watch = self.placeholders -- (simulate: which placeholders never had a value)
  if watch then
    watch[R.journey] = watch[R.journey] or {}
    watch = watch[R.journey]
  end
  local out = {}
  for k, v in pairs(fields) do
    if not CONTROL[k] then
      if type(v) == "string" and v:find("{{>", 1, true) then -- (partials go in before placeholders render)
        v = template.expand(v, function(name) return self:partial(name, R.ctx.contact, k == "html") end)
      end
      out[k] = render_value(v, scope, k == "html", watch)
    end
  end
  if self.utm then return utm.apply(out, self.utm, channel, R.journey, self.unsubscribe.base) end
  return out
end

-- The placeholders of a journey's messages that had no value in any message
-- rendered since placeholders was set (a typo such as {{contact.frist_name}}
-- renders "" for everyone): "journey 'j': {{contact.frist_name}} had no
-- value in any of its 12 messages (did you mean {{contact.first_name}}?)".
-- One with a `| default` expects to be missing at times, and is left out.
function Engine:empty_placeholders()
  local found = {}
  local journeys = {}
  for name in pairs(self.placeholders or {}) do journeys[#journeys + 1] = name end
  table.sort(journeys)
  for _, name in ipairs(journeys) do
    local paths = {}
    for path, w in pairs(self.placeholders[name]) do
      if w.found == 0 and not w.defaulted then paths[#paths + 1] = path end
    end
    table.sort(paths)
    for _, path in ipairs(paths) do
      local w = self.placeholders[name][path]
      found[#found + 1] = string.format("journey '%s': {{%s}} had no value in any of its %d message%s%s", name, path,
        w.missing, w.missing == 1 and "" or "s", w.near and string.format(" (did you mean {{%s}}?)", w.near) or "")
    end
  end
  return found
end

-- What names a send step across contacts (backtest compares by it): its
-- template, else its subject, title or text before rendering.
local labels, labels_n = {}, 0 -- source -> label, bounded: a journey's sends have few sources
local function message_label(msg)
  local source = tostring(msg.template or msg.subject or msg.title or msg.text or msg.body or "")
  local label = labels[source]
  if label then return label end
  label = source:gsub("%s+", " "):gsub("{{%s*([%w_%.]+)[^}]*}}", "{{%1}}")
  if #label > 60 then label = label:sub(1, 57):gsub("[\192-\255][\128-\191]*$", "") .. "…" end
  if labels_n >= 1000 then labels, labels_n = {}, 0 end
  labels[source], labels_n = label, labels_n + 1
  return label
end

-- The first channel the rules allow -> channel, address | nil, reason, last channel tried.
function Engine:pick_channel(R, channels, kind, to, topic)
  local reason, last
  for i = 1, #channels do
    local channel = channels[i]
    local opts = self.check_options -- (policy.check keeps nothing of them: one table, filled for each check)
    opts.consent, opts.to, opts.phone_country, opts.topic = self.consent, to, self.phone_country, topic
    local address, why = policy.check(channel, kind, R.ctx.contact, opts)
    if address and kind == "marketing" and self:capped(R.contact, channel) then
      address, why = nil, "frequency_cap"
    end
    if address then return channel, address end
    reason, last = why, channel
  end
  return nil, reason, last
end

-- Would one more marketing message to contact on channel pass a frequency cap?
function Engine:capped(contact, channel)
  if next(self.caps) == nil then return false end
  return policy.capped(self.caps, channel, function(ch, window)
    return self.store:marketing_sent(contact, self.now - window, ch)
  end)
end

function Engine:send(R, channels, msg)
  local kind = msg.kind or "marketing"
  if kind ~= "marketing" and kind ~= "transactional" then
    error('send: kind must be "marketing" or "transactional"', 0)
  end
  local missing = message_rules.missing_content(channels, msg)
  if missing then error(missing, 0) end
  local topic = msg.topic
  if topic ~= nil and not policy.topic_ok(topic) then
    error(string.format('send: topic must be a name such as "newsletter" (letters, digits, _ and -; not a channel), '
      .. "not %s", json.encode(topic)), 0)
  end
  for _, problem in ipairs(message_rules.unknown_fields(channels, msg) or NONE) do
    self:warn_once(R.journey .. "\0" .. problem, string.format("journey '%s': %s", R.journey, problem))
  end
  local channel, to, last
  if kind == "marketing" and policy.in_control(R.contact, self.control) then
    to, last = "global_control", channels[1]
  else
    channel, to, last = self:pick_channel(R, channels, kind, msg.to, topic)
  end
  local row = { instance = R.id, seq = R.pos, kind = kind, contact = R.contact, label = message_label(msg),
                topic = topic, channel = nil, address = nil, message = nil, status = nil, reason = nil, id = nil,
                segments = nil, due = nil } -- (sized for what comes below)
  if not channel then
    row.channel, row.message, row.status, row.reason = last, "{}", "suppressed", to
    self.store:add_outbox(row, self.now)
    self:record(R, "suppress", { channel = last, reason = to })
    return { status = "suppressed", reason = to, channel = last }
  end
  if self.odd_addresses then self:note_odd_address(channel, to) end
  local message = self:render(R, msg, channel)
  row.channel, row.address, row.message = channel, to, json.encode(message)
  if channel == "sms" and self.sms_short_links then row.id = self.store:new_id("outbox") end
  local segments, encoding, odd = self:sms_cost(R, channel, message, row.id)
  row.segments = segments
  if self.paused[R.journey] then return self:hold(R, row, message, kind) end
  local quiet_end = kind == "marketing" and policy.quiet_until(self.quiet, self:zone_of(R.ctx.contact), self.now)
  if quiet_end then
    row.status, row.reason, row.due = "deferred", "quiet_hours", self.deliver and quiet_end or nil
    self.store:add_outbox(row, self.now)
    self:record(R, "defer", { channel = channel, reason = "quiet_hours", ["until"] = time.iso(quiet_end),
                              to = to, message = message, kind_of_message = kind,
                              segments = segments, encoding = encoding, ucs2_chars = odd })
    return { status = "deferred", reason = "quiet_hours", ["until"] = time.iso(quiet_end), channel = channel }
  end
  row.status, row.due = self.outbox_status, self.deliver and self.now or nil
  self.store:add_outbox(row, self.now)
  self.queued = self.queued + 1
  local sent = self.send_fields -- (a record keeps nothing of its fields: one table, filled for each send)
  sent.channel, sent.to, sent.message, sent.kind_of_message = channel, to, message, kind
  sent.segments, sent.encoding, sent.ucs2_chars, sent.topic = segments, encoding, odd, topic
  self:record(R, "send", sent)
  return { status = "queued", channel = channel }
end

-- A message of a paused journey is held: kept, with no time to go, until
-- `drip resume` sends or drops it (see drip.pause).
function Engine:hold(R, row, message, kind)
  row.status, row.reason = "held", "paused"
  self.store:add_outbox(row, self.now)
  self:record(R, "defer", { channel = row.channel, reason = "paused", ["until"] = json.null, to = row.address,
                            message = message, kind_of_message = kind, segments = row.segments })
  return { status = "held", reason = "paused", channel = row.channel }
end

-- (simulate) Addresses providers would refuse: an sms number with no calling
-- code (Twilio's "invalid To"), an email address that is not one. Counted
-- per channel, with the first, for a warning at the end.
local ODD = {
  sms = { odd = function(to) return not to:match("^%+") end,
          says = "numbers with no calling code, such as %s; providers such as Twilio refuse those as invalid "
            .. "(phone_country in drip.conf.lua, such as \"+98\", gives one to numbers written the national way, "
            .. "0912 …)" },
  email = { odd = function(to) -- (not ^[^@%s]+@[^@%s]+%.[^@%s]+$, without its backtracking)
              local at = to:match("^[^@%s]+()@[^@%s]+$")
              local dot = at and to:find(".", at + 2, true)
              return not dot or dot == #to
            end,
            says = "addresses that are not email addresses, such as '%s'; the mail server will refuse them" },
}

function Engine:note_odd_address(channel, to)
  local rule = ODD[channel]
  if not rule or not rule.odd(to) then return end
  local seen = self.odd_addresses[channel] or { n = 0, first = to }
  seen.n, self.odd_addresses[channel] = seen.n + 1, seen
end

-- The warnings about the addresses note_odd_address counted, in channel order
function Engine:odd_address_warnings()
  local out = {}
  for _, channel in ipairs(suggest.names(ODD)) do
    local seen = (self.odd_addresses or {})[channel]
    if seen then
      out[#out + 1] = string.format("%d %s went to " .. ODD[channel].says, seen.n, channel, seen.first)
    end
  end
  return out
end

local SMS_MAX_CHARS = 1600 -- Twilio's limit for one message, in characters

-- What an SMS will cost, for its record: segments, encoding and the few
-- characters that made it UCS-2 (see channels.sms_segments); nothing for
-- other channels. With `id`, the outbox id it will have, its text is counted
-- with its links short, as it goes out (tracking's sms_clicks). A text longer
-- than providers take is warned about.
function Engine:sms_cost(R, channel, message, id)
  if channel ~= "sms" then return nil end
  local text = tostring(message.text or message.body or "")
  if id then
    local u = self.unsubscribe
    text = tracking.sms_text(text, { base = u.base, secret = u.secret, message = id })
  end
  local chars = utf8.len(text) or #text
  if chars > SMS_MAX_CHARS then
    self:warn_once(R.journey .. "\0sms length", string.format(
      "journey '%s': an sms of %d characters; providers refuse more than %d, so it will fail", R.journey, chars, SMS_MAX_CHARS))
  end
  return message_rules.sms_segments(text)
end

function Engine:split(R, name, names, weights, total)
  local point = host.bucket(R.contact .. "\0" .. R.journey .. "\0" .. name, 1000000) / 1000000 * total
  local acc, chosen = 0, names[#names]
  for _, n in ipairs(names) do
    acc = acc + weights[n]
    if point < acc then
      chosen = n
      break
    end
  end
  self:record_variant(R, name, chosen)
  return chosen
end

function Engine:set_traits(R, traits)
  local after, before = self:put_traits(R.contact, traits)
  steps.merge(R.ctx.contact, traits)
  if #self.on_traits > 0 then
    local contact, ev = R.contact, { type = "segment", event = "segment", userId = R.contact,
                                     timestamp = time.iso(self.now) }
    self.queue[#self.queue + 1] = function() self:enter_trait_segments(contact, before, after, ev, nil) end
  end
  return true
end

function Engine:convert(R, value)
  self.store:convert(R.id, value)
  self:record(R, "convert", { event = json.null, value = value == nil and json.null or value })
  return true
end

-- time --------------------------------------------------------------------------

local BATCH = 256

-- Every timer is made here, so run_until knows the earliest one made while it fires.
function Engine:add_timer(due, instance, seq, kind)
  self.store:add_timer(due, instance, seq, kind)
  self:note_due(due, "timers")
end

-- What fires in time comes from three sources, each a table of rows in due
-- order: timers, inactivity triggers and schedule occurrences.
local SOURCES = {
  { name = "timers", due = 2, fire = function(self, row) return self:fire_timer(row[1], row[2], row[3], row[4], row[5]) end },
  { name = "inactivity", due = 3, fire = function(self, row) return self:fire_inactivity(row) end },
  { name = "schedules", due = 3, fire = function(self, row) return self:fire_schedule(row) end },
}

-- Everything due later is made through here (source: a SOURCES name).
-- floors[source]: nothing of that source in the store is due before it
-- (nil: not known, ask the store), so run_until asks the store only for a
-- source with something due; due_floor: the least of them, while all are known.
function Engine:note_due(due, source)
  if not self.earliest_new or due < self.earliest_new then self.earliest_new = due end
  local floor = self.floors[source]
  if floor and due < floor then self.floors[source] = due end
  if self.due_floor and due < self.due_floor then self.due_floor = due end
end

function Engine:floor(source)
  local floor = self.floors[source]
  if not floor then
    floor = self.store:next_due_of(source) or math.huge
    self.floors[source] = floor
  end
  return floor
end

-- a source's rows changed in ways note_due did not see: ask the store again
function Engine:forget_floor(source)
  self.floors[source], self.due_floor = nil, nil
end

-- the earliest time anything may be due (math.huge: nothing is)
function Engine:due_floor_now()
  local due = self.due_floor
  if due then return due end
  due = math.huge
  local floors = self.floors
  for i = 1, #SOURCES do
    local name = SOURCES[i].name
    local floor = floors[name] or self:floor(name)
    if floor < due then due = floor end
  end
  self.due_floor = due
  return due
end

function Engine:next_due()
  local due = self:due_floor_now()
  return due < math.huge and due or nil
end

-- The rows due by t of each source that has any -> { {src, rows, i} }, or nil when none is due.
function Engine:due_sources(t)
  local due, floors = nil, self.floors
  for i = 1, #SOURCES do
    local src = SOURCES[i]
    if (floors[src.name] or self:floor(src.name)) <= t then
      local rows = self.store:due_rows(src.name, t, BATCH)
      if #rows > 0 then
        due = due or {}
        due[#due + 1] = { src = src, rows = rows, i = 1 }
      else
        self:forget_floor(src.name) -- nothing due by t after all; ask again when needed
      end
    end
  end
  return due
end

-- the source whose next row is due first (ties: in source order), and that due time
local function earliest(sources)
  local best, best_due
  for i = 1, #sources do
    local s = sources[i]
    local row = s.rows[s.i]
    if row and (not best_due or row[s.src.due] < best_due) then best, best_due = s, row[s.src.due] end
  end
  return best, best_due
end

-- the earliest time anything but a timer may be due (math.huge: nothing is)
function Engine:floor_besides_timers()
  local due, floors = math.huge, self.floors
  for i = 2, #SOURCES do
    local name = SOURCES[i].name
    local floor = floors[name] or self:floor(name)
    if floor < due then due = floor end
  end
  return due
end

-- Fire the timers the store's window holds (see drip.timer_window) one by
-- one, straight from its heap, while the earliest is due by t and nothing
-- of another source is due before it (at the same time, the timer goes
-- first, as in SOURCES). -> how many have fired now, and true when it
-- stopped at `max` with a timer still due.
function Engine:fire_held_timers(window, t, max, fired)
  local before = fired
  while true do
    local due, id, instance, seq, kind = window:first()
    if not due or due > t or due > self:floor_besides_timers() then break end
    if max and fired >= max then return fired, true end
    self:fire_timer(id, due, instance, seq, kind)
    fired = fired + 1
  end
  if fired > before then self:forget_floor("timers") end
  return fired, false
end

-- Fire the rows due by t of each source (a batch of each, as the store
-- gives them), in due order. -> how many have fired now, and true when it
-- stopped at `max` with a row still due.
function Engine:fire_batch(t, max, fired)
  local sources = self:due_sources(t)
  if not sources then
    self.due_floor = nil -- the least floor was lower than any source's: take it from them again
    return fired, false
  end
  if max and fired >= max then return fired, true end
  self.earliest_new = nil
  local s = earliest(sources)
  while s do
    fired = fired + (s.src.fire(self, s.rows[s.i]) or 1) -- a broadcast page counts its contacts
    s.i = s.i + 1
    if max and fired >= max then break end
    local rest
    s, rest = earliest(sources)
    -- a timer made while firing may be due before the rest of this batch
    if self.earliest_new and self.earliest_new < (rest or math.huge) then break end
  end
  for i = 1, #sources do self:forget_floor(sources[i].src.name) end -- what is left is later
  return fired, false
end

-- Fire every timer due at or before t, in due order, then set the clock to t.
-- With `max`, stop after that many and return false (the clock stays at the
-- last one fired); true when none due by t is left. Second result: how many fired.
function Engine:run_until(t, max)
  local floor = self.due_floor
  if floor and floor > t and not self.schedules_dirty then -- nothing due (most calls: one per event)
    if t > self.now then self.now = t end
    return true, 0
  end
  if self.schedules_dirty then self:plan_schedules(self.now > 0 and self.now or t) end -- simulate starts at 0
  local fired, stopped, window = 0, false, self.store:timers()
  while not stopped and self:due_floor_now() <= t do
    if window then fired, stopped = self:fire_held_timers(window, t, max, fired) end
    if not stopped and self:due_floor_now() <= t then fired, stopped = self:fire_batch(t, max, fired) end
  end
  if stopped then return false, fired end
  if t > self.now then self.now = t end
  return true, fired
end

-- Fire timers in due order until none is due by `stop` (or `go_on()`, when
-- given, says no); unlike run_until the clock ends at the last timer fired,
-- not at `stop`.
function Engine:settle(stop, go_on)
  if self.schedules_dirty then self:plan_schedules(self.now) end
  while true do
    local due = self:next_due()
    if not due or due > stop or (go_on and not go_on()) then return end
    self:run_until(due)
  end
end

function Engine:fire_timer(id, due, instance, seq, kind)
  self.store:delete_timer(id)
  if due > self.now then self.now = due end
  local kept = self.store:kept_instance(instance) -- (false: it ended)
  if kept == false then
    -- a wait_for that its event ended, or an instance that ended before its timeout
  elseif kind == "expire" then
    local inst = self.store:instance(instance)
    if inst and inst.active == 1 then self:finish(inst, "expired") end
  elseif kept then
    if kept[4] == seq then self:wake(instance, nil, seq, kept[3]) end
  else
    local inst = self.store:instance(instance)
    if inst and inst.active == 1 and inst.wait_seq == seq then self:wake(instance, nil, seq, inst.version, inst) end
  end
  self:drain()
end

function Engine:fire_inactivity(row)
  local contact, name, due = row[1], row[2], row[3]
  self.store:delete_inactivity(contact, name)
  if due > self.now then self.now = due end
  local def = self.latest[name]
  local kind = def and def.trigger.kind
  if (kind == "inactive" or kind == "segment") and self:may_start(def, contact) then
    local ev = { type = kind, event = kind, userId = contact, timestamp = time.iso(self.now) }
    self:start(def, contact, ev, nil, kind)
  end
  self:drain()
end

function Engine:save_clock()
  self.store:set_meta("clock", self.now)
end

return Engine
