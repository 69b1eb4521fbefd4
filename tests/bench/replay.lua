-- Replaying an instance with 20 recorded steps: rebuild it from the store
-- (load its history, run its script against the recorded results) many times.
--   lua5.4 tests/bench/replay.lua   (from the repository root, after make)
package.path = "stdlib/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local host = require "drip_host"
local testing = require "drip.testing"

local sim = testing.new { journeys = { "tests/bench/journeys/replay20/replay20.lua" } }
sim:track("u1", "Go")
local id = sim.store.db:prepare("SELECT id FROM instances"):first()
local steps = sim.store.db:prepare("SELECT count(*) FROM steps WHERE instance = ?"):first(id)
local engine = sim.engine
local N = 20000
for _ = 1, 1000 do engine.running[(engine:rebuild(id)).co] = nil end -- warm up
local t = host.clock()
for _ = 1, N do
  local R = engine:rebuild(id)
  engine.running[R.co] = nil
end
local per = (host.clock() - t) / N
print(string.format("replay: %d recorded steps + the pending wait, %.1f us per rebuild (%d rebuilds)", steps, per * 1e6, N))
