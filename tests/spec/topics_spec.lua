-- Topics (send{ topic = "newsletter" }): a contact unsubscribes from one
-- topic and still gets the rest; the unsubscribe link of such a message
-- names its topic; its page says so in the reader's language.
local testing = require "drip.testing"
local unsubscribe = require "drip.unsubscribe"
local page = require "drip.unsubscribe_page"
local policy = require "drip.policy"

local function journey_file(body)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(body)
  f:close()
  return path
end

describe("topics", function()
  it("suppress a message of a topic the contact left, and only that", function()
    local file = journey_file([[
return journey { name = "news", trigger = "Go", steps = function()
  email { topic = "newsletter", subject = "News", text = "Read {{unsubscribe_url}}" }
  email { subject = "Order", text = "Your order" }
  email { topic = "promos", subject = "Sale", text = "50% off" }
end }]])
    local sim = testing.new { journeys = { file } }
    sim:identify("u1", { email = "u1@example.com", consent = { email = true }, unsubscribed = { newsletter = true } })
    sim:identify("u2", { email = "u2@example.com", consent = { email = true } })
    sim:track("u1", "Go")
    sim:track("u2", "Go")
    os.remove(file)
    local held = sim:records { kind = "suppress", contact = "u1" }
    assert.same({ { "email", "topic_unsubscribed" } }, { { held[1].channel, held[1].reason } })
    assert.equal(2, #sim:sent { contact = "u1" })
    local news = sim:sent { contact = "u2" }[1]
    assert.equal(3, #sim:sent { contact = "u2" })
    assert.equal("newsletter", news.topic)
    sim:expect_sent { contact = "u2", topic = "promos" }
    local real = sim.store:contact("u1")
    assert.equal("topic_unsubscribed", require("drip.preview").would_stop(news, real, { consent = "opt-in" }))
    local token = news.message.text:match("/u/([%w_%-%.]+)")
    assert.same({ contact = "u2", channel = "email", topic = "newsletter" },
      unsubscribe.verify("drip-simulate", token, sim:now()))
  end)

  it("must be names that are not channels", function()
    local file = journey_file([[
return journey { name = "bad", trigger = "Go", steps = function() email { topic = "sms", subject = "x", text = "y" } end }]])
    local sim = testing.new { journeys = { file } }
    os.remove(file)
    sim:identify("u1", { email = "u1@example.com", consent = { email = true } })
    sim:track("u1", "Go")
    local exit = sim:records { kind = "exit" }[1]
    assert.equal("error", exit.reason)
    assert.matches('topic must be a name such as "newsletter"', exit.error, 1, true)
    assert.same({ "promos", "weekly" }, policy.topics_off({ unsubscribed = { promos = true, email = true, weekly = "yes" },
                                                          ["unsubscribed.x"] = false }))
  end)

  it("have a page in each language, offering to leave every message of the channel", function()
    local en = page.render("unsubscribed", "en", "email", "/u/T", "newsletter")
    assert.matches("<h1>You are unsubscribed from “newsletter”</h1>", en, 1, true)
    assert.matches("You will get no more of our emails about “newsletter”", en, 1, true)
    assert.matches('action="/u/T/all"><button type="submit">Unsubscribe from all emails</button>', en, 1, true)
    assert.matches('action="/u/T/resubscribe"', en, 1, true)
    local fa = page.render("unsubscribed", "fa", "email", "/u/T", "newsletter")
    assert.matches("دیگر ایمیل‌های ما دربارهٔ «newsletter» را دریافت نخواهید کرد", fa, 1, true)
    assert.matches("لغو اشتراک همهٔ ایمیل‌های ما", fa, 1, true)
    local ru = page.render("resubscribed", "ru", "email", nil, "newsletter")
    assert.matches("Вы снова будете получать наши письма на тему «newsletter»", ru, 1, true)
    assert.matches("Отписаться от всех писем", page.render("unsubscribed", "ru", "email", "/u/T", "newsletter"), 1, true)
  end)
end)
