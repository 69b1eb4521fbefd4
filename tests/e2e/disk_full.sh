#!/usr/bin/env bash
# End-to-end test of `drip run` when its store cannot be written (a full disk):
# requests get 503 and nothing is kept, timers back off instead of spinning,
# /healthz and /metrics say so, and everything resumes when space returns.
# The full disk is a file-size limit of 1 byte on the running process
# (prlimit), which makes every write to the store fail as ENOSPC would; the
# log goes through a pipe, which the limit does not touch.
DRIP=$(realpath "${1:?usage: disk_full.sh path/to/drip}")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.sh"

printf 'max-time = 10\n' > "$TMP/.curlrc" # a server that stopped answering fails the test, not hangs it
export CURL_HOME="$TMP"

J="$TMP/journeys"
mkdir -p "$J"
# (the wait leaves time to set the limit before the timers are due, on a busy machine too)
echo 'return journey { name = "later", trigger = "Go", steps = function() wait "3s" webhook { payload = { n = 1 } } end }' > "$J/later.lua"
LOG="$TMP/drip.log"
"$DRIP" run --journeys "$J" --db "$TMP/full.db" --dry-run --listen 127.0.0.1:0 2> >(cat > "$LOG") &
PID=$!
for i in $(seq 100); do grep -q 'msg=listening' "$LOG" 2>/dev/null && break; sleep 0.05; done
URL="http://127.0.0.1:$(grep -o 'msg=listening addr=127.0.0.1:[0-9]*' "$LOG" | grep -o '[0-9]*$')"

events=$(for i in $(seq 20); do printf '{"type":"track","userId":"u%d","event":"Go","messageId":"g%d"}\n' "$i" "$i"; done)
expect_eq "events taken while the disk has room" '200 {"accepted":20,"duplicates":0,"ok":true}' "$(req POST /v1/events "$events")"

prlimit --pid "$PID" --fsize=1:unlimited
sleep 6.5
failures=$(grep -c 'msg="firing timers failed"' "$LOG")
expect_eq "the due timers failed, and were retried after 1, 2 and 4 s, not in a loop (got $failures)" 1 \
  "$([ "$failures" -ge 2 ] && [ "$failures" -le 4 ] && echo 1)"
expect_contains "each failure says when timers are tried again" "$(grep 'firing timers failed' "$LOG" | tail -n 1)" "timers_retry_in="
expect_eq "drip is still running" 0 "$(kill -0 "$PID" 2>/dev/null; echo $?)"
health=$(req GET /healthz)
expect_contains "/healthz answers 503 while the store cannot be written" "$health" '503 {"error":"no write to the store has worked since '
expect_contains "and says why" "$health" 'sqlite: '
expect_contains "/metrics still answers, and counts the failures" "$(req GET /metrics)" "drip_commit_failures_total $failures"
expect_eq "an event sent meanwhile gets 503: nothing kept, retry" '503 {"error":"could not commit; nothing was kept, retry"}' \
  "$(req POST /v1/track '{"userId":"u21","event":"Go","messageId":"g21"}')"

prlimit --pid "$PID" --fsize=unlimited:unlimited
expect_eq "space back: the retried event is taken" '200 {"accepted":1,"duplicates":0,"ok":true}' \
  "$(req POST /v1/track '{"userId":"u21","event":"Go","messageId":"g21"}')"
expect_eq "/healthz is well again" '200 {"ok":true}' "$(req GET /healthz)"
for i in $(seq 60); do
  [ "$(sqlite3 "$TMP/full.db" "SELECT count(*) FROM outbox" 2>/dev/null)" = 21 ] && break
  sleep 0.1
done
expect_eq "every instance sent once, none lost, none twice" "21|21" \
  "$(sqlite3 "$TMP/full.db" "SELECT count(*), count(DISTINCT instance) FROM outbox")"
stop_drip

# a command other than drip run, on a full disk: one line naming the store, exit 1
for i in $(seq 20000); do printf '{"type":"track","userId":"s%d","event":"Go","timestamp":"2026-11-01T10:00:00Z"}\n' "$i"; done > "$TMP/many.jsonl"
prlimit --fsize=3000000 "$DRIP" simulate --events "$TMP/many.jsonl" --journeys "$J" --db "$TMP/sim_full.db" > /dev/null 2> "$TMP/err"
expect_eq "simulate on a full disk exits 1 with one line naming the store" \
  "1 drip simulate: $TMP/sim_full.db: cannot write the store: sqlite: " "$? $(sed 's/^\(.*sqlite: \).*/\1/' "$TMP/err")"
expect_eq "... and no traceback" 1 "$(wc -l < "$TMP/err")"

# a store damaged on disk (pages overwritten): one line saying so and what to do, exit 1
"$DRIP" simulate --events examples/events.jsonl --journeys scripts --db "$TMP/damaged.db" --format jsonl > /dev/null
dd if=/dev/zero of="$TMP/damaged.db" bs=16384 seek=3 count=40 conv=notrunc 2> /dev/null
"$DRIP" explain c001 --db "$TMP/damaged.db" > /dev/null 2> "$TMP/err"
expect_eq "a damaged store: exit 1, one line naming it, the damage and what to do" \
  "1 drip explain: $TMP/damaged.db: the store is damaged: sqlite: database disk image is malformed" \
  "$? $(sed 's/ (in: .*//' "$TMP/err")"
expect_contains "... with how to save what can be read" "$(cat "$TMP/err")" "sqlite3 $TMP/damaged.db .recover"
expect_eq "... and no traceback" 1 "$(wc -l < "$TMP/err")"

# a store another process keeps write-locked past the 5 s wait: one line saying so, exit 1
"$DRIP" simulate --events examples/events.jsonl --journeys scripts --db "$TMP/locked.db" --format jsonl > /dev/null
sqlite3 "$TMP/locked.db" "BEGIN IMMEDIATE; INSERT OR REPLACE INTO meta(key, value) VALUES ('x', 1);" ".shell sleep 7" "COMMIT;" \
  > /dev/null 2>&1 &
LOCKER=$!
sleep 0.5
"$DRIP" prune --keep 1d --db "$TMP/locked.db" > /dev/null 2> "$TMP/err"
expect_eq "a store locked by another process: exit 1, one line saying it is busy" \
  "1 drip prune: $TMP/locked.db: the store is busy: sqlite: database is locked" "$? $(sed 's/ (in: .*//' "$TMP/err")"
expect_eq "... and no traceback" 1 "$(wc -l < "$TMP/err")"
wait "$LOCKER"
finish
