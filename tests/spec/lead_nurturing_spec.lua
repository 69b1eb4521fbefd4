local testing = require "drip.testing"

describe("lead_nurturing", function()
  it("sends the guide, then lessons on Mondays 09:00 in the contact's zone, then a webhook", function()
    -- 2026-11-04 is a Wednesday
    local sim = testing.new { journeys = { "scripts/lead_nurturing.lua" }, start = "2026-11-04T12:00:00Z" }
    sim:identify("u1", { email = "a@x.test", timezone = "Asia/Tehran", consent = { email = true } })
    sim:track("u1", "Guide Downloaded", { guide = "Launch Playbook", url = "https://shop.test/g.pdf" })
    local guide = sim:expect_sent { channel = "email", contact = "u1", at = "0s" }
    assert.equal("Your guide: Launch Playbook", guide.message.subject)
    sim:settle()
    -- Monday 09:00 in Tehran (UTC+3:30) is 05:30 UTC
    sim:expect_sent { channel = "email", contact = "u1", at = "2026-11-09T05:30:00Z" }
    sim:expect_sent { channel = "email", contact = "u1", at = "2026-11-16T05:30:00Z" }
    local last = sim:expect_sent { channel = "email", contact = "u1", at = "2026-11-23T05:30:00Z" }
    assert.equal("Lesson 3: Measuring what matters", last.message.subject)
    local hook = sim:expect_sent { channel = "webhook", contact = "u1" }
    assert.equal("a@x.test", hook.message.contact)
  end)

  it("leaves out the lessons for a reader who left their topic, and sends the rest", function()
    local sim = testing.new { journeys = { "scripts/lead_nurturing.lua" }, start = "2026-11-04T12:00:00Z" }
    sim:identify("u1", { email = "a@x.test", consent = { email = true }, unsubscribed = { lessons = true } })
    sim:track("u1", "Guide Downloaded", { guide = "G" })
    sim:settle()
    assert.equal(1, #sim:sent { channel = "email" }) -- the guide
    assert.equal(3, #sim:records { kind = "suppress", reason = "topic_unsubscribed" })
    sim:expect_sent { channel = "webhook", contact = "u1" }
  end)

  it("stops at the goal and expires after its 30 day timeout", function()
    local sim = testing.new { journeys = { "scripts/lead_nurturing.lua" }, start = "2026-11-04T12:00:00Z" }
    sim:identify("u1", { email = "a@x.test", consent = { email = true } })
    sim:track("u1", "Guide Downloaded", { guide = "G" })
    sim:advance "6d"
    sim:track("u1", "Demo Booked")
    assert.equal("goal", sim:records { kind = "exit" }[1].reason)
    sim:identify("u2", { email = "b@x.test", consent = { email = true } })
    sim:track("u2", "Guide Downloaded", { guide = "G" })
    sim:track("u2", "Guide Downloaded", { guide = "G" }) -- reentry = false
    assert.equal(1, #sim:records { kind = "enter", contact = "u2" })
  end)
end)
