local helpers = require "helpers"

local function journey_with(body)
  return 'return journey { trigger = "Go", steps = function(ctx)\n' .. body .. '\nend }'
end

local function run(body)
  local sim = helpers.sim(journey_with(body))
  sim:identify("u1", { email = "a@x.test", consent = { email = true } })
  sim:track("u1", "Go")
  sim:settle()
  return sim
end

local function exit_error(sim) return sim:records { kind = "exit" }[1].error end

describe("sandbox", function()
  for _, name in ipairs({ "os", "io", "debug", "package", "require", "dofile", "loadfile", "collectgarbage",
                          "coroutine", "rawset" }) do
    it("has no " .. name, function()
      local sim = run("if " .. name .. " ~= nil then email { text = 'leak' } end")
      assert.equal(0, #sim:sent())
      assert.equal("completed", sim:records { kind = "exit" }[1].reason)
    end)
  end

  it("refuses bytecode in load, and has no string.dump to make any", function()
    local sim = helpers.sim(journey_with([[
      local f, err = load(ctx.event.properties.code)
      log("%s %s %s", tostring(f), tostring(err), tostring(string.dump))]]))
    sim:track("u1", "Go", { code = string.dump(function() return 1 end) })
    assert.matches("^nil .*attempt to load a binary chunk.* nil$", sim:records { kind = "log" }[1].message)
  end)

  it("says what a journey has instead when it fails on a global it lacks", function()
    assert.equal(":2: attempt to index a nil value (global 'os') "
      .. "(journeys have no os: now() gives the time, and they read no files or environment)",
      (exit_error(run("local t = os.time()")):match(":%d+: .*$")))
    assert.matches("%(journeys have no print: log%(%.%.%.%) writes a line to the instance's history%)$",
      exit_error(run("print('hi')")))
  end)

  it("has a read-only global table", function()
    local sim = run("x = 1")
    assert.matches("cannot set global 'x'", exit_error(sim))
  end)

  it("has read-only standard libraries", function()
    local sim = run("string.upper = nil")
    assert.matches("string is read%-only", exit_error(sim))
  end)

  it("stops a runaway loop, failing only that instance; pcall cannot swallow it", function()
    local sim = run("pcall(function() while true do end end) email { text = 'after' }")
    assert.matches("instruction budget exceeded", exit_error(sim))
    assert.equal(0, #sim:sent())
    -- the engine goes on: another instance works
    sim:track("u2", "Go")
    assert.equal(2, #sim:records { kind = "enter" })
  end)

  -- A replay (waking an instance that is not in memory) runs without the
  -- count hook; a CPU-time watchdog stops one that does not reach its wait.
  it("stops a replay that overruns its CPU limit, failing only that instance", function()
    local host = require "drip_host"
    local function heavy()
      local sim = helpers.sim(journey_with([[
        local n = 0
        for i = 1, 15000000 do n = n + i end
        wait "1h"
        email { text = "after " .. n }]]))
      sim.engine.live_cache = 0 -- every wake replays from the store
      sim:identify("u1", { email = "a@x.test", consent = { email = true } })
      sim:track("u1", "Go")
      return sim
    end
    local sim = heavy()
    sim:advance("2h")
    assert.equal(1, #sim:sent()) -- within the default limit the replay reaches its wait
    local old = host.set_replay_limit(20)
    finally(function() host.set_replay_limit(old) end)
    sim = heavy()
    sim:advance("2h")
    assert.matches("replay ran for more than 20 ms of CPU", exit_error(sim))
    assert.equal(0, #sim:sent())
    sim:track("u2", "Go") -- the engine goes on
    assert.equal(2, #sim:records { kind = "enter" })
  end)

  -- The engine's work inside a step runs without the count hook (host.trusted);
  -- the watchdog stops journey code the engine reaches there.
  it("stops a loop the engine reaches through a value given to a step; pcall cannot swallow it", function()
    local host = require "drip_host"
    local old = host.set_replay_limit(50)
    finally(function() host.set_replay_limit(old) end)
    local sim = run([[
      local msg = setmetatable({ text = "x" }, { __pairs = function() while true do end end })
      pcall(email, msg)
      email { text = "after" }]])
    assert.matches("a step ran for more than 50 ms of CPU", exit_error(sim))
    assert.equal(0, #sim:sent())
    sim:track("u2", "Go") -- the engine goes on
    assert.equal(2, #sim:records { kind = "enter" })
  end)

  it("fails the instance with a traceback in its history on a journey error", function()
    local sim = run("local t = nil\nlocal x = t.field")
    local rec = sim:records { kind = "exit" }[1]
    assert.equal("error", rec.reason)
    assert.matches("j.lua:3: attempt to index a nil value", rec.error)
    sim.store:write_instances()
    local tb = sim.store.db:prepare("SELECT error FROM instances"):first()
    assert.matches("stack traceback", tb)
  end)

  it("seeds math.random per instance, the same on every run", function()
    local body = "log('%d %d', math.random(1000000), math.random(1000000))"
    local a = run(body):records { kind = "log" }[1].message
    local b = run(body):records { kind = "log" }[1].message
    assert.equal(a, b)
  end)

  it("draws the same numbers in an instance rebuilt from its history at a wake as in one kept running", function()
    local body = "local a = math.random(1000000) wait '1h' log('%d %d', a, math.random(1000000))"
    local function drawn(live_cache)
      local sim = helpers.sim(journey_with(body))
      sim.engine.live_cache = live_cache -- (0: none is kept running; each wake rebuilds its instance)
      sim:identify("u1", { email = "a@x.test", consent = { email = true } })
      sim:track("u1", "Go")
      sim:settle()
      return sim:records { kind = "log" }[1].message
    end
    local kept, rebuilt = drawn(100), drawn(0)
    assert.matches("^%d+ %d+$", kept)
    assert.equal(kept, rebuilt)
  end)

  it("gives the thread of a coroutine that returned to the next one, and never one that failed or waits", function()
    local host = require "drip_host"
    local function fresh() -- (the kept threads taken first, so that the next coroutine is a new one)
      local taken = {}
      for i = 1, 8 do taken[i] = host.coroutine(function() end) end
      return taken
    end
    fresh()
    local co = host.coroutine(function(a, b) return a + b end)
    assert.same({ true, 5 }, { host.resume(co, 2, 3) })
    host.recycle(co)
    local again = host.coroutine(function(x) return "again " .. x end)
    assert.is_true(rawequal(co, again))
    assert.same({ true, "again 1" }, { host.resume(again, 1) })
    assert.equal("dead", coroutine.status(again))

    local failed = host.coroutine(function() error("no") end)
    assert.is_false((host.resume(failed)))
    host.recycle(failed)
    local waiting = host.coroutine(function() coroutine.yield(1) return 2 end)
    assert.same({ true, 1 }, { host.resume(waiting) })
    host.recycle(waiting)
    local unstarted = host.coroutine(function() return 3 end)
    host.recycle(unstarted)
    local next_one = host.coroutine(function() return 4 end)
    for _, other in ipairs({ failed, waiting, unstarted }) do assert.is_false(rawequal(other, next_one)) end
    assert.same({ true, 2 }, { host.resume(waiting) }) -- (still its own)
    assert.same({ true, 3 }, { host.resume(unstarted) })
    assert.same({ true, 4 }, { host.resume(next_one) })

    local returned = fresh()
    for _, t in ipairs(returned) do host.resume(t) end
    local ninth = host.coroutine(function() end)
    host.resume(ninth)
    for _, t in ipairs(returned) do host.recycle(t) end
    host.recycle(ninth) -- (eight are kept at most)
    local given = {}
    for _ = 1, 9 do given[host.coroutine(function() end)] = true end
    local reused = 0
    for _, t in ipairs(returned) do if given[t] then reused = reused + 1 end end
    assert.equal(8, reused)
    assert.is_nil(given[ninth])
  end)

  it("refuses step calls outside steps", function()
    local sim, dir = pcall(helpers.sim, 'wait "1h"\nreturn journey { trigger = "Go", steps = function() end }')
    assert.is_false(sim)
    assert.matches("wait%(%) can only be called inside steps", dir)
  end)
end)
