-- Active instances by contact, contacts' traits and the entries of contacts
-- made here, kept in memory (Store:own_instances): whatever happens to
-- instances and contacts, the store answers what its rows say, and a list a
-- caller holds is not changed under it.
local Store = require "drip.store"
local helpers = require "helpers"

-- The rows of instances and contacts a transaction made are written when it
-- commits (or a query needs them): until then they are store.unwritten's
-- and store.unwritten_contacts'.
local function unwritten_row(store, id)
  local u = store.unwritten[id]
  return u and { u.id, u.journey, u.version, u.contact, u.active, u.entered_at, u.trigger_seq, u.trigger_name, u.traits,
                 u.wait_seq, u.wait_event }
end

local function row_of(store, id)
  return unwritten_row(store, id) or (store:q("instance_get"):first(id) and { store:q("instance_get"):first(id) })
end

local function from_rows(store, contact)
  local rows = {}
  for i, row in ipairs(store:q("instances_active"):all(contact)) do
    rows[i] = { row[1], row[2], row[3], row[4], row[5], row[6] }
  end
  local ids = {}
  for id, u in pairs(store.unwritten) do
    if u.contact == contact and u.active == 1 then ids[#ids + 1] = id end
  end
  table.sort(ids)
  for _, id in ipairs(ids) do
    local row = unwritten_row(store, id)
    rows[#rows + 1] = { row[1], row[2], row[3], row[10], row[11], row[6] }
  end
  return rows
end

-- a contact's traits text as its row says, or the row a transaction has
-- not written yet (store.unwritten_contacts')
local function traits_of(store, contact)
  local u = store.unwritten_contacts[contact]
  if u then return u[1] end
  return store:q("contact_get"):first(contact)
end

local function last_entry_of(store, contact, journey)
  local last = store:q("instance_last_entry"):first(contact, journey)
  for _, u in pairs(store.unwritten) do
    if u.contact == contact and u.journey == journey and (not last or u.entered_at > last) then last = u.entered_at end
  end
  return last
end

-- What the kept lists say of instance id must be what its row says, or nothing.
local function check_kept(store, id, where)
  local kept = store:kept_instance(id)
  if kept == nil then return end
  local row = row_of(store, id)
  if kept == false then
    assert.are_not.equal(1, row and row[5], where .. ": instance " .. id .. " is said to have ended")
  else
    assert.same({ row[1], row[2], row[3], row[10], row[11], row[6] }, { kept[1], kept[2], kept[3], kept[4], kept[5], kept[6] },
      where .. ": instance " .. id)
    assert.equal(1, row[5], where .. ": instance " .. id .. " is said to be active")
  end
end

local function plain(rows)
  local out = {}
  for i, row in ipairs(rows) do out[i] = { row[1], row[2], row[3], row[4], row[5], row[6] } end
  return out
end

describe("active instances kept in memory", function()
  it("answer as the rows do through starts, waits, ends, trait changes, forgets and rollbacks", function()
    local store = assert(Store.open(":memory:"))
    store:own_instances(5) -- fewer contacts than the test uses: the cache is dropped and refilled
    local random = helpers.random(7)
    local contacts, live, all = {}, {}, {}
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
        all[#all + 1] = id
        if random(2) == 0 then store:set_wait(id, 1, random(2) == 0 and "Paid" or nil) end
      elseif op < 60 and #live > 0 then
        store:set_wait(live[random(#live) + 1], step, random(2) == 0 and "Paid" or nil)
      elseif op < 80 and #live > 0 then
        local k = random(#live) + 1
        store:end_instance(live[k], step, "completed")
        table.remove(live, k)
      elseif op < 81 then
        store:forget(c)
        store:put_contact(c, {}, step)
      elseif op < 82 then
        store:forget(c)
        store:put_contact(c, { again = step }, step, true) -- made anew: its entries are known from here
      elseif op < 83 then
        store:forget(c)
        store:touch_contact(c, step)
      elseif op < 85 then
        store:touch_contact(c, step) -- one that exists: nothing is made
      elseif op < 90 then
        store:put_contact(c, { n = step }, step)
      elseif op < 92 then
        local id = all[random(#all) + 1]
        local before = id and store:instance(id)
        store:commit()
        if id then -- as it was kept, so it is written
          local inst = store:instance(id)
          assert.is_nil(store.unwritten[id])
          assert.same(before, inst, "step " .. step .. ", instance " .. id .. " as written")
        end
        store:begin()
        store:savepoint()
        store:add_instance("j1", "v1", c, step, nil, "Go", "{}")
        store:put_contact(c, { undone = step }, step)
        store:rollback_to()
      end
      local want = from_rows(store, c)
      assert.same(want, plain(store:active_instances(c)), "step " .. step .. ", contact " .. c)
      assert.equal(traits_of(store, c), store:contact_json(c), "step " .. step .. ", traits of " .. c)
      local j = "j" .. random(3)
      assert.equal(last_entry_of(store, c, j), store:last_entry(c, j),
        "step " .. step .. ", last entry of " .. c .. " into " .. j)
      if #all > 0 then check_kept(store, all[random(#all) + 1], "step " .. step) end
    end
    store:close()
  end)

  it("find the traits of contacts the store had before, and of those it made, without a lookup for new ones", function()
    local store = assert(Store.open(":memory:"))
    store:put_contact("before", { plan = "pro" }, 0) -- (as drip import leaves a store)
    store:own_instances()
    assert.equal('{"plan":"pro"}', store:contact_json("before"))
    local fresh = assert(Store.open(":memory:"))
    fresh:own_instances()
    fresh:put_contact("made", { plan = "free" }, 0)
    fresh:touch_contact("touched", 0)
    fresh:own_instances() -- (as a rollback drops the kept maps)
    assert.equal('{"plan":"free"}', fresh:contact_json("made"))
    assert.equal("{}", fresh:contact_json("touched"))
    local lookups = 0
    local q = fresh.q
    fresh.q = function(self, name)
      if name == "contact_get" then lookups = lookups + 1 end
      return q(self, name)
    end
    assert.is_nil(fresh:contact_json("never"))
    assert.equal(0, lookups)
    store:close()
    fresh:close()

    -- past its limit, a store stops keeping the hashes, and looks contacts up again
    local full = assert(Store.open(":memory:"))
    full:own_instances()
    full.made_limit = 3
    full:put_contact("a", { n = 1 }, 0)
    full:put_contact("b", { n = 2 }, 0)
    assert.is_truthy(full.made)
    full:put_contact("c", { n = 3 }, 0)
    assert.is_false(full.made) -- (the limit reached: no more hashes kept)
    full:own_instances() -- (as a rollback drops the kept maps)
    assert.equal('{"n":3}', full:contact_json("c"))
    assert.equal('{"n":1}', full:contact_json("a"))
    full:close()
  end)

  it("leave a list being read with the rows it had when asked (only a row's wait may change)", function()
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
    assert.same({ { a, "j1", "v1", 1, "Paid", 1 }, { b, "j2", "v1", 2, "Paid", 2 } }, plain(held))
    assert.same({ { b, "j2", "v1", 2, "Paid", 2 }, { b + 1, "j3", "v1", nil, nil, 4 } }, plain(store:active_instances("u1")))
    store:close()
  end)

  it("keep a transaction's contacts until it commits, and answer every reader as their rows would", function()
    local path = helpers.tmpname()
    local store = assert(Store.open(path))
    store:own_instances()
    store:begin()
    store:put_contact("zed", { first_name = "Зед", timezone = "Asia/Tehran" }, 100)
    store:put_contact("amy", { first_name = "Amy" }, 200)
    store:put_contact("zed", { first_name = "زد", timezone = "Europe/Moscow" }, 300)
    store:own_instances() -- (the kept traits dropped: what is unwritten answers)
    assert.equal('{"first_name":"زد","timezone":"Europe/Moscow"}', store:contact_json("zed"))
    assert.is_false(store:touch_contact("amy", 400)) -- (it exists: not made again)
    assert.is_true(store:touch_contact("bo", 400))
    -- a query of the table sees them: the zones, a page of contacts in id order
    assert.same({ "Europe/Moscow" }, store:contact_zones())
    local page = store:contacts_page("", 10)
    assert.same({ "amy", "bo", "zed" }, { page[1][1], page[2][1], page[3][1] })
    store:put_contact("cy", { n = 1 }, 500)
    store:commit()
    store:begin()
    store:put_contact("dee", { n = 2 }, 600)
    store:rollback()
    store:close()

    store = assert(Store.open(path))
    assert.same({ '{"first_name":"زد","timezone":"Europe/Moscow"}', 100 }, { store:q("contact_row"):first("zed") })
    assert.same({ '{"n":1}', 500 }, { store:q("contact_row"):first("cy") })
    assert.is_nil(store:contact_json("dee")) -- (rolled back with its transaction)
    store:put_contact("dee", { n = 3 }, 700) -- (outside a transaction: written at once)
    local other = assert(Store.open(path))
    assert.equal('{"n":3}', other:contact_json("dee"))
    other:close()
    store:close()
  end)
end)
