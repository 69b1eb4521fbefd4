-- drip.tracking — clicks and opens of emails (config `tracking = { clicks =
-- true, opens = true }`), and clicks of SMS links (`sms_clicks = true`).
-- Owns what goes into an email's HTML as it is sent (each http(s) link
-- through <base>/c/<token>, an image <base>/o/<token> at its end), what
-- goes into an SMS (each link as a short <base>/s/<code>), and reading
-- those back. A click token seals the message id and the link, so the link
-- goes where it was written even when the message is no longer stored; an
-- open token seals the message id. A short code is the message id, which
-- link of its text, and a short signature: it is found again in the stored
-- message, so it lives as long as the message does. The unsubscribe link
-- and an email's text part are left as written. Also telling a fetch by a
-- program (a mail server's link scanner, say) from a person's click.
local signed = require "drip.signed"
local host = require "drip_host"
local template = require "drip.template"

local tracking = {}

tracking.CLICKED, tracking.OPENED = "Email Link Clicked", "Email Opened" -- (Segment's names for them)
tracking.SMS_CLICKED = "SMS Link Clicked"

-- A transparent 1x1 GIF, the image an open loads.
tracking.PIXEL = "GIF89a\1\0\1\0\128\0\0\0\0\0\255\255\255\33\249\4\1\0\0\0\0\44\0\0\0\0\1\0\1\0\0\2\2\68\1\0\59"


local function base_of(t) return (t.base:gsub("/+$", "")) end

function tracking.click_url(t, message_id, link)
  return base_of(t) .. "/c/" .. signed.seal(t.secret, "c1\n" .. message_id .. "\n" .. link)
end

function tracking.open_url(t, message_id)
  return base_of(t) .. "/o/" .. signed.seal(t.secret, "o1\n" .. message_id)
end

-- html with each http(s) link of an <a href> replaced by fn(link) (nil:
-- left as written); hrefs are read and written HTML-escaped
function tracking.map_hrefs(html, fn)
  return (html:gsub("(<[aA]%s[^>]-[hH][rR][eE][fF]%s*=%s*)([\"'])(.-)%2", function(head, quote, href)
    local link = template.unescape_html(href)
    local new = link:match("^[hH][tT][tT][pP][sS]?://") and fn(link)
    return new and head .. quote .. template.escape_html(new) .. quote or nil
  end))
end

-- The HTML with its links tracked and an open image added, as t asks.
-- t: { base =, secret =, clicks = bool, opens = bool, message = outbox id }
function tracking.html(html, t)
  if t.clicks then
    local unsubscribe = base_of(t) .. "/u/"
    html = tracking.map_hrefs(html, function(link)
      return link:sub(1, #unsubscribe) ~= unsubscribe and tracking.click_url(t, t.message, link) or nil
    end)
  end
  if t.opens then
    local img = string.format('<img src="%s" width="1" height="1" alt="" style="display:none">',
      tracking.open_url(t, t.message))
    local at = html:find("</[bB][oO][dD][yY]>")
    html = at and (html:sub(1, at - 1) .. img .. html:sub(at)) or (html .. img)
  end
  return html
end

-- SMS links -------------------------------------------------------------------------------

local B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
local MAX_LINKS = #B62 - 1 -- links of one text that are tracked (which one is one digit, 1 to 61)
local TAG = 6              -- characters of signature: 36 bits, for a redirect and a click event

local function b62(n)
  local out = ""
  repeat
    out = B62:sub(n % 62 + 1, n % 62 + 1) .. out
    n = n // 62
  until n == 0
  return out
end

local function un_b62(text)
  local n = 0
  for i = 1, #text do
    local d = B62:find(text:sub(i, i), 1, true)
    if not d or n > (math.maxinteger - 61) // 62 then return nil end
    n = n * 62 + d - 1
  end
  return n
end

local function tag(secret, id, k)
  return host.base64(host.hmac_sha256(secret, "s1\n" .. id .. "\n" .. k, "raw"), "url"):sub(1, TAG)
end

-- "<message id><link digit><signature>"
function tracking.short_code(secret, id, k) return b62(id) .. b62(k) .. tag(secret, id, k) end

-- a short code -> message id, which link (1, 2, ...) | nil
function tracking.read_short(secret, code)
  code = tostring(code)
  if #code < TAG + 2 or not code:match("^[%w_-]+$") then return nil end
  local sig = code:sub(-TAG)
  local id, k = un_b62(code:sub(1, -TAG - 2)), un_b62(code:sub(-TAG - 1, -TAG - 1))
  if not id or not k or k < 1 or not signed.same(tag(secret, id, k), sig) then return nil end
  return id, k
end

-- what closes a sentence or an aside after a link, in English, Russian and Persian
local CLOSERS = { ".", ",", ";", ":", "!", "?", ")", "]", "'", "»", "؟", "،" }
local function without_closers(url)
  local cut
  repeat
    cut = false
    for _, c in ipairs(CLOSERS) do
      if url:sub(-#c) == c then url, cut = url:sub(1, -#c - 1), true end
    end
  until not cut
  return url
end

-- The http(s) links written in a text (an SMS, say), in order: { { from, to, url }, ... }.
-- A link ends at a space, and the punctuation that closes a sentence after
-- it is not its own ("see https://shop.test/c." ends at c).
function tracking.links_in_text(text)
  local links, at = {}, 1
  while #links < MAX_LINKS do
    local from, to = text:find("[hH][tT][tT][pP][sS]?://[^%s<>\"]+", at)
    if not from then break end
    local url = without_closers(text:sub(from, to))
    links[#links + 1] = { from, from + #url - 1, url }
    at = to + 1
  end
  return links
end

-- text with its k-th link (see links_in_text) replaced by fn(link, k)
function tracking.map_text_links(text, fn)
  local out, at = {}, 1
  for k, link in ipairs(tracking.links_in_text(text)) do
    out[#out + 1] = text:sub(at, link[1] - 1) .. fn(link[3], k)
    at = link[2] + 1
  end
  out[#out + 1] = text:sub(at)
  return table.concat(out)
end

-- An SMS text with its links through <base>/s/<code> (not the unsubscribe link).
-- t: { base =, secret =, message = outbox id }
function tracking.sms_text(text, t)
  local unsubscribe = base_of(t) .. "/u/"
  return tracking.map_text_links(text, function(link, k)
    if link:sub(1, #unsubscribe) == unsubscribe then return link end
    return base_of(t) .. "/s/" .. tracking.short_code(t.secret, t.message, k)
  end)
end

-- A token of a click or open -> { kind = "click" | "open", message = id,
-- link = (a click's) } | nil, why
function tracking.read(secret, kind, token)
  local payload, problem = signed.open(secret, token)
  if problem == "forged" then return nil, "the link's signature does not match" end
  local id, link
  if kind == "click" then
    id, link = (payload or ""):match("^c1\n(%d+)\n(.+)$")
    if link and not link:lower():match("^https?://") then id = nil end
  else
    id = (payload or ""):match("^o1\n(%d+)$")
  end
  if not id then return nil, "not a link drip made" end
  return { kind = kind, message = tonumber(id), link = link }
end

-- Programs that fetch a message's links and images as it arrives, not as a
-- person opens or clicks it: the link scanners of mail servers (Mimecast,
-- Barracuda, Proofpoint, ...), the link previews of messaging apps, crawlers,
-- and scripts. Words of their User-Agent, lower case. (Gmail's and Yahoo's
-- image proxies fetch an email's images as the person opens it: opens.)
local MACHINES = { "spider", "crawl", "preview", "scanner", "mimecast", "barracuda", "proofpoint", "urldefense",
                   "ironport", "messagelabs", "symantec", "trendmicro", "sophos", "forcepoint", "linkcheck",
                   "facebookexternalhit", "whatsapp", "python", "go-http-client", "java/", "apache-httpclient",
                   "curl/", "wget/", "libwww", "headlesschrome", "phantomjs" }
local PHONES_NAMED_BOT = { cubot = true } -- (a phone's model in its browser's User-Agent)

-- A tracked link or image fetched by such a program (or as HEAD, which only
-- asks whether it is there) -> what gave it away, for the message's delivery
-- states: its User-Agent (at most 120 bytes), "no User-Agent" or "a HEAD
-- request" | nil for a person's mail app or browser.
-- Such a fetch is answered as any other, but counts as no open or click
-- and tells journeys nothing.
function tracking.machine(method, user_agent)
  if method == "HEAD" then return "a HEAD request" end
  if type(user_agent) ~= "string" or not user_agent:find("%S") then return "no User-Agent" end
  local agent = user_agent:lower()
  for word in agent:gmatch("%a*bot%f[%A]") do
    if not PHONES_NAMED_BOT[word] then return user_agent:sub(1, 120) end
  end
  for _, word in ipairs(MACHINES) do
    if agent:find(word, 1, true) then return user_agent:sub(1, 120) end
  end
  return nil
end

-- tracking.check(t) -> { clicks =, opens =, sms_clicks = } | nil (off) | nil, "key: message"
local KEYS = { clicks = true, opens = true, sms_clicks = true }
function tracking.check(t)
  if t == nil then return nil end
  for k, v in pairs(t) do
    if not KEYS[k] then
      return nil, string.format("tracking.%s: unknown key (tracking takes clicks, opens and sms_clicks)", tostring(k))
    end
    if type(v) ~= "boolean" then return nil, string.format("tracking.%s: true or false, not %s", k, tostring(v)) end
  end
  if not (t.clicks or t.opens or t.sms_clicks) then return nil end
  return { clicks = t.clicks or false, opens = t.opens or false, sms_clicks = t.sms_clicks or false }
end

return tracking
