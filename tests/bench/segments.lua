-- Segment re-evaluation on a trait change: 20 trait segments, each the
-- trigger of a journey, so every identify re-evaluates all 20 (member before
-- the change? after it?). Printed per segment per contact.
--   lua5.4 tests/bench/segments.lua [CONTACTS]   (from the repository root, after make)
package.path = "stdlib/?.lua;tests/spec/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local host = require "drip_host"
local json = require "drip.json"
local helpers = require "helpers"

local N = tonumber(arg[1]) or 20000
local SEGMENTS = 20

-- predicates of the kinds marketers write: thresholds, equality, nested consent, lists
local KINDS = {
  'function(c) return (c.lifetime_value or 0) >= %d end',
  'function(c) return c.locale == "xx%d" end',
  'function(c) return c.consent and c.consent.sms == true and (c.orders or 0) > %d end',
  'function(c) local t = c.tags or {} for _, x in ipairs(t) do if x == "t%d" then return true end end return false end',
}

local function sim_with(segments)
  local lines, files = { "return {" }, {}
  for i = 1, segments do
    local kind = KINDS[(i - 1) % #KINDS + 1]
    lines[#lines + 1] = string.format("  s%d = %s,", i, kind:format(1000000 + i))
    files["j" .. i .. ".lua"] = string.format('return journey { trigger = { segment = "s%d" }, steps = function() end }', i)
  end
  lines[#lines + 1] = "}"
  files["segments.lua"] = table.concat(lines, "\n")
  local j = 'return journey { trigger = "Never", steps = function() end }'
  return (helpers.sim(j, { files = files }))
end

local function identify_all(sim, value)
  local t = host.clock()
  for i = 1, N do
    sim:identify("c" .. i, { lifetime_value = value + i % 100, locale = "en", orders = i % 7,
                             consent = { email = true, sms = i % 2 == 0 }, tags = { "a", "b" } })
  end
  return host.clock() - t
end

local with, without = sim_with(SEGMENTS), sim_with(0)
identify_all(with, 1) -- contacts exist: what follows are trait changes
identify_all(without, 1)

-- 1. the re-evaluation itself: both memberships of every segment for a change
local engine = with.engine
local before, after = {}, {}
for i = 1, N do
  before[i] = with.store:contact_json("c" .. i)
  after[i] = json.decode(before[i])
  after[i].lifetime_value = after[i].lifetime_value + 1
end
local t = host.clock()
for i = 1, N do engine:enter_trait_segments("c" .. i, before[i], after[i], {}, nil) end
local direct = host.clock() - t
assert(#with:records { kind = "enter" } == 0, "the benchmark's segments must not be entered")

-- 2. the whole identify, with and without 20 segment triggers
local t_with, t_without = identify_all(with, 2), identify_all(without, 2)

print(string.format("segment re-evaluation: %d contacts x %d segments: %.2f us per segment per contact "
  .. "(membership before and after the change)", N, SEGMENTS, direct / (N * SEGMENTS) * 1e6))
print(string.format("identify with a trait change: %.1f us with %d segment triggers, %.1f us with none "
  .. "-> %.2f us per segment", t_with / N * 1e6, SEGMENTS, t_without / N * 1e6, (t_with - t_without) / (N * SEGMENTS) * 1e6))
