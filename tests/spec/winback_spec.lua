local testing = require "drip.testing"

describe("winback", function()
  it("fires after 30 quiet days, once per quiet spell", function()
    local sim = testing.new { journeys = { "scripts/winback.lua" } }
    sim:identify("u1", { email = "a@x.test", first_name = "Ava", consent = { email = true }, lifetime_value = 900 })
    sim:advance "29d"
    assert.equal(0, #sim:sent())
    sim:advance "1d"
    local m = sim:expect_sent { channel = "email", contact = "u1", at = "30d" }
    assert.equal("We miss you, Ava", m.message.subject)
    sim:advance "7d"
    -- a vip gets the second email after 7 more quiet days
    sim:expect_sent { channel = "email", contact = "u1", at = "37d" }
    sim:advance "60d"
    assert.equal(1, #sim:records { kind = "enter" }) -- no new activity: no second spell
  end)

  it("journey sends and emitted events are not activity; a new event starts a new spell", function()
    local sim = testing.new { journeys = { "scripts/winback.lua" } }
    sim:identify("u1", { email = "a@x.test", consent = { email = true } })
    sim:advance "40d"
    assert.equal(1, #sim:records { kind = "enter" })
    assert.equal(1, #sim:records { kind = "log" }) -- not a vip
    sim:track("u1", "Session Started")
    sim:advance "31d"
    assert.equal(2, #sim:records { kind = "enter" })
  end)

  it("stops waiting when the contact comes back", function()
    local sim = testing.new { journeys = { "scripts/winback.lua" } }
    sim:identify("u1", { email = "a@x.test", consent = { email = true }, lifetime_value = 900 })
    sim:advance "31d"
    sim:track("u1", "Session Started")
    sim:advance "10d"
    assert.equal(1, #sim:sent())
    assert.equal("completed", sim:records { kind = "exit" }[1].reason)
  end)
end)
