-- drip.signed — tokens for links drip serves (unsubscribe, tracked clicks
-- and opens): base64url(payload) "." base64url(HMAC-SHA256(secret,
-- payload)). Owns sealing a payload and opening a token, in constant time;
-- what a payload holds is its caller's.
local host = require "drip_host"

local signed = {}

function signed.seal(secret, payload)
  return host.base64(payload, "url") .. "." .. host.base64(host.hmac_sha256(secret, payload, "raw"), "url")
end

-- constant-time string compare (both are MACs of the same length when genuine)
function signed.same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = diff | (a:byte(i) ~ b:byte(i)) end
  return diff == 0
end

-- signed.open(secret, token) -> payload | nil, "malformed" | "forged"
function signed.open(secret, token)
  local p64, m64 = tostring(token):match("^([%w_-]+)%.([%w_-]+)$")
  local payload = p64 and host.unbase64(p64, "url")
  local mac = m64 and host.unbase64(m64, "url")
  if not payload or not mac then return nil, "malformed" end
  if not signed.same(mac, host.hmac_sha256(secret, payload, "raw")) then return nil, "forged" end
  return payload
end

return signed
