#!/usr/bin/env bash
# drip benchmarks: printed, not asserted. Usage: tests/bench/run.sh [BUILD_DIR] [SCALE]
# SCALE 1 = the issue's figures (1,000,000 events / instances); 0.1 for a quick look.
set -eu
BUILD=${1:-build}
SCALE=${2:-1}
DRIP=$BUILD/drip
OUT=tests/bench/out
mkdir -p $OUT
n() { lua5.4 -e "print(math.floor($1 * $SCALE))"; }

EVENTS=$(n 1000000); CONTACTS=$(n 100000)
echo "== simulate: abandoned cart, $EVENTS events, $CONTACTS contacts, file --db"
[ -s $OUT/cart_$EVENTS.jsonl ] || lua5.4 tests/bench/gen_cart.lua $EVENTS $CONTACTS > $OUT/cart_$EVENTS.jsonl
rm -f $OUT/cart.db*
start=$(date +%s.%N)
$DRIP simulate --events $OUT/cart_$EVENTS.jsonl --journeys scripts/abandoned_cart.lua --db $OUT/cart.db --format jsonl > $OUT/cart_records.jsonl
end=$(date +%s.%N)
lua5.4 -e "local s = $end - $start print(string.format('%d events in %.1f s: %.0f events/s, %d records', $EVENTS, s, $EVENTS / s, $(wc -l < $OUT/cart_records.jsonl)))"

echo "== sleeping instances: RSS and database bytes per instance"
measure() { # count -> "rss_kb db_bytes instance_bytes"
  local count=$1
  [ -s $OUT/sleep_$count.jsonl ] || lua5.4 tests/bench/gen_sleepers.lua $count > $OUT/sleep_$count.jsonl
  rm -f $OUT/sleep.db*
  /usr/bin/time -f "%M" -o $OUT/rss $DRIP simulate --events $OUT/sleep_$count.jsonl --journeys tests/bench/journeys/sleep \
    --db $OUT/sleep.db --format jsonl --until +1h > /dev/null
  local db=$(stat -c %s $OUT/sleep.db)
  local inst=$(sqlite3 $OUT/sleep.db "SELECT sum(pgsize) FROM dbstat WHERE name NOT LIKE 'events%' AND name NOT LIKE 'contacts%'")
  echo "$(cat $OUT/rss) $db $inst"
}
# Three sizes: from SMALL the bounded caches (SQLite's 64 MiB of pages, the
# known-contacts set, the slept coroutines kept) are still filling; from
# HALF on they are full, so HALF -> BIG is what each instance itself costs.
SMALL=$(n 100000); HALF=$(n 500000); BIG=$(n 1000000)
read -r rss1 db1 in1 <<< "$(measure $SMALL)"
read -r rssh dbh inh <<< "$(measure $HALF)"
read -r rss2 db2 in2 <<< "$(measure $BIG)"
lua5.4 -e "
  local d = $BIG - $SMALL
  print(string.format('peak RSS: %d sleeping %d MiB, %d sleeping %d MiB, %d sleeping %d MiB', $SMALL, $rss1 // 1024, $HALF, $rssh // 1024, $BIG, $rss2 // 1024))
  print(string.format('-> %.0f bytes RSS per extra instance from %d to %d (caches filling), %.0f from %d to %d (caches full)', ($rss2 - $rss1) * 1024 / d, $SMALL, $BIG, ($rss2 - $rssh) * 1024 / ($BIG - $HALF), $HALF, $BIG))
  print(string.format('database: %.0f bytes per instance in all (event and contact rows included), %.0f bytes in instance tables (instances, steps, timers, history, indexes)', ($db2 - $db1) / d, ($in2 - $in1) / d))"

echo "== replay"
# replay.lua runs the engine in lua5.4; the drip binary allocates with jemalloc, so this does too
JEMALLOC=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
LD_PRELOAD=$JEMALLOC lua5.4 tests/bench/replay.lua

echo "== drip stats over the abandoned-cart store"
start=$(date +%s.%N)
$DRIP stats --db $OUT/cart.db --format json > /dev/null
end=$(date +%s.%N)
lua5.4 -e "print(string.format('drip stats: %.2f s', $end - $start))"

echo "== segments: re-evaluation on a trait change"
lua5.4 tests/bench/segments.lua $(n 20000)

echo "== backtest: the month of abandoned-cart events through the journey again"
$DRIP backtest --journeys scripts/abandoned_cart.lua --since 32d --db $OUT/cart.db | sed -n 1p
