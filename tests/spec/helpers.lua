-- Helpers for specs: write inline journeys to a temporary directory.
local testing = require "drip.testing"

local helpers = {}

-- Every temporary path a spec asks for is removed when busted ends (it closes
-- its Lua state, which finalizes `made`), passed or failed; a database's
-- -wal and -shm files with it.
local made = setmetatable({}, { __gc = function(paths)
  for _, path in ipairs(paths) do
    os.execute("rm -rf '" .. path .. "' '" .. path .. "-wal' '" .. path .. "-shm' '" .. path .. "-journal'")
  end
end })

-- a fresh temporary file name (the file exists, empty, as os.tmpname leaves it)
function helpers.tmpname()
  local path = os.tmpname()
  made[#made + 1] = path
  return path
end

function helpers.dir(files)
  local dir = helpers.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/templates"))
  for name, text in pairs(files) do
    local f = assert(io.open(dir .. "/" .. name, "w"))
    f:write(text)
    f:close()
  end
  return dir
end

-- A simulation of one inline journey (steps body given as source text).
function helpers.sim(journey_source, opts)
  opts = opts or {}
  local files = { ["j.lua"] = journey_source }
  for k, v in pairs(opts.files or {}) do files[k] = v end
  local dir = helpers.dir(files)
  return testing.new { journeys = { dir }, start = opts.start, timezone = opts.timezone, consent = opts.consent,
                       quiet_hours = opts.quiet_hours, frequency_cap = opts.frequency_cap }, dir
end

-- a deterministic random source: helpers.random(seed) -> function(n) -> 0 .. n-1
function helpers.random(seed)
  return function(n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  end
end

-- the placeholders of a string.format pattern, in order: "%s %d %.2f %%"
-- (a text in another language takes the same)
function helpers.placeholders(pattern)
  local found = {}
  for p in pattern:gmatch("%%[%d%.%-]*[%a%%]") do found[#found + 1] = p end
  return table.concat(found, " ")
end

return helpers
