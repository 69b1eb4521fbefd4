-- The global control group (global_control = "N%" in drip.conf.lua): a
-- share of contacts, chosen by a hash of the id, gets no marketing message,
-- so that each journey's lift can be read against them in drip stats.
local testing = require "drip.testing"
local policy = require "drip.policy"

describe("the global control group", function()
  local function month(share)
    local sim = testing.new { journeys = { "scripts/abandoned_cart.lua" }, global_control = share }
    for i = 1, 200 do
      local id = "u" .. i
      sim:identify(id, { email = id .. "@example.com", consent = { email = true } })
      sim:track(id, "Cart Updated", { cart_url = "https://shop.test/c/" .. i })
      if i % 4 == 0 then sim:track(id, "Order Completed", { revenue = 10 }) end
    end
    sim:settle()
    return sim
  end

  it("gets no marketing message, and every entry is told which side it is on", function()
    local sim = month("10%")
    local control = {}
    for i = 1, 200 do
      if policy.in_control("u" .. i, 10) then control["u" .. i] = true end
    end
    local n = 0
    for _ in pairs(control) do n = n + 1 end
    assert.is_true(n > 5 and n < 40, "about a tenth of 200 in control, got " .. n)
    for _, rec in ipairs(sim:records { kind = "variant" }) do
      assert.equal("global_control", rec.split)
      assert.equal(control[rec.contact] and "control" or "treatment", rec.variant)
    end
    assert.equal(200, #sim:records { kind = "variant" })
    for _, rec in ipairs(sim:sent()) do assert.is_nil(control[rec.contact], rec.contact .. " is in control") end
    local held_back = sim:records { kind = "suppress", reason = "global_control", channel = "email" }
    for _, rec in ipairs(held_back) do assert.is_true(control[rec.contact]) end
    local emailed = sim:sent { channel = "email" }
    assert.equal(200 - 50, #emailed + #held_back) -- (the 50 who ordered at once got nothing)
    assert.is_true(#held_back > 0)
  end)

  it("is read in drip stats as a split, control against treatment", function()
    local sim = month("20%")
    sim.store:commit() -- (drip stats reads the counters a commit writes)
    local split = require("drip.stats").collect(sim.store, 0)[1].splits.global_control
    assert.same({ "control", "treatment" }, { split[1].variant, split[2].variant })
    assert.equal(200, split[1].entered + split[2].entered)
    assert.is_number(split[2].p_value)
  end)

  it("is off by default, and a share that is not one is an error naming the key", function()
    assert.same({}, month(nil):records { kind = "variant" })
    assert.has_error(function() testing.new { journeys = { "scripts/abandoned_cart.lua" }, global_control = "5" } end,
      'global_control: "5" is not a share of contacts such as "5%"')
  end)
end)
