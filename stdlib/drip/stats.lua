-- drip.stats — journey results from the store, and the arithmetic of A/B
-- reading. Owns: folding the store's grouped rows into one table per journey
-- (funnel, exits, steps reached, messages by channel and outcome, SMS
-- segments, revenue, split variants; each message with the conversions it
-- was the last message before, and their revenue), the 95% Wilson score interval of a
-- rate, and the two-proportion z-test of each variant against the control
-- (see stats.is_control) or the first.
local json = require "drip.json"
local locale = require "drip.locale"
local time = require "drip.time"

local stats = {}

local Z95 = 1.959963984540054

-- Wilson score interval of k successes in n trials -> low, high (0..1)
function stats.wilson(k, n)
  if n == 0 then return 0, 0 end
  local p, z2 = k / n, Z95 * Z95
  local centre = (p + z2 / (2 * n)) / (1 + z2 / n)
  local half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
  return math.max(0, centre - half), math.min(1, centre + half)
end

-- standard normal upper tail, by the complementary error function (Abramowitz-Stegun 7.1.26)
local function erfc(x)
  local t = 1 / (1 + 0.3275911 * x)
  local poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
  return poly * math.exp(-x * x)
end

-- two-proportion z-test of k1/n1 against k2/n2 -> z, two-sided p-value (nil when undefined)
function stats.two_proportion(k1, n1, k2, n2)
  if n1 == 0 or n2 == 0 then return nil end
  local pooled = (k1 + k2) / (n1 + n2)
  local se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
  if se == 0 then return nil end
  local z = (k2 / n2 - k1 / n1) / se
  return z, erfc(math.abs(z) / math.sqrt(2))
end

local function journey(out, name)
  local j = out[name]
  if not j then
    j = { journey = name, entered = 0, active = 0, converted = 0, conversion_rate = 0, revenue = 0, failed = 0, exited = {},
          steps = json.array(), channels = {}, messages = json.array(), splits = {} }
    out[name] = j
  end
  return j
end

-- the stats of a journey with no instances (in the period)
function stats.empty(name) return journey({}, name) end

-- The variant names that mean "the control group": each other variant is
-- tested against it (else against the first by name).
local CONTROLS = { control = true, holdout = true, baseline = true, ["контроль"] = true, ["کنترل"] = true }
function stats.is_control(name) return CONTROLS[locale.lower(name)] == true end

-- stats.collect(store, since) -> list of per-journey tables, by name
function stats.collect(store, since)
  local rows, by = store:stats_rows(since), {}
  for _, r in ipairs(rows.journeys) do
    local j = journey(by, r[1])
    j.entered, j.active, j.converted, j.revenue, j.failed = r[2], r[3], r[4], r[5], r[6]
    j.conversion_rate = r[2] > 0 and r[4] / r[2] or 0
  end
  for _, r in ipairs(rows.exits) do journey(by, r[1]).exited[r[2] or "unknown"] = r[3] end
  for _, r in ipairs(rows.steps) do
    local steps = journey(by, r[1]).steps
    steps[#steps + 1] = { step = r[2], call = r[3], reached = r[4] }
  end
  local function channel(name, ch)
    local channels = journey(by, name).channels
    local c = channels[ch] or { sent = 0, queued = 0, failed = 0, deferred = 0, held = 0, simulated = 0,
                                suppressed = {} }
    channels[ch] = c
    return c
  end
  for _, r in ipairs(rows.messages) do
    local c = channel(r[1], r[2])
    if r[3] == "suppressed" then c.suppressed[r[4]] = (c.suppressed[r[4]] or 0) + r[5]
    elseif r[3] == "sending" then c.queued = c.queued + r[5]
    else c[r[3]] = (c[r[3]] or 0) + r[5] end
  end
  for _, r in ipairs(rows.engaged) do -- (tracked: see drip.tracking)
    local c = channel(r[1], r[2])
    c.opened, c.clicked = r[3], r[4]
  end
  for _, r in ipairs(rows.labels) do -- each message of the journey (its template, or subject or text): see label
    if r[4] > 0 then
      local list = journey(by, r[1]).messages
      list[#list + 1] = { message = r[2], channel = r[3], sent = r[4], opened = r[5], clicked = r[6], converted = r[7],
                          revenue = r[8] }
    end
  end
  -- the segments of the SMS messages not suppressed: what the provider bills
  for _, r in ipairs(rows.segments) do
    if r[2] == "sms" then journey(by, r[1]).sms_segments = r[3] end
  end
  for _, r in ipairs(rows.variants) do
    local splits = journey(by, r[1]).splits
    splits[r[2]] = splits[r[2]] or {}
    local low, high = stats.wilson(r[5], r[4])
    table.insert(splits[r[2]], { variant = r[3], entered = r[4], converted = r[5], rate = r[5] / r[4],
                                 low = low, high = high })
  end
  local paused = store:paused_journeys()
  local list = json.array()
  for name, j in pairs(by) do
    if paused[name] then
      j.paused_since, j.refused_while_paused = time.iso(paused[name].since), paused[name].refused
    end
    table.sort(j.steps, function(a, b) return a.step < b.step or (a.step == b.step and a.call < b.call) end)
    table.sort(j.messages, function(a, b)
      if a.sent ~= b.sent then return a.sent > b.sent end
      return a.channel .. a.message < b.channel .. b.message
    end)
    for _, variants in pairs(j.splits) do
      table.sort(variants, function(a, b)
        local ca, cb = stats.is_control(a.variant), stats.is_control(b.variant)
        if ca ~= cb then return ca end
        return a.variant < b.variant
      end)
      local base = variants[1]
      for i = 2, #variants do
        local v = variants[i]
        v.z, v.p_value = stats.two_proportion(base.converted, base.entered, v.converted, v.entered)
      end
    end
    list[#list + 1] = j
  end
  table.sort(list, function(a, b) return a.journey < b.journey end)
  return list
end

return stats
