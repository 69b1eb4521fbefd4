-- drip.suggest — "did you mean" for a name that is not known: the nearest
-- known name, at most two edits away (a typo), or nil.
local suggest = {}

-- edit distance of two short names
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- suggest.names(t) -> the string keys of t, sorted: the known names of a
-- table of steps, filters, units or traits
function suggest.names(t)
  local names = {}
  for k in pairs(t) do
    if type(k) == "string" then names[#names + 1] = k end
  end
  table.sort(names)
  return names
end

-- suggest.nearest(name, known) -> the known name nearest to `name` (ties: the
-- first in sort order), or nil when none is within two edits. known: a list.
function suggest.nearest(name, known)
  local best, best_d = nil, 3
  for _, k in ipairs(known) do
    local d = distance(name, k)
    if d < best_d or (best and d == best_d and k < best) then best, best_d = k, d end
  end
  return best
end

-- suggest.unknown_key(t, keys) -> "unknown key 'wher'; did you mean 'where'?
-- (it takes event, where)" for the first key of table t (in sort order) not
-- among `keys` (a list), or nil: for spec tables, where a misspelt key left
-- out unseen would change what the spec means.
function suggest.unknown_key(t, keys)
  local known = {}
  for _, k in ipairs(keys) do known[k] = true end
  local odd
  for k in pairs(t) do
    if not known[k] and (odd == nil or tostring(k) < tostring(odd)) then odd = k end
  end
  if odd == nil then return nil end
  local near = type(odd) == "string" and suggest.nearest(odd, keys)
  return string.format("unknown key '%s'%s (it takes %s)", tostring(odd),
    near and string.format("; did you mean '%s'?", near) or "", table.concat(keys, ", "))
end

-- suggest.lookalike(name, names, folded_only) -> the one of `names` that
-- differs from `name` only in case, spaces or punctuation ("cart_updated"
-- for "Cart Updated"), else (unless folded_only) the nearest within two
-- edits, or nil. For event names, which must match exactly.
function suggest.lookalike(name, names, folded_only)
  local function folded(s) return (s:lower():gsub("[%s%p]", "")) end
  local want = folded(name)
  for _, other in ipairs(names) do
    if other ~= name and folded(other) == want then return other end
  end
  return not folded_only and suggest.nearest(name, names) or nil
end

return suggest
