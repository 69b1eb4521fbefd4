-- Runs a drip command and writes down every call it makes into SQLite, in
-- order, with its arguments: the trace that sql_replay.c plays back to time
-- the storage alone (see storage_floor.sh). From the repository root:
--   lua5.4 tests/bench/sql_trace.lua TRACE BUILD_DIR simulate --events ... --db ...
--
-- The trace is lines, with each text length-prefixed so that any bytes pass:
--   O db len\n path\n          a database opened
--   P db stmt len\n sql\n      a statement prepared
--   E db len\n sql\n           db:exec (pragmas, BEGIN/COMMIT, index builds)
--   R|F|A stmt n\n + n args    stmt:run, :first (one row), :all or :column
--   an arg: n\n (nil) | i<integer>\n | f<float>\n | s<len>\n bytes\n
local trace_path, build = table.remove(arg, 1), table.remove(arg, 1)
package.path = "stdlib/?.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath
local host = require "drip_host"

local out = assert(io.open(trace_path, "wb"))
out:setvbuf("full", 1 << 20)

local function numbering()
  local ids, last = setmetatable({}, { __mode = "k" }), 0
  return function(object)
    if not ids[object] then last = last + 1; ids[object] = last end
    return ids[object]
  end
end
local db_id, stmt_id = numbering(), numbering()

local function write_text(s) out:write(#s, "\n", s, "\n") end

local function write_arg(v)
  if v == nil then out:write("n\n")
  elseif type(v) == "boolean" then out:write("i", v and 1 or 0, "\n")
  elseif math.type(v) == "integer" then out:write("i", v, "\n")
  elseif type(v) == "number" then out:write("f", string.format("%.17g", v), "\n")
  else out:write("s"); write_text(tostring(v)) end -- (a text view of the events reader is bound as its text)
end

local open = host.open
host.open = function(path, ...)
  local db, err = open(path, ...)
  if db then out:write("O ", db_id(db), " "); write_text(path) end
  return db, err
end

local db_methods = debug.getregistry()["drip.db"].__index
local prepare, exec = db_methods.prepare, db_methods.exec
db_methods.prepare = function(db, sql)
  local stmt = prepare(db, sql)
  out:write("P ", db_id(db), " ", stmt_id(stmt), " "); write_text(sql)
  return stmt
end
db_methods.exec = function(db, sql)
  out:write("E ", db_id(db), " "); write_text(sql)
  return exec(db, sql)
end

local stmt_methods = debug.getregistry()["drip.stmt"].__index
for name, mode in pairs { run = "R", first = "F", all = "A", column = "A" } do
  local method = stmt_methods[name]
  stmt_methods[name] = function(stmt, ...)
    local n = select("#", ...)
    out:write(mode, " ", stmt_id(stmt), " ", n, "\n")
    for i = 1, n do write_arg((select(i, ...))) end
    return method(stmt, ...)
  end
end

-- (simulate's history rows then go through stmt:run, traced, not through
-- host.record_writer, which runs its statement from C)
require("drip.store").record_writer = function() return nil end

local status = require("drip.cli").main(arg)
out:close()
os.exit(status or 0)
