local testing = require "drip.testing"

describe("milestone", function()
  it("celebrates the first time points reach 1,000, in the contact's language, once", function()
    local sim = testing.new { journeys = { "scripts/milestone.lua" } }
    sim:identify("u1", { email = "a@x.test", locale = "fa", consent = { email = true } })
    sim:track("u1", "Points Updated", { points = 950 })
    assert.equal(0, #sim:sent())
    sim:track("u1", "Points Updated", { points = 1250 })
    local mail = sim:expect_sent { channel = "email", contact = "u1" }
    assert.equal("شما به ۱٬۲۵۰ امتیاز رسیدید — یک هدیه رایگان برای شما!", mail.message.text)
    sim:track("u1", "Points Updated", { points = 2000 })
    assert.equal(1, #sim:sent())
    assert.equal(1, #sim:records { kind = "enter" })
  end)

  it("writes Russian numbers with a no-break space", function()
    local sim = testing.new { journeys = { "scripts/milestone.lua" } }
    sim:identify("u1", { email = "a@x.test", locale = "ru", consent = { email = true } })
    sim:track("u1", "Points Updated", { points = 1500 })
    assert.equal("У вас 1\u{00A0}500 баллов — подарок за наш счёт!", sim:sent()[1].message.text)
  end)
end)
