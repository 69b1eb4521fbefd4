-- The counters behind `drip stats` agree with the rows they count: after the
-- example journeys run over the sample events, for any --since, and when a
-- store made before counters is counted on open.
local testing = require "drip.testing"
local events = require "drip.events"
local Store = require "drip.store"
local helpers = require "helpers"

local KINDS = { "journeys", "exits", "steps", "messages", "engaged", "labels", "variants" }

-- the exact rows, straight from instances, steps, outbox and history
local function exact(store, since)
  local out = {}
  for _, k in ipairs(KINDS) do out[k] = store:q("stats_" .. k):all(since, math.maxinteger) end
  return out
end

-- rows as sorted strings, so the two sources compare whatever their order
local function canon(rows)
  local out = {}
  for _, k in ipairs(KINDS) do
    local list = {}
    for _, r in ipairs(rows[k]) do
      local parts = {}
      for i = 1, #r do parts[i] = type(r[i]) == "number" and string.format("%.6g", r[i]) or tostring(r[i]) end
      list[#list + 1] = table.concat(parts, "|")
    end
    table.sort(list)
    out[k] = list
  end
  return out
end

describe("stats counters", function()
  local sim
  setup(function()
    sim = testing.new { journeys = { "scripts" }, start = "2026-11-01T00:00:00Z" }
    local index = assert(events.scan("examples/events.jsonl", error, sim.engine.now))
    for ev in events.each(index) do
      sim.engine:run_until(ev.ts)
      sim.engine:ingest(ev)
    end
    sim:settle()
    sim.store:commit()
  end)

  it("agree with the rows for the whole period and from any moment on", function()
    local store = sim.store
    local first = store.db:prepare("SELECT min(entered_at) FROM instances"):first()
    local last = store.db:prepare("SELECT max(entered_at) FROM instances"):first()
    assert.is_true(#store:stats_rows(0).journeys >= 10)
    for _, since in ipairs({ 0, first, first + 1, first + 86399, first + 86400 * 7 + 3600, last - 100, last + 1 }) do
      assert.same(canon(exact(store, since)), canon(store:stats_rows(since)), "since " .. since)
    end
  end)

  it("agree with the rows after drip simulate fills a store file in either format (the record writer's path)", function()
    local history = {}
    for _, format in ipairs({ "jsonl", "table" }) do
      local path = helpers.tmpname() -- (removed with its -wal and -shm when busted ends)
      os.remove(path)
      local child = assert(io.popen("build/drip simulate --journeys scripts --events examples/events.jsonl --format "
        .. format .. " --db " .. path .. " 2>&1 >/dev/null"))
      local errors = child:read("a")
      assert.is_true((child:close()), errors)
      local store = assert(Store.open(path))
      local counted = store:stats_rows(0)
      assert.is_true(#counted.variants > 0) -- (the example journeys split, and the variants are counted)
      assert.same(canon(exact(store, 0)), canon(counted))
      assert.same(canon(store:stats_rows(0)), canon(sim.store:stats_rows(0))) -- (as the engine counts without it)
      history[format] = store.db:prepare("SELECT instance, at, kind, data FROM history ORDER BY id"):all()
      store:close()
    end
    assert.is_true(#history.table > 1000)
    assert.same(history.jsonl, history.table) -- (the table's rows are written in C too, without the lines)
  end)

  it("are made from the rows of a store that had none", function()
    local store = sim.store
    local before = canon(store:stats_rows(0))
    store.db:exec("DELETE FROM counters; DELETE FROM meta WHERE key = 'counted'")
    assert.same({}, store:stats_rows(0).journeys)
    store:count_existing()
    assert.same(before, canon(store:stats_rows(0)))
  end)

  it("follow a message's status and undo with a savepoint", function()
    local store = assert(Store.open(":memory:"))
    store:begin()
    local id = store:add_instance("j", "v", "u1", 86400 * 3 + 5, nil, "Go", "{}")
    store:add_outbox({ instance = id, seq = 1, channel = "email", kind = "marketing", message = "{}",
                       status = "queued", contact = "u1", due = 0 }, 0)
    local msg = store.db:last_id()
    store:claim_message(msg, 1)
    store:savepoint()
    store:mark_message(msg, 2, "failed", nil, "rejected", nil)
    store:rollback_to()
    store:mark_message(msg, 2, "sent", nil, nil, nil)
    store:commit()
    assert.same({ { "j", "email", "sent", "", 1 } }, store:stats_rows(0).messages)
    assert.same(canon(exact(store, 0)), canon(store:stats_rows(0)))
  end)
end)
