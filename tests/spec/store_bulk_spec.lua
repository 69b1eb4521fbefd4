-- Bulk loading of events (Store:bulk_events, host.idset): a new store's
-- events go in without their indexes, repeated messageIds are still refused
-- exactly, and the indexes are there whenever something reads by contact,
-- when the store closes, and when a store left without them is opened.
local Store = require "drip.store"
local host = require "drip_host"

local function event(mid, contact, name, ts)
  return { userId = contact or "u1", type = "track", event = name or "Viewed", ts = ts or 1000, messageId = mid }
end

local function indexes(store)
  local names = {}
  for _, row in ipairs(store.db:prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name"):all()) do
    names[#names + 1] = row[1]
  end
  return table.concat(names, " ")
end

describe("bulk loading of events", function()
  it("leaves the indexes out of a new store and still refuses a repeated messageId", function()
    local store = assert(Store.open(":memory:"))
    assert.is_true(store:bulk_events())
    assert.equal("", indexes(store))
    local first = store:add_event(event("m-1"), "{}")
    assert.is_number(first)
    assert.is_nil(store:add_event(event("m-1"), "{}"))
    assert.is_number(store:add_event(event("m-2"), "{}"))
    assert.is_number(store:add_event(event(nil), "{}")) -- no messageId: never a repeat
    assert.is_number(store:add_event(event(nil), "{}"))
    assert.equal(4, store.db:prepare("SELECT count(*) FROM events"):first())
    store:close()
  end)

  it("keeps an event whose messageId only hashes like another's", function()
    local store = assert(Store.open(":memory:"))
    store:bulk_events()
    local seq = store:add_event(event("m-1"), "{}")
    -- a set that answers every messageId with m-1's row, as a collision would
    store.message_ids = { candidate = function(_, _, i) if i == 1 then return seq end end, add = function() end }
    assert.is_number(store:add_event(event("m-2"), "{}"))
    assert.is_nil(store:add_event(event("m-1"), "{}"))
    store:close()
  end)

  it("builds the indexes before the first query by contact, then goes on with them", function()
    local store = assert(Store.open(":memory:"))
    store:bulk_events()
    store:add_event(event("m-1", "u1", "Viewed", 1000), "{}")
    store:add_event(event("m-2", "u1", "Viewed", 2000), "{}")
    assert.equal(2, store:count_events("u1", "Viewed", nil))
    assert.equal("events_contact events_message_id", indexes(store))
    assert.is_nil(store.message_ids)
    assert.is_nil(store:add_event(event("m-1"), "{}")) -- now the unique index refuses it
    assert.is_number(store:add_event(event("m-3"), "{}"))
    store:close()
  end)

  it("is not used on a store that has events; the indexes come back on close and on open", function()
    local path = os.tmpname()
    local store = assert(Store.open(path))
    store:bulk_events()
    store:begin()
    store:add_event(event("m-1"), "{}")
    store:commit()
    store.db:close() -- as if the process stopped here: no index was built
    local raw = assert(host.open(path))
    assert.equal(0, raw:prepare("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'events' AND type = 'index'"):first())
    raw:close()
    store = assert(Store.open(path))
    assert.equal("events_contact events_message_id", indexes(store))
    assert.is_false(store:bulk_events())
    assert.is_nil(store:add_event(event("m-1"), "{}"))
    store:close()
    local fresh = os.tmpname()
    store = assert(Store.open(fresh))
    store:bulk_events()
    store:add_event(event("m-9"), "{}")
    store:close()
    store = assert(Store.open(fresh))
    assert.equal("events_contact events_message_id", indexes(store))
    store:close()
    for _, p in ipairs({ path, fresh }) do
      for _, suffix in ipairs({ "", "-wal", "-shm" }) do os.remove(p .. suffix) end
    end
  end)
end)

describe("host.idset", function()
  it("gives back each messageId's row among many, and nothing for one it never had", function()
    local set = host.idset()
    for i = 1, 50000 do set:add("m-" .. i, i * 3) end
    assert.equal(50000, #set)
    for _, i in ipairs({ 1, 777, 4096, 50000 }) do
      assert.equal(i * 3, set:candidate("m-" .. i, 1))
    end
    assert.is_nil(set:candidate("m-0", 1))
    assert.is_nil(set:candidate("m-777", 2))
    set:add("m-777", 5)
    assert.same({ 2331, 5 }, { set:candidate("m-777", 1), set:candidate("m-777", 2) })
  end)
end)
