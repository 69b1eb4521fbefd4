-- drip.segments — the forms a named segment in scripts/segments.lua can take,
-- parsed once into plain data:
--   function(contact) ... end                         -> { kind = "traits", fn = f }
--   { inactive = "60d" }                              -> { kind = "inactive", secs = 5184000 }
--   { did = "Order Completed", times = ">=3", within = "90d" }
--                                                     -> { kind = "did", event =, op =, n =, within = }
-- and the counting rule of `did` segments. Evaluating membership needs the
-- store and the budgeted call of user code, so that part lives in the engine.
local duration = require "drip.duration"
local suggest = require "drip.suggest"

local segments = {}

segments.HINT = 'a function(contact), { inactive = "60d" } or { did = "Event", times = ">=3", within = "90d" }'

local COMPARE = {
  [">="] = function(a, b) return a >= b end, [">"] = function(a, b) return a > b end,
  ["<="] = function(a, b) return a <= b end, ["<"] = function(a, b) return a < b end,
  ["="] = function(a, b) return a == b end, ["=="] = function(a, b) return a == b end,
}

-- "times": a count like ">=3", "<2", "=0"; a bare number means at least that many.
local function parse_times(v)
  if v == nil then return ">=", 1 end
  if math.type(v) == "integer" and v >= 0 then return ">=", v end
  local op, n = tostring(v):gsub("%s+", ""):match("^([<>=]=?)(%d+)$")
  if not op or not COMPARE[op] then
    return nil, string.format('times: bad count "%s" (use ">=3", ">1", "<=2", "<2", "=0" or a number)', tostring(v))
  end
  return op, tonumber(n)
end

-- the keys each behaviour segment takes
local KEYS = { inactive = { "inactive" }, did = { "did", "times", "within" } }

-- A key the table's kind does not take (a misspelt "within" would count all
-- time) -> "has an unknown key 'withn'; did you mean 'within'? (it takes
-- did, times, within)" | nil
local function unknown_key(pred, kind)
  local unknown = suggest.unknown_key(pred, KEYS[kind])
  return unknown and "has an " .. unknown or nil
end

-- A table that is neither kind: what it likely meant, else the forms segments take
local function neither(pred)
  for _, k in ipairs(suggest.names(pred)) do -- (in name order: the same one told every time)
    local near = suggest.nearest(k, { "inactive", "did" })
    if near then return string.format("has an unknown key '%s'; did you mean '%s'?", k, near) end
  end
  return "must be " .. segments.HINT
end

-- segments.parse(pred) -> segment | nil, error
function segments.parse(pred)
  if type(pred) == "function" then return { kind = "traits", fn = pred } end
  if type(pred) ~= "table" then return nil, "must be " .. segments.HINT end
  local kind = pred.inactive ~= nil and "inactive" or pred.did ~= nil and "did" or nil
  if not kind then return nil, neither(pred) end
  local unknown = unknown_key(pred, kind)
  if unknown then return nil, unknown end
  if pred.inactive ~= nil then
    local secs, err = duration.parse(pred.inactive)
    if not secs then return nil, "inactive: " .. err end
    return { kind = "inactive", secs = secs }
  end
  if type(pred.did) == "string" and pred.did ~= "" then
    local op, n = parse_times(pred.times)
    if not op then return nil, n end
    local within
    if pred.within ~= nil then
      local err
      within, err = duration.parse(pred.within)
      if not within then return nil, "within: " .. err end
    end
    return { kind = "did", event = pred.did, op = op, n = n, within = within }
  end
  return nil, "must be " .. segments.HINT
end

-- whether `count` events satisfy a did segment
function segments.counts(seg, count) return COMPARE[seg.op](count, seg.n) end

-- the earliest event time a did segment counts at `now` (nil: all time)
function segments.since(seg, now) return seg.within and now - seg.within or nil end

return segments
