-- Bulk loading of events (Store:bulk_events): a new store's events and
-- messages go in without their indexes by contact, and the indexes are there
-- whenever something reads events or messages by contact, when the store
-- closes, and when a store left without them is opened. Repeated messageIds
-- are refused all along, but when the events are known to be distinct
-- (Store:events_unique): a backtest's scratch store, or a file with none twice.
local Store = require "drip.store"
local host = require "drip_host"
local helpers = require "helpers"

local function event(mid, contact, name, ts)
  return { userId = contact or "u1", type = "track", event = name or "Viewed", ts = ts or 1000, messageId = mid }
end

local function indexes(db)
  local names = {}
  for _, row in ipairs(db:prepare("SELECT name FROM sqlite_master WHERE type = 'index' "
      .. "AND name IN ('events_contact', 'events_message_id', 'outbox_contact') ORDER BY name"):all()) do
    names[#names + 1] = row[1]
  end
  return table.concat(names, " ")
end

-- the store's connection closed as the end of its process closes it: with
-- its statements (which keep a closed connection, and the lock of a store
-- being filled, until they go)
local function stop(store)
  store.db:close()
  store.stmts = {}
  collectgarbage()
end

local function remove(path)
  for _, suffix in ipairs({ "", "-wal", "-shm" }) do os.remove(path .. suffix) end
end

describe("bulk loading of events", function()
  it("leaves the index by contact out of a new store and still refuses a repeated messageId", function()
    local store = assert(Store.open(":memory:"))
    assert.is_true(store:bulk_events())
    assert.equal("events_message_id", indexes(store.db))
    assert.is_number(store:add_event(event("m-1"), "{}"))
    assert.is_nil(store:add_event(event("m-1"), "{}"))
    assert.is_number(store:add_event(event(nil), "{}")) -- no messageId: never a repeat
    assert.is_number(store:add_event(event(nil), "{}"))
    assert.equal(3, store.db:prepare("SELECT count(*) FROM events"):first())
    store:close()
  end)

  it("builds the index before the first query by contact, then keeps it", function()
    local store = assert(Store.open(":memory:"))
    store:bulk_events()
    store:add_event(event("m-1", "u1", "Viewed", 1000), "{}")
    store:add_event(event("m-2", "u1", "Viewed", 2000), "{}")
    assert.equal(2, store:count_events("u1", "Viewed", nil))
    assert.equal("events_contact events_message_id outbox_contact", indexes(store.db))
    store:add_event(event("m-3", "u1", "Viewed", 3000), "{}")
    assert.equal(3000, store:last_activity("u1"))
    store:close()
  end)

  it("builds the indexes before a frequency cap counts a contact's messages", function()
    local store = assert(Store.open(":memory:"))
    store:bulk_events()
    store:add_outbox({ instance = 1, seq = 1, channel = "email", kind = "marketing", message = "{}", status = "simulated",
                       contact = "u1" }, 1000)
    assert.equal("events_message_id", indexes(store.db))
    assert.equal(1, store:marketing_sent("u1", 0, "email"))
    assert.equal("events_contact events_message_id outbox_contact", indexes(store.db))
    store:close()
  end)

  it("of a scratch store fed events already told apart takes every event", function()
    local store = assert(Store.open(":memory:"))
    store:bulk_events()
    store:events_unique()
    assert.equal("", indexes(store.db))
    assert.is_number(store:add_event(event("m-1"), "{}"))
    assert.is_number(store:add_event(event("m-2"), "{}"))
    assert.equal(2, store.db:prepare("SELECT count(*) FROM events"):first())
    store:close()
  end)

  it("of events known to be distinct builds their messageId index when the store closes or opens", function()
    local path = helpers.tmpname()
    local store = assert(Store.open(path))
    store:bulk_events()
    store:events_unique(true)
    assert.equal("", indexes(store.db))
    store:add_event(event("m-1"), "{}")
    store:add_event(event("m-2"), "{}")
    store:close()
    local raw = assert(host.open(path))
    assert.equal("events_contact events_message_id outbox_contact", indexes(raw))
    raw:close()
    store = assert(Store.open(path))
    assert.is_nil(store:add_event(event("m-2"), "{}"))
    store:events_unique(true) -- (not a bulk load: the store has events)
    assert.equal("events_contact events_message_id outbox_contact", indexes(store.db))
    store.db:close()
    remove(path)

    store = assert(Store.open(path))
    store:bulk_events()
    store:events_unique(true)
    store:add_event(event("m-1"), "{}")
    stop(store) -- as if the process stopped here
    store = assert(Store.open(path))
    assert.equal("events_contact events_message_id outbox_contact", indexes(store.db))
    assert.is_nil(store:add_event(event("m-1"), "{}"))
    store:close()
    remove(path)
  end)

  it("is not used on a store that has events; the index comes back on close and on open", function()
    local path = helpers.tmpname()
    local store = assert(Store.open(path))
    store:bulk_events()
    store:begin()
    store:add_event(event("m-1"), "{}")
    store:commit()
    stop(store) -- as if the process stopped here: the index was never built
    local raw = assert(host.open(path))
    assert.equal("events_message_id", indexes(raw))
    raw:close()
    store = assert(Store.open(path))
    assert.equal("events_contact events_message_id outbox_contact", indexes(store.db))
    assert.is_false(store:bulk_events())
    assert.equal("events_contact events_message_id outbox_contact", indexes(store.db))
    store:close()
    remove(path)

    path = helpers.tmpname()
    store = assert(Store.open(path))
    store:bulk_events()
    store:add_event(event("m-9"), "{}")
    store:close()
    raw = assert(host.open(path))
    assert.equal("events_contact events_message_id outbox_contact", indexes(raw))
    raw:close()
    remove(path)
  end)

  it("fills a new store file with a rollback journal, keeps what was committed when the process dies, and ends in WAL", function()
    local function journal(path)
      local raw = assert(host.open(path))
      local mode = raw:prepare("PRAGMA journal_mode"):first()
      raw:close()
      return mode
    end
    -- a child fills a store: one commit, then a transaction too big for its
    -- page cache (so pages of it reach the file), and it dies before its commit
    local path = helpers.tmpname()
    os.remove(path)
    local script = [[
      package.path = "stdlib/?.lua;stdlib/?/init.lua;" .. package.path
      package.cpath = "build/?.so;" .. package.cpath
      local store = assert(require("drip.store").open(PATH, { synchronous = "NORMAL" }))
      assert(store:bulk_events())
      io.stdout:write(store.db:prepare("PRAGMA journal_mode"):first(), "\n")
      store.db:exec("PRAGMA cache_size = 8")
      local function add(from, to)
        for i = from, to do
          store:add_event({ userId = "u" .. i, type = "track", event = "Viewed", ts = i, messageId = "m-" .. i }, ("x"):rep(300))
        end
      end
      store:begin() add(1, 100) store:commit()
      store:begin() add(101, 3000)
      io.stdout:flush()
      os.exit(9, false) -- (no close: the open transaction is left as a crash leaves it)
    ]]
    script = "local PATH = " .. string.format("%q", path) .. "\n" .. script
    local child = assert(io.popen("lua5.4 -e '" .. script:gsub("'", "'\\''") .. "'"))
    assert.equal("truncate\n", child:read("a"))
    child:close()
    local hot = assert(io.open(path .. "-journal", "rb")) -- (what the rollback needs, left by the crash)
    assert.is_true(hot:seek("end") > 0)
    hot:close()
    local raw = assert(host.open(path))
    assert.equal(100, raw:prepare("SELECT count(*) FROM events"):first()) -- (the journal rolled the rest back)
    assert.equal("ok", raw:prepare("PRAGMA integrity_check"):first())
    raw:close()
    local store = assert(Store.open(path))
    assert.equal("wal", store.db:prepare("PRAGMA journal_mode"):first()) -- (opening puts the log back)
    assert.is_false(store:bulk_events())
    store:close()
    assert.equal("wal", journal(path))
    remove(path)
    os.remove(path .. "-journal")

    -- a load that ends well closes in WAL, with every event
    store = assert(Store.open(path))
    assert.is_true(store:bulk_events())
    assert.equal("truncate", store.db:prepare("PRAGMA journal_mode"):first())
    store:begin()
    store:add_event(event("m-1"), "{}")
    store:commit()
    store:close()
    assert.equal("wal", journal(path))
    remove(path)
  end)

  it("keeps a store file it fills to itself: another process opening it is told why, and the load goes on", function()
    local path = helpers.tmpname()
    os.remove(path)
    local loading = assert(Store.open(path))
    assert.is_true(loading:bulk_events())
    loading:begin()
    loading:add_event(event("m-1"), "{}")
    loading:commit()
    local open = host.open
    local function open_briefly(...) -- (waiting 20 ms for a lock, not drip's 5 s)
      local db, err = open(...)
      if db then db:exec("PRAGMA busy_timeout = 20") end
      return db, err
    end
    host.open = open_briefly
    local other, err, status = Store.open(path)
    host.open = open
    assert.is_nil(other)
    assert.equal(path .. ": another drip process is writing it (a simulation filling a new store keeps it until it "
      .. "ends); try again when that is done", err)
    assert.equal(1, status)
    local raw = assert(open_briefly(path))
    assert.has_error(function() raw:prepare("SELECT count(*) FROM events"):first() end)
    raw:close()
    loading:begin()
    assert.is_number(loading:add_event(event("m-2"), "{}"))
    loading:commit()
    loading:close()
    local store = assert(Store.open(path))
    assert.equal(2, store.db:prepare("SELECT count(*) FROM events"):first())
    store:close()
    remove(path)
  end)

  it("builds its indexes sorting by way of temporary files, then keeps temporary tables in memory again", function()
    local store = assert(Store.open(":memory:"))
    local real = store.db
    local function pragma(name) return real:prepare("PRAGMA " .. name):all()[1][1] end
    local sorted_with = {} -- temp_store and cache_size as each index was made
    store.db = setmetatable({}, { __index = function(_, method)
      return function(_, sql, ...)
        if method == "exec" and sql:find("CREATE") then
          sorted_with[#sorted_with + 1] = pragma("temp_store") .. " " .. pragma("cache_size")
        end
        return real[method](real, sql, ...)
      end
    end })
    assert.is_true(store:bulk_events())
    store:begin()
    local want = 0
    for i = 1, 3000 do
      store:add_event(event("m-" .. i, "u" .. i % 7, "E" .. i % 3, i), "{}")
      if i % 7 == 1 and i % 3 == 1 then want = want + 1 end
    end
    store:commit()
    store:index_by_contact()
    assert.same({ "1 -2000" }, sorted_with) -- (temp_store 1: FILE, and a 2 MiB page cache)
    assert.equal(2, pragma("temp_store")) -- MEMORY again
    assert.equal(-65536, pragma("cache_size"))
    assert.equal(want, store:count_events("u1", "E1"))

    -- a store with a temporary table keeps it: its indexes are sorted in memory
    real:exec("CREATE TEMP TABLE kept (x)")
    real:exec("DROP INDEX events_contact")
    store.unindexed = true
    store:index_by_contact()
    assert.same({ "1 -2000", "2 -65536" }, sorted_with)
    assert.equal(0, real:prepare("SELECT count(*) FROM temp.kept"):all()[1][1])
    assert.equal(want, store:count_events("u1", "E1"))
    store.db = real
    store:close()
  end)

  it("stores the messageId of a line read the quick way, wherever it is and whatever its letters", function()
    -- (Persian and Russian text before it, and in it: the bytes are stored as they are)
    local events = require "drip.events"
    local store = assert(Store.open(":memory:"))
    store:begin()
    local lines = {
      '{"type":"track","userId":"u1","event":"سفارش","properties":{"نام":"کتاب ۲","city":"Москва"},'
        .. '"messageId":"پیام-۱","timestamp":"2026-11-01T09:30:00Z"}\n',
      '{"messageId":"m-2","type":"track","userId":"u1","event":"E","timestamp":"2026-11-01T09:30:00Z"}\n',
    }
    for i, line in ipairs(lines) do
      local ev = assert(events.decode_line(line, 0))
      local seq = assert(store:add_event(ev, ev.body))
      local want = i == 1 and "پیام-۱" or "m-2"
      assert.equal(want, store.db:prepare("SELECT message_id FROM events WHERE seq = ?"):first(seq))
      assert.equal(want, ev.messageId)
      assert.is_nil(store:add_event(assert(events.decode_line(line, 0)), line), "a repeat of line " .. i)
    end
    store:close()
  end)

  it("makes a new store with the page size asked for, and leaves an existing one's as it is", function()
    local path = helpers.tmpname()
    os.remove(path)
    local store = assert(Store.open(path, { page_size = 16384 }))
    store:close()
    local function page_size()
      local raw = assert(host.open(path))
      local size = raw:prepare("PRAGMA page_size"):first()
      raw:close()
      return size
    end
    assert.equal(16384, page_size())
    store = assert(Store.open(path, { page_size = 8192 }))
    store:close()
    assert.equal(16384, page_size())
    remove(path)
    store = assert(Store.open(path))
    store:close()
    assert.equal(4096, page_size())
    remove(path)
  end)
end)
