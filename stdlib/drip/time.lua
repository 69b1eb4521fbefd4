-- drip.time — epoch seconds <-> ISO 8601, and wall-clock times in a zone.
-- UTC arithmetic is pure (days from the civil date); anything in a named
-- zone goes through drip_host's tz functions, i.e. the system zoneinfo.
local host = require "drip_host"
local json_number = require("drip.json").number

local time = {}

local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = (z >= 0 and z or z - 146096) // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp + (mp < 10 and 3 or -9)
  return (m <= 2 and y + 1 or y), m, d
end

function time.utc_epoch(y, m, d, H, M, S)
  return days_from_civil(y, m, d) * 86400 + (H or 0) * 3600 + (M or 0) * 60 + (S or 0)
end

-- time.iso(epoch) -> "2026-11-01T09:00:00Z", in C for the years 0 to 9999.
-- Records of one moment share a time, so the last answer is kept.
local utc_iso = host.utc_iso
local last_t, last_iso
function time.iso(t)
  if t == last_t then return last_iso end
  local iso = utc_iso(t)
  if not iso then
    local days, secs = t // 86400, t % 86400
    local y, m, d = civil_from_days(days)
    iso = string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, secs // 3600, secs % 3600 // 60, secs % 60)
  end
  last_t, last_iso = t, iso
  return iso
end

-- time.human(epoch) -> "2026-11-01 09:00" (UTC), for tables
function time.human(t)
  return (time.iso(t):gsub("T", " "):gsub(":%d%dZ$", ""))
end

local function valid_date(y, m, d, H, M, S)
  return m >= 1 and m <= 12 and d >= 1 and d <= 31 and H <= 23 and M <= 59 and S <= 60
end

