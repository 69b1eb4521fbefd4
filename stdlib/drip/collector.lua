-- drip.collector — when Lua's garbage collector runs during a batch command
-- (simulate, backtest). Lua starts a cycle each time the heap doubles. A
-- simulation keeps only a few MiB alive while it allocates a few KiB of
-- garbage per event, so that rule runs a cycle every few MiB allocated: on a
-- month of 1,000,000 cart events, some 150 cycles, each marking everything
-- alive and sweeping every object. Here a cycle starts once the heap has
-- grown by a fixed headroom (64 MiB) past what the last cycle left alive: a
-- few dozen cycles for that month, for at most the headroom in memory.
--
-- Lua has no setting for "start at live + N". The pause (the heap's growth,
-- in percent of what was alive, before the next cycle) is set after each
-- cycle to about twice the headroom, as a backstop; the command calls tick()
-- every thousand events or so, which starts the cycle itself when the heap
-- has passed the headroom. (Lua sets the next cycle's start as a cycle ends, before any
-- code can change the pause, so the pause alone would follow a heap that
-- grows fast, as a simulation's caches fill, by a whole cycle late.)
local collector = {}

local HEADROOM_KB = 64 * 1024
local DEFAULT_PAUSE = 200 -- Lua's own
local MAX_PAUSE = 1000    -- the most Lua 5.4 keeps

-- collector.batch(headroom_kb) -> tick, stop. tick(): call every thousand
-- events or so (the heap should not grow by much of the headroom between
-- calls). stop(): the collector's mode before, with Lua's default pause.
function collector.batch(headroom_kb)
  headroom_kb = headroom_kb or HEADROOM_KB
  local mode_before = collectgarbage("incremental", DEFAULT_PAUSE, 0)
  local cycled = false
  local start_at = math.huge

  -- an object whose finalizer runs as the cycle that collects it ends
  -- (a finalizer may not call collectgarbage: it only raises a flag)
  local function watch_next_cycle()
    setmetatable({}, { __gc = function() cycled = true end })
  end

  local function after_cycle()
    cycled = false
    local live = collectgarbage("count")
    start_at = live + headroom_kb
    local pause = math.max(DEFAULT_PAUSE, math.min(MAX_PAUSE, math.floor(100 * (live + 2 * headroom_kb) / live)))
    collectgarbage("incremental", pause, 0)
    watch_next_cycle()
  end

  local function tick()
    if cycled then after_cycle() end
    if collectgarbage("count") > start_at then
      start_at = math.huge -- (until the cycle this starts ends)
      collectgarbage("step", 0) -- starts a cycle; allocation drives the rest of it
    end
  end

  local function stop()
    if mode_before == "generational" then collectgarbage("generational") else collectgarbage("incremental", DEFAULT_PAUSE, 0) end
  end

  watch_next_cycle()
  return tick, stop
end

return collector
