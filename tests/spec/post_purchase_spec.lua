local testing = require "drip.testing"

describe("post_purchase", function()
  local order = { order_id = "SO-1", revenue = 89, currency = "EUR", product = "Trail Shoes", category = "shoes" }

  it("thanks at once (transactional), how-to at 3d, review at 10d, cross-sell at 14d", function()
    local sim = testing.new { journeys = { "scripts/post_purchase.lua" } }
    sim:identify("u1", { email = "a@x.test", first_name = "Ava" }) -- no marketing consent
    sim:track("u1", "Order Completed", order)
    local thanks = sim:expect_sent { channel = "email", contact = "u1", at = "0s" }
    assert.equal("transactional", thanks.kind_of_message)
    assert.equal("Thank you for your order SO-1", thanks.message.subject)
    assert.equal("We are packing it now. Total: 89 EUR", thanks.message.text)
    sim:settle()
    -- the marketing follow-ups are suppressed without consent
    assert.equal(3, #sim:records { kind = "suppress", reason = "no_consent" })
  end)

  it("sends the whole series with consent, and records the review request time", function()
    local sim = testing.new { journeys = { "scripts/post_purchase.lua" } }
    sim:identify("u1", { email = "a@x.test", first_name = "Ava", consent = { email = true } })
    sim:track("u1", "Order Completed", order)
    sim:settle()
    sim:expect_sent { channel = "email", at = "3d", contact = "u1" }
    local review = sim:expect_sent { channel = "email", at = "10d", contact = "u1" }
    assert.equal("How do you like it, Ava?", review.message.subject)
    local cross = sim:expect_sent { channel = "email", at = "14d", contact = "u1" }
    assert.equal("Goes well with your Trail Shoes", cross.message.subject)
    assert.equal(sim.start + 10 * 86400, sim.store:contact("u1").review_requested_at)
  end)
end)
