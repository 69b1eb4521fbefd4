-- drip.schedule — the time rules of schedule triggers (SPEC §3):
--   schedule = "2026-12-20 09:00"   once, at that wall time in each contact's zone
--   schedule = "1405-01-01 10:00"   the same, by the Solar Hijri calendar (Nowruz)
--   schedule = "20.12.2026 09:00"   the day first, as Russian writes dates
--   schedule = "daily 09:00"        every day at that wall time
--   rollout  = "10%"                only that share of contacts, chosen by a
--                                   hash of contact and journey, so raising it
--                                   later keeps everyone already chosen
-- An occurrence is named by its local wall time ("2026-12-20 09:00"); the
-- engine keeps, per journey and zone, the occurrence it waits for next.
local host = require "drip_host"
local time = require "drip.time"
local locale = require "drip.locale"

local schedule = {}

local FORMS = 'schedule must be "2026-12-20 09:00" (once; or a Solar Hijri date: "1405-01-01 10:00") '
  .. 'or "daily 09:00"'

-- schedule.parse(spec) -> rule | nil, error
function schedule.parse(spec)
  if type(spec) ~= "string" then return nil, FORMS end
  local written = spec
  local gregorian, herr = locale.gregorian_text(spec)
  if not gregorian then return nil, string.format('bad schedule "%s": %s', written, herr) end
  spec = gregorian
  local at = spec:match("^daily%s+(%d%d?:%d%d)$")
  if at then
    local H, M = time.parse_clock(at)
    if not H then return nil, string.format('bad time "%s" in schedule (%s)', at, FORMS) end
    return { kind = "daily", H = H, M = M }
  end
  local y, m, d, H, M = spec:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[ T](%d%d):(%d%d)$")
  if not y or not time.parse(spec) then return nil, string.format('bad schedule "%s" (%s)', written, FORMS) end
  return { kind = "once", y = tonumber(y), m = tonumber(m), d = tonumber(d), H = tonumber(H), M = tonumber(M) }
end

-- schedule.parse_rollout("10%") -> share in (0, 100] | nil, error; nil means everyone
function schedule.parse_rollout(v)
  if v == nil then return 100 end
  local n = tonumber(type(v) == "string" and v:match("^%s*([%d%.]+)%s*%%%s*$") or nil)
  if not n or n <= 0 or n > 100 then
    return nil, string.format('rollout: bad share "%s" (use a percentage like "10%%")', tostring(v))
  end
  return n
end

local function occurrence(zone, y, m, d, H, M)
  local due = time.local_epoch(zone, y, m, d, H, M, 0)
  local ly, lm, ld, lH, lM = time.local_parts(zone, due)
  return string.format("%04d-%02d-%02d %02d:%02d", ly, lm, ld, lH, lM), due
end

-- The first occurrence at or after `bound` in `zone` -> name, due | nil (a
-- one-off already past).
function schedule.first(rule, zone, bound)
  if rule.kind == "once" then
    local name, due = occurrence(zone, rule.y, rule.m, rule.d, rule.H, rule.M)
    if due < bound then return nil end
    return name, due
  end
  local y, m, d = time.local_parts(zone, bound)
  local name, due = occurrence(zone, y, m, d, rule.H, rule.M)
  if due < bound then name, due = occurrence(zone, y, m, d + 1, rule.H, rule.M) end
  return name, due
end

-- The occurrence after `name` -> name, due | nil (one-offs happen once)
function schedule.after(rule, zone, name)
  if rule.kind == "once" then return nil end
  local y, m, d = name:match("^(%d+)%-(%d+)%-(%d+)")
  return occurrence(zone, tonumber(y), tonumber(m), tonumber(d) + 1, rule.H, rule.M)
end

-- Where a contact falls in the rollout of a journey, in [0, 100).
function schedule.position(contact, journey_name)
  return host.bucket(contact .. "\0" .. journey_name .. "\0rollout", 1000000) / 10000
end

return schedule