-- time.parse(s, zone) -> epoch | nil, error. Accepts "2026-11-01T09:00:00Z",
-- fractions, "+03:30" offsets, "2026-11-01 09:00" and "2026-11-01".
-- A time without an offset is read in `zone` (default UTC).
function time.parse(s, zone)
  if type(s) == "number" then -- (Unix time, as some exports write it: say what it would be)
    local secs = s > 1e11 and s // 1000 or s
    local as = s > 1e11 and "Unix milliseconds" or "Unix seconds"
    local ok, iso = pcall(time.iso, math.tointeger(secs // 1) or 0)
    return nil, string.format('expected an ISO 8601 time string, not a number (as %s, %s is "%s")', as,
      json_number(s), ok and iso or "?")
  end
  if type(s) ~= "string" then return nil, "expected an ISO 8601 time string" end
  local t = host.utc_time(s) -- the common "2026-11-01T09:00:00Z", in C
  if t then return t end
  local y, m, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil, string.format('bad time "%s" (expected ISO 8601, e.g. 2026-11-01T09:00:00Z)', s) end
  local H, M, S, frac, tz = 0, 0, 0, nil, nil
  if rest ~= "" then
    local h, mi, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not h then return nil, string.format('bad time "%s" (expected ISO 8601, e.g. 2026-11-01T09:00:00Z)', s) end
    H, M = tonumber(h), tonumber(mi)
    local sec, tail2 = tail:match("^:(%d%d)(.*)$")
    if sec then S, tail = tonumber(sec), tail2 end
    frac, tail = tail:match("^(%.?%d*)(.*)$")
    tz = tail
  end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if not valid_date(y, m, d, H, M, S) then return nil, string.format('bad time "%s" (date or time out of range)', s) end
  if tz == nil or tz == "" then
    if zone and zone ~= "UTC" then return host.tz_epoch(zone, y, m, d, H, M, S) end
    return time.utc_epoch(y, m, d, H, M, S)
  end
  if tz == "Z" or tz == "z" then return time.utc_epoch(y, m, d, H, M, S) end
  local sign, oh, om = tz:match("^([+-])(%d%d):?(%d?%d?)$")
  if not sign then return nil, string.format('bad time "%s" (bad zone offset "%s")', s, tz) end
  local offset = tonumber(oh) * 3600 + (tonumber(om) or 0) * 60
  return time.utc_epoch(y, m, d, H, M, S) - (sign == "+" and offset or -offset)
end

-- time.zone_ok(name) -> boolean
function time.zone_ok(name)
  return name == "UTC" or (type(name) == "string" and host.tz_valid(name))
end

-- Zones by their city, for a timezone trait written as a place ("Tehran",
-- "new york"): the last part of each zone in zone1970.tab of the zoneinfo
-- the zones themselves come from, lowercased, spaces for underscores. Read
-- when first needed.
-- A zone's whole name in other case ("europe/moscow") is read too.
local by_city
local function city_zones()
  if by_city then return by_city end
  by_city = {}
  local f = io.open(host.tz_dir() .. "/zone1970.tab", "r")
  if not f then return by_city end
  for line in f:lines() do
    local zone = line:match("^[^#][^\t]*\t[^\t]+\t([^\t]+)")
    if zone then
      by_city[zone:match("[^/]+$"):gsub("_", " "):lower()] = zone
      by_city[zone:gsub("_", " "):lower()] = zone
    end
  end
  f:close()
  return by_city
end

-- Names drip's users write for their zones that zone1970.tab does not
-- have: cities in Russian and Persian, an old spelling, and the
-- abbreviations that mean one zone there (MSK, IRST; not EST or IST,
-- which mean several). Keys lowercased.
local NAMED_ZONES = {
  ["msk"] = "Europe/Moscow", ["мск"] = "Europe/Moscow", ["москва"] = "Europe/Moscow",
  ["санкт-петербург"] = "Europe/Moscow", ["петербург"] = "Europe/Moscow", ["st petersburg"] = "Europe/Moscow",
  ["saint petersburg"] = "Europe/Moscow", ["калининград"] = "Europe/Kaliningrad", ["самара"] = "Europe/Samara",
  ["екатеринбург"] = "Asia/Yekaterinburg", ["омск"] = "Asia/Omsk", ["новосибирск"] = "Asia/Novosibirsk",
  ["красноярск"] = "Asia/Krasnoyarsk", ["иркутск"] = "Asia/Irkutsk", ["владивосток"] = "Asia/Vladivostok",
  ["kiev"] = "Europe/Kyiv", ["киев"] = "Europe/Kyiv", ["київ"] = "Europe/Kyiv",
  ["irst"] = "Asia/Tehran", ["irdt"] = "Asia/Tehran", ["iran"] = "Asia/Tehran", ["ایران"] = "Asia/Tehran",
  ["تهران"] = "Asia/Tehran", ["مشهد"] = "Asia/Tehran", ["اصفهان"] = "Asia/Tehran", ["شیراز"] = "Asia/Tehran",
  ["تبریز"] = "Asia/Tehran", ["کابل"] = "Asia/Kabul", ["دبی"] = "Asia/Dubai",
}

-- the zone of the city `text` names ("Tehran" -> "Asia/Tehran", "Москва"
-- -> "Europe/Moscow"), or nil
local function zone_of_city(text)
  if type(text) ~= "string" then return nil end
  local key = text:gsub("_", " "):gsub("^%s+", ""):gsub("%s+$", "")
  local lower = require("drip.locale").lower(key) -- (Cyrillic too; required here: drip.locale requires this module)
  local zone = city_zones()[lower] or NAMED_ZONES[lower]
  return zone and time.zone_ok(zone) and zone or nil
end

-- "UTC+03:30" for a fixed offset as people write it ("+03:30", "+0330",
-- "UTC+3:30", "GMT+3", "utc -5"), the form runtime/tz.c reads; nil for
-- anything else. (Etc/GMT+3, a zone of tzdata, is not read here: it means
-- three hours behind UTC.)
local function offset_zone(text)
  if type(text) ~= "string" then return nil end
  local s = text:upper():gsub("%s", ""):gsub("^UTC", "", 1):gsub("^GMT", "", 1)
  local sign, h, m = s:match("^([+-])(%d%d?):?(%d%d)$")
  if not sign then
    sign, h = s:match("^([+-])(%d%d?)$")
    m = "0"
  end
  if not sign then return nil end
  local zone = string.format("UTC%s%02d:%02d", sign, tonumber(h), tonumber(m))
  return time.zone_ok(zone) and zone or nil
end

local zone_cache, zone_cache_n = {}, 0 -- text -> zone | false

-- time.zone_for(text) -> the zone a timezone trait means: itself when it is
-- a zone name, else the fixed offset or the zone of the city it names, else nil
function time.zone_for(text)
  local zone = zone_cache[text]
  if zone ~= nil then return zone or nil end
  zone = time.zone_ok(text) and text or offset_zone(text) or zone_of_city(text) or false
  if zone_cache_n >= 1000 then zone_cache, zone_cache_n = {}, 0 end
  zone_cache[text], zone_cache_n = zone, zone_cache_n + 1
  return zone or nil
end

-- time.local_parts(zone, epoch) -> y, m, d, H, M, S, wday (0 = Sunday)
function time.local_parts(zone, t)
  if zone == "UTC" then
    local y, m, d = civil_from_days(t // 86400)
    local s = t % 86400
    return y, m, d, s // 3600, s % 3600 // 60, s % 60, (t // 86400 + 4) % 7
  end
  return host.tz_local(zone, t)
end

function time.local_epoch(zone, y, m, d, H, M, S)
  if zone == "UTC" then
    -- normalise day overflow (d + 1 past month end) like mktime does
    return days_from_civil(y, m, 1) * 86400 + (d - 1) * 86400 + H * 3600 + M * 60 + (S or 0)
  end
  return host.tz_epoch(zone, y, m, d, H, M, S or 0)
end

local weekdays = { sun = 0, mon = 1, tue = 2, wed = 3, thu = 4, fri = 5, sat = 6 }
for name, n in pairs({ sunday = 0, monday = 1, tuesday = 2, wednesday = 3, thursday = 4, friday = 5,
                       saturday = 6,
                       -- Russian, short and whole (lower case)
                       ["вс"] = 0, ["пн"] = 1, ["вт"] = 2, ["ср"] = 3, ["чт"] = 4, ["пт"] = 5, ["сб"] = 6,
                       ["воскресенье"] = 0, ["понедельник"] = 1, ["вторник"] = 2, ["среда"] = 3, ["четверг"] = 4,
                       ["пятница"] = 5, ["суббота"] = 6,
                       -- Persian (with the zero-width non-joiner of سه‌شنبه, or a space, or neither)
                       ["یکشنبه"] = 0, ["دوشنبه"] = 1, ["سه‌شنبه"] = 2, ["سه شنبه"] = 2, ["سهشنبه"] = 2,
                       ["چهارشنبه"] = 3, ["پنجشنبه"] = 4, ["پنج‌شنبه"] = 4, ["پنج شنبه"] = 4, ["جمعه"] = 5,
                       ["شنبه"] = 6 }) do weekdays[name] = n end

-- "09:00", "21:30", or in 12-hour form "9am", "9:30 pm", "12am" (midnight)
-- -> hour, minute | nil
local function parse_clock(at)
  at = tostring(at):lower()
  local H, M = at:match("^(%d%d?):(%d%d)$")
  H, M = tonumber(H), tonumber(M)
  if not H then
    local h, m, half = at:match("^(%d%d?):?(%d*)%s*([ap])%.?m%.?$")
    H, M = tonumber(h), m == "" and 0 or tonumber(m)
    if not H or not M or H < 1 or H > 12 or (m ~= "" and #m ~= 2) then return nil end
    H = H % 12 + (half == "p" and 12 or 0)
  end
  if H > 23 or M > 59 then return nil end
  return H, M
end
time.parse_clock = parse_clock

local function quoted(v) return type(v) == "string" and '"' .. v .. '"' or tostring(v) end

-- time.next_at(zone, now, spec) -> epoch of the next matching wall time after now, or nil, error.
-- spec: "09:00" (or "9am"), { weekday = "mon", at = "09:00" }, or an ISO time
-- (a Solar Hijri date too: "1405-01-01 10:00"; digits Persian or not).
function time.next_at(zone, now, spec)
  local written, locale = spec, require "drip.locale" -- (required here: drip.locale requires this module)
  if type(spec) == "table" then
    local wd = weekdays[locale.lower(tostring(spec.weekday or ""))]
    local H, M = parse_clock(locale.ascii_digits(spec.at or "00:00"))
    if not wd then
      return nil, string.format('weekday %s is not a day (mon … sun, monday … sunday, пн … вс, شنبه … جمعه)',
        quoted(spec.weekday))
    end
    if not H then return nil, string.format('at %s is not a time such as "09:00" or "9am"', quoted(spec.at)) end
    local y, m, d, _, _, _, w = time.local_parts(zone, now)
    local ahead = (wd - w) % 7
    local t = time.local_epoch(zone, y, m, d + ahead, H, M, 0)
    if t <= now then t = time.local_epoch(zone, y, m, d + ahead + 7, H, M, 0) end
    return t
  end
  local err
  spec, err = locale.gregorian_text(spec) -- (Persian digits, a Solar Hijri or day-first date)
  if not spec then return nil, string.format("%s: %s", quoted(written), err) end
  local H, M = parse_clock(spec)
  if H then
    local y, m, d = time.local_parts(zone, now)
    local t = time.local_epoch(zone, y, m, d, H, M, 0)
    if t <= now then t = time.local_epoch(zone, y, m, d + 1, H, M, 0) end
    return t
  end
  local t, perr = time.parse(spec, zone)
  if t then return t end
  if type(spec) == "string" and spec:match("^%d%d%d%d%-") then return nil, perr end -- a date, badly written
  return nil, string.format('%s is not a time of day ("09:00", "9am"), { weekday = "mon", at = "09:00" } or an ISO time',
    quoted(written))
end

return time
