#!/usr/bin/env bash
# drip prune's times (no issue sets a figure for it): over a copy of run.sh's
# abandoned-cart store (1,000,000 events; run run.sh first), alone and beside
# a server (the store's `served` mark, which slows the chunks to 0.1 s with a
# pause after each), and over a store with many ended instances. Printed,
# not asserted. From the repository root: tests/bench/prune.sh [BUILD_DIR]
set -eu
BUILD=${1:-build}
DRIP=$BUILD/drip
OUT=tests/bench/out
[ -s $OUT/cart.db ] || { echo "no $OUT/cart.db: run tests/bench/run.sh first" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
timed() { # label, command... -> "label: N s" and the command's first line
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" > "$TMP/out"
  end=$(date +%s.%N)
  lua5.4 -e "print(string.format('%s: %.1f s', '$label', $end - $start))"
  head -n 1 "$TMP/out"
}
cp $OUT/cart.db "$TMP/p.db"
timed "cart store, --dry-run" $DRIP prune --keep 7d --db "$TMP/p.db" --dry-run
timed "cart store, alone" $DRIP prune --keep 7d --db "$TMP/p.db"
cp $OUT/cart.db "$TMP/p.db"
sqlite3 "$TMP/p.db" "INSERT OR REPLACE INTO meta(key, value) VALUES ('served', 1)"
timed "cart store, beside a server" $DRIP prune --keep 7d --db "$TMP/p.db"

# ended instances: a journey anyone may enter again, over 300,000 of the cart events
[ -s $OUT/cart_300000.jsonl ] || lua5.4 tests/bench/gen_cart.lua 300000 30000 > $OUT/cart_300000.jsonl
mkdir -p "$TMP/j"
echo 'return journey { name = "r", trigger = "Cart Updated", reentry = true, steps = function() wait "1h" email { subject = "x", text = "y" } end }' > "$TMP/j/r.lua"
$DRIP simulate --events $OUT/cart_300000.jsonl --journeys "$TMP/j" --db "$TMP/r.db" --format jsonl > /dev/null
timed "ended instances, alone" $DRIP prune --keep 7d --db "$TMP/r.db" --journeys "$TMP/j"
echo "integrity: $(sqlite3 "$TMP/r.db" "PRAGMA integrity_check"), rows left without their instance: $(sqlite3 "$TMP/r.db" "SELECT (SELECT count(*) FROM steps WHERE instance NOT IN (SELECT id FROM instances)) + (SELECT count(*) FROM history WHERE instance NOT IN (SELECT id FROM instances)) + (SELECT count(*) FROM outbox WHERE instance NOT IN (SELECT id FROM instances))")"
