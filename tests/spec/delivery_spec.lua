-- Delivery's pure parts: policies, SMS segments, MIME, provider answers,
-- unsubscribe tokens, channel settings; and caps and quiet hours in a journey.
local helpers = require "helpers"
local policy = require "drip.policy"
local channels = require "drip.channels"
local email = require "drip.email"
local unsubscribe = require "drip.unsubscribe"
local host = require "drip_host"
local time = require "drip.time"

describe("quiet hours", function()
  local quiet = assert(policy.parse_quiet({ from = "21:00", to = "08:00" }))
  it("defer from the evening to 08:00 the next morning, in the contact's zone", function()
    local t = time.parse("2026-11-02T22:30:00", "Asia/Tehran")
    assert.equal(time.parse("2026-11-03T08:00:00", "Asia/Tehran"), policy.quiet_until(quiet, "Asia/Tehran", t))
  end)
  it("defer from after midnight to 08:00 the same day", function()
    local t = time.parse("2026-11-02T03:10:00Z")
    assert.equal(time.parse("2026-11-02T08:00:00Z"), policy.quiet_until(quiet, "UTC", t))
  end)
  it("leave the day alone", function()
    assert.is_nil(policy.quiet_until(quiet, "UTC", time.parse("2026-11-02T12:00:00Z")))
  end)
  it("name a bad setting", function()
    local _, err = policy.parse_quiet({ from = "25:00", to = "08:00" })
    assert.matches("quiet_hours.from", err)
    assert.equal("quiet_hours.too: unknown key (quiet_hours takes from and to)",
      select(2, policy.parse_quiet({ from = "21:00", too = "08:00" })))
    assert.equal('quiet_hours: expected { from = "21:00", to = "08:00" }', select(2, policy.parse_quiet("21:00-08:00")))
  end)
end)

