-- Times each of the store's SQL statements while a drip command runs, and
-- prints them (total, calls, µs per call) to stderr, slowest first. Costs
-- that grow with the store (random index pages, commits) show only at full
-- size, where instruction counts on a small run miss them. From the repo root
-- (the drip binary allocates with jemalloc, so this preloads it too):
--   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 lua5.4 tests/bench/statements.lua \
--     simulate --events tests/bench/out/cart_1000000.jsonl --journeys scripts/abandoned_cart.lua \
--     --db /tmp/s.db --format jsonl > /dev/null
-- Each timed call adds about 1 µs.
package.path = "stdlib/?.lua;stdlib/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local host = require "drip_host"
local Store = require "drip.store"

local clock = host.clock
local total, calls = {}, {}

-- each prepared statement behind a wrapper that times its methods
local statement_q = Store.q
local wrappers = {}
local is_wrapper = {}
Store.q = function(self, name)
  local st = statement_q(self, name)
  if is_wrapper[st] then return st end
  local w = wrappers[st]
  if not w then
    w = setmetatable({}, { __index = function(t, method)
      local f = st[method]
      if type(f) ~= "function" then return f end
      local timed = function(_, ...)
        local t0 = clock()
        local r = table.pack(f(st, ...))
        total[name] = (total[name] or 0) + clock() - t0
        calls[name] = (calls[name] or 0) + 1
        return table.unpack(r, 1, r.n)
      end
      rawset(t, method, timed)
      return timed
    end })
    wrappers[st], is_wrapper[w] = w, true
  end
  self.stmts[name] = w -- (the store takes some statements from there directly)
  return w
end

-- (simulate's history rows then go through history_add's wrapper, timed,
-- not through host.record_writer, which runs the statement from C)
Store.record_writer = function() return nil end

local started = clock()
local status = require("drip.cli").main(arg)
local run = clock() - started

local names, sql = {}, 0
for name, t in pairs(total) do
  names[#names + 1] = name
  sql = sql + t
end
table.sort(names, function(a, b) return total[a] > total[b] end)
io.stderr:write(string.format("run %.2f s, of which SQL statements %.2f s (commits and index builds not included)\n", run, sql))
for _, name in ipairs(names) do
  io.stderr:write(string.format("%-28s %8.3f s %9d calls %7.2f us\n", name, total[name], calls[name],
    total[name] / calls[name] * 1e6))
end
os.exit(status or 0)
