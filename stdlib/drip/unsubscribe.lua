-- drip.unsubscribe — signed unsubscribe links (SPEC §4, §6 /u/{token}).
-- Owns the token format: base64url("v1\n" contact "\n" channel "\n" expiry)
-- "." base64url(HMAC-SHA256(secret, payload)). A token names one contact and
-- one channel, expires after TTL, and cannot be changed without the secret.
local host = require "drip_host"

local unsubscribe = {}

unsubscribe.TTL = 365 * 86400

-- unsubscribe.token(secret, contact, channel, now) -> token
function unsubscribe.token(secret, contact, channel, now)
  local payload = table.concat({ "v1", contact, channel, tostring(now + unsubscribe.TTL) }, "\n")
  return host.base64(payload, "url") .. "." .. host.base64(host.hmac_sha256(secret, payload, "raw"), "url")
end

-- unsubscribe.url(base, secret, contact, channel, now) -> "<base>/u/<token>"
function unsubscribe.url(base, secret, contact, channel, now)
  return (base:gsub("/+$", "")) .. "/u/" .. unsubscribe.token(secret, contact, channel, now)
end

-- constant-time string compare (both are MACs of the same length when genuine)
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = diff | (a:byte(i) ~ b:byte(i)) end
  return diff == 0
end

-- unsubscribe.verify(secret, token, now) -> { contact=, channel= } | nil, why
function unsubscribe.verify(secret, token, now)
  local p64, m64 = tostring(token):match("^([%w_-]+)%.([%w_-]+)$")
  local payload = p64 and host.unbase64(p64, "url")
  local mac = m64 and host.unbase64(m64, "url")
  if not payload or not mac then return nil, "not an unsubscribe token" end
  if not same(mac, host.hmac_sha256(secret, payload, "raw")) then return nil, "the token's signature does not match" end
  local version, contact, channel, expiry = payload:match("^(v1)\n(.*)\n([^\n]*)\n(%d+)$")
  if not version then return nil, "not an unsubscribe token" end
  if now > tonumber(expiry) then return nil, "the link has expired" end
  return { contact = contact, channel = channel }
end

return unsubscribe
