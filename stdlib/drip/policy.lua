-- drip.policy — may this message go to this contact on this channel, and when?
-- Owns the rules of SPEC §4 as pure functions: address, unsubscribe and
-- consent from the contact's traits; frequency caps ("3/7d") and quiet hours
-- ({ from = "21:00", to = "08:00" }) parsed from the configuration and
-- applied to counts and clock times the engine gives it; the global control
-- group (global_control = "5%": contacts who get no marketing message).
local json = require "drip.json"
-- Traits are read raw here: these reads are drip's, not a journey's (see drip.trait_reads).
local rawget = rawget
local duration = require "drip.duration"
local time = require "drip.time"
local locale = require "drip.locale"
local host = require "drip_host"

local policy = {}

policy.ADDRESS_TRAIT = { email = "email", sms = "phone", push = "push_token", telegram = "telegram_chat_id" }
policy.TO_PEOPLE = { "email", "sms", "push", "telegram" } -- the channels with an address and consent
local ORDERED = { "email", "sms", "push", "telegram", "webhook" }
policy.CHANNELS = {} -- name -> true
for _, name in ipairs(ORDERED) do policy.CHANNELS[name] = true end
policy.CHANNEL_NAMES = table.concat(ORDERED, ", ") -- (for messages)

-- "group.channel", the flat form of a flag's trait name
local FLAT = setmetatable({}, { __index = function(t, group)
  t[group] = setmetatable({}, { __index = function(names, channel)
    names[channel] = group .. "." .. channel
    return names[channel]
  end })
  return t[group]
end })

local function flag(traits, group, channel)
  local t = rawget(traits, group)
  if type(t) == "table" and t[channel] ~= nil and t[channel] ~= json.null then return t[channel] end
  local flat = rawget(traits, FLAT[group][channel])
  if flat ~= nil and flat ~= json.null then return flat end
  return nil
end

local function truthy(v) return v == true or v == 1 or v == "true" or v == "yes" end
local function falsy(v) return v == false or v == 0 or v == "false" or v == "no" end

