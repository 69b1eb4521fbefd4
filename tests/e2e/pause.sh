#!/usr/bin/env bash
# End-to-end tests of pausing a journey (`drip pause`, `drip resume`, POST
# /v1/journeys/NAME/pause and /resume) on a store `drip run` serves, with
# webhooks delivered to a real loopback server (tests/sinks).
DRIP=$(realpath "${1:?usage: pause.sh path/to/drip}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/server.sh"
. "$HERE/sinks.sh"

start_sinks
mkdir -p "$TMP/j"
cat > "$TMP/j/notify.lua" <<'LUA'
return journey {
  name = "notify", trigger = "Go", goal = "Bought",
  steps = function(ctx)
    webhook { n = "first {{event.userId}}" }
    wait_for("Poke", "1d")
    webhook { n = "second {{event.userId}}" }
    wait_for("Never", "1d")
  end,
}
LUA
cat > "$TMP/drip.conf.lua" <<CONF
channels = { webhook = { url = "$H/ok/hook", secret = "hook-secret" } }
CONF
DB="$TMP/live.db"
CONF="$TMP/drip.conf.lua"
hooks() { q "sorted(json.loads(r['body'])['message']['n'] for r in http('/ok/hook'))" | tr -d '[]"' | sed 's/, /,/g'; }
# wait_hooks EXPECTED: up to 5 s for the webhooks received to be these
wait_hooks() {
  local i
  for i in $(seq 100); do [ "$(hooks)" = "$1" ] && break; sleep 0.05; done
  expect_eq "$2" "$1" "$(hooks)"
}
track() { req POST /v1/track "{\"userId\":\"$1\",\"event\":\"$2\"}" > /dev/null; }

start_drip run --config "$CONF" --journeys "$TMP/j" --db "$DB"
track u1 Go
track u3 Go
wait_hooks "first u1,first u3" "before a pause, entries send"

# --- paused by the command, beside drip run ------------------------------------------
out=$("$DRIP" pause notify --db "$DB" --config "$CONF"); code=$?
expect_eq "drip pause beside a running drip run succeeds" 0 "$code"
expect_contains "... and says what a pause does" "$out" "paused notify at "
expect_contains "..." "$out" "no one enters it, and the messages of its running instances are held until \`drip resume notify\`"
track u2 Go
track u1 Poke
track u3 Poke
sleep 1
expect_eq "while paused, no one enters and a running instance's message is held: nothing more arrives" \
  "first u1,first u3" "$(hooks)"
expect_eq "... u2 did not enter" "[]" "$(req GET /v1/contacts/u2 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read()[4:])["instances"])')"
expect_eq "GET /v1/journeys: paused, with what it holds" "True 2" "$(req GET /v1/journeys | python3 -c '
import json, sys
j = json.loads(sys.stdin.read()[4:])["journeys"][0]
print("paused_since" in j, j["held"])')"
metrics=$(req GET /metrics)
expect_contains "GET /metrics: when the journey was paused" "$metrics" 'drip_journey_paused_since_seconds{journey="notify"} '
expect_contains "... and the messages held" "$metrics" 'drip_sends_total{channel="webhook",status="held"} 2'
track u3 Bought
out=$("$DRIP" pause --db "$DB")
expect_contains "drip pause alone lists the paused journeys" "$out" "notify  paused since "
expect_contains "... with what they hold and refused" "$out" ", 2 messages held, 1 entry refused"
out=$("$DRIP" stats notify --db "$DB")
expect_contains "drip stats says it is paused" "$out" "notify  (paused since "
expect_contains "... and counts the held messages" "$out" "webhook  sent 2, held 2"
out=$("$DRIP" explain u2 notify --db "$DB")
expect_contains "drip explain: a contact who never entered, because it is paused" "$out" \
  "the journey is paused (since "

out=$("$DRIP" resume notify --db "$DB" 2>&1); code=$?
expect_eq "drip resume with held messages and no choice: bad usage" 2 "$code"
expect_contains "... saying what to choose" "$out" \
  "notify holds 2 messages: add --send-held to send them now, or --drop-held to drop them (it stays paused meanwhile)"
expect_eq "POST .../resume with no choice: 409, naming the field" '409 held 2' \
  "$(req POST /v1/journeys/notify/resume | python3 -c '
import sys, json
s, b = sys.stdin.read().split(" ", 1)
d = json.loads(b)
print(s, d["field"], d["held"])')"
expect_contains "... and a choice that is not one: 400" "$(req POST '/v1/journeys/notify/resume?held=later')" \
  '400 {"error":"held: send or drop, not \"later\"","field":"held"}'

# --- resumed through drip run: the held messages go now -----------------------------------
resp=$(req POST /v1/journeys/notify/resume '{"held":"send"}')
expect_contains "POST .../resume {held: send}: sent the one still wanted" "$resp" '"sent":1'
expect_contains "... dropped the one whose contact reached the goal meanwhile" "$resp" '"ended":1'
expect_contains "... and tells the entries refused" "$resp" '"refused":1'
wait_hooks "first u1,first u3,second u1" "the held message arrives, at once"
out=$("$DRIP" explain u3 notify --db "$DB")
expect_contains "drip explain tells of the dropped one" "$out" \
  "webhook to webhook held, as the journey was paused — suppressed: paused (dropped when the journey resumed: the contact had reached its goal)"
out=$("$DRIP" explain u2 notify --db "$DB")
expect_contains "... and why u2's Go started nothing" "$out" "the last one came while the journey was paused (from "

# --- paused through drip run, resumed by the command, dropping what it held --------------
track u5 Go
wait_hooks "first u1,first u3,first u5,second u1" "resumed, entries send again"
expect_contains "POST .../pause" "$(req POST /v1/journeys/notify/pause)" '200 {"already":false,"held":0,'
expect_contains "... again: already" "$(req POST /v1/journeys/notify/pause)" '"already":true'
track u5 Poke
out=$("$DRIP" resume notify --drop-held --db "$DB"); code=$?
expect_eq "drip resume --drop-held beside drip run" 0 "$code"
expect_contains "..." "$out" "1 held message dropped"
track u6 Go
expect_eq "... and no longer shows it as paused in /metrics" "" \
  "$(req GET /metrics | grep '^drip_journey_paused_since_seconds{')"
wait_hooks "first u1,first u3,first u5,first u6,second u1" "drip run sees the resume: u6 enters; u5's held message never goes"
expect_contains "an unknown journey: 404 with the names" "$(req POST /v1/journeys/notfy/pause)" \
  "404 {\"error\":\"no journey named 'notfy' in this store (journeys: notify); did you mean 'notify'?\"}"
out=$("$DRIP" pause notfy --db "$DB" 2>&1); code=$?
expect_eq "... and to the command: bad usage" 2 "$code"
expect_eq "drip resume of a journey not paused changes nothing" "notify is not paused; nothing changed" \
  "$("$DRIP" resume notify --db "$DB")"
expect_contains "drip pause --all pauses every journey" "$("$DRIP" pause --all --db "$DB")" "paused notify at "
expect_contains "drip resume --all resumes them" "$("$DRIP" resume --all --db "$DB")" "resumed notify, paused since "
expect_eq "... and again, with none paused, changes nothing" "no journey is paused; nothing changed" \
  "$("$DRIP" resume --all --db "$DB")"
expect_eq "a journey and --all: bad usage" 2 "$("$DRIP" pause notify --all --db "$DB" > /dev/null 2>&1; echo $?)"

# --- paused and resumed by the command, sending what it held: drip run sends it soon --------
"$DRIP" pause notify --db "$DB" > /dev/null
track u6 Poke
sleep 0.5
expect_eq "paused by the command: u6's second message is held" "first u1,first u3,first u5,first u6,second u1" "$(hooks)"
sleep 2 # (drip run's dispatcher is idle: its next claim is far off)
out=$("$DRIP" resume notify --send-held --db "$DB"); code=$?
expect_eq "drip resume --send-held beside drip run" 0 "$code"
started=$(date +%s.%N)
wait_hooks "first u1,first u3,first u5,first u6,second u1,second u6" \
  "drip run sends what a resume by the command released, within seconds (not at its next claim, a minute away)"
took=$(python3 -c "import time; print(int(time.time() - $started < 3))")
expect_eq "... within 3 s" 1 "$took"
stop_drip
finish
