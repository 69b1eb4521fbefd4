-- Replaying an instance with 20 recorded steps: rebuild it from the store
-- (load its history, run its script against the recorded results) many times.
--   lua5.4 tests/bench/replay.lua   (from the repository root, after make)
package.path = "stdlib/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local host = require "drip_host"
local testing = require "drip.testing"

local sim = testing.new { journeys = { "tests/bench/journeys/replay20/replay20.lua" } }
sim:track("u1", "Go")
sim.store:commit() -- (as a sleeping instance's row is, in a store)
sim.store:begin()
local id = sim.store.db:prepare("SELECT id FROM instances"):first()
local steps = sim.store.db:prepare("SELECT count(*) FROM steps WHERE instance = ?"):first(id)
local engine = sim.engine
local ROUNDS, N = 20, 1000
for _ = 1, 1000 do engine.running[(engine:rebuild(id)).co] = nil end -- warm up
-- rounds, so that a moment of the VM's noise shows as a slow round, not as the figure
local per = {}
for r = 1, ROUNDS do
  local t = host.clock()
  for _ = 1, N do
    local R = engine:rebuild(id)
    engine.running[R.co] = nil
  end
  per[r] = (host.clock() - t) / N * 1e6
end
table.sort(per)
-- this VM's speed moves by half from hour to hour; a plain loop shows which speed a run had
local t = os.clock()
local n = 0
for i = 1, 50000000 do n = n + i end
print(string.format("machine: a 50,000,000-step Lua loop in %.2f s (0.19 at this VM's fastest)", os.clock() - t))
print(string.format("replay: %d recorded steps + the pending wait, %.1f us per rebuild (median of %d rounds of %d; "
  .. "best %.1f, worst %.1f)", steps, (per[ROUNDS // 2] + per[ROUNDS // 2 + 1]) / 2, ROUNDS, N, per[1], per[ROUNDS]))