describe("frequency caps", function()
  it("parse per channel and across channels", function()
    local caps = assert(policy.parse_caps({ email = "3/7d", all = "5/1w" }))
    assert.same({ n = 3, window = 7 * 86400 }, caps.email)
    assert.same({ n = 5, window = 7 * 86400 }, caps.all)
  end)
  it("name what is wrong", function()
    assert.matches("frequency_cap.fax: not a channel", select(2, policy.parse_caps({ fax = "1/1d" })))
    assert.matches('frequency_cap.email: "3 a week"', select(2, policy.parse_caps({ email = "3 a week" })))
  end)
  it("suppress the message past the cap and fall back to the next channel", function()
    local sim = helpers.sim([[return journey { trigger = "Go", reentry = true, steps = function(ctx)
      send { channels = { "email", "sms" }, subject = "s", text = "t" }
    end }]], { frequency_cap = { email = "2/7d" } })
    sim:identify("u", { email = "u@x.test", phone = "+1", consent = { email = true, sms = true } })
    for _ = 1, 3 do sim:track("u", "Go") end
    local got = {}
    for _, r in ipairs(sim:records({ kind = "send" })) do got[#got + 1] = r.channel end
    assert.same({ "email", "email", "sms" }, got)
  end)
  it("leave transactional messages alone", function()
    local sim = helpers.sim([[return journey { trigger = "Go", reentry = true, steps = function(ctx)
      email { kind = "transactional", subject = "receipt", text = "t" }
    end }]], { frequency_cap = { email = "1/7d" } })
    sim:identify("u", { email = "u@x.test" })
    for _ = 1, 3 do sim:track("u", "Go") end
    assert.equal(3, #sim:records({ kind = "send" }))
  end)
end)

describe("a marketing message in quiet hours", function()
  it("is deferred, with a record saying until when", function()
    local sim = helpers.sim([[return journey { trigger = "Go", steps = function(ctx)
      local r = email { subject = "s", text = "t" }
      log(r.status .. " " .. r["until"])
    end }]], { quiet_hours = { from = "21:00", to = "08:00" }, start = "2026-11-02T23:00:00Z" })
    sim:identify("u", { email = "u@x.test", consent = { email = true } })
    sim:track("u", "Go")
    local d = sim:records({ kind = "defer" })
    assert.equal(1, #d)
    assert.equal("quiet_hours", d[1].reason)
    assert.equal("2026-11-03T08:00:00Z", d[1]["until"])
    assert.equal(0, #sim:records({ kind = "send" }))
    local stats = sim:stats()[d[1].journey]
    assert.same({ 0, 1 }, { stats.sent, stats.deferred }) -- (counted, not lost)
  end)
end)

describe("SMS segments", function()
  it("count GSM-7 as 160, then 153 per part", function()
    assert.same({ 1, "GSM-7" }, { channels.sms_segments(("a"):rep(160)) })
    assert.same({ 2, "GSM-7" }, { channels.sms_segments(("a"):rep(161)) })
    assert.same({ 2, "GSM-7" }, { channels.sms_segments(("a"):rep(159) .. "€") }) -- € takes two septets
  end)
  it("count each printable ASCII character as GSM-7 has it: one septet, two (its extension), or none", function()
    local extension, not_gsm = "[\\]^{|}~", "`"
    for c = 32, 126 do
      local ch = string.char(c)
      local got = { channels.sms_segments(ch:rep(80)) }
      if extension:find(ch, 1, true) then
        assert.same({ 1, "GSM-7" }, got, ch) -- 160 septets
        assert.same({ 2, "GSM-7" }, { channels.sms_segments(ch:rep(81)) }, ch)
      elseif ch == not_gsm then
        assert.same({ 2, "UCS-2" }, got, ch)
      else
        assert.same({ 1, "GSM-7" }, { channels.sms_segments(ch:rep(160)) }, ch)
        assert.same({ 2, "GSM-7" }, { channels.sms_segments(ch:rep(161)) }, ch)
      end
    end
    assert.same({ 2, "GSM-7" }, { channels.sms_segments(("a\r\n"):rep(54)) }) -- 162
  end)
  it("never split an escaped character across two parts", function()
    assert.same({ 2, "GSM-7" }, { channels.sms_segments(("a"):rep(152) .. "€" .. ("a"):rep(7)) }) -- 161 septets
    assert.same({ 3, "GSM-7" }, { channels.sms_segments(("a"):rep(152) .. "€" .. ("a"):rep(152)) }) -- 306: 152 | 2+151 | 1
  end)
  it("name the few characters that turn a text into UCS-2, not a whole alphabet", function()
    assert.same({ 1, "UCS-2", "’ —" }, { channels.sms_segments("It’s here — don’t miss it") })
    assert.same({ 1, "UCS-2", "😀" }, { channels.sms_segments("Hi 😀 there") })
    assert.same({ 1, "UCS-2" }, { channels.sms_segments("Привет") })
    assert.same({ 2, "UCS-2" }, { channels.sms_segments(("😀"):rep(36)) }) -- 72 UTF-16 units; a pair is never split
  end)
  it("count Persian and Russian as UCS-2: 70, then 67 per part", function()
    assert.same({ 1, "UCS-2" }, { channels.sms_segments(("س"):rep(70)) })
    assert.same({ 2, "UCS-2" }, { channels.sms_segments(("ж"):rep(71)) })
    assert.same({ 3, "UCS-2" }, { channels.sms_segments(("ж"):rep(135)) })
  end)
end)

describe("email", function()
  it("encodes a long UTF-8 subject as words of at most 75 bytes that decode back", function()
    local subject = ("Ваш заказ готов — سفارش شما آماده است "):rep(3)
    local header = email.encode_header(subject)
    local decoded = {}
    for word in header:gmatch("[^\r\n ]+") do
      assert.is_true(#word <= 75)
      decoded[#decoded + 1] = host.unbase64(word:match("^=%?UTF%-8%?B%?(.-)%?=$"))
    end
    assert.equal(subject, table.concat(decoded))
  end)
  it("never lets a header value add a header", function()
    assert.equal("hi Bcc: x@y", email.encode_header("hi\r\nBcc: x@y"))
  end)
  it("sets dir=rtl on Persian HTML, and leaves Russian and explicit dir alone", function()
    assert.equal('<div dir="rtl"><p>سلام دوست</p></div>', email.with_direction("<p>سلام دوست</p>"))
    assert.equal('<body dir="rtl"><p>سلام</p></body>', email.with_direction("<body><p>سلام</p></body>"))
    assert.equal("<p>Привет</p>", email.with_direction("<p>Привет</p>"))
    assert.equal('<p dir="ltr">سلام</p>', email.with_direction('<p dir="ltr">سلام</p>'))
  end)
  it("reads the text of HTML: paragraphs, links with their address, lists, entities, no head or style", function()
    assert.equal("سلام سارا!\n\nYour cart is waiting: open it (https://shop.test/c?a=1&b=2).\n\n- One & two\n"
      .. "- Три — —\n\nWrite to us\nBye\n", email.text_of_html([[<html><head><title>x</title>
<style>p{color:red}</style></head><body><h1>سلام  سارا!</h1><p>Your cart is <b>waiting</b>:&nbsp;<a
href="https://shop.test/c?a=1&amp;b=2">open it</a>.</p><ul><li>One &amp; two</li><li>Три &#8212; &#x2014;</li></ul>
<p>Write to <a href="mailto:hi@shop.test">us</a><br>Bye</p><!-- hidden --></body></html>]]))
  end)
  it("hides the preheader at the start of the HTML's body, escaped, and leaves the text part alone", function()
    local html = email.with_preheader('<html><body class="x"><p>Hi</p></body></html>', "50% off <today> & more")
    assert.matches('^<html><body class="x"><div style="display:none;max%-height:0;overflow:hidden;mso%-hide:all">'
      .. "50%% off &lt;today&gt; &amp; more&#847;&zwnj;&nbsp;", html)
    assert.matches("</div><p>Hi</p></body></html>$", html)
    assert.matches('^<div style="display:none', email.with_preheader("<p>سلام</p>", "پیش‌نمایش"))
    assert.equal("<p>Hi</p>", email.with_preheader("<p>Hi</p>", nil))
    local spec = channels.request("email", { smtp = "smtp://127.0.0.1:1", from = "Shop <hi@shop.test>", timeout = 5 },
      "ava@example.com", { subject = "Hi", preheader = "Inside: 10% off", text = "Hello", html = "<p>Hello</p>" },
      { key = "drip-1-1", now = 0 })
    local function part(kind)
      return host.unbase64(spec.body:match("Content%-Type: text/" .. kind .. "; charset=UTF%-8\r\n"
        .. "Content%-Transfer%-Encoding: base64\r\n\r\n([%w+/=\r\n]+)"):gsub("\r\n", ""))
    end
    assert.equal("Hello", part("plain"))
    assert.matches(">Inside: 10%% off&#847;", part("html"))
  end)
  it("gives a message written only in HTML a plain part made from it", function()
    local spec = channels.request("email", { smtp = "smtp://127.0.0.1:1", from = "Shop <hi@shop.test>", timeout = 5 },
      "ava@example.com", { subject = "Hi", html = "<p>Hello <b>Ava</b></p>" }, { key = "drip-1-1", now = 0 })
    assert.matches('Content-Type: multipart/alternative', spec.body, 1, true)
    assert.matches("Content-Type: text/plain; charset=UTF-8", spec.body, 1, true)
    local plain = spec.body:match("Content%-Type: text/plain; charset=UTF%-8\r\nContent%-Transfer%-Encoding: base64\r\n\r\n([%w+/=]+)")
    assert.equal("Hello Ava\n", host.unbase64(plain))
  end)
end)

describe("provider answers", function()
  local now = 1000
  it("2xx is sent; other 4xx fail for good", function()
    assert.equal("sent", (channels.outcome("sms", { status = 201, body = "" }, now)))
    assert.equal("failed", (channels.outcome("sms", { status = 404, body = "" }, now)))
  end)
  it("408, 429, 5xx and transport errors are retried; Retry-After is read", function()
    assert.equal("retry", (channels.outcome("push", { status = 408, body = "" }, now)))
    assert.equal("retry", (channels.outcome("push", { status = 0, error = "Connection refused" }, now)))
    local status, _, wait = channels.outcome("webhook", { status = 503, retry_after = "7", body = "" }, now)
    assert.same({ "retry", 7 }, { status, wait })
    local at = time.utc_epoch(2026, 11, 2, 9, 0, 30)
    assert.equal(30, channels.retry_after("Mon, 02 Nov 2026 09:01:00 GMT", at))
    local _, _, tg = channels.outcome("telegram", { status = 429, body = '{"ok":false,"parameters":{"retry_after":12}}' }, now)
    assert.equal(12, tg)
  end)
  it("SMTP: 5xx fails, 4xx and no connection retry", function()
    assert.equal("failed", (channels.outcome("email", { status = 550, error = "RCPT failed" }, now)))
    local _, detail = channels.outcome("email", { status = 550, error = "RCPT failed: 550", reply = "550 5.1.1 user unknown" }, now)
    assert.equal("550 5.1.1 user unknown", detail.reply) -- the server's own words, for explain
    assert.equal("retry", (channels.outcome("email", { status = 451, error = "RCPT failed" }, now)))
    assert.equal("retry", (channels.outcome("email", { status = 0, error = "Couldn't connect" }, now)))
  end)
  it("tell a failure about the address (gone, blocked, STOP) from one about the message", function()
    local gone = channels.address_gone
    assert.equal("bounced", gone("email", { status = 550, error = "RCPT failed: 550" }))
    assert.equal("bounced", gone("email", { status = 550, error = "RCPT failed: 550", reply = "550 5.1.1 <a@x.test>: user unknown" }))
    assert.equal("bounced", gone("email", { status = 550, error = "RCPT failed: 550", reply = "550 5.2.1 mailbox disabled" }))
    assert.equal("bounced", gone("email", { status = 550, error = "RCPT failed: 550", reply = "550 no such user here" }))
    assert.equal("bounced", gone("email", { status = 550, error = "RCPT failed: 550", -- (Microsoft 365: no such address)
      reply = "550 5.4.1 Recipient address rejected: Access denied. [AM4PEPF00025F9B.EURPRD83.prod.outlook.com]" }))
    assert.is_nil(gone("email", { status = 550, error = "RCPT failed: 550", reply = "550 5.4.1 No answer from host" }))
    -- refusals of the sender, not the mailbox: no bounce, or one blocklisting would mark a whole domain
    assert.is_nil(gone("email", { status = 550, error = "RCPT failed: 550", reply = "550 5.7.1 Service unavailable; client host blocked using Spamhaus" }))
    assert.is_nil(gone("email", { status = 554, error = "RCPT failed: 554", reply = "554 5.7.1 Relay access denied" }))
    assert.is_nil(gone("email", { status = 550, error = "RCPT failed: 550", reply = "550 Message rejected due to poor IP reputation" }))
    assert.is_nil(gone("email", { status = 554, error = "DATA failed: 554" }))      -- (the content refused)
    assert.equal("bounced", gone("telegram", { status = 403, body = '{"description":"Forbidden: bot was blocked by the user"}' }))
    assert.equal("bounced", gone("telegram", { status = 400, body = '{"description":"Bad Request: chat not found"}' }))
    assert.is_nil(gone("telegram", { status = 400, body = '{"description":"Bad Request: message text is empty"}' }))
    assert.equal("bounced", gone("push", { status = 404, body = '{"error":{"status":"NOT_FOUND"}}' }))
    assert.equal("bounced", gone("push", { status = 400, body = '{"details":[{"errorCode":"UNREGISTERED"}]}' }))
    assert.equal("unsubscribed", gone("sms", { status = 400, body = '{"code":21610,"message":"unsubscribed recipient"}' }))
    assert.equal("bounced", gone("sms", { status = 400, body = '{"code":21211,"message":"invalid To"}' }, "+15550001"))
    -- a number with no calling code is refused for its form: not a bounce
    assert.is_nil(gone("sms", { status = 400, body = '{"code":21211,"message":"invalid To"}' }, "09121234567"))
    assert.is_nil(gone("sms", { status = 400, body = '{"code":21602,"message":"body required"}' }))
    assert.is_nil(gone("webhook", { status = 410, body = "" }))
  end)
end)

describe("phone numbers and chat ids", function()
  it("go to providers in ASCII digits, without the separators people write", function()
    local function to(channel, v) return policy.address(channel, { phone = v, telegram_chat_id = v }) end
    assert.equal("+989121234567", to("sms", "+98 (912) ۱۲۳-۴۵۶۷"))
    assert.equal("09121234567", to("sms", "۰۹۱۲۱۲۳۴۵۶۷"))
    assert.equal("+966501234567", to("sms", "٠٠٩٦٦٥٠١٢٣٤٥٦٧"))
    assert.equal("+74951234567", to("sms", "+7 (495) 123-45-67"))
    assert.equal("-1001234567890", to("telegram", "-1001234567890"))
    assert.equal("call me", to("sms", "call me")) -- (not a number: as written, for the provider to refuse)
    assert.equal("a.b-c@x.test", policy.address("email", { email = "a.b-c@x.test" }))
    assert.equal("ava@x.test", policy.address("email", { email = " ava@x.test\t" }))
    assert.is_nil(policy.address("email", { email = "  " }))
  end)
end)

describe("phones written the national way", function()
  it("take the calling code of phone_country: 0 as the trunk prefix, 8 for +7, 1 for +1", function()
    local function sms_to(phone, country) return policy.address("sms", { phone = phone }, nil, country) end
    assert.equal("+989121234567", sms_to("0912 123 4567", "+98"))
    assert.equal("+989121234567", sms_to("۰۹۱۲۱۲۳۴۵۶۷", "+98"))
    assert.equal("+79123456789", sms_to("8 (912) 345-67-89", "+7"))
    assert.equal("+12125551234", sms_to("1-212-555-1234", "+1"))
    assert.equal("+4915112345678", sms_to("+49 151 12345678", "+98")) -- (an international one as it is)
    assert.equal("+989121234567", sms_to("0098 912 123 4567", "+98"))
    assert.equal("09121234567", sms_to("09121234567", nil)) -- (no phone_country: as written)
    assert.equal("04242", policy.address("telegram", { telegram_chat_id = "04242" }, nil, "+98")) -- (chat ids untouched)
  end)
  -- a drip.conf.lua that says `text`, in a directory of its own -> its path
  local function conf_file(text) return helpers.dir({ ["drip.conf.lua"] = text }) .. "/drip.conf.lua" end
  it("are sent so in a journey, with phone_country in drip.conf.lua", function()
    local dir = helpers.dir({ ["j.lua"] = 'return journey { trigger = "Go", steps = function() sms { text = "سلام" } end }' })
    local sim = require("drip.testing").new { journeys = { dir }, config = conf_file('phone_country = "+98"\n') }
    sim:identify("u", { phone = "۰۹۱۲ ۱۲۳ ۴۵۶۷", consent = { sms = true } })
    sim:track("u", "Go")
    assert.equal("+989121234567", sim:records { kind = "send" }[1].to)
  end)
  it("phone_country must be a calling code", function()
    local conf, err = require("drip.config").load(conf_file('phone_country = "IR"\n'), true)
    assert.is_nil(conf)
    assert.matches(':1: phone_country: "IR" is not a calling code such as "%+98" or "%+7"', err)
  end)
end)

describe("a bounced address", function()
  it("takes nothing more, marketing or transactional; another address of the contact does", function()
    local traits = { email = "old@x.test", consent = { email = true }, ["bounced.email"] = "old@x.test" }
    assert.same({ nil, "bounced" }, { policy.check("email", "marketing", traits, { consent = "opt-in" }) })
    assert.same({ nil, "bounced" }, { policy.check("email", "transactional", traits, { consent = "opt-in" }) })
    traits.email = "new@x.test"
    assert.equal("new@x.test", (policy.check("email", "marketing", traits, { consent = "opt-in" })))
  end)
  it("takes messages again once an identify clears bounced.<channel> (a chat that unblocked the bot)", function()
    local sim = helpers.sim('return journey { trigger = "Go", reentry = true, steps = function() telegram { text = "hi" } end }')
    sim:identify("u", { telegram_chat_id = "42", consent = { telegram = true }, ["bounced.telegram"] = "42" })
    sim:track("u", "Go")
    sim:identify("u", { ["bounced.telegram"] = require("drip.json").null })
    sim:track("u", "Go")
    local decided = {}
    for _, r in ipairs(sim:records()) do
      if r.kind == "send" or r.kind == "suppress" then decided[#decided + 1] = r.kind .. " " .. (r.reason or r.to) end
    end
    assert.same({ "suppress bounced", "send 42" }, decided)
  end)
end)

describe("unsubscribe tokens", function()
  it("round-trip, and refuse tampering, other secrets and expiry", function()
    local tok = unsubscribe.token("s3cret", "user-1", "email", 1000)
    assert.same({ contact = "user-1", channel = "email" }, unsubscribe.verify("s3cret", tok, 2000))
    assert.is_nil(unsubscribe.verify("other", tok, 2000))
    local forged = unsubscribe.token("s3cret", "user-2", "email", 1000):match("^[^.]+") .. tok:match("%..+$")
    assert.matches("signature", select(2, unsubscribe.verify("s3cret", forged, 2000)))
    assert.matches("expired", select(2, unsubscribe.verify("s3cret", tok, 1000 + unsubscribe.TTL + 1)))
    assert.is_nil(unsubscribe.verify("s3cret", "not-a-token", 2000))
  end)
end)

describe("channel settings", function()
  it("name the key that is wrong", function()
    assert.matches("channels.fax: not a channel", select(2, channels.check({ fax = {} })))
    assert.matches("channels.sms.colour: unknown key", select(2, channels.check({ sms = { colour = 1 } })))
    assert.matches("channels.sms.acount: unknown key; did you mean 'account'%? %(known: account, attempts,",
      select(2, channels.check({ sms = { acount = "AC1" } })))
    assert.matches("channels.webhook.secret: required", select(2, channels.check({ webhook = { url = "http://x" } })))
    assert.matches('channels.email.rate: "fast"', select(2, channels.check({ email = { smtp = "smtp://x", from = "a@b", rate = "fast" } })))
  end)
  it("fill in defaults and read rates", function()
    local c = assert(channels.check({ push = { url = "http://x", rate = "6000/m" } }))
    assert.equal(100, c.push.rate)
    assert.equal(10, c.push.timeout)
  end)
end)

describe("the sample drip.conf.lua", function()
  it("loads, with its caps and quiet hours read", function()
    local config = require "drip.config"
    local conf = assert(config.load("examples/drip.conf.lua", true))
    assert.same({ n = 3, window = 7 * 86400 }, conf.caps.email)
    assert.same({ from = 21 * 60, to = 8 * 60 }, conf.quiet)
    -- (the secrets it reads with env are not set here)
    conf.channels.webhook.secret, conf.channels.telegram.bot_token = "s", "t"
    assert.truthy(channels.check(conf.channels))
  end)
end)

describe("a cap across channels", function()
  it("counts every channel's marketing messages", function()
    local sim = helpers.sim([[return journey { trigger = "Go", reentry = true, steps = function(ctx)
      email { subject = "s", text = "t" }
      sms { text = "t" }
    end }]], { frequency_cap = { all = "3/7d" } })
    sim:identify("u", { email = "u@x.test", phone = "+1", consent = { email = true, sms = true } })
    sim:track("u", "Go")
    sim:track("u", "Go")
    local sent, capped = #sim:records({ kind = "send" }), sim:records({ kind = "suppress" })
    assert.equal(3, sent)
    assert.equal(1, #capped)
    assert.equal("frequency_cap", capped[1].reason)
  end)
end)
