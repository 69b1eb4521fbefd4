-- drip.journey — compiling and validating journey scripts into definitions.
-- A definition is plain data plus the `steps` function:
--   { name, file, hash, source, trigger = {kind=...}, goal, exit_on = {...}, ending = { event name = true },
--     reentry = {mode="active"|"once"|"after", secs}, timeout, steps }
-- Loading runs the script's top level in the sandbox under the instruction
-- budget. Errors are "file:line: message".
local host = require "drip_host"
local encoding = require "drip.encoding"
local sandbox = require "drip.sandbox"
local duration = require "drip.duration"
local schedule = require "drip.schedule"
local suggest = require "drip.suggest"

local journey = {}

local KEYS = { name = true, description = true, trigger = true, goal = true, exit_on = true,
               reentry = true, timeout = true, steps = true }
local KEY_LIST = "name, description, trigger, goal, exit_on, reentry, timeout, steps"

-- The line of `key =` in the source, else the fallback line.
local function line_of(source, pattern, fallback)
  local pos = source:find(pattern)
  if not pos then return fallback end
  local _, n = source:sub(1, pos):gsub("\n", "")
  return n + 1
end
journey.line_of = line_of

local Invalid = {}
Invalid.__index = Invalid
local function invalid(line, msg) return setmetatable({ line = line, msg = msg }, Invalid) end

-- A spec table may hold only `keys` (a list): a misspelt one ("wher") left
-- out unseen would change what the journey does (every event would start it).
-- Not for a stored version compiled again for the instances on it (strict
-- false): it was taken when loaded, and a newer drip's checks must not fail them.
local function only_keys(t, keys, what, line, strict)
  if not strict then return end
  local unknown = suggest.unknown_key(t, keys)
  if unknown then error(invalid(line, what .. ": " .. unknown)) end
end

local function event_spec(v, what, line, strict)
  if type(v) == "string" and v ~= "" then return { event = v } end
  if type(v) == "table" and type(v.event) == "string" then
    only_keys(v, { "event", "where" }, what, line, strict)
    if v.where ~= nil and type(v.where) ~= "function" then
      error(invalid(line, what .. ".where must be a function(event, contact)"))
    end
    return { event = v.event, where = v.where }
  end
  error(invalid(line, what .. ' must be an event name or { event = "Name", where = function(event, contact) ... end }'))
end

local function checked_duration(v, what, line)
  local secs, err = duration.parse(v)
  if not secs then error(invalid(line, what .. ": " .. err)) end
  return secs
end

-- a goal: an event spec, which may also take `within` ("3d"): a goal event
-- that comes up to that long after the instance ended still converts it
local function goal_spec(v, line, strict)
  if type(v) ~= "table" then return event_spec(v, "goal", line, strict) end
  only_keys(v, { "event", "where", "within" }, "goal", line, strict)
  local spec = event_spec({ event = v.event, where = v.where }, "goal", line, strict)
  spec.within = v.within ~= nil and checked_duration(v.within, "goal.within", line) or nil
  return spec
end

-- { segment = "name" } and { schedule = "...", segment = "name" | function, rollout = "10%" }
local function segment_trigger(t, line, strict)
  only_keys(t, { "segment", "schedule", "rollout" }, "trigger", line, strict)
  local seg = t.segment
  if seg ~= nil and type(seg) ~= "function" and (type(seg) ~= "string" or seg == "") then
    error(invalid(line, "trigger.segment must be a segment name or a function(contact)"))
  end
  local rule, err
  if t.schedule ~= nil then
    rule, err = schedule.parse(t.schedule)
    if not rule then error(invalid(line, "trigger." .. err)) end
  end
  local share, rerr = schedule.parse_rollout(t.rollout)
  if not share then error(invalid(line, "trigger." .. rerr)) end
  return { kind = rule and "schedule" or "segment", schedule = t.schedule, rule = rule, segment = seg,
           rollout = share }
end

local function parse_trigger(t, line, strict)
  if t == nil then error(invalid(line, 'journey has no trigger (e.g. trigger = "Cart Updated")')) end
  if type(t) == "string" or (type(t) == "table" and t.event) then
    local spec = event_spec(t, "trigger", line, strict)
    spec.kind = "event"
    return spec
  end
  if type(t) == "table" and t.inactive then
    only_keys(t, { "inactive" }, "trigger", line, strict)
    return { kind = "inactive", secs = checked_duration(t.inactive, "trigger.inactive", line) }
  end
  if type(t) == "table" and (t.schedule or t.segment) then return segment_trigger(t, line, strict) end
  error(invalid(line, 'trigger must be "Event Name", { event = ..., where = ... }, { inactive = "30d" }, '
    .. '{ segment = "name" } or { schedule = "daily 09:00", segment = "name" }'))
end

local function parse_reentry(v, line)
  if v == nil then return { mode = "active" } end
  if v == false then return { mode = "once" } end
  if v == true then return { mode = "always" } end
  local secs = duration.parse(v)
  if not secs then
    error(invalid(line, string.format('reentry: %s is not a duration; reentry takes true (enter every time), '
      .. 'false (once ever) or a duration such as "24h" (again that long after the last entry); '
      .. 'left out: not while an instance is active', type(v) == "string" and ('"' .. v .. '"') or tostring(v))))
  end
  return { mode = "after", secs = secs }
end

