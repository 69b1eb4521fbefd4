-- drip.locale — dates, numbers, plurals and money the way our Persian and
-- Russian readers write them. Owns the template filters `date`, `number`,
-- `plural`, `money`, `upper` and `lower` (drip.template registers them), the
-- Solar Hijri (Jalali) calendar, Persian digits and separators, and Russian
-- plural rules, and reading a contact's language from its traits.
local time = require "drip.time"

local locale = {}

-- Persian digits and separators ---------------------------------------------------------

local FA_DIGITS = { ["0"] = "۰", ["1"] = "۱", ["2"] = "۲", ["3"] = "۳", ["4"] = "۴", ["5"] = "۵", ["6"] = "۶",
                    ["7"] = "۷", ["8"] = "۸", ["9"] = "۹" }

function locale.fa_digits(s) return (tostring(s):gsub("%d", FA_DIGITS)) end

-- Persian (۰-۹) and Arabic-Indic (٠-٩) digits in s as ASCII ones
local ASCII_DIGITS = {}
for i = 0, 9 do ASCII_DIGITS[utf8.char(0x06F0 + i)], ASCII_DIGITS[utf8.char(0x0660 + i)] = tostring(i), tostring(i) end
function locale.ascii_digits(s) return (tostring(s):gsub("[\217\219][\160-\185]", ASCII_DIGITS)) end

-- The Solar Hijri calendar (the arithmetic of the jalaali algorithm: leap
-- years from the 33-year cycle breaks, days counted as Julian day numbers) ---------------

local BREAKS = { -61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394,
                 2456, 3178 }

local function div(a, b) -- truncating division, as the algorithm is written
  local q = a / b
  return q >= 0 and math.floor(q) or math.ceil(q)
end
local function mod(a, b) return a - div(a, b) * b end

-- -> leap (0 = leap year), Gregorian year of its start, day of March it starts on
local function jal_cal(jy)
  local gy, leap_j, jp, jump = jy + 621, -14, BREAKS[1], 0
  for i = 2, #BREAKS do
    local jm = BREAKS[i]
    jump = jm - jp
    if jy < jm then break end
    leap_j = leap_j + div(jump, 33) * 8 + div(mod(jump, 33), 4)
    jp = jm
  end
  local n = jy - jp
  leap_j = leap_j + div(n, 33) * 8 + div(mod(n, 33) + 3, 4)
  if mod(jump, 33) == 4 and jump - n == 4 then leap_j = leap_j + 1 end
  local leap_g = div(gy, 4) - div((div(gy, 100) + 1) * 3, 4) - 150
  local march = 20 + leap_j - leap_g
  if jump - n < 6 then n = n - jump + div(jump + 4, 33) * 33 end
  local leap = mod(mod(n + 1, 33) - 1, 4)
  if leap == -1 then leap = 4 end
  return leap, gy, march
end

local function g2d(gy, gm, gd)
  local d = div((gy + div(gm - 8, 6) + 100100) * 1461, 4) + div(153 * mod(gm + 9, 12) + 2, 5) + gd - 34840408
  return d - div(div(gy + 100100 + div(gm - 8, 6), 100) * 3, 4) + 752
end

-- Julian day number -> Gregorian year, month, day
local function d2g(jdn)
  local j = 4 * jdn + 139361631
  j = j + div(div(4 * jdn + 183187720, 146097) * 3, 4) * 4 - 3908
  local i = div(mod(j, 1461), 4) * 5 + 308
  local gd = div(mod(i, 153), 5) + 1
  local gm = mod(div(i, 153), 12) + 1
  return div(j, 1461) - 100100 + div(8 - gm, 6), gm, gd
end

