#!/usr/bin/env bash
# What `drip simulate` on the abandoned-cart month would take if the engine
# cost nothing: the same SQLite calls alone (traced, then played back from C
# by sql_replay.c), and the reading of the events file alone. Their sum is a
# floor no engine can go under while it stores what this one stores. Then the
# same for `drip backtest` of that month in one process (its SQLite calls alone: the period's
# events read from the store, and the scratch store in memory). From the
# repository root:
#   tests/bench/storage_floor.sh BUILD_DIR [EVENTS]
set -eu
BUILD=$1
EVENTS=${2:-tests/bench/out/cart_1000000.jsonl}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
SIMULATE=(simulate --events "$EVENTS" --journeys scripts/abandoned_cart.lua --format jsonl)
# (in one process: the trace sees only the process it runs in)
BACKTEST=(backtest --journeys scripts/abandoned_cart.lua --since 400d --jobs 1)

cc -O2 tests/bench/sql_replay.c -o "$OUT/sql_replay" -lsqlite3
lines=$(grep -c . "$EVENTS")

seconds() { # OUTPUT command... -> the seconds it took
  local output=$1 start
  shift
  start=$(date +%s.%N)
  "$@" > "$output"
  echo "$(date +%s.%N) - $start" | bc
}
rate() { printf '%.0f' "$(echo "$lines / $1" | bc -l)"; }
# DB drip-args... -> seconds in SQLite when the calls that drip command made are played back on DB
replayed() {
  local db=$1
  shift
  lua5.4 tests/bench/sql_trace.lua "$OUT/trace" "$BUILD" "$@" > "$OUT/traced.out"
  [ "$db" = "$OUT/replay.db" ] || cp "$OUT/run.db" "$db" # a backtest reads the store the run made
  "$OUT/sql_replay" "$OUT/trace" "$db" > "$OUT/replay.txt"
  sed -n 's/.*in SQLite \([0-9.]*\) s$/\1/p' "$OUT/replay.txt"
}

whole=$(seconds "$OUT/run.out" "$BUILD/drip" "${SIMULATE[@]}" --db "$OUT/run.db")
storage=$(replayed "$OUT/replay.db" "${SIMULATE[@]}" --db "$OUT/traced.db")
if ! cmp -s "$OUT/run.out" "$OUT/traced.out"; then
  echo "storage_floor: the traced run's records differ from the plain run's" >&2
  exit 1
fi
reading=$(lua5.4 - "$BUILD" "$EVENTS" <<'LUA'
package.path = "stdlib/?.lua;" .. package.path
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local clock, events = require("drip_host").clock, require "drip.events"
local start = clock()
for _ in events.each(events.scan(arg[2], function() end)) do end
print(string.format("%.2f", clock() - start))
LUA
)
floor=$(echo "$storage + $reading" | bc -l)
echo "the SQLite calls that took longest:"
grep -v "statement calls" "$OUT/replay.txt" | sort -rn | head -12
printf 'events %d\n' "$lines"
printf 'drip simulate          %6.2f s  %8s events/s\n' "$whole" "$(rate "$whole")"
printf 'its SQLite calls alone %6.2f s\n' "$storage"
printf 'reading the file alone %6.2f s\n' "$reading"
printf 'floor (the two)        %6.2f s  %8s events/s at most\n' "$floor" "$(rate "$floor")"

cp "$OUT/run.db" "$OUT/backtest.db"
whole=$(seconds /dev/null "$BUILD/drip" "${BACKTEST[@]}" --db "$OUT/backtest.db")
cp "$OUT/run.db" "$OUT/backtest.db"
storage=$(replayed "$OUT/backtest_replay.db" "${BACKTEST[@]}" --db "$OUT/backtest.db")
printf 'drip backtest, one job %6.2f s  %8s events/s\n' "$whole" "$(rate "$whole")"
printf 'its SQLite calls alone %6.2f s  %8s events/s at most\n' "$storage" "$(rate "$storage")"
