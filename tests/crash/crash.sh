#!/usr/bin/env bash
# Crash safety of `drip run`: stream events with a client that records every
# 200, kill -9 the server at random moments, restart it each time, then check
# that every acknowledged event is stored, every instance ends as `drip
# simulate` of the same events says, and no timer fired twice.
#   crash.sh path/to/drip [KILLS] [CONTACTS]      (make test: 20 kills; make crash: more)
DRIP=$(realpath "${1:?usage: crash.sh path/to/drip [KILLS] [CONTACTS]}")
KILLS=${2:-20}
CONTACTS=${3:-1500}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"
J="$TMP/journeys"
mkdir -p "$J" "$TMP/batches"
cat > "$J/drip_series.lua" <<'JOURNEY'
return journey {
  name = "series", trigger = "Signed Up", reentry = false,
  steps = function()
    email { subject = "one" }
    wait "1s"
    sms { text = "two" }
    wait "2s"
    email { subject = "three" }
  end,
}
JOURNEY
cat > "$J/receipt.lua" <<'JOURNEY'
return journey {
  name = "receipt", trigger = "Order Completed",
  steps = function() email { kind = "transactional", subject = "thanks" } end,
}
JOURNEY

# 3 events per contact, 30 per batch, each with a messageId
lua5.4 - "$CONTACTS" "$TMP/batches" <<'GEN'
local n, dir = tonumber(arg[1]), arg[2]
local out, count, file = {}, 0, 0
local function flush()
  if #out == 0 then return end
  file = file + 1
  local f = assert(io.open(string.format("%s/%05d.json", dir, file), "w"))
  f:write('{"batch":[', table.concat(out, ","), "]}")
  f:close()
  out = {}
end
for i = 1, n do
  local u = "c" .. i
  out[#out + 1] = string.format('{"type":"identify","userId":"%s","messageId":"%s-1","traits":{"email":"%s@x.test","phone":"+1555%06d","consent":{"email":true,"sms":true}}}', u, u, u, i)
  out[#out + 1] = string.format('{"type":"track","userId":"%s","event":"Signed Up","messageId":"%s-2"}', u, u)
  out[#out + 1] = string.format('{"type":"track","userId":"%s","event":"Order Completed","messageId":"%s-3"}', u, u)
  if #out >= 30 then flush() end
end
flush()
GEN

# (below 32768, where the kernel hands out client sockets' ports: a restart
# on the same port must not find it taken by another test's connection; and
# apart from the ports sinks.sh and deliver_crash.sh pick, up to 30001)
PORT=$((30100 + RANDOM % 2600))
DB="$TMP/crash.db"
. "$HERE/lib.sh"

start
client &
CLIENT=$!
for k in $(seq "$KILLS"); do
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -9 "$PID"
  wait "$PID" 2>/dev/null
  start
done
wait "$CLIENT"
retries=$(cat "$TMP/retries" 2>/dev/null | wc -l)
pass "$KILLS kill -9 and restarts while the client streamed $(ls "$TMP/batches" | wc -l) batches ($retries retried)"
[ "$retries" -gt 0 ] || fail "no request was cut by a kill: the client finished before the kills began"
for _ in $(seq 100); do  # let the last waits end
  [ "$(sqlite3 "$DB" 'SELECT count(*) FROM instances WHERE active = 1')" = 0 ] && break
  sleep 0.1
done
kill -TERM "$PID"
wait "$PID"
expect_eq "drip stops cleanly at the end" 0 $?

sort "$TMP/acked" > "$TMP/acked.sorted"
sqlite3 "$DB" "SELECT message_id FROM events WHERE internal = 0" | sort > "$TMP/stored"
expect_eq "every acknowledged event is stored" "" "$(comm -23 "$TMP/acked.sorted" "$TMP/stored" | head -3)"
expect_eq "every event was acknowledged once the client finished" $((CONTACTS * 3)) "$(wc -l < "$TMP/acked.sorted")"
expect_eq "no event stored twice" "" "$(uniq -d "$TMP/stored" | head -3)"
expect_eq "no timer fired twice (one send per step)" 0 \
  "$(sqlite3 "$DB" "SELECT count(*) FROM (SELECT instance, seq FROM outbox GROUP BY instance, seq HAVING count(*) > 1)")"
expect_eq "every series sent three messages" "$CONTACTS" \
  "$(sqlite3 "$DB" "SELECT count(*) FROM (SELECT o.instance FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.journey = 'series' GROUP BY o.instance HAVING count(*) = 3)")"

# the same events through the simulator must end the same way
sqlite3 "$DB" "SELECT body FROM events WHERE internal = 0 ORDER BY seq" > "$TMP/events.jsonl"
"$DRIP" simulate --events "$TMP/events.jsonl" --journeys "$J" --format jsonl | lua5.4 "$HERE/summary.lua" > "$TMP/expected"
sqlite3 "$DB" "SELECT i.contact, i.journey, h.kind, coalesce(json_extract(h.data, '\$.channel'), json_extract(h.data, '\$.reason'))
               FROM history h JOIN instances i ON i.id = h.instance WHERE h.kind IN ('send', 'exit')
               UNION ALL SELECT contact, journey, 'enter', NULL FROM instances" \
  | tr '|' ' ' | sed 's/ $//' | LC_ALL=C sort > "$TMP/actual"
LC_ALL=C sort -o "$TMP/expected" "$TMP/expected"
expect_eq "instances end as the simulation of the same events says" "" "$(diff "$TMP/expected" "$TMP/actual" | head -5)"
expect_eq "... and there are records to compare" $((CONTACTS * 8)) "$(wc -l < "$TMP/actual")"
finish