-- Solar Hijri year, month, day -> Gregorian year, month, day | nil when
-- there is no such day (Esfand 30th outside a leap year, a 13th month)
function locale.gregorian(jy, jm, jd)
  if jm < 1 or jm > 12 or jd < 1 or jd > (jm <= 6 and 31 or 30) then return nil end
  local _, gy, march = jal_cal(jy)
  local gy2, gm, gd = d2g(g2d(gy, 3, march) + (jm - 1) * 31 - div(jm, 7) * (jm - 7) + jd - 1)
  local by, bm, bd = locale.jalali(gy2, gm, gd)
  if by ~= jy or bm ~= jm or bd ~= jd then return nil end -- (a day past the month's end)
  return gy2, gm, gd
end

-- A time as people write it -> the same with ASCII digits, and a date of the
-- Solar Hijri calendar (years before 1700: no journey means those Gregorian
-- ones) or one written day first (20.12.2026 10:00, as Russian writes it) as
-- the Gregorian ISO date | nil, error; anything else as it is
function locale.gregorian_text(text)
  if type(text) ~= "string" then return text end
  local ascii = locale.ascii_digits(text)
  local d0, m0, y0, at0 = ascii:match("^(%d%d?)%.(%d%d?)%.(%d%d%d%d)[ T](%d%d?:%d%d)$")
  if d0 then ascii = string.format("%s-%02d-%02d %s", y0, tonumber(m0), tonumber(d0), (at0:gsub("^(%d):", "0%1:"))) end
  local y, m, d, rest = ascii:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y or tonumber(y) >= 1700 then return ascii end
  local gy, gm, gd = locale.gregorian(tonumber(y), tonumber(m), tonumber(d))
  if not gy then return nil, string.format('no day "%s-%s-%s" in the Solar Hijri calendar', y, m, d) end
  return string.format("%04d-%02d-%02d%s", gy, gm, gd, rest)
end

-- Gregorian date -> Solar Hijri year, month, day
function locale.jalali(gy, gm, gd)
  local jdn = g2d(gy, gm, gd)
  local jy = gy - 621
  local leap, _, march = jal_cal(jy)
  local k = jdn - g2d(gy, 3, march)
  if k >= 0 then
    if k <= 185 then return jy, 1 + div(k, 31), mod(k, 31) + 1 end
    k = k - 186
  else
    jy = jy - 1
    k = k + 179
    if leap == 1 then k = k + 1 end
  end
  return jy, 7 + div(k, 30), mod(k, 30) + 1
end

-- filters ----------------------------------------------------------------------------------

local FA_MONTHS = { "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن",
                    "اسفند" }
local RU_MONTHS = { "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
                    "ноября", "декабря" }
local EN_MONTHS = { "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                    "November", "December" }

-- Languages as contacts' traits name them ---------------------------------------------

local LANGUAGE_NAMES = { persian = "fa", farsi = "fa", ["фарси"] = "fa", ["فارسی"] = "fa", russian = "ru",
                         ["русский"] = "ru", ["روسی"] = "ru", english = "en", ["английский"] = "en",
                         ["انگلیسی"] = "en" }

-- A language as people write it -> its tags, the most specific first:
-- "fa-IR" and "fa_IR" -> { "fa-ir", "fa" }, "Persian" or "فارسی" -> { "fa" },
-- "ru" -> { "ru" }; nil for what is no language tag or name.
function locale.language_tags(text)
  if type(text) ~= "string" then return nil end
  local lower = locale.lower(text):match("^%s*(.-)%s*$"):gsub("_", "-")
  if LANGUAGE_NAMES[lower] then return { LANGUAGE_NAMES[lower] } end
  local primary = lower:match("^(%a%a%a?)%-[%w%-]+$")
  if primary then return { lower, primary } end
  if lower:match("^%a%a%a?$") then return { lower } end
  return nil
end

-- The contact's language tags (its `language` trait, else `locale`) | nil
function locale.contact_language(traits)
  if type(traits) ~= "table" then return nil end
  return locale.language_tags(rawget(traits, "language")) or locale.language_tags(rawget(traits, "locale"))
end

-- the languages the date and number filters write (any other shows as with none)
locale.LANGUAGES = { date = { "en", "fa", "ru" }, number = { "en", "fa", "ru" } }

local function epoch_of(v)
  if type(v) == "number" then return math.floor(v) end
  if type(v) == "string" then return time.parse(v, "UTC") end
  return nil
end

-- {{order.date | date "fa"}} -> "۱ آذر ۱۴۰۵"; "ru" -> "22 ноября 2026"; "en" -> "22 November 2026";
-- no language -> "2026-11-22". A second argument names the time zone (default UTC).
function locale.date(v, lang, zone)
  local t = epoch_of(v)
  if not t then return v end
  local y, m, d = time.local_parts(zone and time.zone_ok(zone) and zone or "UTC", t)
  if lang == "fa" then
    local jy, jm, jd = locale.jalali(y, m, d)
    return locale.fa_digits(jd) .. " " .. FA_MONTHS[jm] .. " " .. locale.fa_digits(jy)
  elseif lang == "ru" then return string.format("%d %s %d", d, RU_MONTHS[m], y)
  elseif lang == "en" then return string.format("%d %s %d", d, EN_MONTHS[m], y) end
  return string.format("%04d-%02d-%02d", y, m, d)
end

-- digits grouped by three with `group`, the fraction after `point`
local function grouped(n, decimals, group, point)
  local s = string.format("%." .. decimals .. "f", math.abs(n))
  local int, frac = s:match("^(%d+)%.?(%d*)$")
  int = int:reverse():gsub("(%d%d%d)", "%1\0"):reverse():gsub("^\0", ""):gsub("\0", group)
  return (n < 0 and "-" or "") .. int .. (frac ~= "" and point .. frac or "")
end

local NUMBER_STYLE = { fa = { "٬", "٫" }, ru = { "\u{00A0}", "," }, en = { ",", "." } }

local function decimals_of(n) return n == math.floor(n) and 0 or 2 end

-- {{points | number "fa"}} -> "۱۲٬۵۰۰"; "ru" -> "12 500" (no-break space); default "12,500"
function locale.number(v, lang)
  local n = tonumber(v)
  if not n then return v end
  local style = NUMBER_STYLE[lang] or NUMBER_STYLE.en
  local text = grouped(n, decimals_of(n), style[1], style[2])
  return lang == "fa" and locale.fa_digits(text) or text
end

-- {{cart.count | plural("товар", "товара", "товаров")}} -> "1 товар", "3 товара", "5 товаров", "21 товар"
function locale.plural(v, one, few, many)
  local n = tonumber(v)
  if not n then return v end
  local form = many or few or one
  local i = math.floor(math.abs(n))
  if n ~= math.floor(n) then form = few or one
  elseif i % 10 == 1 and i % 100 ~= 11 then form = one
  elseif i % 10 >= 2 and i % 10 <= 4 and (i % 100 < 12 or i % 100 > 14) then form = few or many end
  return locale.number(n, "ru") .. " " .. tostring(form)
end

-- {{total | money "IRR"}} -> "۱۲٬۵۰۰٬۰۰۰ ریال"; "RUB" -> "1 234,50 ₽"; "EUR" -> "€1,234.50"; "USD" -> "$1,234.50"
function locale.money(v, currency)
  local n = tonumber(v)
  if not n then return v end
  if currency == "IRR" then return locale.fa_digits(grouped(n, 0, "٬", "٫")) .. " ریال" end
  if currency == "RUB" then return grouped(n, 2, "\u{00A0}", ",") .. "\u{00A0}₽" end
  local sign = ({ EUR = "€", USD = "$", GBP = "£" })[currency]
  if sign then return (n < 0 and "-" or "") .. sign .. grouped(math.abs(n), 2, ",", ".") end
  return grouped(n, 2, ",", ".") .. " " .. tostring(currency or "")
end

-- Letter case beyond ASCII (Lua's string.upper knows only A-Z): Latin-1 and
-- Latin Extended-A, Greek, and Cyrillic with its extensions, so that
-- {{contact.first_name | upper}} makes "анна" "АННА" ---------------------------------

local UPPER, LOWER = {}, {}
local function pair(lower, upper)
  local l, u = utf8.char(lower), utf8.char(upper)
  UPPER[l], LOWER[u] = u, l
end
-- lower case at first + shift for each code point from first to last (step 1 or 2)
local function range(first, last, shift, step)
  for c = first, last, step or 1 do pair(c, c + shift) end
end
range(0x61, 0x7A, -0x20) -- a-z
range(0xE0, 0xF6, -0x20) range(0xF8, 0xFE, -0x20) pair(0xFF, 0x178) -- Latin-1 (not ÷, nor ß)
range(0x101, 0x12F, -1, 2) range(0x133, 0x137, -1, 2) range(0x13A, 0x148, -1, 2)
range(0x14B, 0x177, -1, 2) range(0x17A, 0x17E, -1, 2) -- Latin Extended-A
range(0x3B1, 0x3C1, -0x20) range(0x3C3, 0x3C9, -0x20) -- Greek
pair(0x3AC, 0x386) range(0x3AD, 0x3AF, -0x25) pair(0x3CC, 0x38C) range(0x3CD, 0x3CE, -0x3F)
UPPER["ς"] = "Σ" -- final sigma: "Σ" lowers to "σ"
range(0x430, 0x44F, -0x20) range(0x450, 0x45F, -0x50) -- Cyrillic: а-я, ѐ-џ (ё)
range(0x461, 0x481, -1, 2) range(0x48B, 0x4BF, -1, 2) range(0x4C2, 0x4CE, -1, 2) pair(0x4CF, 0x4C0)
range(0x4D1, 0x52F, -1, 2)

local CHAR = utf8.charpattern
function locale.upper(v) return v and (tostring(v):gsub(CHAR, UPPER)) end
function locale.lower(v) return v and (tostring(v):gsub(CHAR, LOWER)) end

return locale
