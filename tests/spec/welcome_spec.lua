local testing = require "drip.testing"

describe("welcome", function()
  local function signup(sim, id, traits)
    sim:identify(id, traits)
    sim:track(id, "Signed Up")
  end

  it("greets at once with a split subject, tips after 2 days, a nudge on day 5 at 10:00 local", function()
    local sim = testing.new { journeys = { "scripts/welcome.lua" }, start = "2026-11-02T07:00:00Z" }
    signup(sim, "u1", { email = "a@x.test", first_name = "Ava", timezone = "Europe/Berlin", consent = { email = true } })
    local first = sim:expect_sent { channel = "email", contact = "u1", at = "0s" }
    local variant = sim:records { kind = "variant" }[1]
    assert.equal("welcome_subject", variant.split)
    if variant.variant == "A" then
      assert.equal("Welcome to Shop, Ava!", first.message.subject)
    else
      assert.equal("Ava, your 10% welcome gift is inside", first.message.subject)
    end
    assert.matches("WELCOME10", first.message.text)
    assert.matches("<b>WELCOME10</b>", first.message.html)
    sim:advance "2d"
    sim:expect_sent { channel = "email", contact = "u1", at = "2d" }
    sim:settle()
    -- day 5 is 2026-11-07 07:00Z = 08:00 Berlin; the next 10:00 Berlin is 09:00Z
    local last = sim:expect_sent { channel = "email", contact = "u1", at = "2026-11-07T09:00:00Z" }
    assert.matches("expires soon", last.message.subject)
  end)

  it("skips the nudge when the contact has ordered", function()
    local sim = testing.new { journeys = { "scripts/welcome.lua" } }
    signup(sim, "u1", { email = "a@x.test", consent = { email = true } })
    sim:advance "1d"
    sim:track("u1", "Order Completed", { revenue = 10 })
    sim:settle()
    assert.equal(1, #sim:sent())
    assert.equal("goal", sim:records { kind = "exit" }[1].reason)
  end)

  it("gives the same contact the same variant, and both variants appear across contacts", function()
    local seen = {}
    for run = 1, 2 do
      local sim = testing.new { journeys = { "scripts/welcome.lua" } }
      for i = 1, 40 do signup(sim, "c" .. i, { email = i .. "@x.test", consent = { email = true } }) end
      for _, v in ipairs(sim:records { kind = "variant" }) do
        if run == 1 then seen[v.contact] = v.variant else assert.equal(seen[v.contact], v.variant) end
      end
    end
    local counts = {}
    for _, v in pairs(seen) do counts[v] = (counts[v] or 0) + 1 end
    assert.is_true(counts.A > 5 and counts.B > 5)
  end)

  it("writes Persian and Russian copy byte for byte", function()
    local sim = testing.new { journeys = { "scripts/welcome.lua" } }
    signup(sim, "fa1", { email = "f@x.test", first_name = "سارا", locale = "fa", consent = { email = true } })
    signup(sim, "ru1", { email = "r@x.test", first_name = "Анна", locale = "ru", consent = { email = true } })
    local fa = sim:sent { contact = "fa1" }[1].message.subject
    local ru = sim:sent { contact = "ru1" }[1].message.subject
    assert.is_true(fa == "سارا، به فروشگاه خوش آمدید!" or fa == "سارا، هدیه ۱۰٪ خوش‌آمدگویی شما")
    assert.is_true(ru == "Добро пожаловать в Shop, Анна!" or ru == "Анна, ваш подарок 10% внутри")
  end)

  it("sends the welcome template in the contact's language, right to left in Persian", function()
    local sim = testing.new { journeys = { "scripts/welcome.lua" } }
    signup(sim, "fa1", { email = "f@x.test", first_name = "سارا", locale = "fa-IR", consent = { email = true } })
    signup(sim, "ru1", { email = "r@x.test", first_name = "Анна", language = "Русский", consent = { email = true } })
    signup(sim, "en1", { email = "e@x.test", first_name = "Ava", consent = { email = true } })
    local fa, ru = sim:sent { contact = "fa1" }[1].message, sim:sent { contact = "ru1" }[1].message
    assert.matches("^سارا، ", fa.subject) -- (the subject, in code, reads the region's language too)
    assert.equal("سارا، سلام!", fa.text:match("^[^\n]+"))
    assert.matches('<div dir="rtl" lang="fa">\n<p>سارا، سلام!</p>', fa.html, 1, true)
    assert.equal("Здравствуйте, Анна!", ru.text:match("^[^\n]+"))
    assert.matches("<p>Здравствуйте, Анна!</p>", ru.html, 1, true)
    assert.equal("Hi Ava,", sim:sent { contact = "en1" }[1].message.text:match("^[^\n]+"))
    assert.equal("کد WELCOME10 ده درصد از اولین خریدتان کم می‌کند", fa.preheader) -- (one line, as the file has it)
    assert.matches("\n— تیم Shop\n$", fa.text) -- (the signature partial, in the contact's language)
    assert.matches("<p>— Команда Shop</p>\n</div>", ru.html, 1, true)
    assert.equal("Код WELCOME10 — скидка 10% на первый заказ", ru.preheader)
    assert.equal("Your code WELCOME10 takes 10% off your first order", sim:sent { contact = "en1" }[1].message.preheader)
    sim:advance "2d"
    assert.equal("۳ نکته برای استفادهٔ بهتر از Shop", sim:sent { contact = "fa1" }[2].message.subject)
    assert.equal("3 совета, как получить больше от Shop", sim:sent { contact = "ru1" }[2].message.subject)
    assert.equal("3 tips to get the most out of Shop", sim:sent { contact = "en1" }[2].message.subject)
  end)
end)