-- A journey's name: "welcome", "خوش_آمد", "приветствие" (UTF-8 letters as
-- well as ASCII ones; no spaces, quotes, slashes or control characters).
local function valid_name(name)
  return type(name) == "string" and #name > 0 and #name <= 128 and utf8.len(name) ~= nil
    and not name:find("[^%w_%-%.\128-\255]")
end

-- Build a definition from the table given to journey{...} (strict: see only_keys).
local function build(t, source, default_name, strict)
  local function at(key) return line_of(source, "%f[%w_]" .. key .. "%s*=", 1) end
  for k in pairs(t) do
    if not KEYS[k] then
      local near = type(k) == "string" and suggest.nearest(k, suggest.names(KEYS))
      error(invalid(at(tostring(k)), string.format("unknown key '%s' in journey{} (expected one of: %s)%s", tostring(k),
        KEY_LIST, near and string.format("; did you mean '%s'?", near) or "")))
    end
  end
  if type(t.steps) ~= "function" then
    error(invalid(at("steps"), "journey needs steps = function(ctx) ... end"))
  end
  if t.name ~= nil and not valid_name(t.name) then
    error(invalid(at("name"), "name must be letters (in any script), digits, _ - or ., without spaces"))
  end
  local def = {
    name = t.name or default_name,
    description = t.description,
    trigger = parse_trigger(t.trigger, at("trigger"), strict),
    goal = t.goal ~= nil and goal_spec(t.goal, at("goal"), strict) or nil,
    exit_on = {},
    reentry = parse_reentry(t.reentry, at("reentry")),
    timeout = t.timeout ~= nil and checked_duration(t.timeout, "timeout", at("timeout")) or nil,
    steps = t.steps,
  }
  local exits = t.exit_on
  if type(exits) == "string" or (type(exits) == "table" and exits.event) then exits = { exits } end
  for i, e in ipairs(exits or {}) do def.exit_on[i] = event_spec(e, "exit_on", at("exit_on"), strict) end
  def.ending = {} -- the names of the events that may end an instance: its goal's and exit_on's
  if def.goal then def.ending[def.goal.event] = true end
  for _, spec in ipairs(def.exit_on) do def.ending[spec.event] = true end
  return def
end

-- Run a chunk's top level under the instruction budget.
local function run_chunk(chunk)
  local co = coroutine.create(chunk)
  local ok, result = host.resume(co)
  if ok and coroutine.status(co) ~= "dead" then return false, "scripts cannot wait at the top level" end
  return ok, result
end
journey.run_chunk = run_chunk

-- journey.compile(source, file, globals, random, stored) -> def | nil, "file:line: message"
-- globals: the step API and anything else scripts may call; stored: the
-- source is a version the store took before (see only_keys).
function journey.compile(source, file, globals, random, stored)
  local default_name = file:match("([^/]+)%.lua$") or file
  local marker = {}
  local called_at -- the line of a journey { } call, to name it when it is not returned
  local extra = {}
  for k, v in pairs(globals or {}) do extra[k] = v end
  extra.journey = function(t)
    if type(t) ~= "table" then error("journey expects a table: journey { ... }", 2) end
    local caller = debug.getinfo(2, "l") -- none when returned directly (a tail call)
    called_at = called_at or (caller and caller.currentline)
    local ok, def = pcall(build, t, source, default_name, not stored)
    if not ok then
      if getmetatable(def) == Invalid then error(string.format("%s:%d: %s", file, def.line, def.msg), 0) end
      error(def, 0)
    end
    def[marker] = true
    return def
  end
  local env = sandbox.new_env(extra, random)
  local chunk, err = load(source, "@" .. file, "t", env)
  if not chunk then return nil, err end
  local ok, def = run_chunk(chunk)
  if not ok then return nil, (tostring(def):gsub("\nstack traceback:.*", "")) end
  if type(def) ~= "table" or not def[marker] then
    if called_at then
      return nil, string.format("%s:%d: journey { ... } is made but not returned (write return journey { ... })",
        file, called_at)
    end
    local last_line = select(2, source:gsub("\n", "")) + ((source == "" or source:sub(-1) ~= "\n") and 1 or 0)
    return nil, string.format("%s:%d: the script must return journey { ... }", file, last_line)
  end
  def[marker] = nil
  def.file, def.source, def.hash = file, source, host.hash(source)
  return def
end

-- journey.read(path) -> source | nil, error, readable (true when the path
-- is there but is not UTF-8 text (see drip.encoding), or not a file)
function journey.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s, rerr = f:read("a")
  f:close()
  if not s then return nil, path .. ": " .. tostring(rerr), true end -- (a directory opens, and does not read)
  if s:sub(1, 3) == "\239\187\191" then s = s:sub(4) end -- a UTF-8 byte order mark is not text
  local bad = encoding.file_error(s, path)
  if bad then return nil, bad, true end
  return s
end

local NOT_JOURNEYS = { ["segments.lua"] = true, ["drip.conf.lua"] = true }

-- journey.list(paths) -> sorted list of journey files (directories are scanned
-- for *.lua, skipping segments.lua, a drip.conf.lua kept beside the journeys,
-- and templates/)
function journey.list(paths)
  local files = {}
  for _, p in ipairs(paths) do
    local names = host.list_dir(p)
    if names then
      for _, name in ipairs(names) do
        if name:match("%.lua$") and not NOT_JOURNEYS[name] and not name:match("^%.") then
          files[#files + 1] = p:gsub("/$", "") .. "/" .. name
        end
      end
    else
      files[#files + 1] = p
    end
  end
  table.sort(files)
  return files
end

return journey
