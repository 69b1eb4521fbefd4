-- drip.tracking: the links and open image put into an email's HTML, the
-- short links put into an SMS, and reading their tokens and codes back.
local tracking = require "drip.tracking"

local T = { base = "https://drip.test/", secret = "s3cret", clicks = true, opens = true, message = 42 }

local function tokens(html, kind)
  local out = {}
  for token in html:gmatch("https://drip%.test/" .. kind .. "/([%w_%-%.]+)") do out[#out + 1] = token end
  return out
end

describe("tracking", function()
  it("sends each http(s) link through drip, as written (entities and all), and adds an open image", function()
    local html = tracking.html([[<body><A HREF='https://shop.test/a?x=1&amp;y=2'>a</A> <a class="b" href="HTTP://shop.test/b">b</a>]]
      .. [[ <a href="mailto:hi@shop.test">m</a> <a href="https://drip.test/u/tok">u</a> <a href="#top">t</a></body>]], T)
    local clicks = tokens(html, "c")
    assert.equal(2, #clicks)
    assert.same({ kind = "click", message = 42, link = "https://shop.test/a?x=1&y=2" }, tracking.read("s3cret", "click", clicks[1]))
    assert.same({ kind = "click", message = 42, link = "HTTP://shop.test/b" }, tracking.read("s3cret", "click", clicks[2]))
    assert.matches("<A HREF='https://drip.test/c/", html, 1, true)
    assert.matches('href="mailto:hi@shop.test"', html, 1, true)
    assert.matches('href="https://drip.test/u/tok"', html, 1, true)
    assert.matches('href="#top"', html, 1, true)
    local opens = tokens(html, "o")
    assert.equal(1, #opens)
    assert.matches('style="display:none"></body>$', html)
    assert.same({ kind = "open", message = 42 }, tracking.read("s3cret", "open", opens[1]))
  end)

  it("does only what it is asked, and adds the image at the end of HTML without a body", function()
    local html = tracking.html('<p><a href="https://shop.test/">x</a></p>', { base = T.base, secret = T.secret,
                                                                               opens = true, message = 7 })
    assert.matches('^<p><a href="https://shop.test/">x</a></p><img src="https://drip.test/o/', html)
    assert.equal('<a href="https://shop.test/">x</a>', tracking.html('<a href="https://shop.test/">x</a>',
      { base = T.base, secret = T.secret, message = 7 }))
  end)

  it("refuses a token changed, of another kind, or signed with another secret", function()
    local click = tokens(tracking.html('<a href="https://shop.test/">x</a>', T), "c")[1]
    assert.same({ nil, "the link's signature does not match" }, { tracking.read("other", "click", click) })
    assert.same({ nil, "not a link drip made" }, { tracking.read("s3cret", "open", click) })
    assert.same({ nil, "not a link drip made" }, { tracking.read("s3cret", "click", "nonsense") })
    local changed = (click:sub(1, 1) == "Y" and "Z" or "Y") .. click:sub(2) -- (the payload's first character)
    assert.same({ nil, "the link's signature does not match" }, { tracking.read("s3cret", "click", changed) })
  end)

  it("reads its settings from drip.conf.lua", function()
    assert.same({ clicks = true, opens = false, sms_clicks = false }, tracking.check({ clicks = true }))
    assert.same({ clicks = false, opens = false, sms_clicks = true }, tracking.check({ sms_clicks = true }))
    assert.is_nil(tracking.check({ clicks = false }))
    assert.same({ nil, "tracking.links: unknown key (tracking takes clicks, opens and sms_clicks)" },
      { tracking.check({ links = true }) })
  end)

  it("shortens each link of an SMS, leaving the punctuation after it and the unsubscribe link", function()
    local text = "Ваша корзина: https://shop.test/c/u1?a=1. Ещё: http://shop.test/x), "
      .. "سبد شما https://shop.test/fa؟ stop: https://drip.test/u/tok"
    local out = tracking.sms_text(text, { base = T.base, secret = T.secret, message = 123456 })
    local codes = {}
    for code in out:gmatch("https://drip%.test/s/(%w+)") do codes[#codes + 1] = code end
    assert.equal(3, #codes)
    assert.equal("Ваша корзина: https://drip.test/s/" .. codes[1] .. ". Ещё: https://drip.test/s/" .. codes[2]
      .. "), سبد شما https://drip.test/s/" .. codes[3] .. "؟ stop: https://drip.test/u/tok", out)
    local links = tracking.links_in_text(text)
    for k, code in ipairs(codes) do
      local id, which = tracking.read_short("s3cret", code)
      assert.same({ 123456, k }, { id, which })
      assert.equal(({ "https://shop.test/c/u1?a=1", "http://shop.test/x", "https://shop.test/fa" })[k], links[which][3])
    end
    assert.is_true(#codes[1] <= 11) -- (a short link: in a Persian SMS a segment holds 70 characters)
    assert.equal("https://shop.test/кл", tracking.links_in_text("«https://shop.test/кл»!")[1][3]) -- (л ends in the byte » does)
  end)

  it("refuses a short code changed or signed with another secret", function()
    local code = tracking.short_code("s3cret", 99, 1)
    assert.same({ 99, 1 }, { tracking.read_short("s3cret", code) })
    assert.is_nil(tracking.read_short("other", code))
    assert.is_nil(tracking.read_short("s3cret", "2" .. code:sub(2)))
    assert.is_nil(tracking.read_short("s3cret", code:sub(1, -2)))
    assert.is_nil(tracking.read_short("s3cret", "nonsense!"))
  end)

  it("tells a program's fetch of a link from a person's, by the method and the User-Agent", function()
    for _, person in ipairs({
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
      "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", -- (Gmail, as it opens)
      "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
    }) do
      assert.is_nil(tracking.machine("GET", person), person)
    end
    for _, program in ipairs({
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Slackbot-LinkExpanding 1.0",
      "Mozilla/5.0 (compatible; Barracuda Sentinel)", "Mimecast-URL-Protect/1.0", "WhatsApp/2.23.20.0",
      "facebookexternalhit/1.1 Facebot Twitterbot/1.0", "python-requests/2.31", "curl/8.5.0", "Go-http-client/1.1",
    }) do
      assert.equal(program, tracking.machine("GET", program))
    end
    assert.equal("a HEAD request", tracking.machine("HEAD", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
    assert.equal("no User-Agent", tracking.machine("GET", nil))
    assert.equal("no User-Agent", tracking.machine("GET", "  "))
    assert.equal(120, #tracking.machine("GET", "bot " .. string.rep("x", 300)))
  end)
end)