-- A phone number or chat id as providers take it: ASCII digits (Persian and
-- Arabic-Indic ones too, as phones and forms in Iran write them), without the
-- spaces, dashes, dots and brackets people write in them ("+98 (912)
-- ۱۲۳-۴۵۶۷" -> "+989121234567"), a leading 00 as +, a negative chat id
-- kept. Anything else stays as written (the provider names what it refuses).
function policy.plain_number(text)
  if text:match("^[%+%-]?%d+$") then return text end -- (as most are stored)
  local minus = text:match("^%s*%-%d") and "-" or "" -- (a Telegram group's chat id is negative)
  local plain = minus .. locale.ascii_digits(text):gsub("[%s%-%.%(%)\194\160]", "")
  plain = plain:gsub("^00(%d)", "+%1")
  if plain:match("^[%+%-]?%d+$") then return plain end
  return text
end

-- The national trunk prefix of a calling code, where it is not 0
local TRUNK = { ["+7"] = "8", ["+1"] = "1" }

-- A plain phone number written the national way (a trunk prefix, no calling
-- code: "09121234567", "89123456789" in Russia) in international form with
-- `country`'s calling code ("+98", config phone_country); any other as it is.
function policy.international(plain, country)
  if not country or not plain:match("^%d") then return plain end
  local trunk = TRUNK[country] or "0"
  if plain:sub(1, #trunk) ~= trunk then return plain end
  return country .. plain:sub(#trunk + 1)
end

local NUMBERED = { sms = true, telegram = true } -- channels whose address is a number

-- a byte %s matches: a space, tab, line end, vertical tab or form feed
local function blank(b) return b == 32 or (b ~= nil and b >= 9 and b <= 13) end

-- policy.address(channel, traits, override, phone_country) -> address | nil
-- (phone_country: the calling code of phones written the national way)
function policy.address(channel, traits, override, phone_country)
  if override ~= nil then return tostring(override) end
  if channel == "webhook" then return "webhook" end
  local v = rawget(traits, policy.ADDRESS_TRAIT[channel])
  if v == nil or v == json.null or v == "" then return nil end
  if type(v) == "number" then return json.number(v) end
  if channel == "sms" then return policy.international(policy.plain_number(tostring(v)), phone_country) end
  if NUMBERED[channel] then return policy.plain_number(tostring(v)) end
  local address = tostring(v)
  if blank(address:byte(1)) or blank(address:byte(-1)) then -- (an address pasted with blanks around it)
    address = address:match("^%s*(.-)%s*$")
  end
  return address ~= "" and address or nil
end

-- A topic a marketing message may name (send{ topic = "newsletter" }): a
-- contact unsubscribes from it alone (trait unsubscribed.<topic>), so its
-- name must not be a channel's.
function policy.topic_ok(topic)
  return type(topic) == "string" and topic:match("^[%w_%-]+$") ~= nil and not policy.CHANNELS[topic]
    and topic ~= "transactional"
end

-- the topics the contact unsubscribed from, sorted
function policy.topics_off(traits)
  local out, seen = {}, {}
  local function add(topic, v)
    if policy.topic_ok(topic) and truthy(v) and not seen[topic] then out[#out + 1], seen[topic] = topic, true end
  end
  local nested = rawget(traits, "unsubscribed")
  if type(nested) == "table" then
    for k, v in pairs(nested) do add(k, v) end
  end
  for k, v in pairs(traits) do
    if type(k) == "string" and k:match("^unsubscribed%.") then add(k:sub(#"unsubscribed." + 1), v) end
  end
  table.sort(out)
  return out
end

-- policy.check(channel, kind, traits, opts) -> address | nil, reason
-- opts: { consent = "opt-in"|"opt-out", to = override, phone_country = "+98" | nil,
--         topic = the message's topic | nil }
function policy.check(channel, kind, traits, opts)
  local to = policy.address(channel, traits, opts.to, opts.phone_country)
  if not to then return nil, "no_address" end
  local bounced = flag(traits, "bounced", channel) -- (the address a delivery found gone: see drip.deliver)
  if bounced ~= nil and tostring(bounced) == to then return nil, "bounced" end
  if kind == "transactional" then
    if truthy(flag(traits, "unsubscribed", "transactional")) then return nil, "unsubscribed" end
    return to
  end
  if channel == "webhook" then return to end
  if rawget(traits, "unsubscribed") == true or truthy(flag(traits, "unsubscribed", channel)) then
    return nil, "unsubscribed"
  end
  if opts.topic and truthy(flag(traits, "unsubscribed", opts.topic)) then return nil, "topic_unsubscribed" end
  local consent = flag(traits, "consent", channel)
  if opts.consent == "opt-out" then
    if falsy(consent) then return nil, "no_consent" end
  elseif not truthy(consent) then
    return nil, "no_consent"
  end
  return to
end

-- frequency_cap table -> { [channel | "all"] = { n =, window = seconds } } | nil, "key: message"
function policy.parse_caps(t)
  local caps = {}
  for k, v in pairs(t or {}) do
    if not (policy.CHANNELS[k] or k == "all") then
      return nil, string.format("frequency_cap.%s: not a channel (%s, all)", k, policy.CHANNEL_NAMES)
    end
    local n, window = tostring(v):match("^%s*(%d+)%s*/%s*(%S+)%s*$")
    local seconds = window and duration.parse(window)
    if not n or not seconds or seconds == 0 then
      return nil, string.format('frequency_cap.%s: "%s" is not a cap such as "3/7d"', k, tostring(v))
    end
    caps[k] = { n = tonumber(n), window = seconds }
  end
  return caps
end

-- global_control "5%" -> 5 (a percentage) | nil (none) | nil, "key: message"
function policy.parse_control(v)
  if v == nil then return nil end
  local n = tonumber(type(v) == "string" and v:match("^%s*([%d%.]+)%s*%%%s*$") or nil)
  if not n or n <= 0 or n >= 100 then
    return nil, string.format('global_control: "%s" is not a share of contacts such as "5%%"', tostring(v))
  end
  return n
end

-- Is the contact in the global control group of `share` percent? A hash
-- of the id decides, so a contact stays in or out (as long as the share).
function policy.in_control(contact, share)
  return share ~= nil and host.bucket(contact .. "\0global_control", 1000000) / 10000 < share
end

-- quiet_hours table -> { from = minute of day, to = minute of day } | nil, "key: message"
function policy.parse_quiet(t)
  if t == nil then return nil end
  if type(t) ~= "table" then return nil, 'quiet_hours: expected { from = "21:00", to = "08:00" }' end
  local out = {}
  for k in pairs(t) do
    if k ~= "from" and k ~= "to" then
      return nil, string.format("quiet_hours.%s: unknown key (quiet_hours takes from and to)", tostring(k))
    end
  end
  for _, k in ipairs({ "from", "to" }) do
    local H, M = time.parse_clock(t[k])
    if not H then return nil, string.format('quiet_hours.%s: expected a time such as "21:00"', k) end
    out[k] = H * 60 + M
  end
  return out
end

-- policy.quiet_until(quiet, zone, now) -> epoch when the quiet hours around
-- `now` end in `zone`, or nil when `now` is not in them
function policy.quiet_until(quiet, zone, now)
  if not quiet or quiet.from == quiet.to then return nil end
  local y, m, d, H, M = time.local_parts(zone, now)
  local minute = H * 60 + M
  local inside
  if quiet.from < quiet.to then inside = minute >= quiet.from and minute < quiet.to
  else inside = minute >= quiet.from or minute < quiet.to end
  if not inside then return nil end
  local day = (quiet.from > quiet.to and minute >= quiet.from) and d + 1 or d
  return time.local_epoch(zone, y, m, day, quiet.to // 60, quiet.to % 60, 0)
end

-- policy.capped(caps, channel, count) -> true when one more would pass a cap.
-- count(channel_or_nil, since_window_seconds) -> messages already counted
function policy.capped(caps, channel, count)
  local cap = caps[channel]
  if cap and count(channel, cap.window) >= cap.n then return true end
  cap = caps.all
  return cap ~= nil and count(nil, cap.window) >= cap.n
end

return policy
