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
      for i, row in ipairs(window.heap) do dues[i] = row[2] end
      table.sort(dues)
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
