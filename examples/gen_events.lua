-- Generates examples/events.jsonl: a realistic November 2026 for 240
-- contacts of a small shop, with mixed consent, time zones (Asia/Tehran and
-- Europe/Moscow among them) and Persian, Russian and English names.
-- Deterministic: the same file every run.   lua5.4 examples/gen_events.lua > examples/events.jsonl
local seed = 20261101
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end
local function pick(t) return t[rand(#t)] end
local function chance(pct) return rand(100) <= pct end

local people = {
  en = { "Ava", "Liam", "Emma", "Noah", "Olivia", "Lucas", "Mia", "Ethan", "Zoe", "Leo" },
  fa = { "سارا", "علی", "مریم", "رضا", "نگار", "امیر", "زهرا", "حسین", "نیلوفر", "کیان" },
  ru = { "Анна", "Иван", "Ольга", "Дмитрий", "Мария", "Сергей", "Елена", "Алексей", "Татьяна", "Никита" },
}
local zones = { en = { "Europe/Berlin", "Europe/London", "America/New_York", "UTC" },
                fa = { "Asia/Tehran" }, ru = { "Europe/Moscow", "Asia/Yekaterinburg" } }
local products = {
  { name = "Trail Shoes", price = 89.0, category = "shoes" },
  { name = "Rain Jacket", price = 120.0, category = "outerwear" },
  { name = "Wool Socks", price = 12.5, category = "socks" },
  { name = "Daypack 20L", price = 64.0, category = "bags" },
  { name = "Thermo Bottle", price = 24.9, category = "kitchen" },
}

local function esc(s) return (s:gsub('[\\"]', "\\%0")) end
local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local START = os.time({ year = 2026, month = 11, day = 1, hour = 0 }) -- TZ of the machine does not matter:
START = START + (os.time() - os.time(os.date("!*t"))) -- shift local midnight to UTC midnight
local lines, mid = {}, 0
local function emit(t, fields)
  mid = mid + 1
  lines[#lines + 1] = { t = t, n = mid, text = fields:gsub("@TS", iso(t)):gsub("@MID", "m-" .. mid) }
end

local function json_props(p)
  local parts = {}
  for _, k in ipairs({ "name", "price", "category", "url", "cart_url", "value", "order_id", "revenue", "currency",
                        "product", "tracking_url", "carrier", "guide" }) do
    local v = p[k]
    if type(v) == "number" then parts[#parts + 1] = string.format('"%s":%s', k, v)
    elseif v then parts[#parts + 1] = string.format('"%s":"%s"', k, esc(v)) end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

for i = 1, 240 do
  local uid = string.format("c%03d", i)
  local lang = i % 5 == 0 and "fa" or (i % 5 == 1 and "ru" or "en")
  local name = pick(people[lang])
  local t = START + rand(20 * 86400)
  local consent_email = chance(80)
  local consent_sms = chance(45)
  local phone = chance(70) and string.format('"+%d%09d"', lang == "fa" and 98 or (lang == "ru" and 7 or 49), rand(999999999)) or "null"
  local ltv = rand(900)
  emit(t, string.format('{"type":"identify","userId":"%s","traits":{"email":"%s@example.com","first_name":"%s",'
    .. '"phone":%s,"timezone":"%s","locale":"%s","lifetime_value":%d,"consent":{"email":%s,"sms":%s,"push":true},'
    .. '"push_token":"tok-%s"},"timestamp":"@TS","messageId":"@MID"}',
    uid, uid, esc(name), phone, pick(zones[lang]), lang, ltv, tostring(consent_email), tostring(consent_sms), uid))
  if chance(70) then emit(t + 60, string.format('{"type":"track","userId":"%s","event":"Signed Up","properties":{},"timestamp":"@TS","messageId":"@MID"}', uid)) end
  if chance(15) then
    emit(t + 3600, string.format('{"type":"track","userId":"%s","event":"Guide Downloaded","properties":%s,"timestamp":"@TS","messageId":"@MID"}',
      uid, json_props({ guide = "Launch Playbook", url = "https://shop.test/guides/launch.pdf" })))
    if chance(30) then emit(t + 5 * 86400, string.format('{"type":"track","userId":"%s","event":"Demo Booked","properties":{},"timestamp":"@TS","messageId":"@MID"}', uid)) end
  end
  local clock = t + 7200
  for _ = 1, rand(4) - 1 do
    local p = pick(products)
    clock = clock + rand(3 * 86400)
    emit(clock, string.format('{"type":"track","userId":"%s","event":"Product Viewed","properties":%s,"timestamp":"@TS","messageId":"@MID"}',
      uid, json_props({ name = p.name, price = p.price, category = p.category, url = "https://shop.test/p/" .. p.category })))
    if chance(45) then
      clock = clock + rand(3600)
      emit(clock, string.format('{"type":"track","userId":"%s","event":"Cart Updated","properties":%s,"timestamp":"@TS","messageId":"@MID"}',
        uid, json_props({ cart_url = "https://shop.test/cart/" .. uid, value = p.price })))
      if chance(40) then
        clock = clock + rand(2 * 86400)
        local order = string.format("SO-%05d", 10000 + mid)
        emit(clock, string.format('{"type":"track","userId":"%s","event":"Order Completed","properties":%s,"timestamp":"@TS","messageId":"@MID"}',
          uid, json_props({ order_id = order, revenue = p.price, currency = "EUR", product = p.name, category = p.category })))
        emit(clock + 86400 + rand(86400), string.format('{"type":"track","userId":"%s","event":"Order Shipped","properties":%s,"timestamp":"@TS","messageId":"@MID"}',
          uid, json_props({ order_id = order, carrier = "DHL", tracking_url = "https://track.test/" .. order })))
      end
    end
    if chance(20) then emit(clock + rand(86400), string.format('{"type":"track","userId":"%s","event":"Session Started","properties":{},"timestamp":"@TS","messageId":"@MID"}', uid)) end
  end
  if chance(4) then emit(clock + rand(5 * 86400), string.format('{"type":"track","userId":"%s","event":"Unsubscribed","properties":{"channel":"email"},"timestamp":"@TS","messageId":"@MID"}', uid)) end
end

-- Late orders and loyalty points, made after the loop above so that the
-- events it makes stay exactly as they were.
local TRACK = '{"type":"track","userId":"%s","event":"%s","properties":%s,"timestamp":"@TS","messageId":"@MID"}'
for i = 1, 240 do
  local uid = string.format("c%03d", i)
  local t = START + 18 * 86400 + rand(8 * 86400)
  if chance(6) then
    local days = rand(5)
    local order = string.format("SO-L%03d", i)
    emit(t, string.format(TRACK, uid, "Order Delayed", string.format('{"order_id":"%s","days_late":%d}', order, days)))
    if chance(80) then
      emit(t + (days + 1) * 86400, string.format(TRACK, uid, "Order Delivered", string.format('{"order_id":"%s"}', order)))
    end
  end
  if chance(8) then emit(t + 3600, string.format(TRACK, uid, "Points Updated", string.format('{"points":%d}', 700 + rand(600)))) end
end

table.sort(lines, function(a, b) if a.t ~= b.t then return a.t < b.t end return a.n < b.n end)
print("# Sample events: a month of a small shop (generated by examples/gen_events.lua)")
for _, l in ipairs(lines) do print(l.text) end
