#!/usr/bin/env bash
# Two builds of drip on the abandoned-cart month at the same time, N times,
# so that both meet the same minute of a VM whose speed moves from minute to
# minute (single runs, or runs one after the other, then say little). Each
# build is a binary and the stdlib directory it reads (DRIP_STDLIB); the
# records' md5 of both is printed beside their times. By hand, from the
# repository root:
#   tests/bench/side_by_side.sh 3 /tmp/old/build/drip:/tmp/old/stdlib build/drip:stdlib
set -eu
N=$1
A=$2
B=$3
EVENTS=${EVENTS:-tests/bench/out/cart_1000000.jsonl}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

run() { # tag binary:stdlib
  local bin=${2%%:*} lib=${2#*:}
  DRIP_STDLIB=$(realpath "$lib") /usr/bin/time -f "$1 %e s (user %U, sys %S, %M KB)" -o "$OUT/$1.time" \
    "$bin" simulate --events "$EVENTS" --journeys scripts/abandoned_cart.lua --db "$OUT/$1.db" --format jsonl \
    > "$OUT/$1.out"
}

for _ in $(seq "$N"); do
  rm -f "$OUT"/*.db*
  run A "$A" & run B "$B" & wait
  echo "$(cat "$OUT/A.time") | $(cat "$OUT/B.time") | records $(md5sum < "$OUT/A.out" | cut -c1-8) $(md5sum < "$OUT/B.out" | cut -c1-8)"
done
