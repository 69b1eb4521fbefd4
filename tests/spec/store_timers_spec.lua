-- Timers a store this process alone writes keeps in memory until its
-- transaction commits (Store:add_timer): one made and fired within the
-- transaction is never a row, one left is written with the id SQLite would
-- have given it, a query on the timers table sees them all, and a rollback
-- drops them with the rest of the transaction.
local Store = require "drip.store"

local function rows(store)
  return store.db:prepare("SELECT id, due, instance, seq, kind FROM timers ORDER BY id"):all()
end

local function owned()
  local store = assert(Store.open(":memory:"))
  store:own_instances()
  return store
end

describe("timers of an owned store", function()
  it("are no rows when made and deleted in one transaction, and written whole at its commit", function()
    local store = owned()
    store:begin()
    assert.are.same({}, store:due_rows("timers", 0, 10)) -- (the window of the timers: all of them, none yet)
    store:add_timer(100, 1, 2, "wake")
    store:add_timer(50, 2, nil, "expire")
    store:add_timer(70, 3, 4, "wake")
    assert.are.same({ { 2, 50, 2, nil, "expire" } }, store:due_rows("timers", 60, 10)) -- (from the window)
    store:delete_timer(2)
    assert.are.same({}, rows(store))
    store:commit()
    assert.are.same({ { 1, 100, 1, 2, "wake" }, { 3, 70, 3, 4, "wake" } }, rows(store))
    store:begin()
    store:add_timer(10, 4, 1, "wake")
    assert.are.equal(4, store.timer_window:held()[1][1]) -- (after the highest id stored)
    store:delete_timer(1) -- (a stored one: its row goes)
    store:commit()
    assert.are.same({ { 3, 70, 3, 4, "wake" }, { 4, 10, 4, 1, "wake" } }, rows(store))
    store:close()
  end)

  it("are written before a query reads the timers table", function()
    local store = owned()
    store:begin()
    store:add_timer(100, 7, 1, "wake")
    store:add_timer(90, 7, 2, "wake")
    assert.are.equal(90, store:next_wake(7, 0))
    assert.are.equal(0, store.timer_window:unwritten())
    assert.are.equal(2, #rows(store))
    store:add_timer(80, 7, 3, "wake") -- (ids go on after those just written)
    store:commit()
    assert.are.same({ 1, 2, 3 }, store.db:prepare("SELECT id FROM timers ORDER BY id"):column())
    store:close()
  end)

  it("go with a rollback, and with a rollback to a savepoint those made after it", function()
    local store = owned()
    store:begin()
    store:add_timer(100, 1, 1, "wake")
    store:rollback()
    store:begin()
    assert.are.same({}, store:due_rows("timers", 1000, 10))
    store:add_timer(200, 2, 1, "wake")
    store:savepoint()
    store:add_timer(300, 3, 1, "wake")
    store:rollback_to()
    store:commit()
    assert.are.same({ { 1, 200, 2, 1, "wake" } }, rows(store))
    store:close()
  end)

  it("are rows at once in a store others write too (drip run)", function()
    local store = assert(Store.open(":memory:"))
    store:begin()
    store:add_timer(100, 1, 1, "wake")
    assert.are.same({ { 1, 100, 1, 1, "wake" } }, rows(store))
    store:commit()
    store:close()
  end)
end)
