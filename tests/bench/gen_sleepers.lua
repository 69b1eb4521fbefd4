-- N contacts each send one "Go" event, 1s apart: with journeys/sleep.lua every
-- one ends up as an instance sleeping 30 days.   lua5.4 gen_sleepers.lua N
local N = tonumber(arg[1]) or 1000000
local START = 1793491200 -- 2026-11-01T00:00:00Z
local buf = {}
for i = 1, N do
  buf[#buf + 1] = string.format('{"type":"track","userId":"s%d","event":"Go","timestamp":"%s"}', i,
    os.date("!%Y-%m-%dT%H:%M:%SZ", START + i // 100))
  if #buf == 10000 then io.write(table.concat(buf, "\n"), "\n") buf = {} end
end
if #buf > 0 then io.write(table.concat(buf, "\n"), "\n") end
