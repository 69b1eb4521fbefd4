-- Campaign parameters on the links of messages (config `utm`): web
-- analytics tell which journey and channel brought a visit.
local testing = require "drip.testing"
local utm = require "drip.utm"
local config = require "drip.config"
local helpers = require "helpers"

local JOURNEY = [[
return journey { name = "cart", trigger = "Go", steps = function()
  email { subject = "Your cart", text = "See https://shop.test/c?u=1. Or https://shop.test/x#top, bye {{unsubscribe_url}}",
          html = '<a href="https://shop.test/c?u=1&amp;v=2">cart</a> <a href="mailto:hi@shop.test">m</a> '
            .. '<a href="https://shop.test/p?utm_source=mine">kept</a>' }
  sms { text = "Ваша корзина: https://shop.test/c" }
end }]]

describe("utm", function()
  it("tags each link of a message with its source, channel and journey", function()
    local sim = testing.new { journeys = { helpers.dir({ ["j.lua"] = JOURNEY }) }, utm = true }
    sim:identify("u1", { email = "u1@x.test", phone = "+15550001111", consent = { email = true, sms = true } })
    sim:track("u1", "Go")
    local mail, sms = sim:sent { channel = "email" }[1].message, sim:sent { channel = "sms" }[1].message
    assert.matches("^See https://shop.test/c%?u=1&utm_source=drip&utm_medium=email&utm_campaign=cart%. "
      .. "Or https://shop.test/x%?utm_source=drip&utm_medium=email&utm_campaign=cart#top, bye http://127.0.0.1:8425/u/[%w_%-%.]+$",
      mail.text)
    assert.equal('<a href="https://shop.test/c?u=1&amp;v=2&amp;utm_source=drip&amp;utm_medium=email&amp;utm_campaign=cart">'
      .. 'cart</a> <a href="mailto:hi@shop.test">m</a> <a href="https://shop.test/p?utm_source=mine">kept</a>', mail.html)
    assert.equal("Ваша корзина: https://shop.test/c?utm_source=drip&utm_medium=sms&utm_campaign=cart", sms.text)
    assert.equal("Your cart", mail.subject)
  end)

  it("takes its own source, medium and campaign, and nothing is tagged without it", function()
    local dir = helpers.dir({ ["j.lua"] = JOURNEY })
    local tagged = testing.new { journeys = { dir }, utm = { source = "crm", campaign = "spring sale" } }
    local plain = testing.new { journeys = { dir } }
    for _, sim in ipairs({ tagged, plain }) do
      sim:identify("u1", { phone = "+15550001111", consent = { sms = true } })
      sim:track("u1", "Go")
    end
    assert.equal("Ваша корзина: https://shop.test/c?utm_source=crm&utm_medium=sms&utm_campaign=spring%20sale",
      tagged:sent { channel = "sms" }[1].message.text)
    assert.equal("Ваша корзина: https://shop.test/c", plain:sent { channel = "sms" }[1].message.text)
  end)

  it("reads its setting from drip.conf.lua, naming what is wrong", function()
    assert.same({ source = "drip" }, utm.check(true))
    assert.is_nil(utm.check(false))
    assert.same({ nil, "utm.sorce: unknown key (utm takes source, medium and campaign)" }, { utm.check({ sorce = "x" }) })
    local path = helpers.dir({ ["drip.conf.lua"] = 'utm = "yes"\n' }) .. "/drip.conf.lua"
    local conf, err = config.load(path, true)
    assert.is_nil(conf)
    assert.equal(path .. ":1: 'utm' must be a boolean or a table", err)
  end)
end)
