#!/usr/bin/env bash
# Issue 5's `drip stats` figure at its own size: 1,000,000 instances and
# 10,000,000 events. The store is the 1,000,000 sleepers of run.sh (made
# here when missing) with 9,000,000 more events of those contacts written
# straight into it by SQL (stats reads no event, but the figure names them).
# Printed, not asserted. From the repository root: tests/bench/stats_big.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
DRIP=$BUILD/drip
OUT=tests/bench/out
BIG=$OUT/stats_10m.db
mkdir -p $OUT
if [ ! -s $BIG ]; then
  [ -s $OUT/sleep_1000000.jsonl ] || lua5.4 tests/bench/gen_sleepers.lua 1000000 > $OUT/sleep_1000000.jsonl
  rm -f $BIG*
  $DRIP simulate --events $OUT/sleep_1000000.jsonl --journeys tests/bench/journeys/sleep --db $BIG \
    --format jsonl --until +1h > /dev/null
  sqlite3 $BIG "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 9000000)
    INSERT INTO events(contact, type, name, ts, message_id, internal, body)
    SELECT 's' || (x % 1000000 + 1), 'track', 'Product Viewed', 1793491200 + x % 86400, 'pv-' || x, 0,
           '{\"type\":\"track\",\"userId\":\"s' || (x % 1000000 + 1) || '\",\"event\":\"Product Viewed\"}' FROM n"
fi
echo "== drip stats: $(sqlite3 $BIG "SELECT count(*) FROM instances") instances, $(sqlite3 $BIG "SELECT count(*) FROM events") events"
for args in "" "--format json" "--since 30d"; do
  start=$(date +%s.%N)
  $DRIP stats --db $BIG $args > /dev/null
  end=$(date +%s.%N)
  lua5.4 -e "print(string.format('drip stats %s: %.2f s', '$args', $end - $start))"
done
