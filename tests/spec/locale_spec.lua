-- Template filters for Persian and Russian readers, with real strings.
local locale = require "drip.locale"
local template = require "drip.template"
local helpers = require "helpers"

local function render(src, scope) return template.render(src, scope or {}) end

describe("the Solar Hijri calendar", function()
  it("starts the year at Nowruz", function()
    assert.same({ 1403, 1, 1 }, { locale.jalali(2024, 3, 20) })
    assert.same({ 1404, 1, 1 }, { locale.jalali(2025, 3, 21) })
    assert.same({ 1404, 12, 29 }, { locale.jalali(2026, 3, 20) })
    assert.same({ 1405, 1, 1 }, { locale.jalali(2026, 3, 21) })
  end)
  it("knows other well-known days", function()
    assert.same({ 1378, 10, 11 }, { locale.jalali(2000, 1, 1) })
    assert.same({ 1405, 9, 1 }, { locale.jalali(2026, 11, 22) })
    assert.same({ 1403, 12, 30 }, { locale.jalali(2025, 3, 20) }) -- 1403 is a leap year
  end)
end)

describe("date", function()
  local d = { d = "2026-11-22T10:00:00Z" }
  it('"fa": Solar Hijri with Persian digits and month names', function()
    assert.equal("۱ آذر ۱۴۰۵", render('{{d | date "fa"}}', d))
  end)
  it('"ru": the genitive month', function()
    assert.equal("22 ноября 2026", render('{{d | date "ru"}}', d))
  end)
  it("in a time zone, when given one", function()
    assert.equal("23 ноября 2026", render('{{d | date("ru", "Asia/Tehran")}}', { d = "2026-11-22T21:00:00Z" }))
  end)
  it("plain ISO by default; leaves what is not a date alone", function()
    assert.equal("2026-11-22", render("{{d | date}}", d))
    assert.equal("soon", render('{{d | date "fa"}}', { d = "soon" }))
  end)
end)

describe("number", function()
  it('"fa": Persian digits, Arabic thousands and decimal separators', function()
    assert.equal("۱۲٬۵۰۰٬۰۰۰", render('{{n | number "fa"}}', { n = 12500000 }))
    assert.equal("۱٬۲۳۴٫۵۰", render('{{n | number "fa"}}', { n = 1234.5 }))
  end)
  it('"ru": no-break space between groups, decimal comma', function()
    assert.equal("12\u{00A0}500", render('{{n | number "ru"}}', { n = 12500 }))
    assert.equal("-1\u{00A0}234,50", render('{{n | number "ru"}}', { n = -1234.5 }))
  end)
end)

describe("plural (Russian rules)", function()
  local f = '{{n | plural("товар", "товара", "товаров")}}'
  it("one, few and many, with the teens", function()
    local got = {}
    for _, n in ipairs({ 1, 2, 5, 11, 12, 21, 22, 25, 101, 111, 0 }) do got[#got + 1] = render(f, { n = n }) end
    assert.same({ "1 товар", "2 товара", "5 товаров", "11 товаров", "12 товаров", "21 товар", "22 товара",
                  "25 товаров", "101 товар", "111 товаров", "0 товаров" }, got)
  end)
end)

describe("money", function()
  it("rials in Persian, roubles and euros", function()
    assert.equal("۱۲٬۵۰۰٬۰۰۰ ریال", render('{{p | money "IRR"}}', { p = 12500000 }))
    assert.equal("1\u{00A0}234,50\u{00A0}₽", render('{{p | money "RUB"}}', { p = 1234.5 }))
    assert.equal("€1,234.50", render('{{p | money "EUR"}}', { p = 1234.5 }))
  end)
end)

describe("upper and lower", function()
  it("change Cyrillic, Greek and accented Latin letters, not only A-Z", function()
    assert.equal("АННА ЁЛКИНА", render("{{n | upper}}", { n = "Анна ёлкина" }))
    assert.equal("анна ёлкина", render("{{n | lower}}", { n = "АННА ЁЛКИНА" }))
    assert.equal("ЇЖАК ҐАНОК Ӂ", render("{{n | upper}}", { n = "їжак ґанок ӂ" }))
    assert.equal("ΟΔΥΣΣΈΑΣ", render("{{n | upper}}", { n = "οδυσσέας" }))
    assert.equal("ÉLODIE ŁUKASZ Ÿ", render("{{n | upper}}", { n = "élodie łukasz ÿ" }))
    assert.equal("straße", render("{{n | lower}}", { n = "STRAßE" }))
  end)
  it("leave Persian text, digits and bytes that are not letters alone", function()
    assert.equal("مریم ۱۲ OK", render("{{n | upper}}", { n = "مریم ۱۲ ok" }))
    assert.equal("", render("{{n | upper}}", {}))
  end)
end)

describe("a contact's language", function()
  it("reads tags, names in three languages, and the language trait before locale", function()
    local tags = locale.language_tags
    assert.same({ "fa-ir", "fa" }, tags("fa_IR"))
    assert.same({ "pt-br", "pt" }, tags(" pt-BR "))
    assert.same({ "zh-hant-tw", "zh" }, tags("zh-Hant-TW"))
    assert.same({ "ru" }, tags("RU"))
    assert.same({ "fa" }, tags("Farsi"))
    assert.same({ "fa" }, tags("فارسی"))
    assert.same({ "ru" }, tags("Русский"))
    assert.same({ "en" }, tags("انگلیسی"))
    assert.is_nil(tags("x"))
    assert.is_nil(tags("fa IR"))
    assert.is_nil(tags(7))
    assert.same({ "ru" }, locale.contact_language({ language = "ru", locale = "fa-IR" }))
    assert.same({ "fa-ir", "fa" }, locale.contact_language({ language = "?", locale = "fa-IR" }))
    assert.is_nil(locale.contact_language({}))
  end)
end)

describe("filters in a journey", function()
  it("render a Persian and a Russian message byte for byte", function()
    local sim = helpers.sim([[return journey { trigger = "Order Completed", steps = function(ctx)
      email { subject = "سفارش شما: {{event.properties.total | money \"IRR\"}}",
              text = "تاریخ: {{event.timestamp | date \"fa\"}}" }
      sms { text = "В корзине {{event.properties.items | plural(\"товар\", \"товара\", \"товаров\")}}" }
    end }]], { start = "2026-11-22T09:00:00Z" })
    sim:identify("u", { email = "u@x.test", phone = "+7900", consent = { email = true, sms = true } })
    sim:track("u", "Order Completed", { total = 4500000, items = 3 })
    local sent = sim:sent()
    assert.equal("سفارش شما: ۴٬۵۰۰٬۰۰۰ ریال", sent[1].message.subject)
    assert.equal("تاریخ: ۱ آذر ۱۴۰۵", sent[1].message.text)
    assert.equal("В корзине 3 товара", sent[2].message.text)
  end)
end)

describe("template sources built per contact", function()
  it("are not kept without bound (drip run renders them for months)", function()
    local function grow(from)
      collectgarbage("collect")
      local before = collectgarbage("count")
      for i = from, from + 49999 do
        assert.equal("Order " .. i .. " for Ava", render("Order " .. i .. " for {{contact.name}}", { contact = { name = "Ava" } }))
      end
      collectgarbage("collect")
      return collectgarbage("count") - before
    end
    grow(0) -- fills the cache to its bound
    assert.is_true(grow(100000) < 1024, "50,000 more sources kept more than 1 MiB")
  end)
end)
