-- drip.duration — "90s", "15m", "2h", "3d", "1w", sums like "1h30m", and the
-- same in words ("2 hours", "1 day 12 hours", "30 minutes and 10 seconds";
-- in Russian, "2 часа", "1 день и 12 часов"; in Persian, with its digits or
-- not, "۲ ساعت", "۱ روز و ۱۲ ساعت") to seconds. "m" is minutes; months and
-- years, which differ in length, are refused with a hint to count days, and
-- a misspelt unit word ("1 dya") is answered with what it likely meant.
local suggest = require "drip.suggest"
local locale = require "drip.locale"

local duration = {}

local units = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }
local WORDS = { sec = "s", secs = "s", second = "s", seconds = "s", min = "m", mins = "m", minute = "m", minutes = "m",
                hr = "h", hrs = "h", hour = "h", hours = "h", day = "d", days = "d", week = "w", weeks = "w",
                -- Russian, each unit in the forms numbers take (1 час, 2 часа, 5 часов)
                ["сек"] = "s", ["секунда"] = "s", ["секунды"] = "s", ["секунд"] = "s", ["секунду"] = "s",
                ["мин"] = "m", ["минута"] = "m", ["минуты"] = "m", ["минут"] = "m", ["минуту"] = "m",
                ["ч"] = "h", ["час"] = "h", ["часа"] = "h", ["часов"] = "h",
                ["день"] = "d", ["дня"] = "d", ["дней"] = "d", ["сут"] = "d", ["суток"] = "d", ["сутки"] = "d",
                ["нед"] = "w", ["неделя"] = "w", ["недели"] = "w", ["недель"] = "w", ["неделю"] = "w",
                -- Persian
                ["ثانیه"] = "s", ["دقیقه"] = "m", ["ساعت"] = "h", ["روز"] = "d", ["هفته"] = "w" }
local MONTHS = { mo = true, month = true, months = true, ["месяц"] = true, ["месяца"] = true, ["месяцев"] = true,
                 ["ماه"] = true }
local YEARS = { y = true, yr = true, yrs = true, year = true, years = true, ["год"] = true, ["года"] = true,
                ["лет"] = true, ["سال"] = true }
-- "and" between the parts, in each language
local AND = { ["and"] = true, ["и"] = true, ["و"] = true }

duration.HINT = 'use a number of seconds or "90s", "15m", "2h", "3d", "1w", or words: "2 hours", "3 days", "2 часа", "۳ روز"'

local function bad(v, why) return nil, string.format('bad duration "%s" (%s)', v, why or duration.HINT) end

local UNIT_WORDS = suggest.names(WORDS)

-- 'did you mean "1 day"?' for "1 dya" (unit words with typos), or nil
local function misspelt_units(v)
  local unsure = false
  local fixed = v:gsub("(%d%s*)([^%s%d,]+)", function(n, u)
    local unit = locale.lower(u)
    if units[WORDS[unit] or unit] then return nil end
    local word = #unit >= 3 and suggest.nearest(unit, UNIT_WORDS)
    if not word then
      unsure = true
      return nil
    end
    local one = tonumber(n) == 1 -- "1 day", "2 days"
    if not one and WORDS[word .. "s"] then word = word .. "s" end
    if one and word:sub(-1) == "s" and WORDS[word:sub(1, -2)] then word = word:sub(1, -2) end
    return n .. word
  end)
  if unsure then return nil end
  return string.format('did you mean "%s"?', fixed)
end

-- a duration text -> seconds | nil, error message
local function parse_text(v)
  local rest = locale.lower(locale.ascii_digits(v)):gsub(",", " ")
  if not rest:find("%d") then return bad(v) end
  local total = 0
  while rest:find("%S") do
    local n, unit, tail = rest:match("^%s*(%d+)%s*([^%s%d]+)(.*)$")
    if not n then return bad(v) end
    local word, after = tail:match("^%s+(%S+)(.*)$")
    if word and AND[word] then tail = after end
    if MONTHS[unit] then return bad(v, 'months differ in length: count days, such as "30d"') end
    if YEARS[unit] then return bad(v, 'years differ in length: count days, such as "365d"') end
    if not units[WORDS[unit] or unit] then return bad(v, misspelt_units(v)) end
    unit = WORDS[unit] or unit
    total = total + tonumber(n) * units[unit]
    rest = tail
  end
  return math.tointeger(total)
end

-- texts read before (a journey's waits repeat a few), bounded
local parsed, parsed_n = {}, 0

-- duration.parse(v) -> seconds | nil, error message
function duration.parse(v)
  if math.type(v) == "integer" and v >= 0 then return v end
  if type(v) == "number" and v >= 0 and v == math.floor(v) then return math.tointeger(v) end
  if type(v) ~= "string" then
    return nil, string.format("bad duration %s (%s)", tostring(v), duration.HINT)
  end
  local secs = parsed[v]
  if secs then return secs end
  local err
  secs, err = parse_text(v)
  if not secs then return nil, err end
  if parsed_n >= 1000 then parsed, parsed_n = {}, 0 end
  parsed[v], parsed_n = secs, parsed_n + 1
  return secs
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
