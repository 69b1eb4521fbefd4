-- drip.sandbox — the environment journey and segment scripts run in.
-- Allow-listed globals only: no os, io, debug, package, dofile, loadfile,
-- collectgarbage, coroutine or rawset; `load` is text-only and sandboxed;
-- the standard libraries are read-only copies; the global table itself is
-- read-only (use `local`). math.random is the per-instance generator the
-- engine provides. Limits on instructions and memory are in C (runtime/).
local sandbox = {}

local function readonly(t, what, newindex)
  return setmetatable({}, {
    __index = t,
    __newindex = newindex or function(_, k)
      error(string.format("%s is read-only (cannot set '%s')", what, tostring(k)), 2)
    end,
    __pairs = function() return next, t, nil end,
    __len = function() return #t end,
    __metatable = false,
  })
end
sandbox.readonly = readonly

local function copy(t, except)
  local c = {}
  for k, v in pairs(t) do
    if not (except and except[k]) then c[k] = v end
  end
  return c
end

local SAFE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber",
               "tostring", "type", "xpcall", "rawequal", "rawget", "rawlen", "setmetatable" }

-- getmetatable that never hands out the shared string metatable
local function safe_getmetatable(v)
  if type(v) == "string" then return nil end
  return getmetatable(v)
end

-- sandbox.new_env(extra, random) -> a fresh read-only global table.
-- extra: name -> value added to the globals (journey, step functions ...);
-- random: the function behind math.random.
function sandbox.new_env(extra, random)
  local base = {}
  for _, name in ipairs(SAFE) do base[name] = _G[name] end
  base.getmetatable = safe_getmetatable
  base._VERSION = _VERSION
  base.string = readonly(copy(string, { dump = true }), "string")
  base.table = readonly(copy(table), "table")
  base.utf8 = readonly(copy(utf8), "utf8")
  local m = copy(math, { randomseed = true })
  m.random = random
  base.math = readonly(m, "math")
  for k, v in pairs(extra or {}) do base[k] = v end
  local env = readonly(base, "the global table", function(_, k)
    error(string.format("journey scripts cannot set global '%s' (declare it with local)", tostring(k)), 2)
  end)
  base.load = function(chunk, name)
    if type(chunk) ~= "string" then error("load: only source text is allowed", 2) end
    return load(chunk, name, "t", env)
  end
  base._G = env
  return env
end

-- What a journey has instead of a global it does not have
sandbox.INSTEAD = {
  os = "journeys have no os: now() gives the time, and they read no files or environment",
  io = "journeys have no io: they read and write no files",
  print = "journeys have no print: log(...) writes a line to the instance's history",
  require = "a journey is one file: segments go in segments.lua, message texts in templates/",
  dofile = "a journey is one file: segments go in segments.lua, message texts in templates/",
  loadfile = "a journey is one file: segments go in segments.lua, message texts in templates/",
  debug = "journeys have no debug library",
  package = "journeys have no package library",
  collectgarbage = "journeys have no collectgarbage: drip manages memory",
}

-- sandbox.explain(message) -> a journey's error message, with what it has
-- instead when the error is a use of a global journeys do not have
-- ("attempt to index a nil value (global 'os')")
function sandbox.explain(message)
  local name = tostring(message):match("%(global '([%w_]+)'%)")
  local instead = name and sandbox.INSTEAD[name]
  if not instead then return message end
  return message .. " (" .. instead .. ")"
end

return sandbox
