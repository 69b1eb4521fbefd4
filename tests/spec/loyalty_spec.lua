local testing = require "drip.testing"

describe("loyalty", function()
  it("invites a contact a day after their second order within 90 days, once", function()
    local sim = testing.new { journeys = { "scripts/loyalty.lua" } }
    sim:identify("u1", { email = "u1@x.test", first_name = "Ava", consent = { email = true } })
    sim:track("u1", "Order Completed", { total = 20 })
    sim:advance "10d"
    sim:expect_none { channel = "email" }
    sim:track("u1", "Order Completed", { total = 30 })
    sim:advance "1d"
    local mail = sim:expect_sent { channel = "email", contact = "u1", at = "11d" }
    assert.equal("Thank you for coming back, Ava", mail.message.subject)
    sim:track("u1", "Order Completed", { total = 40 })
    sim:settle()
    assert.equal(1, #sim:sent())
  end)

  it("does not count orders more than 90 days apart", function()
    local sim = testing.new { journeys = { "scripts/loyalty.lua" } }
    sim:identify("u1", { email = "u1@x.test", consent = { email = true } })
    sim:track("u1", "Order Completed")
    sim:advance "91d"
    sim:track("u1", "Order Completed")
    sim:settle()
    sim:expect_none { channel = "email" }
  end)
end)
