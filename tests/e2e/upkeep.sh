#!/usr/bin/env bash
# End-to-end tests of keeping a store: `drip prune` and `drip backup`.
# prune: a store simulated up to now from events of the last fifty days,
# pruned to the last thirty; what journeys still need must stay (running
# instances' events, each contact's newest event, latest entries, events a
# segment or happened() counts over longer, messages inside a frequency-cap
# window), and the rest must go with everything hanging off it; beside a
# serving drip run too, and stopped midway. backup: a copy beside drip run.
DRIP=${1:?usage: upkeep.sh path/to/drip}
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/server.sh"

ago() { date -u -d "-$1" +%Y-%m-%dT%H:%M:%SZ; }
J="$TMP/journeys"
mkdir -p "$J"
cat > "$J/cart.lua" <<'EOF'
return journey { name = "cart", trigger = "Cart Updated", reentry = "1d", steps = function(ctx)
  wait "1h"
  email { subject = "Your cart", text = "..." }
end }
EOF
cat > "$J/long.lua" <<'EOF'
return journey { name = "long", trigger = "Signed Up", steps = function(ctx)
  wait "60d"
  if happened("Refund Issued", "400d") and not happened("Product Viewed", "7d") then log "refunded" end
end }
EOF
cat > "$J/thanks.lua" <<'EOF'
return journey { name = "thanks", trigger = "Order Completed", reentry = "1d", steps = function(ctx) log "thanks" end }
EOF
cat > "$J/emit.lua" <<'EOF'
return journey { name = "emit", trigger = "Pinged", steps = function(ctx) wait "1h" track("Nudged") end }
EOF
cat > "$J/segments.lua" <<'EOF'
return { buyers = { did = "Order Completed", times = ">=1" }, lapsed = { inactive = "20d" } }
EOF
event() { # contact, event name, when
  printf '{"type":"track","userId":"%s","event":"%s","timestamp":"%s","messageId":"%s-%s-%s"}\n' "$1" "$2" "$(ago "$3")" "$1" "${2// /_}" "${3// /_}"
}
ident() { printf '{"type":"identify","userId":"%s","traits":{"email":"%s@x.test","consent":{"email":true}},"timestamp":"%s"}\n' "$1" "$1" "$(ago "$2")"; }
{
  ident a "46 days"; event a "Cart Updated" "45 days"; event a "Refund Issued" "44 days"; event a "Cart Updated" "40 days"
  event a "Cart Updated" "2 days"
  ident d "46 days"; event d "Cart Updated" "40 days"; event d "Cart Updated" "35 days"
  ident b "50 days"; event b "Product Viewed" "45 days"; event b "Signed Up" "40 days"; event b "Product Viewed" "38 days"
  ident f "46 days"; event f "Pinged" "45 days"
  ident e "46 days"; event e "Order Completed" "45 days"; event e "Order Completed" "40 days"
  ident c "50 days"; event c "Order Completed" "50 days"; event c "Product Viewed" "49 days"; event c "Product Viewed" "48 days"
} > "$TMP/events.jsonl"
DB="$TMP/s.db"
sql() { sqlite3 -separator ' ' "$@"; }
"$DRIP" simulate --events "$TMP/events.jsonl" --journeys "$J" --db "$DB" --until "$(ago "0 days")" --format jsonl > /dev/null
expect_eq "the store: 22 events, 10 instances, 9 of them ended" "22 10 9" \
  "$(sql "$DB" "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM instances), (SELECT count(*) FROM instances WHERE active = 0)")"
counts() { sqlite3 "$DB" "SELECT (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM instances) || ' ' || (SELECT count(*) FROM steps) || ' ' || (SELECT count(*) FROM outbox) || ' ' || (SELECT count(*) FROM history)"; }
BEFORE=$(counts)

"$DRIP" prune --keep 30d --dry-run --db "$DB" --journeys "$J" > "$TMP/dry" 2>&1
expect_eq "--dry-run exits 0" 0 $?
expect_eq "--dry-run changes nothing" "$BEFORE" "$(counts)"
expect_contains "--dry-run says what would go" "$(cat "$TMP/dry")" "would remove 11 events and 4 ended instances"

"$DRIP" prune --keep 30d --db "$DB" --journeys "$J" > "$TMP/out" 2>&1
expect_eq "prune exits 0" 0 $?
expect_contains "it says what it removed" "$(cat "$TMP/out")" "removed 11 events and 4 ended instances (with 7 steps, 3 messages, 0 delivery states and 11 history entries)"
expect_contains "... and what it kept longer, and why" "$(cat "$TMP/out")" \
  "kept: every 'Order Completed' event (segment 'buyers' counts it over all time)"
ev() { sqlite3 "$DB" "SELECT group_concat(coalesce(name, type), ',') FROM (SELECT name, type FROM events WHERE contact = '$1' ORDER BY ts, seq)"; }
expect_eq "a: old carts gone, the recent one kept; a refund a journey's happened() looks back 400 days for stays" \
  "Refund Issued,Cart Updated" "$(ev a)"
