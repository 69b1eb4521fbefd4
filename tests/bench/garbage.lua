-- How many bytes a drip command allocates in all: run with the collector
-- stopped (and simulate's own collector pacing off), the heap's growth is
-- every byte allocated and not freed at once, which is to say the garbage
-- the collector would have to mark past and sweep. On the cart month the
-- collector's work grows with this, not with the time the engine runs, so
-- it is the figure to watch when a change makes fewer tables or strings.
-- From the repository root (the drip binary allocates with jemalloc, so
-- this preloads it too; use a run small enough to fit in memory whole):
--   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 lua5.4 tests/bench/garbage.lua \
--     simulate --events tests/bench/out/cart_100000.jsonl --journeys scripts/abandoned_cart.lua \
--     --format jsonl > /dev/null
package.path = "stdlib/?.lua;stdlib/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local collector = require "drip.collector"
collector.batch = function() return function() end, function() end end
collectgarbage("stop")
local before = collectgarbage("count")
local status = require("drip.cli").main(arg)
io.stdout:flush()
io.stderr:write(string.format("allocated %.1f MB\n", (collectgarbage("count") - before) / 1024))
os.exit(status)
