-- Active instances by contact kept in memory (Store:own_instances): whatever
-- happens to instances, the store answers what its rows say, and a list a
-- caller holds is not changed under it.
local Store = require "drip.store"
local helpers = require "helpers"

local function from_rows(store, contact)
  local rows = {}
  for i, row in ipairs(store:q("instances_active"):all(contact)) do
    rows[i] = { row[1], row[2], row[3], row[4], row[5], row[6] }
  end
  return rows
end

local function plain(rows)
  local out = {}
  for i, row in ipairs(rows) do out[i] = { row[1], row[2], row[3], row[4], row[5], row[6] } end
  return out
end

describe("active instances kept in memory", function()
  it("answer as the rows do through starts, waits, ends, forgets and rollbacks", function()
    local store = assert(Store.open(":memory:"))
    store:own_instances(5) -- fewer contacts than the test uses: the cache is dropped and refilled
    local random = helpers.random(7)
    local contacts, live = {}, {}
    for i = 1, 12 do
      contacts[i] = "c" .. i
      store:put_contact(contacts[i], {}, 0)
    end
    store:begin()
    for step = 1, 3000 do
      local c = contacts[random(#contacts) + 1]
      local op = random(100)
      if op < 30 then
        local id = store:add_instance("j" .. random(3), "v1", c, step, nil, "Go", "{}")
        live[#live + 1] = id
        if random(2) == 0 then store:set_wait(id, 1, random(2) == 0 and "Paid" or nil) end
      elseif op < 60 and #live > 0 then
        store:set_wait(live[random(#live) + 1], step, random(2) == 0 and "Paid" or nil)
      elseif op < 80 and #live > 0 then
        local k = random(#live) + 1
        store:end_instance(live[k], step, "completed")
        table.remove(live, k)
      elseif op < 82 then
        store:forget(c)
        store:put_contact(c, {}, step)
      elseif op < 84 then
        store:commit()
        store:begin()
        store:savepoint()
        store:add_instance("j1", "v1", c, step, nil, "Go", "{}")
        store:rollback_to()
      end
      local want = from_rows(store, c)
      assert.same(want, plain(store:active_instances(c)), "step " .. step .. ", contact " .. c)
    end
    store:close()
  end)

  it("leave a list being read as it was when asked", function()
    local store = assert(Store.open(":memory:"))
    store:own_instances()
    store:put_contact("u1", {}, 0)
    store:begin()
    local a = store:add_instance("j1", "v1", "u1", 1, nil, "Go", "{}")
    store:set_wait(a, 1, "Paid")
    local b = store:add_instance("j2", "v1", "u1", 2, nil, "Go", "{}")
    store:set_wait(b, 1, nil)
    local held = store:active_instances("u1")
    store:add_instance("j3", "v1", "u1", 4, nil, "Go", "{}")
    store:end_instance(a, 3, "goal")
    store:set_wait(b, 2, "Paid")
    assert.same({ { a, "j1", "v1", 1, "Paid", 1 }, { b, "j2", "v1", 1, nil, 2 } }, plain(held))
    assert.same({ { b, "j2", "v1", 2, "Paid", 2 }, { b + 1, "j3", "v1", nil, nil, 4 } }, plain(store:active_instances("u1")))
    store:close()
  end)
end)
