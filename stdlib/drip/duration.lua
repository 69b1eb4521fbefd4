-- drip.duration — "90s", "15m", "2h", "3d", "1w" (and sums like "1h30m") to seconds.
local duration = {}

local units = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }

duration.HINT = 'use a number of seconds or "90s", "15m", "2h", "3d", "1w"'

-- duration.parse(v) -> seconds | nil, error message
function duration.parse(v)
  if math.type(v) == "integer" and v >= 0 then return v end
  if type(v) == "number" and v >= 0 and v == math.floor(v) then return math.tointeger(v) end
  if type(v) ~= "string" then
    return nil, string.format("bad duration %s (%s)", tostring(v), duration.HINT)
  end
  local s = v:gsub("%s+", "")
  local total, rest = 0, s
  if s == "" then return nil, string.format('bad duration "%s" (%s)', v, duration.HINT) end
  while rest ~= "" do
    local n, unit, tail = rest:match("^(%d+)(%a)(.*)$")
    if not n or not units[unit] then
      return nil, string.format('bad duration "%s" (%s)', v, duration.HINT)
    end
    total = total + tonumber(n) * units[unit]
    rest = tail
  end
  return math.tointeger(total)
end

-- duration.check(v, what) -> seconds, or raises "bad duration ..." (level 3: the caller's caller)
function duration.check(v, what, level)
  local secs, err = duration.parse(v)
  if not secs then error((what and (what .. ": ") or "") .. err, level or 3) end
  return secs
end

-- duration.format(seconds) -> "1d 2h" style, for people
function duration.format(secs)
  if secs == 0 then return "0s" end
  local parts = {}
  for _, u in ipairs({ { "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 } }) do
    local n = secs // u[2]
    if n > 0 then
      parts[#parts + 1] = n .. u[1]
      secs = secs - n * u[2]
    end
  end
  return table.concat(parts, " ")
end

return duration