expect_contains "... and it says why" "$(cat "$TMP/out")" "kept: every 'Refund Issued' event (happened() looks back over 400d for it)"
expect_eq "a: its old instances gone, with their steps, messages and history; the latest stays" "1 0 0 0" \
  "$(sql "$DB" "SELECT (SELECT count(*) FROM instances WHERE contact = 'a'), (SELECT count(*) FROM steps WHERE instance NOT IN (SELECT id FROM instances)), (SELECT count(*) FROM outbox WHERE instance NOT IN (SELECT id FROM instances)), (SELECT count(*) FROM history WHERE instance NOT IN (SELECT id FROM instances))")"
expect_eq "d: both carts ended before the cutoff; the latest entry stays (reentry reads it)" "1 $(ago "35 days" | cut -c1-10)" \
  "$(sql "$DB" "SELECT count(*), date(max(entered_at), 'unixepoch') FROM instances WHERE contact = 'd'")"
expect_eq "d: its newest event stays (its last activity)" "Cart Updated" "$(ev d)"
expect_eq "f: the journey's own event came last; the contact's newest event of their own stays too" "Pinged,Nudged" "$(ev f)"
expect_eq "b: the running instance's events from its entry on stay" "Signed Up,Product Viewed" "$(ev b)"
expect_eq "c: the segment's events (all time) and the newest stay" "Order Completed,Product Viewed" "$(ev c)"
EX=$("$DRIP" explain e thanks --db "$DB" --journeys "$J")
case "$EX" in
  *"started no thanks instance"*) fail "explain does not count a kept event whose instance was pruned as one that started none: $EX" ;;
  *"entered on Order Completed"*) pass "explain does not count a kept event whose instance was pruned as one that started none" ;;
  *) fail "explain e thanks: $EX" ;;
esac
expect_contains "explain still tells b's running instance" "$("$DRIP" explain b --db "$DB" --journeys "$J")" "long"
expect_contains "explain says what before the cutoff is no longer shown" "$("$DRIP" explain a --db "$DB" --journeys "$J")" \
  "pruned   ended instances and events from before $(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', value, 'unixepoch') FROM meta WHERE key = 'pruned_before'") (drip prune) are not shown"
