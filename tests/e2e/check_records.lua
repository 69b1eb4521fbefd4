-- Checks simulate's JSON Lines: every record has at/contact/journey/kind, times
-- are ISO UTC and in order, each kind has its keys. Prints "<bad> <kinds seen>".
local cjson = require "cjson"
local kinds, bad, last = {}, 0, ""
local need = { send = { "channel", "to", "message", "kind_of_message" }, suppress = { "channel", "reason" },
               variant = { "split", "variant" }, exit = { "reason" }, enter = { "event" }, convert = { "event", "value" } }
for line in io.lines(arg[1]) do
  local r = cjson.decode(line)
  if not (r.at and r.contact and r.journey and r.kind) then bad = bad + 1 end
  if not tostring(r.at):match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$") or r.at < last then bad = bad + 1 end
  last = r.at
  kinds[r.kind] = (kinds[r.kind] or 0) + 1
  for _, k in ipairs(need[r.kind] or {}) do
    if r[k] == nil then bad = bad + 1 end
  end
end
local names = {}
for k in pairs(kinds) do names[#names + 1] = k end
table.sort(names)
print(bad .. " " .. table.concat(names, ","))
