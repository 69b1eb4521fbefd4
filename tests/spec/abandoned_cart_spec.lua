local testing = require "drip.testing"

local ava = { email = "ava@example.com", first_name = "Ava", phone = "+4915112345678",
              consent = { email = true, sms = true } }

describe("abandoned_cart", function()
  local sim
  before_each(function()
    sim = testing.new { journeys = { "scripts/abandoned_cart.lua" }, start = "2026-11-02T09:00:00Z" }
    sim:identify("u1", ava)
    sim:track("u1", "Cart Updated", { cart_url = "https://shop.test/c/1" })
  end)

  it("emails after 1h with the cart link, then texts a day later", function()
    sim:advance "1h"
    local mail = sim:expect_sent { channel = "email", contact = "u1", at = "1h" }
    assert.equal("You left something behind, Ava", mail.message.subject)
    assert.equal("Your cart is waiting: https://shop.test/c/1", mail.message.text)
    assert.equal("ava@example.com", mail.to)
    sim:advance "1d"
    local sms = sim:expect_sent { channel = "sms", contact = "u1", at = "25h" }
    assert.equal("Still thinking? https://shop.test/c/1", sms.message.text)
    assert.equal("completed", sim:records { kind = "exit" }[1].reason)
  end)

  it("sends nothing more after an order, and counts the conversion", function()
    sim:advance "2h"
    sim:track("u1", "Order Completed", { revenue = 59.9 })
    sim:settle()
    sim:expect_none { channel = "sms" }
    local conv = sim:records { kind = "convert" }
    assert.equal(1, #conv)
    assert.equal(59.9, conv[1].value)
    assert.equal("goal", sim:records { kind = "exit" }[1].reason)
  end)

  it("does not start a second instance while one is active, and respects reentry 24h", function()
    sim:track("u1", "Cart Updated", { cart_url = "https://shop.test/c/2" })
    assert.equal(1, #sim:records { kind = "enter" })
    sim:settle()
    sim:track("u1", "Cart Updated", { cart_url = "https://shop.test/c/3" })
    assert.equal(2, #sim:records { kind = "enter" })
  end)

  it("ends on Unsubscribed without sending", function()
    sim:track("u1", "Unsubscribed")
    sim:settle()
    sim:expect_none {}
    assert.equal("exit_event", sim:records { kind = "exit" }[1].reason)
  end)

  it("suppresses the SMS without consent and says why", function()
    sim:identify("u1", { consent = { email = true, sms = false } })
    sim:settle()
    local s = sim:records { kind = "suppress" }
    assert.equal(1, #s)
    assert.same({ "sms", "no_consent" }, { s[1].channel, s[1].reason })
  end)

  it("explains a missing send in the assertion message", function()
    local ok, err = pcall(sim.expect_sent, sim, { channel = "email", contact = "u1", at = "30m" })
    assert.is_false(ok)
    assert.matches("expected email at %+30m to u1, got none; the abandoned_cart instance is waiting until", err)
  end)

  it("says in the assertion message when the message was suppressed, and why", function()
    sim:identify("u1", { consent = { email = false } })
    sim:advance "1h"
    local ok, err = pcall(sim.expect_sent, sim, { channel = "email", contact = "u1", at = "1h" })
    assert.is_false(ok)
    assert.matches("expected email at %+1h to u1, got none %(email suppressed at %+1h: no_consent%); the abandoned_cart", err)
    ok, err = pcall(sim.expect_sent, sim, { channel = "email", contact = "u1" })
    assert.matches("expected one email to u1, got 0 %(email suppressed at %+1h: no_consent%)", err)
  end)

  it("refuses a channel that is none, which would match nothing (and pass expect_none)", function()
    sim:advance "1h"
    for _, check in ipairs({ sim.expect_sent, sim.expect_none, sim.sent }) do
      local ok, err = pcall(check, sim, { channel = "mail", contact = "u1" })
      assert.is_false(ok)
      assert.matches("'mail' is not a channel %(email, sms, push, telegram, webhook%)", err)
    end
  end)

  it("refuses a misspelt filter field, which would match nothing, naming the nearest", function()
    sim:advance "1h"
    for _, check in ipairs({ sim.expect_sent, sim.expect_none, sim.sent }) do
      local ok, err = pcall(function() check(sim, { chanel = "email", contact = "u1" }) end)
      assert.is_false(ok)
      assert.matches("a send: no field 'chanel'; did you mean 'channel'%? %(known: at, channel, contact,", err)
      assert.matches("abandoned_cart_spec.lua:%d+:", err) -- (the test's line, not the harness's)
    end
    assert.has_no.errors(function() sim:expect_none { channel = "sms", contact = "u1" } end)
  end)

  it("runs under the policies of a drip.conf.lua, which options given override", function()
    local path = require("helpers").tmpname() .. ".conf.lua"
    local f = assert(io.open(path, "w"))
    f:write('quiet_hours = { from = "21:00", to = "08:00" }\nconsent = "opt-out"\n')
    f:close()
    local late = testing.new { journeys = { "scripts/abandoned_cart.lua" }, start = "2026-11-02T22:00:00Z", config = path }
    late:identify("u1", { email = "ava@example.com" }) -- (no consent given: opt-out lets the message through)
    late:track("u1", "Cart Updated", { cart_url = "https://shop.test/c/1" })
    late:advance "1h"
    assert.same({ channel = "email", reason = "quiet_hours", ["until"] = "2026-11-03T08:00:00Z" },
      (function(r) return { channel = r.channel, reason = r.reason, ["until"] = r["until"] } end)(late:records { kind = "defer" }[1]))
    local overridden = testing.new { journeys = { "scripts/abandoned_cart.lua" }, start = "2026-11-02T22:00:00Z",
                                     config = path, quiet_hours = { from = "02:00", to = "03:00" } }
    overridden:identify("u1", { email = "ava@example.com" })
    overridden:track("u1", "Cart Updated", { cart_url = "https://shop.test/c/1" })
    overridden:advance "1h"
    overridden:expect_sent { channel = "email", contact = "u1", at = "1h" }
    os.remove(path)
    local ok, err = pcall(testing.new, { journeys = { "scripts/abandoned_cart.lua" }, config = path })
    assert.is_false(ok)
    assert.matches(path:gsub("%p", "%%%0"), err)
  end)

  it("refuses a misspelt option of testing.new (journey = would load every script)", function()
    local ok, err = pcall(testing.new, { journey = { "scripts/abandoned_cart.lua" } })
    assert.is_false(ok)
    assert.matches("testing.new: no option 'journey'; did you mean 'journeys'%?", err)
    ok, err = pcall(testing.new, { journeys = { "scripts/abandoned_cart.lua" }, quiet = { from = "21:00", to = "08:00" } })
    assert.matches("testing.new: no option 'quiet' %(known: config, consent, frequency_cap, global_control, journeys, quiet_hours, start, timezone, utm%)", err)
  end)
end)
