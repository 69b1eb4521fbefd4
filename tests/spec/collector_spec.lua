-- drip.collector: a batch command's garbage collection starts a cycle once
-- the heap has grown by the headroom past what was alive, not each time it doubles.
local collector = require "drip.collector"

-- Keep `live_kb` alive and allocate `garbage_kb` of garbage in 1 KiB strings,
-- ticking after each (tick may be nil: Lua's own collection).
-- -> cycles that ended, the largest heap seen (KiB)
local function churn(tick, live_kb, garbage_kb)
  collectgarbage("collect")
  local keep = {}
  for i = 1, live_kb do keep[i] = string.rep(string.char(65 + i % 26), 1000) .. i end
  local cycles, peak = 0, 0
  local function watch() setmetatable({}, { __gc = function() cycles = cycles + 1 watch() end }) end
  watch()
  for i = 1, garbage_kb do
    local _ = string.rep("x", 1000) .. i
    if tick then tick() end
    if i % 64 == 0 then peak = math.max(peak, collectgarbage("count")) end
  end
  keep = nil
  collectgarbage("collect")
  return cycles, peak
end

describe("collector.batch", function()
  -- (the lua interpreter busted runs in starts the collector in generational mode)
  before_each(function() collectgarbage("incremental", 200, 100) end)
  after_each(function() collectgarbage("incremental", 200, 100) end)

  it("runs far fewer cycles than Lua's own rule when little is alive", function()
    local own = churn(nil, 4096, 160 * 1024)
    local tick, stop = collector.batch(32 * 1024)
    local tuned = churn(tick, 4096, 160 * 1024)
    stop()
    -- doubling from ~5 MiB alive: a cycle every ~5 MiB of the 160 allocated;
    -- with 32 MiB of headroom, one every ~32 MiB
    assert.is_true(own >= 16, "Lua's own rule ran " .. own .. " cycles")
    assert.is_true(tuned <= own // 3, string.format("%d cycles tuned, %d Lua's own", tuned, own))
    assert.is_true(tuned >= 3, "tuned ran " .. tuned .. " cycles")
  end)

  it("keeps the heap within the headroom of what is alive", function()
    local tick, stop = collector.batch(16 * 1024)
    local _, peak = churn(tick, 8192, 256 * 1024)
    stop()
    -- alive: 8 MiB and the test's own tables; started cycles finish while
    -- allocation goes on, so allow a few MiB past the headroom
    assert.is_true(peak < (8 + 16 + 12) * 1024, string.format("peak %.1f MiB", peak / 1024))
  end)

  it("follows a heap that grows as caches fill, without overshooting by a cycle", function()
    -- most of what is allocated stays alive, as while a simulation's caches fill
    local tick, stop = collector.batch(8 * 1024)
    collectgarbage("collect")
    local keep, peak = {}, 0
    for i = 1, 32 * 1024 do
      keep[#keep + 1] = string.rep("k", 1000) .. i -- 32 MiB kept in all
      local _ = string.rep("g", 200) .. i
      tick()
      if i % 64 == 0 then peak = math.max(peak, collectgarbage("count")) end
    end
    stop()
    collectgarbage("collect")
    local alive = collectgarbage("count")
    keep = nil
    -- (the pause alone, set as each cycle ends, reached some 20 MiB past)
    assert.is_true(peak < alive + (8 + 4) * 1024, string.format("peak %.1f MiB, alive %.1f MiB", peak / 1024, alive / 1024))
  end)

  it("hands collection back to Lua's own pause, and mode, on stop", function()
    local tick, stop = collector.batch(64 * 1024)
    churn(tick, 1024, 8 * 1024)
    stop()
    local own = churn(nil, 4096, 64 * 1024)
    assert.is_true(own >= 12, "after stop, " .. own .. " cycles")
    collectgarbage("generational")
    _, stop = collector.batch(64 * 1024)
    stop()
    assert.are.equal("generational", collectgarbage("incremental"))
  end)
end)
