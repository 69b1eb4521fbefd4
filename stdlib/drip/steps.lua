-- drip.steps — the step API journeys call inside `steps` (SPEC §3).
-- Every call gets the next sequence number of its instance. When the
-- instance's recorded history has a result for that number, the call is a
-- replay: it returns the recorded result with no side effect. Otherwise it
-- runs live through the engine and its result is recorded. Waits yield the
-- instance's coroutine to the engine, which stores the wait and lets the
-- coroutine go; the wake's result is recorded before the code continues.
local json = require "drip.json"
local duration = require "drip.duration"
local time = require "drip.time"
local policy = require "drip.policy"
local suggest = require "drip.suggest"
local trusted = require("drip_host").trusted

local steps = {}

local function decode_step(text)
  local rec = json.decode(text)
  local value = rec[2]
  if value == json.null then value = nil end
  local traits = rec[3]
  if traits == json.null then traits = nil end
  return rec[1], value, traits
end
steps.decode = decode_step

-- steps.encode(op, value, traits_json) -> the stored text of one step result
-- (a wait that ended on time, as most do, is one text per op: kept)
local QUOTED = setmetatable({}, { __index = function(t, op) -- op -> "[\"op\","
  t[op] = "[" .. json.quote(op) .. ","
  return t[op]
end })
local NO_VALUE = setmetatable({}, { __index = function(t, op)
  t[op] = QUOTED[op] .. "null]"
  return t[op]
end })
function steps.encode(op, value, traits_json)
  if value == nil and not traits_json then return NO_VALUE[op] end
  if traits_json then return QUOTED[op] .. json.encode(value) .. "," .. traits_json .. "]" end
  return QUOTED[op] .. json.encode(value) .. "]"
end

local function diverged(R, op, rop)
  error(string.format("replay diverged at step %d: the history has %s() but the script now calls %s() "
    .. "(journey code must be deterministic; running instances stay on the script version they entered with)",
    R.pos, rop, op), 0)
end

-- The recorded result of step `op`; results true and null (most steps) are
-- read without decoding JSON.
local SIMPLE = setmetatable({}, { __index = function(t, op) -- op -> { result text -> value (false: nil) }
  t[op] = { ['["' .. op .. '",true]'] = true, ['["' .. op .. '",null]'] = false }
  return t[op]
end })
local function replayed_value(R, op, text)
  local simple = SIMPLE[op][text]
  if simple ~= nil then return simple or nil end
  local rop, value = decode_step(text)
  if rop ~= op then diverged(R, op, rop) end
  return value
end

local function run_live(engine, R, op, live)
  local value = live()
  engine:record_step(R, op, value)
  return value
end

-- A non-waiting step: replay the recorded result, or run `live` and record it
-- (the engine's work, outside the journey's instruction budget: see host.trusted).
local function recorded(engine, R, op, live, replay)
  R.pos = R.pos + 1
  local text = R.history[R.pos]
  if text then
    local value = replayed_value(R, op, text)
    if replay then replay(value) end
    return value
  end
  if R.pending_seq and R.pos <= R.pending_seq then -- replaying: nothing may run live before the wait
    diverged(R, op, R.pos == R.pending_seq and "the wait it sleeps in, wait" or "nothing")
  end
  return trusted(run_live, engine, R, op, live)
end

-- A waiting step: until due (nil: no time), or an event (when given) that where lets through.
local function waiting(engine, R, op, due, event, where)
  R.pos = R.pos + 1
  local text = R.history[R.pos]
  if text then
    local rop, value, traits = decode_step(text)
    if rop ~= op then diverged(R, op, rop) end
    R.ctx.contact = engine:watched(traits or json.decode(R.entry_traits))
    return value
  end
  local req = { op = op, seq = R.pos, existing = R.pending_seq == R.pos, due = due, event = event, where = where }
  local value, traits = coroutine.yield(req)
  R.ctx.contact = engine:watched(traits)
  return value
end

