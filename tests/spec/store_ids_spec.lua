-- Ids that leave the store (an instance's id is in every message's
-- idempotency key; delivery marks a message by its id) are never given twice,
-- also after `forget` erased the newest rows.
local Store = require "drip.store"
local helpers = require "helpers"

local function message(instance, contact)
  return { instance = instance, seq = 1, kind = "marketing", contact = contact, label = "hi", channel = "email",
           address = contact .. "@x.test", message = "{}", status = "queued" }
end

local function newest(store, table_name)
  return store.db:prepare("SELECT max(id) FROM " .. table_name):first()
end

describe("ids after forget", function()
  it("are not given again, in this process or the next", function()
    local path = helpers.tmpname()
    local store = assert(Store.open(path))
    store:begin()
    for _, c in ipairs({ "ann", "bob" }) do
      store:put_contact(c, {}, 0)
      local id = store:add_instance("j", "v1", c, 0, nil, "Go", "{}")
      store:set_wait(id, 1, nil)
      store:add_outbox(message(id, c), 0)
    end
    store:commit()
    assert.equal(2, newest(store, "instances"))
    assert.equal(2, newest(store, "outbox"))
    store:begin()
    assert.is_table(store:forget("bob"))
    store:commit()
    store:close()

    store = assert(Store.open(path))
    store:begin()
    store:put_contact("cy", {}, 0)
    local id = store:add_instance("j", "v1", "cy", 0, nil, "Go", "{}")
    store:set_wait(id, 1, nil)
    store:add_outbox(message(id, "cy"), 0)
    store:commit()
    assert.equal(3, id)
    assert.equal(3, newest(store, "outbox"))
    store:close()
    for _, suffix in ipairs({ "", "-wal", "-shm" }) do os.remove(path .. suffix) end
  end)

  it("tell another process that what it keeps of contacts is stale", function()
    local path = helpers.tmpname()
    local serving, other = assert(Store.open(path)), assert(Store.open(path))
    serving:put_contact("ann", {}, 0)
    assert.is_false(serving:forgotten_since())
    other:forget("ann")
    assert.is_true(serving:forgotten_since())
    assert.is_false(serving:forgotten_since())
    serving:close()
    other:close()
    for _, suffix in ipairs({ "", "-wal", "-shm" }) do os.remove(path .. suffix) end
  end)
end)
