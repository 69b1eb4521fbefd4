-- Prints "contact journey kind [channel]" for every enter/send/exit record of
-- `drip simulate --format jsonl` (stdin), sorted: the outcome of a run,
-- comparable with the same lines read from a store.
local cjson = require "cjson"
local lines = {}
for line in io.lines() do
  local r = cjson.decode(line)
  if r.kind == "enter" or r.kind == "send" or r.kind == "exit" then
    lines[#lines + 1] = table.concat({ r.contact, r.journey, r.kind, r.channel or r.reason }, " ")
  end
end
table.sort(lines)
for _, l in ipairs(lines) do print(l) end
