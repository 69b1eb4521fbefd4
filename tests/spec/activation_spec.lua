local testing = require "drip.testing"

describe("activation", function()
  local function signup(sim)
    sim:identify("u1", { email = "a@x.test", first_name = "Ava", push_token = "t1", consent = { email = true, push = true } })
    sim:track("u1", "Signed Up")
  end

  it("emails on day 3 and pushes on day 7 when the product is never used", function()
    local sim = testing.new { journeys = { "scripts/activation.lua" } }
    signup(sim)
    sim:settle()
    local mail = sim:expect_sent { channel = "email", contact = "u1", at = "3d" }
    assert.equal("Your first step takes two minutes, Ava", mail.message.subject)
    sim:expect_sent { channel = "push", contact = "u1", at = "7d" }
  end)

  it("stops as soon as the product is used", function()
    local sim = testing.new { journeys = { "scripts/activation.lua" } }
    signup(sim)
    sim:advance "4d"
    sim:track("u1", "Product Used")
    sim:settle()
    sim:expect_none { channel = "push" }
    assert.equal("goal", sim:records { kind = "exit" }[1].reason)
  end)
end)
