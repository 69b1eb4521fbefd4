-- The words of a contact's story in each language: the same texts as
-- English, each with the same placeholders in the same order.
local words = require "drip.explain_words"

local placeholders = require("helpers").placeholders

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

describe("drip.explain_words", function()
  local en = words.of("en")

  for _, lang in ipairs({ "fa", "ru" }) do
    local W = words.of(lang)
    it(lang .. " has every text English has, and no other", function()
      assert.are.same(keys(en), keys(W))
    end)

    it(lang .. ": each text takes what English's takes, in the same order", function()
      for k, v in pairs(en) do
        assert.are.equal(type(v), type(W[k]), k)
        if type(v) == "string" then assert.are.equal(placeholders(v), placeholders(W[k]), k) end
      end
    end)

    it(lang .. ": the texts of a count name what they are given", function()
      local said = W.lookalike("cart_updated", 3)
      assert.truthy(said:find("cart_updated", 1, true) and said:find("3", 1, true), said)
      said = W.starts_on("Cart Updated", "u1", 21, "2026-11-01T10:00:00Z")
      for _, part in ipairs({ "Cart Updated", "u1", "21", "2026-11-01T10:00:00Z" }) do
        assert.truthy(said:find(part, 1, true), said)
      end
    end)

    it(lang .. ": every reason and delivery state drip stores in words", function()
      for _, code in ipairs({ "no_consent", "no_address", "unsubscribed", "topic_unsubscribed", "frequency_cap",
                              "quiet_hours", "global_control", "paused", "completed", "goal", "exit_event", "error" }) do
        assert.are_not.equal(code, words.reason(W, code), code)
      end
      for _, code in ipairs({ "queued", "sending", "sent", "failed", "suppressed", "deferred", "held", "simulated" }) do
        assert.are_not.equal(code, words.state(W, code), code)
      end
    end)
  end

  it("English shows the stored codes as they are, as records print them", function()
    assert.are.equal("no_consent", words.reason(en, "no_consent"))
    assert.are.equal("sent", words.state(en, "sent"))
    assert.are.equal("some_new_reason", words.reason(words.of("fa"), "some_new_reason"))
  end)

  it("counts in Russian take their plural", function()
    local ru = words.of("ru")
    assert.truthy(ru.lookalike("x", 1):find("1 раз;", 1, true))
    assert.truthy(ru.lookalike("x", 3):find("3 раза;", 1, true))
    assert.truthy(ru.lookalike("x", 11):find("11 раз;", 1, true))
    assert.truthy(ru.lookalike("x", 22):find("22 раза;", 1, true))
  end)

  it("an unknown language is English", function()
    assert.are.equal(en, words.of("de"))
    assert.are.equal(en, words.of(nil))
  end)
end)
