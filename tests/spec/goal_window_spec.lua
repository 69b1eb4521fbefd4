-- A goal with a window (goal = { event =, within = "2d" }): an order that
-- comes soon after the journey ended still counts as its conversion, once.
local testing = require "drip.testing"
local helpers = require "helpers"

local CART = [[
return journey {
  name = "cart", trigger = "Cart Updated", reentry = true,
  goal = { event = "Order Completed", within = "2d", where = function(e) return (e.properties.revenue or 0) > 0 end },
  steps = function(ctx)
    wait "1h"
    email { subject = "Your cart", text = "Come back" }
  end,
}]]

local function sim_of(source)
  local sim = helpers.sim(source)
  sim:identify("u1", { email = "u1@x.test", consent = { email = true } })
  return sim
end

describe("a goal's window", function()
  it("converts the instance that ended within it, once, with the order's value", function()
    local sim = sim_of(CART)
    sim:track("u1", "Cart Updated")
    sim:advance "2h" -- (the email went, the instance ended)
    assert.equal(1, #sim:records { kind = "exit", reason = "completed" })
    sim:advance "1d"
    sim:track("u1", "Order Completed", { revenue = 0 }) -- (where() says no)
    sim:track("u1", "Order Completed", { revenue = 42 })
    sim:track("u1", "Order Completed", { revenue = 10 }) -- (converted already)
    local converts = sim:records { kind = "convert" }
    assert.equal(1, #converts)
    assert.same({ "Order Completed", 42, true }, { converts[1].event, converts[1].value, converts[1].after_end })
    assert.equal(1, sim:stats().cart.converted)
    sim.store:commit() -- (drip stats reads the counters a commit writes)
    local j = require("drip.stats").collect(sim.store, 0)[1]
    assert.same({ 1, 1, 42 }, { j.entered, j.converted, j.revenue })
  end)

  it("does not convert past the window, nor an older instance when a running one converts", function()
    local sim = sim_of(CART)
    sim:track("u1", "Cart Updated")
    sim:advance "2h"
    sim:advance "3d"
    sim:track("u1", "Order Completed", { revenue = 5 })
    assert.equal(0, #sim:records { kind = "convert" })
    sim:track("u1", "Cart Updated") -- (a second instance, which waits its hour)
    sim:advance "2h"
    sim:track("u1", "Cart Updated") -- (a third, running)
    sim:track("u1", "Order Completed", { revenue = 7 })
    local converts = sim:records { kind = "convert" }
    assert.equal(1, #converts)
    assert.is_nil(converts[1].after_end) -- (the running instance's goal; the ended second one stays unconverted)
  end)

  it("is a duration drip can read", function()
    local ok, err = pcall(testing.new, { journeys = { helpers.dir({ ["j.lua"] = CART:gsub('"2d"', '"two days"') }) } })
    assert.is_false(ok)
    assert.matches("goal.within: ", err)
  end)
end)
