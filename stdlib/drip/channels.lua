-- drip.channels — what each channel's provider expects, and what its answer means.
-- Owns: the `channels` table of drip.conf.lua (checked, with defaults), one
-- request builder per channel (SMTP, Twilio-style SMS, FCM-style push,
-- Telegram Bot API, signed webhooks; each HTTP request with Idempotency-Key),
-- the SMS segment count, and reading a provider's answer as sent, retry
-- (with Retry-After honoured) or failed. drip.deliver calls these; the bytes
-- move in C (drip_curl).
local host = require "drip_host"
local json = require "drip.json"
local email = require "drip.email"
local duration = require "drip.duration"
local time = require "drip.time"
local suggest = require "drip.suggest"
local policy = require "drip.policy"
local tracking = require "drip.tracking"
local template = require "drip.template"

local channels = {}

local COMMON = { rate = "string", concurrency = "number", timeout = "string", attempts = "number",
                 backoff = "string", max_backoff = "string", insecure = "boolean" }
local KEYS = {
  email = { smtp = "string", from = "string", reply_to = "string", username = "string", password = "string" },
  sms = { url = "string", account = "string", token = "string", from = "string" },
  push = { url = "string", token = "string" },
  telegram = { url = "string", bot_token = "string" },
  webhook = { url = "string", secret = "string" },
}
local REQUIRED = { email = { "smtp", "from" }, sms = { "url", "from" }, push = { "url" },
                   telegram = { "url", "bot_token" }, webhook = { "url", "secret" } }
local DEFAULTS = { concurrency = 500, timeout = "10s", attempts = 15, backoff = "2s", max_backoff = "1h" }

-- messages ---------------------------------------------------------------------------

-- The fields a message may carry on each channel (beside kind, template, to
-- and channels), and those of which it must have one. A webhook carries
-- whatever it is given.
local MESSAGE_FIELDS = {
  email = { "subject", "preheader", "text", "html", "from", "reply_to", "dir" },
  sms = { "text", "body", "from" },
  push = { "title", "body", "text", "data" },
  telegram = { "text", "body", "parse_mode", "disable_web_page_preview" },
}
local CONTENT = { email = { "subject", "text", "html" }, sms = { "text", "body" }, push = { "title", "body", "text" },
                  telegram = { "text", "body" } }
local CONTROL = { kind = true, template = true, to = true, channels = true, topic = true }

local function has(msg, field) return msg[field] ~= nil and msg[field] ~= "" end

