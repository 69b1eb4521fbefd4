local testing = require "drip.testing"

describe("ab_holdout", function()
  local function run(n)
    local sim = testing.new { journeys = { "scripts/ab_holdout.lua" } }
    for i = 1, n do
      sim:identify("c" .. i, { email = i .. "@x.test", consent = { email = true } })
      sim:track("c" .. i, "Product Viewed", { name = "Trail Shoes", url = "https://shop.test/p/shoes" })
    end
    sim:settle()
    return sim
  end

  it("holds out about 10% with no message, and splits the rest between two offers", function()
    local sim = run(400)
    local groups = {}
    for _, v in ipairs(sim:records { kind = "variant" }) do groups[v.contact] = v.variant end
    local counts = { holdout = 0, free_shipping = 0, discount = 0 }
    for _, g in pairs(groups) do counts[g] = counts[g] + 1 end
    assert.is_true(counts.holdout > 20 and counts.holdout < 65, "holdout " .. counts.holdout)
    assert.is_true(counts.free_shipping > 140 and counts.discount > 140)
    for _, m in ipairs(sim:sent()) do
      assert.is_not.equal("holdout", groups[m.contact])
      local want = groups[m.contact] == "free_shipping" and "Free shipping on Trail Shoes, today only"
        or "10% off Trail Shoes, today only"
      assert.equal(want, m.message.subject)
    end
    assert.equal(counts.free_shipping + counts.discount, #sim:sent())
  end)

  it("counts a purchase in any group, the holdout included, as a conversion", function()
    local sim = testing.new { journeys = { "scripts/ab_holdout.lua" } }
    sim:identify("u1", { email = "a@x.test", consent = { email = true } })
    sim:track("u1", "Product Viewed", { name = "X" })
    sim:advance "1d"
    sim:track("u1", "Order Completed")
    assert.equal("goal", sim:records { kind = "exit" }[1].reason)
  end)
end)
