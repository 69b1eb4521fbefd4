-- Generates an abandoned-cart workload: N events for C contacts over 30 days,
-- in timestamp order. Each contact: one identify, then views, cart updates
-- and (for about a third) an order.
--   lua5.4 tests/bench/gen_cart.lua EVENTS CONTACTS > cart.jsonl
local N = tonumber(arg[1]) or 1000000
local C = tonumber(arg[2]) or 100000
local seed = 42
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end
local START = 1793491200 -- 2026-11-01T00:00:00Z
local per = N // C
local out = {}
-- spread contacts over the month; each contact's events within ~2 days
local rows = {}
for c = 1, C do
  local t = START + rand(28 * 86400)
  local uid = "u" .. c
  rows[#rows + 1] = { t, string.format('{"type":"identify","userId":"%s","traits":{"email":"%s@example.com","first_name":"N%d","consent":{"email":true,"sms":%s},"phone":"+4915%07d"},"timestamp":"%%s","messageId":"%s-0"}', uid, uid, c, c % 2 == 0 and "true" or "false", c, uid), #rows + 1 }
  local ordered = rand(3) == 0
  for k = 1, per - 1 do
    t = t + 60 + rand(3 * 3600)
    local ev
    if k == per - 1 and ordered then
      ev = string.format('{"type":"track","userId":"%s","event":"Order Completed","properties":{"revenue":%d},"timestamp":"%%s","messageId":"%s-%d"}', uid, 20 + rand(200), uid, k)
    elseif k % 3 == 0 then
      ev = string.format('{"type":"track","userId":"%s","event":"Product Viewed","properties":{"price":%d,"name":"P%d"},"timestamp":"%%s","messageId":"%s-%d"}', uid, 5 + rand(100), rand(500), uid, k)
    else
      ev = string.format('{"type":"track","userId":"%s","event":"Cart Updated","properties":{"cart_url":"https://shop.test/c/%s","value":%d},"timestamp":"%%s","messageId":"%s-%d"}', uid, uid, 10 + rand(300), uid, k)
    end
    rows[#rows + 1] = { t, ev, #rows + 1 }
  end
end
-- (ties in the order made: Lua's sort is not stable, and picks its pivots at
-- random on large arrays, so the same file comes out every time)
table.sort(rows, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[3] < b[3]) end)
local buf = {}
for i, r in ipairs(rows) do
  buf[#buf + 1] = r[2]:format(os.date("!%Y-%m-%dT%H:%M:%SZ", r[1]))
  if #buf >= 10000 then io.write(table.concat(buf, "\n"), "\n") buf = {} end
end
if #buf > 0 then io.write(table.concat(buf, "\n"), "\n") end
