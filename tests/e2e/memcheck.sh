#!/usr/bin/env bash
# The real binary under valgrind's memcheck: a simulation of the sample month
# into a file store, reads of that store, and a short `drip run`, with no
# memory error and no block definitely lost, and the same records as without
# valgrind. (memcheck
# replaces malloc; the Lua state then frees with free, not jemalloc's sized
# free: see sized_free_fits in runtime/host.c.)
DRIP=${1:?usage: memcheck.sh path/to/drip}
. "$(dirname "$0")/lib.sh"
EV=examples/events.jsonl
MEMCHECK=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)

"$DRIP" simulate --events $EV --journeys scripts --format jsonl > "$TMP/plain.jsonl"
"${MEMCHECK[@]}" "$DRIP" simulate --events $EV --journeys scripts --format jsonl --db "$TMP/s.db" \
  > "$TMP/checked.jsonl" 2> "$TMP/err"
expect_eq "simulate under memcheck exits 0" 0 $?
expect_eq "memcheck reports nothing" "" "$(head -c 2000 "$TMP/err")"
expect_eq "the same records as without memcheck" "" "$(cmp "$TMP/plain.jsonl" "$TMP/checked.jsonl" 2>&1)"

"${MEMCHECK[@]}" "$DRIP" stats --db "$TMP/s.db" --format json > "$TMP/stats.json" 2> "$TMP/err"
expect_eq "stats under memcheck exits 0" 0 $?
expect_eq "stats: memcheck reports nothing" "" "$(head -c 2000 "$TMP/err")"
expect_contains "stats read the store" "$(cat "$TMP/stats.json")" '"abandoned_cart"'

contact=$(grep -o '"contact":"[^"]*"' "$TMP/plain.jsonl" | head -n 1 | cut -d'"' -f4)
"${MEMCHECK[@]}" "$DRIP" explain "$contact" --db "$TMP/s.db" > "$TMP/explain.txt" 2> "$TMP/err"
expect_eq "explain under memcheck exits 0" 0 $?
expect_eq "explain: memcheck reports nothing" "" "$(head -c 2000 "$TMP/err")"
expect_contains "explain names the contact" "$(cat "$TMP/explain.txt")" "$contact"

# drip run: the server under memcheck takes events over HTTP, runs a journey
# through a timer, and stops on SIGTERM (the libuv loop, the HTTP server, the
# delivery queue)
. "$(dirname "$0")/server.sh"
J="$TMP/journeys"
mkdir -p "$J"
cat > "$J/quick.lua" <<'LUA'
return journey { name = "quick", trigger = "Signed Up", steps = function(ctx)
  email { subject = "hi {{contact.name}}", text = "Привет, سلام" }
  wait "1s"
  sms { text = "later" }
end }
LUA
cat > "$TMP/memcheck-drip" <<SH
#!/bin/sh
exec ${MEMCHECK[*]} --log-file="$TMP/server.memcheck" "$(realpath "$DRIP")" "\$@"
SH
chmod +x "$TMP/memcheck-drip"
DRIP="$TMP/memcheck-drip"
start_drip run --journeys "$J" --db "$TMP/run.db"
expect_eq "identify" '200 {"accepted":1,"duplicates":0,"ok":true}' \
  "$(req POST /v1/identify '{"userId":"ann","traits":{"name":"Ann","email":"ann@x.test","phone":"+15550002222","consent":{"email":true,"sms":true}}}')"
expect_eq "track" '200 {"accepted":1,"duplicates":0,"ok":true}' \
  "$(req POST /v1/track '{"userId":"ann","event":"Signed Up","messageId":"m-1"}')"
for _ in $(seq 100); do
  [ "$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM outbox WHERE channel = 'sms'" 2>/dev/null)" = 1 ] && break
  sleep 0.1
done
expect_eq "the wait's timer fired and the sms was made" 1 "$(sqlite3 "$TMP/run.db" "SELECT count(*) FROM outbox WHERE channel = 'sms'")"
kill -TERM "$PID"
wait "$PID"
expect_eq "drip run under memcheck stops on SIGTERM with status 0" 0 $?
expect_eq "drip run ran under memcheck (its log is there)" 1 "$([ -f "$TMP/server.memcheck" ] && echo 1)"
expect_eq "drip run: memcheck reports nothing" "" "$(head -c 2000 "$TMP/server.memcheck")"
finish
