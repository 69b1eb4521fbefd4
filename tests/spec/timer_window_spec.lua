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
        local rows = store:q("timers_due"):all(math.huge, 100)
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

  it("holds the timers not written yet past its end, and lets them go to the table once written", function()
    local store = assert(Store.open(":memory:"))
    store:own_instances(5, 2)
    store:begin()
    for due = 10, 40, 10 do store:add_timer(due, 1, due, "wake") end
    store:commit() -- (written: the window lets them go to the table)
    store:begin()
    assert.equal(10, store:next_due_of("timers")) -- (reads the table's first two)
    local window = store.timer_window
    local function held()
      local dues = {}
      for i, row in ipairs(window:held()) do dues[i] = row[2] end
      return dues
    end
    assert.same({ 10, 20 }, held())
    store:add_timer(15, 1, 15, "wake")
    store:add_timer(35, 1, 35, "wake") -- past the end (20), but only the window has it
    assert.same({ 10, 15, 20, 35 }, held())
    assert.equal(2, window:unwritten())
    local due = store:due_rows("timers", 25, 10) -- (reads on from the table past 20: 30, 40)
    assert.same({ 10, 15, 20 }, { due[1][2], due[2][2], due[3][2] })
    assert.same({ 10, 15, 20, 30, 35, 40 }, held())
    for _, row in ipairs(due) do store:delete_timer(row[1]) end
    assert.equal(30, store:next_due_of("timers"))
    assert.same({}, store.db:prepare("SELECT due FROM timers WHERE due IN (15, 35)"):column()) -- (not written)
    store:commit()
    assert.same({ 30, 35 }, held()) -- written, and the window keeps the earliest two
    assert.same({ 30, 35, 40 }, store.db:prepare("SELECT due FROM timers ORDER BY due"):column())
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
  local function before(a, b) return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1]) end

  -- a timers table in a list, read as the store's timers_after reads it
  local function table_reader(tbl)
    return function(end_due, end_id, limit)
      local out = {}
      for _, row in ipairs(tbl) do
        if #out == limit then break end
        if before({ end_id, end_due }, row) then out[#out + 1] = row end
      end
      return out
    end
  end

  it("answers as the table and the unwritten timers together would, through firing, adding and writing", function()
    local random = helpers.random(5)
    local tbl = {} -- the table's rows, in (due, id) order
    local all, next_id, now = {}, 1, 0 -- all: every timer, written or not, in (due, id) order
    local window = Window.new(4, table_reader(tbl))
    local function add(due, written)
      local row = { next_id, due, 1, next_id % 3 ~= 0 and next_id or nil, next_id % 3 ~= 0 and "wake" or "expire" }
      next_id = next_id + 1
      if written then tbl[#tbl + 1] = row else window:add(row[1], row[2], row[3], row[4], row[5]) end
      all[#all + 1] = row
      table.sort(all, before)
      table.sort(tbl, before)
    end
    local function drop(list, id)
      for i, row in ipairs(list) do
        if row[1] == id then return table.remove(list, i) end
      end
    end
    for _ = 1, 30 do add(random(100), true) end
    for step = 1, 6000 do
      local op = random(10)
      if op < 4 then
        add(now + random(200), false) -- mostly later than the rest; ties on due
      elseif op < 7 then
        now = now + random(3)
        local limit = random(5) + 1
        local due = window:due(now, limit)
        local want = {}
        for _, row in ipairs(all) do
          if row[2] > now or #want == limit then break end
          want[#want + 1] = row
        end
        assert.same(want, due, "step " .. step)
        for i = 1, random(#due + 1) do -- fired, from the head
          local written = window:remove(due[i][1])
          assert.equal(drop(tbl, due[i][1]) ~= nil, written, "step " .. step)
          drop(all, due[i][1])
        end
      elseif op < 9 then
        if #all > 0 then -- one not at the head, held or not
          local row = all[random(#all) + 1]
          local written = window:remove(row[1])
          local in_table = drop(tbl, row[1]) ~= nil
          if written ~= nil then assert.equal(in_table, written, "step " .. step) end
          drop(all, row[1])
        end
      else
        for _, row in ipairs(window:take_unwritten()) do tbl[#tbl + 1] = row end -- the caller writes them
        table.sort(tbl, before)
        assert.equal(0, window:unwritten())
      end
      assert.equal(all[1] and all[1][2], window:next_due(), "step " .. step)
    end
    assert.is_true(next_id > 1500)
  end)

  it("gives the unwritten rows in id order, then keeps its earliest `size` and leaves the rest to the table", function()
    local tbl = { { 1, 10, 1, 1, "wake" }, { 2, 20, 1, 2, "wake" }, { 3, 30, 1, 3, "wake" } }
    local window = Window.new(3, table_reader(tbl))
    assert.equal(10, window:next_due()) -- reads 10, 20, 30: the table may hold more
    window:add(9, 5, 1, nil, "expire")
    window:add(8, 25, 1, 8, "wake")
    window:add(7, 40, 1, 7, "wake") -- past the end: held, as it is not written
    window:add(6, 15, 1, 6, "wake")
    assert.same({ 9, 1, 6, 2, 8, 3, 7 }, ids(window:held()))
    assert.same({ 9, 1 }, ids(window:due(10, 5)))
    assert.same({ { 6, 15, 1, 6, "wake" }, { 7, 40, 1, 7, "wake" }, { 8, 25, 1, 8, "wake" }, { 9, 5, 1, nil, "expire" } },
      window:take_unwritten())
    assert.same({ 9, 1, 6 }, ids(window:held())) -- 7 was past the end; 2, 8 and 3 past three rows
    assert.equal(0, window:unwritten())
    assert.is_nil(window:remove(3)) -- (the table's now)
    assert.is_true(window:remove(9))
    assert.has_error(function() window:add(1, 1, 1, 1, "wake") end, "timer 1 is held already")
  end)
end)

describe("an engine firing the timers its store's window holds", function()
  it("fires them one by one in due order, at most `max` a turn, none twice", function()
    local time = require "drip.time"
    local sim = helpers.sim([[return journey { trigger = "Go", steps = function(ctx)
      wait(ctx.event.properties.minutes .. "m") email { subject = "after " .. ctx.event.properties.minutes }
    end }]], { start = "2026-11-02T09:00:00Z" })
    for i = 1, 1200 do
      local who = string.format("c%04d", i)
      sim:identify(who, { email = i .. "@x.test", consent = { email = true } })
      sim:track(who, "Go", { minutes = 60 - i % 7 }) -- (due in the same few minutes, in an order of their own)
    end
    local until_t = time.parse("2026-11-02T10:30:00Z")
    local turns = {}
    repeat
      local done, fired = sim.engine:run_until(until_t, 500) -- as drip run does: at most a batch a turn
      turns[#turns + 1] = fired
    until done
    assert.same({ 500, 500, 200 }, turns)
    local sent, seen, last = sim:sent(), {}, ""
    assert.equal(1200, #sent)
    for _, m in ipairs(sent) do
      assert.is_nil(seen[m.contact], m.contact .. " twice")
      seen[m.contact] = true
      assert.is_true(m.at >= last, "in due order")
      last = m.at
      assert.equal("after " .. (60 - tonumber(m.contact:sub(2)) % 7), m.message.subject)
    end
  end)
end)
