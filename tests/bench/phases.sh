#!/usr/bin/env bash
# Where `drip simulate` of the abandoned-cart month spends its time, by what
# a journey does: the month with a journey that never starts (reading,
# storing and routing the events), then with the cart journey's trigger and
# an instance that ends at once, one that waits an hour, one that also
# emails, and the whole journey (a wait_for of a day and an SMS). Each
# difference is what that part costs per instance. Printed, not asserted.
# From the repository root:
#   tests/bench/phases.sh BUILD_DIR [EVENTS]
set -eu
BUILD=$1
EVENTS=${2:-tests/bench/out/cart_1000000.jsonl}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# phase name, then the journey's trigger and its steps (Lua)
journey() {
  mkdir -p "$OUT/$1"
  cat > "$OUT/$1/j.lua" <<LUA
return journey { name = "abandoned_cart", trigger = "$2", goal = "Order Completed", exit_on = { "Unsubscribed" },
  reentry = "24h", steps = function(ctx) $3 end }
LUA
}
EMAIL='email { subject = "You left something behind, {{contact.first_name | default \"there\"}}",
                text = "Your cart is waiting: {{event.properties.cart_url}}" }'
journey none "Never Happens" ""
journey ends "Cart Updated" ""
journey waits "Cart Updated" 'wait "1h"'
journey emails "Cart Updated" "wait \"1h\" $EMAIL"

seconds() { # journeys -> seconds of the simulation, and its instances on stdout
  rm -f "$OUT/db"*
  local start
  start=$(date +%s.%N)
  "$BUILD/drip" simulate --events "$EVENTS" --journeys "$1" --db "$OUT/db" --format jsonl > /dev/null
  echo "$(date +%s.%N) - $start" | bc
}
previous=
for phase in none ends waits emails whole; do
  dir="$OUT/$phase"
  [ "$phase" = whole ] && dir=scripts/abandoned_cart.lua
  s=$(seconds "$dir")
  instances=$(sqlite3 "$OUT/db" "SELECT count(*) FROM instances")
  if [ -z "$previous" ]; then
    printf '%-7s %6.2f s  (reading, storing and routing the events)\n' "$phase" "$s"
  else
    printf '%-7s %6.2f s  %+6.2f s: %5.1f µs an instance (%d instances)\n' "$phase" "$s" \
      "$(echo "$s - $previous" | bc)" "$(echo "($s - $previous) * 1000000 / $instances" | bc -l)" "$instances"
  fi
  previous=$s
done