expect_eq "inspect's JSON says so too" "$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', value, 'unixepoch') FROM meta WHERE key = 'pruned_before'")" \
  "$("$DRIP" inspect a --db "$DB" --journeys "$J" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pruned_before"])')"
expect_contains "... and c is still in both segments" "$("$DRIP" explain c --db "$DB" --journeys "$J")" "segments buyers, lapsed"

expect_contains "backtest over a pruned period warns that it counts only what was kept" \
  "$("$DRIP" backtest --journeys "$J" --since 60d --db "$DB" 2>&1 >/dev/null)" "warning: \`drip prune\` removed events and ended instances from before"
"$DRIP" prune --keep 30d --db "$DB" --journeys "$J" > "$TMP/again" 2>&1
expect_contains "a second prune finds nothing more" "$(cat "$TMP/again")" "removed 0 events and 0 ended instances"

# a simulation's store whose clock ran on past now: --keep counts back from that clock
"$DRIP" simulate --events "$TMP/events.jsonl" --journeys "$J" --db "$TMP/ahead.db" --until +90d --format jsonl > /dev/null
CLOCK=$(sqlite3 "$TMP/ahead.db" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', value, 'unixepoch') FROM meta WHERE key = 'clock'")
CUT=$(sqlite3 "$TMP/ahead.db" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', value - 30 * 86400, 'unixepoch') FROM meta WHERE key = 'clock'")
expect_contains "a store's clock ahead of now: 30 days before it" \
  "$("$DRIP" prune --keep 30d --db "$TMP/ahead.db" --journeys "$J" --dry-run)" "from before $CUT (--keep 30d before the store's clock, $CLOCK)"

# a frequency cap's window longer than --keep keeps the messages inside it
"$DRIP" simulate --events "$TMP/events.jsonl" --journeys "$J" --db "$TMP/cap.db" --until "$(ago "0 days")" --format jsonl > /dev/null
printf 'frequency_cap = { email = "3/60d" }\n' > "$TMP/cap.conf.lua"
"$DRIP" prune --keep 30d --db "$TMP/cap.db" --journeys "$J" --config "$TMP/cap.conf.lua" > "$TMP/cap" 2>&1
expect_contains "a 60-day frequency cap keeps the instances whose messages count" "$(cat "$TMP/cap")" \
  "and 0 ended instances"
expect_contains "... and says so" "$(cat "$TMP/cap")" "kept: instances that ended in the last 60d, whose messages count for frequency_cap.email 3/60d"

# beside a drip run serving the same store: both go on
LIVE="$TMP/live.db"
"$DRIP" simulate --events "$TMP/events.jsonl" --journeys "$J" --db "$LIVE" --until "$(ago "0 days")" --format jsonl > /dev/null
start_drip run --journeys "$J" --db "$LIVE"
"$DRIP" prune --keep 30d --db "$LIVE" --journeys "$J" > "$TMP/live" 2>&1
expect_eq "prune beside drip run exits 0" 0 $?
expect_contains "... and prunes" "$(cat "$TMP/live")" "removed 11 events and 4 ended instances"
METRICS=$(curl -s "$URL/metrics")
expect_contains "drip run's /metrics tells when the store was pruned" "$METRICS" \
  "drip_store_pruned_before_seconds $(sqlite3 "$LIVE" "SELECT value FROM meta WHERE key = 'pruned_before'")"
expect_eq "... and the store's size on disk" yes \
  "$(printf '%s\n' "$METRICS" | awk '/^drip_store_bytes / { print ($2 >= '"$(stat -c %s "$LIVE")"' ? "yes" : "no: " $2) }')"
expect_eq "... while drip run takes events" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/v1/track" --data-binary '{"userId":"d","event":"Cart Updated"}')"
"$DRIP" backup "$TMP/copy.db" --db "$LIVE" > "$TMP/backup" 2>&1
expect_eq "backup beside drip run exits 0" 0 $?
expect_contains "... and says where it went" "$(cat "$TMP/backup")" "backed up $LIVE to $TMP/copy.db"
expect_eq "... drip run goes on taking events" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/v1/track" --data-binary '{"userId":"d","event":"Browsed"}')"
stop_drip
expect_eq "the copy is whole and has what the store had then" "ok $(sqlite3 "$LIVE" "SELECT count(*) - 1 FROM events")" \
  "$(sqlite3 "$TMP/copy.db" "PRAGMA integrity_check") $(sqlite3 "$TMP/copy.db" "SELECT count(*) FROM events")"
expect_eq "... and is a store drip reads" 0 "$("$DRIP" explain d --db "$TMP/copy.db" > /dev/null; echo $?)"
"$DRIP" backup "$TMP/copy.db" --db "$LIVE" 2> "$TMP/err"; rc=$?
expect_eq "a backup never writes over a file" \
  "1 drip backup: $TMP/copy.db is there already; name a new file (a backup never writes over one)" "$rc $(cat "$TMP/err")"
expect_eq "the events drip run took are in the store, beside the one prune kept" "Cart Updated,Cart Updated,Browsed" \
  "$(sqlite3 "$LIVE" "SELECT group_concat(name, ',') FROM (SELECT name FROM events WHERE contact = 'd' ORDER BY seq)")"

# stopped midway (SIGTERM) beside a server: the chunks done stay done, and the same prune again goes on
cp "$TMP/cap.db" "$TMP/big.db"
sqlite3 "$TMP/big.db" "INSERT OR REPLACE INTO meta(key, value) VALUES ('served', 1);
  WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 400000)
  INSERT INTO events(contact, type, name, ts, internal, body)
  SELECT 'old' || (x % 100), 'track', 'Viewed', strftime('%s', 'now') - 100 * 86400 + x, 0, '{}' FROM n"
"$DRIP" prune --keep 30d --db "$TMP/big.db" --journeys "$J" > "$TMP/big.out" 2> "$TMP/err" &
PRUNE=$!
for _ in $(seq 400); do
  [ "$(sqlite3 "$TMP/big.db" "SELECT count(*) FROM events WHERE contact GLOB 'old*'" 2> /dev/null || echo 400000)" -lt 400000 ] && break
  sleep 0.02
done
kill -TERM $PRUNE
wait $PRUNE
expect_eq "a prune stopped by SIGTERM exits 143" 143 $?
part=$(sqlite3 "$TMP/big.db" "SELECT count(*) FROM events WHERE contact GLOB 'old*'")
expect_eq "... keeps the chunks it committed (some, not all)" yes \
  "$([ "$part" -lt 400000 ] && [ "$part" -gt 100 ] && echo yes || echo "no: $part")"
expect_contains "... and says how to go on" "$(cat "$TMP/err")" "drip prune: interrupted (SIGTERM); what is counted above is gone, and the same prune again goes on"
"$DRIP" prune --keep 30d --db "$TMP/big.db" --journeys "$J" > /dev/null
expect_eq "the same prune again removes the rest: each contact's newest event stays" 100 \
  "$(sqlite3 "$TMP/big.db" "SELECT count(*) FROM events WHERE contact GLOB 'old*'")"

"$DRIP" prune --db "$DB" 2> "$TMP/err"; rc=$?
expect_eq "no --keep: usage, exit 2" "2 drip prune: how much to keep? (drip prune --keep 180d)" "$rc $(head -n 1 "$TMP/err")"
"$DRIP" prune --keep soon --db "$DB" 2> "$TMP/err"; rc=$?
expect_contains "a bad --keep: exit 2 naming it" "$rc $(cat "$TMP/err")" "2 drip prune: --keep: "
printf 'return { broken = ' > "$J/segments.lua"
"$DRIP" prune --keep 30d --db "$DB" --journeys "$J" 2> "$TMP/err"; rc=$?
expect_contains "a segments.lua that does not load stops it: it cannot tell which events segments count" "$rc $(cat "$TMP/err")" \
  "1 drip prune: "
finish
