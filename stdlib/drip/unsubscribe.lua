-- drip.unsubscribe — signed unsubscribe links (SPEC §4, §6 /u/{token}).
-- Owns the token's payload, "v1\n" contact "\n" channel "\n" expiry, or
-- for a message with a topic "v2\n" contact "\n" channel "\n" topic "\n"
-- expiry (sealed by drip.signed): a token names one contact and one channel
-- (and topic), expires after TTL, and cannot be changed without the secret.
local signed = require "drip.signed"

local unsubscribe = {}

unsubscribe.TTL = 365 * 86400

-- unsubscribe.token(secret, contact, channel, now, topic) -> token
function unsubscribe.token(secret, contact, channel, now, topic)
  local expiry = tostring(now + unsubscribe.TTL)
  if topic then return signed.seal(secret, table.concat({ "v2", contact, channel, topic, expiry }, "\n")) end
  return signed.seal(secret, table.concat({ "v1", contact, channel, expiry }, "\n"))
end

-- unsubscribe.url(base, secret, contact, channel, now, topic) -> "<base>/u/<token>"
function unsubscribe.url(base, secret, contact, channel, now, topic)
  return (base:gsub("/+$", "")) .. "/u/" .. unsubscribe.token(secret, contact, channel, now, topic)
end

-- unsubscribe.verify(secret, token, now) -> { contact=, channel=, topic= } | nil, why
function unsubscribe.verify(secret, token, now)
  local payload, problem = signed.open(secret, token)
  if problem == "forged" then return nil, "the token's signature does not match" end
  payload = payload or ""
  local contact, channel, expiry = payload:match("^v1\n(.*)\n([^\n]*)\n(%d+)$")
  local topic
  if not contact then contact, channel, topic, expiry = payload:match("^v2\n(.*)\n([^\n]*)\n([^\n]*)\n(%d+)$") end
  if not contact then return nil, "not an unsubscribe token" end
  if now > tonumber(expiry) then return nil, "the link has expired" end
  return { contact = contact, channel = channel, topic = topic }
end

return unsubscribe