-- channels.missing_content(names, msg) -> nil | "sms: the message has no text or body"
-- (a message from a template gets its content from the template's files)
function channels.missing_content(names, msg)
  if msg.template ~= nil then return nil end
  for i = 1, #names do
    local name = names[i]
    local content = CONTENT[name] -- (none: a webhook, which needs no content)
    local any = not content
    for j = 1, content and #content or 0 do any = any or has(msg, content[j]) end
    if not any then
      return string.format("%s: the message has no %s", name, table.concat(content, " or "))
    end
  end
  return nil
end

local KNOWN = {} -- channel -> set of its message fields
for name, fields in pairs(MESSAGE_FIELDS) do
  KNOWN[name] = {}
  for _, field in ipairs(fields) do KNOWN[name][field] = true end
end

local function known_by_any(names, field)
  for i = 1, #names do
    local known = KNOWN[names[i]]
    if not known or known[field] then return true end -- a webhook takes any field
  end
  return false
end

-- the known field nearest to `field` (at most two edits away), or nil
local function nearest(names, field)
  local fields = {}
  for _, name in ipairs(names) do
    for _, k in ipairs(MESSAGE_FIELDS[name]) do fields[#fields + 1] = k end
  end
  return suggest.nearest(field, fields)
end

-- channels.unknown_fields(names, msg) -> nil | { "email: no field 'subjet' (did you mean 'subject'?)", ... }
-- A field no channel of the send uses is most likely a typo.
function channels.unknown_fields(names, msg)
  local found
  for field in pairs(msg) do
    if type(field) == "string" and not CONTROL[field] and not known_by_any(names, field) then
      local best = nearest(names, field)
      found = found or {}
      found[#found + 1] = string.format("%s: no field '%s'%s", table.concat(names, "/"), field,
        best and string.format(" (did you mean '%s'?)", best) or "")
    end
  end
  if found then table.sort(found) end
  return found
end

-- "100/s", "6000/m", "10000/h" -> per second | nil
function channels.parse_rate(v)
  local n, unit = tostring(v):match("^%s*(%d+%.?%d*)%s*/%s*(%a)%a*%s*$")
  local per = ({ s = 1, m = 60, h = 3600 })[unit or ""]
  if not n or not per or tonumber(n) <= 0 then return nil end
  return tonumber(n) / per
end

local function check_one(name, c)
  local where = "channels." .. name
  if type(c) ~= "table" then return nil, where .. ": expected a table" end
  local out = {}
  for k, v in pairs(DEFAULTS) do out[k] = v end
  for k, v in pairs(c) do
    local want = KEYS[name][k] or COMMON[k]
    if not want then
      local known = suggest.names(KEYS[name])
      for key in pairs(COMMON) do known[#known + 1] = key end
      table.sort(known)
      local near = type(k) == "string" and suggest.nearest(k, known)
      return nil, string.format("%s.%s: unknown key%s (known: %s)", where, tostring(k),
        near and string.format("; did you mean '%s'?", near) or "", table.concat(known, ", "))
    end
    if type(v) ~= want then return nil, string.format("%s.%s: must be a %s", where, k, want) end
    out[k] = v
  end
  for _, k in ipairs(REQUIRED[name]) do
    if not out[k] or out[k] == "" then return nil, string.format("%s.%s: required (a secret can come from env)", where, k) end
  end
  if c.rate then
    out.rate = channels.parse_rate(c.rate)
    if not out.rate then return nil, string.format('%s.rate: "%s" is not a rate such as "100/s"', where, c.rate) end
  end
  for _, k in ipairs({ "timeout", "backoff", "max_backoff" }) do
    local secs, err = duration.parse(out[k])
    if not secs then return nil, string.format("%s.%s: %s", where, k, err) end
    out[k] = secs
  end
  return out
end

-- channels.check(conf.channels) -> { name = settings } | nil, "channels.<name>.<key>: message"
function channels.check(t)
  local out = {}
  for name, c in pairs(t or {}) do
    if not KEYS[name] then
      return nil, string.format("channels.%s: not a channel (%s)", tostring(name), policy.CHANNEL_NAMES)
    end
    local settings, err = check_one(name, c)
    if not settings then return nil, err end
    out[name] = settings
  end
  return out
end

-- SMS segments --------------------------------------------------------------------

local GSM7 = {}
for ch in ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
  .. "¿abcdefghijklmnopqrstuvwxyzäöñüà"):gmatch(utf8.charpattern) do GSM7[ch] = 1 end
for ch in ("^{}\\[~]|€\f"):gmatch(utf8.charpattern) do GSM7[ch] = 2 end -- the escape table takes two septets

-- Parts of a long text: `size` units each, a character never split across two
-- (an escaped GSM-7 character is two septets, an emoji two UTF-16 units).
local function count_parts(widths, size)
  local parts, fill = 1, 0
  for _, w in ipairs(widths) do
    if fill + w > size then parts, fill = parts + 1, w else fill = fill + w end
  end
  return parts
end

-- channels.sms_segments(text) -> segments, "GSM-7" | "UCS-2", odd | nil
-- odd: when a few characters (a curly quote, an emoji: at most three kinds,
-- a tenth of the text) turn an otherwise GSM-7 text into UCS-2, which holds
-- less than half as much per segment, those characters.
-- (ASCII, one septet each: line ends, space to Z, _ and a to z; as ranges, for a pattern's
-- class is scanned item by item at every byte)
local NOT_PLAIN_GSM7 = "[^\n\r -Z_a-z]"
function channels.sms_segments(text)
  if not text:find(NOT_PLAIN_GSM7) then return #text <= 160 and 1 or (#text + 152) // 153, "GSM-7" end
  local septets, units, odd, seen = {}, {}, {}, {}
  local n_septets, n_units, n_odd = 0, 0, 0
  for _, c in utf8.codes(text, true) do
    local ch = utf8.char(c)
    local w = GSM7[ch]
    if w then
      septets[#septets + 1], n_septets = w, n_septets + w
    else
      n_odd = n_odd + 1
      if not seen[ch] then seen[ch], odd[#odd + 1] = true, ch end
    end
    local u = c > 0xFFFF and 2 or 1
    units[#units + 1], n_units = u, n_units + u
  end
  if n_odd == 0 then return n_septets <= 160 and 1 or count_parts(septets, 153), "GSM-7" end
  local few = #odd <= 3 and n_odd <= math.max(3, #units // 10)
  return n_units <= 70 and 1 or count_parts(units, 67), "UCS-2", few and table.concat(odd, " ") or nil
end

-- request builders ------------------------------------------------------------------

local function form(t)
  local parts = {}
  for _, kv in ipairs(t) do
    parts[#parts + 1] = kv[1] .. "=" .. template.escape_url(kv[2])
  end
  return table.concat(parts, "&")
end

local function http_request(c, url, body, ctx, headers)
  local h = { "Content-Type: application/json", "Idempotency-Key: " .. ctx.key, "Expect:" }
  for _, x in ipairs(headers or {}) do h[#h + 1] = x end
  return { url = url, method = "POST", body = body, headers = h, timeout_ms = c.timeout * 1000,
           insecure = c.insecure }
end

-- the text of an SMS or Telegram message
local function text_of(m) return tostring(m.text or m.body or "") end
channels.text_of = text_of

local BUILD = {}

-- ctx: { key=, contact=, journey=, kind=, now=, unsubscribe_url=, domain= }
function BUILD.email(c, to, m, ctx)
  local from = m.from or c.from
  local domain = email.bare_address(from):match("@([%w%.%-]+)$") or "drip.local"
  local html = m.html and ctx.track and tracking.html(m.html, ctx.track) or m.html
  local body = email.compose({
    from = from, to = to, subject = m.subject, text = m.text or (m.html and email.text_of_html(m.html)), html = html,
    preheader = m.preheader,
    dir = m.dir,
    reply_to = m.reply_to or c.reply_to, message_id = ctx.key .. "@" .. domain, date = ctx.now,
    list_unsubscribe = ctx.kind == "marketing" and ctx.unsubscribe_url or nil,
  })
  return { url = c.smtp, mail_from = email.bare_address(from), mail_rcpt = { email.bare_address(to) }, body = body,
           username = c.username, password = c.password, timeout_ms = c.timeout * 1000, insecure = c.insecure }
end

function BUILD.sms(c, to, m, ctx)
  local text = text_of(m)
  if ctx.track and ctx.track.sms_clicks then text = tracking.sms_text(text, ctx.track) end
  local segments, encoding = channels.sms_segments(text)
  local req = http_request(c, c.url, form({ { "To", to }, { "From", m.from or c.from }, { "Body", text } }), ctx)
  req.headers[1] = "Content-Type: application/x-www-form-urlencoded"
  req.username, req.password = c.account, c.token
  return req, { segments = segments, encoding = encoding }
end

function BUILD.push(c, to, m, ctx)
  local data
  if type(m.data) == "table" then
    data = {}
    for k, v in pairs(m.data) do data[tostring(k)] = type(v) == "string" and v or json.encode(v) end
  end
  local body = json.encode({ message = { token = to, notification = { title = m.title, body = m.body or m.text },
                                         data = data } })
  return http_request(c, c.url, body, ctx, c.token and { "Authorization: Bearer " .. c.token })
end

function BUILD.telegram(c, to, m, ctx)
  local body = json.encode({ chat_id = to, text = text_of(m), parse_mode = m.parse_mode,
                             disable_web_page_preview = m.disable_web_page_preview })
  return http_request(c, (c.url:gsub("/+$", "")) .. "/bot" .. c.bot_token .. "/sendMessage", body, ctx)
end

function BUILD.webhook(c, to, m, ctx)
  local url = to ~= "webhook" and to:match("^https?://") and to or c.url
  local body = json.encode({ id = ctx.key, journey = ctx.journey, contact = ctx.contact, kind = ctx.kind,
                             message = m })
  return http_request(c, url, body, ctx, {
    "X-Drip-Signature: sha256=" .. host.hmac_sha256(c.secret, body),
    "X-Drip-Timestamp: " .. tostring(ctx.now),
  })
end

-- channels.request(name, settings, address, message fields, ctx) -> request spec, detail | nil
function channels.request(name, c, to, m, ctx) return BUILD[name](c, to, m, ctx) end

-- answers ----------------------------------------------------------------------------

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10,
                 Nov = 11, Dec = 12 }

-- Retry-After: seconds or an HTTP date -> seconds from now | nil
function channels.retry_after(v, now)
  if not v then return nil end
  local secs = tonumber(v:match("^%s*(%d+)%s*$"))
  if secs then return secs end
  local d, mon, y, H, M, S = v:match("(%d+) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d)")
  if not d or not MONTHS[mon] then return nil end
  return math.max(0, time.utc_epoch(tonumber(y), MONTHS[mon], tonumber(d), tonumber(H), tonumber(M), tonumber(S)) - now)
end

local function snippet(body) return (body or ""):sub(1, 300) end

-- channels.outcome(name, result) -> "sent" | "retry" | "failed", detail table, retry_after seconds | nil
-- result: what drip_curl reports (status, error, timed_out, retry_after, body)
function channels.outcome(name, r, now)
  if name == "email" then
    if not r.error then return "sent", { smtp = r.status } end
    if r.status >= 500 and r.status < 600 then return "failed", { smtp = r.status, error = r.error, reply = r.reply } end
    return "retry", { smtp = r.status ~= 0 and r.status or nil, error = r.error, reply = r.reply }
  end
  if r.error then return "retry", { error = r.error, timed_out = r.timed_out or nil } end
  local s = r.status
  if s >= 200 and s < 300 then return "sent", { http = s } end
  local detail = { http = s, body = snippet(r.body) }
  if s == 408 or s == 429 or s >= 500 then
    local wait = channels.retry_after(r.retry_after, now)
    if not wait and s == 429 and name == "telegram" then
      local answer = json.decode(r.body or "")
      wait = type(answer) == "table" and type(answer.parameters) == "table" and tonumber(answer.parameters.retry_after)
    end
    return "retry", detail, wait
  end
  return "failed", detail
end

-- Words a mail server uses when it refuses the sender or the message, not the mailbox
local POLICY_WORDS = { "block", "spam", "policy", "reputation", "denied", "relay", "listed", "rate limit", "dmarc", "spf" }

-- An SMTP refusal of a recipient that is about the sender (a blocklisted
-- IP, relaying denied, DMARC) rather than the mailbox: one such reply must
-- not mark every address at that server bounced. reply: the server's line,
-- such as "550 5.7.1 Client host blocked"; its enhanced code decides when it
-- has one (5.1.x: the address, 5.2.1: the mailbox disabled, and Microsoft
-- 365's "5.4.1 Recipient address rejected" for an address it does not have),
-- else its words.
function channels.smtp_policy_refusal(reply)
  if type(reply) ~= "string" then return false end
  local class, subject, detail = reply:match("^%d%d%d[ -](%d)%.(%d+)%.(%d+)")
  if class then
    local mailbox = subject == "1" or (subject == "2" and detail == "1")
      or (subject == "4" and detail == "1" and reply:lower():find("recipient address rejected", 1, true))
    return not mailbox
  end
  local lower = reply:lower()
  for _, word in ipairs(POLICY_WORDS) do
    if lower:find(word, 1, true) then return true end
  end
  return false
end

-- A permanent failure that says the address itself takes no more messages:
-- "bounced" (the mailbox, number, chat or device token is gone, or the
-- person blocked the bot) or "unsubscribed" (the provider's own opt-out: an
-- SMS recipient who replied STOP), else nil. Failures about the message
-- (its content, a bad request) are not about the address. address: where it went.
function channels.address_gone(name, r, address)
  local status, body = r.status or 0, r.body or ""
  if name == "email" then
    return type(r.error) == "string" and r.error:match("^RCPT failed: 55[013]")
      and not channels.smtp_policy_refusal(r.reply) and "bounced" or nil
  elseif name == "telegram" then
    return (status == 403 or (status == 400 and body:find("chat not found", 1, true))) and "bounced" or nil
  elseif name == "push" then
    return (status == 404 or body:find("UNREGISTERED", 1, true)) and "bounced" or nil
  elseif name == "sms" and status >= 400 and status < 500 then
    local answer = json.decode(body)
    local code = type(answer) == "table" and tonumber(answer.code)
    if code == 21610 then return "unsubscribed" end
    -- (a number with no calling code is refused for its form, not gone: see config phone_country)
    if (code == 21211 or code == 21614) and tostring(address or "+"):match("^%+") then return "bounced" end
  end
  return nil
end

return channels
