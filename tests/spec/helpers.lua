-- Helpers for specs: write inline journeys to a temporary directory.
local testing = require "drip.testing"

local helpers = {}

function helpers.dir(files)
  local dir = os.tmpname()
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

return helpers
