-- The earliest timers kept in memory by an owned store (drip.timer_window):
-- whatever is made, fired, forgotten or rolled back, what is due and when the
-- next timer is are what the timers table says.
local Store = require "drip.store"
local helpers = require "helpers"

local function plain(rows)
  local out = {}
  for i, row in ipairs(rows) do out[i] = { row[1], row[2], row[3], row[4], row[5] } end
  return out
end

describe("the timers window", function()
  it("answers as the timers table does through timers made, fired, forgotten and rolled back", function()
    local store = assert(Store.open(":memory:"))
    store:own_instances(5, 4) -- a window of 4 timers: it is refilled, trimmed and passed over often
    local random = helpers.random(11)
    local now = 0
    store:put_contact("c1", {}, 0)
    store:begin()
    for step = 1, 4000 do
      local op = random(100)
      if op < 45 then
        -- ties on due, timers before and after the window's end, seq nil for an expiry
        local expire = random(5) == 0
        store:add_timer(now + random(40), random(50) + 1, not expire and step or nil, expire and "expire" or "wake")
      elseif op < 80 then
        now = now + random(8)
        local limit = random(6) + 1
        local rows = store:due_rows("timers", now, limit)
        assert.same(plain(store:q("timers_due"):all(now, limit)), plain(rows), "step " .. step .. ": due by " .. now)
        for i = 1, random(#rows + 1) do store:delete_timer(rows[i][1]) end -- some fired, the rest left
      elseif op < 85 then
        local rows = store:q("timers_first"):all(100)
        if #rows > 0 then store:delete_timer(rows[random(#rows) + 1][1]) end -- one not at the head
      elseif op < 88 then
        local id = store:add_instance("j1", "v1", "c1", now, nil, "Go", "{}")
        store:add_timer(now + 1, id, 1, "wake")
        store:forget("c1") -- deletes its timers in SQL
        store:put_contact("c1", {}, now)
      elseif op < 92 then
        store:commit()
        store:begin()
        store:savepoint()
        store:add_timer(now, 1, step, "wake")
        store:rollback_to()
      end
      store:active_instances("c" .. random(8) + 1) -- more contacts than kept: their lists are dropped, the window stays
      assert.equal(store:q("timer_next"):first(), store:next_due_of("timers"), "step " .. step .. ": next due")
    end
    store:close()
  end)

  it("keeps a timer made inside its end and leaves one made past it to the table", function()
    local store = assert(Store.open(":memory:"))
    store:own_instances(5, 2)
    store:begin()
    for due = 10, 40, 10 do store:add_timer(due, 1, due, "wake") end
    assert.same({ 10 }, { store:next_due_of("timers") })
    local window = store.timer_window
    local function held()
      local dues = {}
      for i, row in ipairs(window:held()) do dues[i] = row[2] end
      return dues
    end
    assert.same({ 10, 20 }, held())
    store:add_timer(15, 1, 15, "wake")
    store:add_timer(35, 1, 35, "wake")
    assert.same({ 10, 15, 20 }, held()) -- 35 is past the end (20): only the table has it
    local due = store:due_rows("timers", 25, 10)
    assert.same({ 10, 15, 20 }, { due[1][2], due[2][2], due[3][2] })
    for _, row in ipairs(due) do store:delete_timer(row[1]) end
    assert.equal(30, store:next_due_of("timers")) -- refilled from the table
    store:close()
  end)
end)

describe("a timers window on its own", function()
  local Window = require "drip.timer_window"
  local function ids(rows)
    local out = {}
    for i, row in ipairs(rows) do out[i] = row[1] end
    return out
  end

  it("holds every timer it was given, in (due, id) order, through long runs of firing and inserting", function()
    local random = helpers.random(5)
    local window = Window.new({}, 10000) -- (fewer rows than its size: it holds every timer)
    local all, next_id, now = {}, 1, 0 -- all: what it should hold
    local function add(due)
      local row = { next_id, due, 1, next_id, "wake" }
      next_id = next_id + 1
      window:insert(row)
      all[#all + 1] = row
      table.sort(all, function(a, b) return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1]) end)
    end
    for _ = 1, 50 do add(random(100)) end
    for step = 1, 6000 do
      local op = random(10)
      if op < 4 then
        add(now + random(200)) -- mostly later than what it holds; ties on due
      elseif op < 8 then
        now = now + random(3)
        local limit = random(5) + 1
        local due = window:due(now, limit)
        local want = {}
        for _, row in ipairs(all) do
          if row[2] > now or #want == limit then break end
          want[#want + 1] = row
        end
        assert.same(ids(want), ids(due), "step " .. step)
        for i = 1, random(#due + 1) do -- fired, from the head
          window:remove(due[i][1])
          table.remove(all, 1)
        end
      elseif #all > 0 then
        local i = random(#all) + 1 -- one not at the head
        window:remove(all[i][1])
        table.remove(all, i)
      end
      assert.same(ids(all), ids(window:held()), "step " .. step)
      assert.equal(all[1] and all[1][2], window:next_due(), "step " .. step)
    end
    assert.is_true(next_id > 2000)
  end)

  it("keeps the earliest rows when it grows to twice its size, and leaves the rest to the table", function()
    local rows = {}
    for i = 1, 3 do rows[i] = { i, i * 10, 1, i, "wake" } end
    local window = Window.new(rows, 3) -- as many as its size: the table may hold more
    assert.is_nil(window:due(100, 10)) -- past its end (30): the table must answer
    window:insert({ 9, 5, 1, 9, "wake" })
    window:insert({ 8, 25, 1, 8, "wake" })
    window:insert({ 7, 40, 1, 7, "wake" }) -- past the end: not held
    window:insert({ 6, 15, 1, 6, "wake" })
    assert.same({ 9, 1, 6, 2, 8, 3 }, ids(window:held()))
    window:insert({ 5, 12, 1, 5, "wake" }) -- seven held: trimmed to three
    assert.same({ 9, 1, 5 }, ids(window:held()))
    assert.same({ 9, 1 }, ids(window:due(10, 5)))
    window:remove(9)
    window:remove(1)
    window:remove(5)
    assert.is_true(window:exhausted())
  end)
end)
