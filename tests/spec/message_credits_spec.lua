-- Each conversion credits the last message its instance sent before it
-- (last touch): `drip stats` lists, per message, the conversions it was the
-- last message before and their revenue, from counters and from the rows.
local helpers = require "helpers"
local stats = require "drip.stats"

local CART = [[
return journey {
  name = "cart", trigger = "Cart Updated", reentry = true, goal = "Order Completed",
  steps = function(ctx)
    wait "1h"
    email { subject = "Your cart", text = "Come back" }
    wait "1d"
    sms { text = "Still there?" }
    wait "1d"
  end,
}]]

local function sim_of()
  local sim = helpers.sim(CART)
  sim:identify("email_only", { email = "e@x.test", phone = "+4915000001", consent = { email = true } })
  sim:identify("both", { email = "b@x.test", phone = "+4915000002", consent = { email = true, sms = true } })
  sim:identify("early", { email = "f@x.test", consent = { email = true } })
  return sim
end

-- the journey's messages by channel, as stats lists them
local function messages_of(store, since)
  local by = {}
  for _, m in ipairs(stats.collect(store, since)[1].messages) do by[m.channel] = m end
  return by
end

describe("message credits", function()
  local sim
  setup(function()
    sim = sim_of()
    for _, who in ipairs({ "email_only", "both", "early" }) do sim:track(who, "Cart Updated") end
    sim:advance "30m"
    sim:track("early", "Order Completed", { revenue = 5 }) -- (before any message: credits none)
    sim:advance "1d" -- (the emails went, the sms waits a day)
    sim:track("email_only", "Order Completed", { revenue = 20 })
    sim:advance "1d" -- (the sms went to "both"; "email_only"'s was suppressed, no consent)
    sim:track("both", "Order Completed", { revenue = 30 })
    sim.store:commit()
  end)

  it("go to the last message sent before the conversion, with its revenue", function()
    local by = messages_of(sim.store, 0)
    assert.same({ 2, 1, 20 }, { by.email.sent, by.email.converted, by.email.revenue })
    assert.same({ 1, 1, 30 }, { by.sms.sent, by.sms.converted, by.sms.revenue })
    local j = stats.collect(sim.store, 0)[1]
    assert.same({ 3, 55 }, { j.converted, j.revenue }) -- ("early" converted with no message before)
  end)

  it("are the same counted as read from the rows", function()
    local counted = sim.store:q("counted_labels"):all(0)
    local exact = sim.store:q("stats_labels"):all(0, math.maxinteger)
    local function canon(rows)
      local by = {}
      for _, r in ipairs(rows) do
        local key = r[1] .. "|" .. r[2] .. "|" .. r[3]
        local sum = by[key] or { 0, 0, 0, 0, 0 }
        for i = 4, 8 do sum[i - 3] = sum[i - 3] + r[i] end
        by[key] = sum
      end
      return by
    end
    assert.same(canon(exact), canon(counted))
  end)

  it("are counted once on a store counted before credits", function()
    local before = messages_of(sim.store, 0)
    sim.store.db:exec("DELETE FROM counters WHERE metric = 'label' AND c IN ('converted', 'revenue'); "
      .. "DELETE FROM meta WHERE key = 'credited'")
    assert.equal(0, messages_of(sim.store, 0).email.converted)
    sim.store:count_existing()
    sim.store:count_existing() -- (once: a second open counts nothing more)
    assert.same(before, messages_of(sim.store, 0))
  end)

  it("show in the stats table", function()
    local lines = {}
    require("drip.cmd_stats").tell_journey(stats.collect(sim.store, 0)[1], function(l) lines[#lines + 1] = l end)
    local text = table.concat(lines, "\n")
    assert.matches("“Your cart”  2, converted 1 after it %(50.0%%%), revenue 20", text)
    assert.matches("“Still there%?”  1, converted 1 after it %(100.0%%%), revenue 30", text)
  end)
end)
