-- drip.policy — may this message go to this contact on this channel?
-- Owns the per-message decision of SPEC §4 that needs only the contact:
-- address, unsubscribe and consent. Frequency caps and quiet hours need the
-- send history and the clock and are decided by delivery.
local json = require "drip.json"

local policy = {}

policy.ADDRESS_TRAIT = { email = "email", sms = "phone", push = "push_token", telegram = "telegram_chat_id" }
policy.CHANNELS = { email = true, sms = true, push = true, telegram = true, webhook = true }

local function flag(traits, group, channel)
  local t = traits[group]
  if type(t) == "table" and t[channel] ~= nil and t[channel] ~= json.null then return t[channel] end
  local flat = traits[group .. "." .. channel]
  if flat ~= nil and flat ~= json.null then return flat end
  return nil
end

local function truthy(v) return v == true or v == 1 or v == "true" or v == "yes" end
local function falsy(v) return v == false or v == 0 or v == "false" or v == "no" end

-- policy.address(channel, traits, override) -> address | nil
function policy.address(channel, traits, override)
  if override ~= nil then return tostring(override) end
  if channel == "webhook" then return "webhook" end
  local v = traits[policy.ADDRESS_TRAIT[channel]]
  if v == nil or v == json.null or v == "" then return nil end
  return type(v) == "number" and json.number(v) or tostring(v)
end

-- policy.check(channel, kind, traits, opts) -> address | nil, reason
-- opts: { consent = "opt-in"|"opt-out", to = override }
function policy.check(channel, kind, traits, opts)
  local to = policy.address(channel, traits, opts.to)
  if not to then return nil, "no_address" end
  if kind == "transactional" then
    if truthy(flag(traits, "unsubscribed", "transactional")) then return nil, "unsubscribed" end
    return to
  end
  if channel == "webhook" then return to end
  if traits.unsubscribed == true or truthy(flag(traits, "unsubscribed", channel)) then
    return nil, "unsubscribed"
  end
  local consent = flag(traits, "consent", channel)
  if opts.consent == "opt-out" then
    if falsy(consent) then return nil, "no_consent" end
  elseif not truthy(consent) then
    return nil, "no_consent"
  end
  return to
end

return policy
