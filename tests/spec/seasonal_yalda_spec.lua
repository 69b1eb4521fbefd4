local testing = require "drip.testing"

describe("seasonal_yalda", function()
  local function sim_with(n)
    local sim = testing.new { journeys = { "scripts/seasonal_yalda.lua" }, start = "2026-12-01T09:00:00Z" }
    for i = 1, n do
      sim:identify("fa" .. i, { email = i .. "@x.ir", first_name = "مریم", locale = "fa", timezone = "Asia/Tehran",
                                consent = { email = true, push = true }, push_token = "tok" .. i })
    end
    sim:identify("en1", { email = "en@x.test", locale = "en", consent = { email = true } })
    return sim
  end

  it("greets half of the Persian segment at 10:00 Tehran time on 20 December", function()
    local sim = sim_with(200)
    sim:advance "2026-12-20T12:00:00Z"
    local mails = sim:sent { channel = "email" }
    assert.is_true(#mails > 75 and #mails < 125, "half of 200, got " .. #mails)
    for _, m in ipairs(mails) do
      assert.equal("2026-12-20T06:30:00Z", m.at)
      assert.equal("شب یلدا مبارک، مریم", m.message.subject)
      assert.is_not.equal("en1", m.contact)
    end
  end)

  it("follows up by push only those who did not order within a day", function()
    local sim = sim_with(40)
    sim:advance "2026-12-20T07:00:00Z"
    local mails = sim:sent { channel = "email" }
    assert.is_true(#mails > 0)
    sim:track(mails[1].contact, "Order Completed", { total = 90 })
    sim:settle()
    local pushes = sim:sent { channel = "push" }
    assert.equal(#mails - 1, #pushes)
    assert.equal(1, sim:stats().seasonal_yalda.converted)
  end)
end)

describe("a broadcast by the Solar Hijri calendar", function()
  it("goes at 10:00 on 1 Farvardin 1405 (Nowruz, 21 March 2026) in each contact's zone, in Persian digits too", function()
    for _, when in ipairs({ "1405-01-01 10:00", "۱۴۰۵-۰۱-۰۱ ۱۰:۰۰" }) do
      local sim = require("helpers").sim(string.format(
        'return journey { trigger = { schedule = %q }, steps = function(ctx) email { subject = "نوروز مبارک" } end }', when),
        { start = "2026-03-19T00:00:00Z" })
      sim:identify("fa1", { email = "a@x.ir", timezone = "Asia/Tehran", consent = { email = true } })
      sim:advance "2026-03-22T00:00:00Z"
      assert.same({ "2026-03-21T06:30:00Z" }, (function(l) local t = {} for i, m in ipairs(l) do t[i] = m.at end return t end)(sim:sent()))
    end
  end)

  it("refuses a day the calendar does not have (Esfand 30th of a common year)", function()
    local ok, err = pcall(require("helpers").sim,
      'return journey { trigger = { schedule = "1404-12-30 10:00" }, steps = function(ctx) end }')
    assert.is_false(ok)
    assert.matches('no day "1404%-12%-30" in the Solar Hijri calendar', err)
  end)
end)

describe("a broadcast dated day first", function()
  it("reads 20.12.2026 10:00 as Russian writes it: 20 December", function()
    local rule = assert(require("drip.schedule").parse("20.12.2026 10:00"))
    assert.same({ 2026, 12, 20, 10, 0 }, { rule.y, rule.m, rule.d, rule.H, rule.M })
    local _, err = require("drip.schedule").parse("32.12.2026 10:00")
    assert.matches('bad schedule "32.12.2026 10:00"', err, 1, true)
  end)
end)
