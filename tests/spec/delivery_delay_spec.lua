local testing = require "drip.testing"

describe("delivery_delay", function()
  it("apologises at once, even without consent, and follows up a day after delivery", function()
    local sim = testing.new { journeys = { "scripts/delivery_delay.lua" }, quiet_hours = { from = "21:00", to = "08:00" },
                              start = "2026-11-02T23:30:00Z" }
    sim:identify("u1", { email = "a@x.test", consent = { email = true } })
    sim:track("u1", "Order Delayed", { order_id = "SO-9", days_late = 4 })
    local sorry = sim:expect_sent { channel = "email", contact = "u1", at = "0s" } -- transactional: not held by quiet hours
    assert.equal("Your order SO-9 is running late — we are sorry", sorry.message.subject)
    assert.matches("SORRY20", sorry.message.text)
    sim:advance "12h"
    sim:track("u1", "Order Delivered", { order_id = "SO-9" })
    sim:settle()
    local follow = sim:sent { channel = "email" }
    assert.equal(2, #follow)
    assert.equal("Thanks for your patience: SORRY20 is waiting for you", follow[2].message.subject)
  end)

  it("offers the smaller code for a short delay, and no follow-up when it never arrives", function()
    local sim = testing.new { journeys = { "scripts/delivery_delay.lua" } }
    sim:identify("u1", { email = "a@x.test" })
    sim:track("u1", "Order Delayed", { order_id = "SO-10", days_late = 1 })
    sim:settle()
    local sent = sim:sent { channel = "email" }
    assert.equal(1, #sent)
    assert.matches("SORRY10", sent[1].message.text)
  end)

  it("ignores a delay event without days_late", function()
    local sim = testing.new { journeys = { "scripts/delivery_delay.lua" } }
    sim:identify("u1", { email = "a@x.test" })
    sim:track("u1", "Order Delayed", { order_id = "SO-11" })
    assert.equal(0, #sim:records { kind = "enter" })
  end)
end)
