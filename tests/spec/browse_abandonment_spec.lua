local testing = require "drip.testing"

describe("browse_abandonment", function()
  local sim
  before_each(function()
    sim = testing.new { journeys = { "scripts/browse_abandonment.lua" } }
    sim:identify("u1", { push_token = "tok-1", consent = { push = true } })
  end)

  it("pushes 4h after viewing a product of 20 or more", function()
    sim:track("u1", "Product Viewed", { name = "Rain Jacket", price = 120, url = "https://shop.test/p/rj" })
    sim:settle()
    local p = sim:expect_sent { channel = "push", contact = "u1", at = "4h" }
    assert.equal("Still thinking about Rain Jacket?", p.message.title)
    assert.equal("tok-1", p.to)
  end)

  it("ignores cheap products (the where clause)", function()
    sim:track("u1", "Product Viewed", { name = "Socks", price = 12.5 })
    sim:settle()
    assert.equal(0, #sim:records { kind = "enter" })
  end)

  it("exits when the product goes into the cart", function()
    sim:track("u1", "Product Viewed", { name = "Rain Jacket", price = 120 })
    sim:advance "1h"
    sim:track("u1", "Cart Updated", {})
    sim:settle()
    sim:expect_none {}
    assert.equal("exit_event", sim:records { kind = "exit" }[1].reason)
  end)
end)
