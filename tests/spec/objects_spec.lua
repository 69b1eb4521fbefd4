-- Objects made by drip.objects hold their class's methods as their own
-- fields, keep the fields they were given, and still reach the class.
local objects = require "drip.objects"
local Engine = require "drip.engine"
local Store = require "drip.store"

describe("objects", function()
  it("holds the class's methods, keeps given fields, and reaches what the class gains later", function()
    local Class = { kind = "a class" }
    Class.__index = Class
    function Class:name() return "the class's name" end
    function Class:size() return #self.items end
    local given = function() return "its own name" end
    local obj = objects.new({ items = { 1, 2, 3 }, name = given }, Class)
    assert.equal(Class, getmetatable(obj))
    assert.equal(Class.size, rawget(obj, "size"))
    assert.equal(3, obj:size())
    assert.equal("its own name", obj:name()) -- (a field given is not overwritten)
    assert.is_nil(rawget(obj, "kind")) -- (only functions are copied)
    assert.equal("a class", obj.kind)
    function Class:later() return "added after" end
    assert.equal("added after", obj:later())
  end)

  it("makes the engine and the store hold their methods", function()
    local store = assert(Store.open(":memory:"))
    local engine = Engine.new({ store = store })
    assert.equal(Engine.send, rawget(engine, "send"))
    assert.equal(Store.add_event, rawget(store, "add_event"))
    store:close()
  end)
end)
