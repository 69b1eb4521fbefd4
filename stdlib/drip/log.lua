-- drip.log — one logfmt line per notable action, on stderr:
--   ts=2026-11-22T10:00:00Z level=info msg="journey loaded" journey=welcome
-- Keys come out in the order given; values with spaces or quotes are quoted.
local time = require "drip.time"

local log = {}

local function value(v)
  v = tostring(v)
  if v:match('^[%w%._:/%-@+,]+$') then return v end
  return '"' .. v:gsub('[\\"]', '\\%0'):gsub("\n", "\\n") .. '"'
end

-- log.line(level, msg, k1, v1, k2, v2, ...)
function log.line(level, msg, ...)
  local parts = { "ts=" .. time.iso(os.time()), "level=" .. level, "msg=" .. value(msg) }
  local n = select("#", ...)
  for i = 1, n, 2 do
    local k, v = select(i, ...)
    if v ~= nil then parts[#parts + 1] = k .. "=" .. value(v) end
  end
  io.stderr:write(table.concat(parts, " "), "\n")
end

function log.info(msg, ...) log.line("info", msg, ...) end
function log.warn(msg, ...) log.line("warn", msg, ...) end
function log.error(msg, ...) log.line("error", msg, ...) end

return log
