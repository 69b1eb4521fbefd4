-- drip.unsubscribe — signed unsubscribe links (SPEC §4, §6 /u/{token}).
-- Owns the token's payload, "v1\n" contact "\n" channel "\n" expiry (sealed
-- by drip.signed): a token names one contact and one channel, expires after
-- TTL, and cannot be changed without the secret.
local signed = require "drip.signed"

local unsubscribe = {}

unsubscribe.TTL = 365 * 86400

-- unsubscribe.token(secret, contact, channel, now) -> token
function unsubscribe.token(secret, contact, channel, now)
  return signed.seal(secret, table.concat({ "v1", contact, channel, tostring(now + unsubscribe.TTL) }, "\n"))
end

-- unsubscribe.url(base, secret, contact, channel, now) -> "<base>/u/<token>"
function unsubscribe.url(base, secret, contact, channel, now)
  return (base:gsub("/+$", "")) .. "/u/" .. unsubscribe.token(secret, contact, channel, now)
end

-- unsubscribe.verify(secret, token, now) -> { contact=, channel= } | nil, why
function unsubscribe.verify(secret, token, now)
  local payload, problem = signed.open(secret, token)
  if problem == "forged" then return nil, "the token's signature does not match" end
  local version, contact, channel, expiry = (payload or ""):match("^(v1)\n(.*)\n([^\n]*)\n(%d+)$")
  if not version then return nil, "not an unsubscribe token" end
  if now > tonumber(expiry) then return nil, "the link has expired" end
  return { contact = contact, channel = channel }
end

return unsubscribe