-- spec -> event name, where, and what to warn of: a key the spec does not
-- take (a misspelt "where", which lets every such event through). A warning,
-- not an error, which would fail instances that ran with it before drip
-- checked it.
local function event_spec(spec, what)
  if type(spec) == "string" and spec ~= "" then return spec, nil end
  if type(spec) == "table" and type(spec.event) == "string" then
    local odd = suggest.unknown_key(spec, { "event", "where" })
    if spec.where ~= nil and type(spec.where) ~= "function" then
      error(what .. ": where must be a function(event, contact)", 3)
    end
    return spec.event, spec.where, odd and string.format("%s: %s; it is left out", what, odd)
  end
  error(what .. ': expected an event name or { event = "Name", where = function(event, contact) ... end }', 3)
end

local function merge(into, traits)
  for k, v in pairs(traits) do
    if v == json.null then into[k] = nil else into[k] = v end
  end
end
steps.merge = merge

-- steps.api(engine) -> name -> function, the step globals of journey scripts
function steps.api(engine)
  local function current(name)
    local R = engine:current()
    if not R then error(name .. "() can only be called inside steps", 3) end
    return R
  end

  local api = {}

  function api.wait(d)
    local R = current("wait")
    local secs = duration.check(d, "wait")
    return waiting(engine, R, "wait", engine.now + secs)
  end

  function api.wait_until(spec)
    local R = current("wait_until")
    local zone = engine:zone_of(R.ctx.contact)
    local due, err = time.next_at(zone, engine.now, spec)
    if not due then error("wait_until: " .. err, 2) end
    return waiting(engine, R, "wait_until", math.max(due, engine.now))
  end

  function api.wait_for(spec, timeout)
    local R = current("wait_for")
    local name, where, odd = event_spec(spec, "wait_for")
    if odd then engine:warn_once(R.journey .. "\0" .. odd, string.format("journey '%s': %s", R.journey, odd)) end
    local secs = timeout ~= nil and duration.check(timeout, "wait_for timeout") or nil
    return waiting(engine, R, "wait_for", secs and engine.now + secs or nil, name, where)
  end

  function api.send(channel, msg)
    local R = current("send")
    if type(channel) == "table" and msg == nil then channel, msg = nil, channel end
    if type(msg) ~= "table" then error("send: expected a message table, e.g. email { subject = ..., text = ... }", 2) end
    local channels = msg.channels or { channel }
    if type(channels) ~= "table" or #channels == 0 then error("send: name a channel or give channels = {...}", 2) end
    for _, c in ipairs(channels) do
      if not policy.CHANNELS[c] then
        error(string.format("send: unknown channel '%s' (%s)", tostring(c), policy.CHANNEL_NAMES), 2)
      end
    end
    return recorded(engine, R, "send", function() return engine:send(R, channels, msg) end)
  end

  for c in pairs(policy.CHANNELS) do
    api[c] = function(msg)
      if type(msg) ~= "table" then error(c .. ": expected a message table, e.g. " .. c .. " { text = ... }", 2) end
      return api.send(c, msg)
    end
  end

  function api.split(name, weights)
    local R = current("split")
    if type(name) ~= "string" or type(weights) ~= "table" then
      error('split: expected split("name", { A = 50, B = 50 })', 2)
    end
    local names, total = {}, 0
    for k, w in pairs(weights) do
      if type(w) ~= "number" or w < 0 then error("split: weight of '" .. tostring(k) .. "' must be a number >= 0", 2) end
      names[#names + 1] = tostring(k)
      total = total + w
    end
    if total <= 0 then error("split: weights must add up to more than 0", 2) end
    table.sort(names)
    return recorded(engine, R, "split", function() return engine:split(R, name, names, weights, total) end)
  end

  function api.set(traits)
    local R = current("set")
    if type(traits) ~= "table" then error("set: expected a table of traits", 2) end
    return recorded(engine, R, "set", function() return engine:set_traits(R, traits) end,
      function() merge(R.ctx.contact, traits) end)
  end

  function api.track(name, props)
    local R = current("track")
    if type(name) ~= "string" or name == "" then error("track: expected an event name", 2) end
    if props ~= nil and type(props) ~= "table" then error("track: properties must be a table", 2) end
    return recorded(engine, R, "track", function() return engine:emit(R, name, props or {}) end)
  end

  function api.convert(value)
    local R = current("convert")
    if value ~= nil and type(value) ~= "number" then error("convert: value must be a number", 2) end
    return recorded(engine, R, "convert", function() return engine:convert(R, value) end)
  end

  function api.exit(reason)
    current("exit")
    coroutine.yield({ op = "exit", detail = reason ~= nil and tostring(reason) or nil })
  end

  function api.happened(name, since)
    local R = current("happened")
    if type(name) ~= "string" then error("happened: expected an event name", 2) end
    local secs = since ~= nil and since ~= "entry" and duration.check(since, "happened since") or nil
    return recorded(engine, R, "happened", function()
      engine:note_step_event(R.journey, "looks back for", name)
      local from = secs and engine.now - secs or R.entered_at
      return engine.store:last_event(R.contact, name, from)
    end)
  end

  function api.in_segment(name)
    local R = current("in_segment")
    if not engine.segments[name] then error("in_segment: unknown segment '" .. tostring(name) .. "'", 2) end
    return recorded(engine, R, "in_segment", function() return engine:in_segment(name, R.contact, R.ctx.contact) end)
  end

  function api.now()
    local R = current("now")
    return recorded(engine, R, "now", function() return engine.now end)
  end

  function api.log(fmt, ...)
    local R = current("log")
    local text = steps.log_text(fmt, ...)
    return recorded(engine, R, "log", function() engine:record(R, "log", { message = text }) return true end)
  end

  return api
end

-- a log argument as log shows it: a table as JSON, JSON's null as null, a
-- function as "function" (tostring would give addresses, which differ from
-- run to run); strings, numbers, booleans and nil as they are
local function shown(v)
  local kind = type(v)
  if kind == "table" then
    local ok, text = pcall(json.encode, v)
    return ok and text or "table"
  end
  if v == json.null then return "null" end
  if kind == "function" or kind == "thread" or kind == "userdata" then return kind end
  return v
end

-- steps.log_text(fmt, ...) -> the line log() records: fmt formatted with the
-- arguments as string.format does, or, when fmt has no %, fmt and the
-- arguments separated by spaces as print shows them (log("total", 42) ->
-- "total 42"). A format that fails keeps fmt and says why: a log line never
-- fails its journey.
function steps.log_text(fmt, ...)
  local args = table.pack(...)
  for i = 1, args.n do args[i] = shown(args[i]) end
  fmt = tostring(shown(fmt))
  if args.n > 0 and not fmt:find("%", 1, true) then
    local parts = { fmt }
    for i = 1, args.n do parts[i + 1] = tostring(args[i]) end
    return table.concat(parts, " ")
  end
  local ok, text = pcall(string.format, fmt, table.unpack(args, 1, args.n))
  if ok then return text end
  return string.format("%s (log: %s)", fmt, tostring(text))
end

-- steps.seed(id, journey) -> the first state of an instance's math.random
-- (xorshift64) from its seed, so a replay draws the same numbers
function steps.seed(id, journey)
  local s = 0x9E3779B97F4A7C15 ~ (id * 0x100000001B3) ~ #journey
  if s == 0 then s = 1 end
  return s
end

-- math.random of journeys: xorshift64 on the running instance's state
-- (R.rng, first made by engine:first_random_state), else on a state of its own
function steps.random_function(engine)
  local outside = 0x2545F4914F6CDD1D
  return function(m, n)
    local R = engine:current()
    local x
    if R then x = R.rng or engine:first_random_state(R) else x = outside end
    x = x ~ (x << 13)
    x = x ~ (x >> 7)
    x = x ~ (x << 17)
    if R then R.rng = x else outside = x end
    local r = (x >> 11) * (1.0 / 9007199254740992.0)
    if m == nil then return r end
    if n == nil then m, n = 1, m end
    if m > n then error("bad argument to 'random' (interval is empty)", 2) end
    return m + math.floor(r * (n - m + 1))
  end
end

return steps
