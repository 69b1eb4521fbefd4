#!/usr/bin/env bash
# End-to-end tests of `drip backtest` through the real binary, on a store
# made by `drip simulate --db` from the sample events.
DRIP=${1:?usage: backtest.sh path/to/drip}
. "$(dirname "$0")/lib.sh"

DB="$TMP/s.db"
"$DRIP" simulate --journeys scripts --events examples/events.jsonl --db "$DB" --format jsonl >"$TMP/actual.jsonl"
count_db() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select (select count(*) from instances), (select count(*) from outbox), (select count(*) from events)").fetchone())' "$DB"; }
before=$(count_db)

# 1. the same versions reproduce exactly what happened
"$DRIP" backtest --journeys scripts --since 90d --db "$DB" --format json >"$TMP/same.json"; code=$?
expect_eq "backtest of the same versions succeeds" 0 $code
expect_eq "... and every journey matches what happened, contact by contact" "13 same" "$(python3 - "$TMP/same.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = [j["journey"] for j in r["journeys"] if j["changed"] or j["actual"] != j["backtest"]]
print(len(r["journeys"]), "same" if not bad else "differ: " + ", ".join(bad))
PY
)"
expect_eq "... with no sample of changed contacts, as an empty list" "13 []" \
  "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["journeys"]), *sorted({json.dumps(j["sample"]) for j in r["journeys"]}))' "$TMP/same.json")"
expect_eq "it replayed every outside event of the period" \
  "$(grep -vc '^#' examples/events.jsonl | tr -d ' ')" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$TMP/same.json")"

# 2. a new version without the SMS reminder: the change shows, with the contacts it affects
mkdir -p "$TMP/new"
cp -r scripts/* "$TMP/new/"
python3 - "$TMP/new/abandoned_cart.lua" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s2 = re.sub(r'(?m)^\s*sms \{.*$', '      log("no sms in this version")', s)
assert s2 != s
open(p, "w").write(s2)
PY
"$DRIP" backtest --journeys "$TMP/new/abandoned_cart.lua" --since 90d --db "$DB" --format json >"$TMP/new.json"
read -r sms_actual sms_contacts < <(python3 -c '
import json, sys
sms = [r["contact"] for l in open(sys.argv[1]) for r in [json.loads(l)]
       if r["journey"] == "abandoned_cart" and r["kind"] == "send" and r["channel"] == "sms"]
print(len(sms), len(set(sms)))' "$TMP/actual.jsonl")
expect_eq "the new version is compared on its own journey: SMS as the records say, none in backtest, every SMS contact changed" \
  "abandoned_cart $sms_actual 0 $sms_contacts True" "$(python3 - "$TMP/new.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
j = r["journeys"][0]
sms = lambda side: sum(n for k, n in j[side]["messages"].items() if k.startswith("sms"))
samples_ok = all("sms" in s["actual"] and "sms" not in s["backtest"] for s in j["sample"])
print(len(r["journeys"]) == 1 and j["journey"], sms("actual"), sms("backtest"), j["changed"], samples_ok)
PY
)"
table=$("$DRIP" backtest --journeys "$TMP/new/abandoned_cart.lua" --since 90d --db "$DB")
expect_contains "the table shows the message row with its change" "$table" "-$sms_actual"
expect_contains "... and sample paths" "$table" "backtest: entered · email “You left something behind, {{contact.first_name}}”"
expect_eq "the store is not changed by a backtest" "$before" "$(count_db)"

# 3. a short period holds fewer events; one with none says where the events are
"$DRIP" backtest --journeys scripts --since 1d --db "$DB" >/dev/null 2>"$TMP/err"
first=$(sqlite3 "$DB" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(ts), 'unixepoch') FROM events WHERE internal = 0")
reach=$(sqlite3 "$DB" "SELECT CAST(((SELECT value FROM meta WHERE key = 'clock') - min(ts) + 86399) / 86400 AS INTEGER) FROM events WHERE internal = 0")
expect_contains "a period with no events says when the store's events are, and the --since that reaches them" \
  "$(cat "$TMP/err")" "drip backtest: warning: no stored events in the period; the store's events run from $first to "
expect_contains "... with the --since" "$(cat "$TMP/err")" "and --since ${reach}d reaches back to the first"
n7=$("$DRIP" backtest --journeys scripts --since 40d --db "$DB" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
expect_eq "--since limits the replay to the period (events after the clock minus 40 days)" \
  "$(python3 - examples/events.jsonl "$DB" <<'PY'
import json, sys, sqlite3
from datetime import datetime, timezone
clock = int(sqlite3.connect(sys.argv[2]).execute("select value from meta where key='clock'").fetchone()[0])
n = 0
for l in open(sys.argv[1]):
    if l.strip() and not l.startswith("#"):
        t = datetime.strptime(json.loads(l)["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        n += t >= clock - 40 * 86400
print(n)
PY
)" "$n7"

# 4. a store from before step labels is compared per channel
cp "$DB" "$TMP/old.db"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("update outbox set label = null"); c.commit()' "$TMP/old.db"
old=$("$DRIP" backtest --journeys scripts/abandoned_cart.lua --since 90d --db "$TMP/old.db")
expect_contains "an unlabelled store says how it compares" "$old" "compared per channel"
expect_contains "... and still matches contact by contact" "$old" "no contact's path changes"
expect_contains "... with messages per channel" "$old" "  sms  "

# 5. frequency caps see the messages sent before the period
mkdir -p "$TMP/caps"
cat > "$TMP/caps/promo.lua" <<'LUA'
return journey { trigger = "Promo", reentry = true, steps = function() email { subject = "promo" } end }
LUA
printf 'frequency_cap = { email = "1/30d" }\n' > "$TMP/caps.conf.lua"
{
  echo '{"type":"identify","userId":"p1","traits":{"email":"p@x.test","consent":{"email":true}},"timestamp":"2026-10-01T09:00:00Z"}'
  echo '{"type":"track","userId":"p1","event":"Promo","timestamp":"2026-10-01T10:00:00Z"}'
  echo '{"type":"track","userId":"p1","event":"Promo","timestamp":"2026-10-20T10:00:00Z"}'
} > "$TMP/caps.jsonl"
"$DRIP" simulate --journeys "$TMP/caps" --events "$TMP/caps.jsonl" --config "$TMP/caps.conf.lua" --db "$TMP/caps.db" >/dev/null
caps=$("$DRIP" backtest --journeys "$TMP/caps" --since 10d --config "$TMP/caps.conf.lua" --db "$TMP/caps.db" --format json)
expect_eq "the second promo was capped, in the store and in the backtest of its period alone" "1 1 0" \
  "$(printf '%s' "$caps" | python3 -c 'import json,sys; j=json.load(sys.stdin)["journeys"][0]; print(j["actual"]["suppressed"], j["backtest"]["suppressed"], j["changed"])')"

# 6. a contact's traits from before the period are there when an event of the period changes them
{
  echo '{"type":"identify","userId":"t1","traits":{"email":"t@x.test","consent":{"email":true}},"timestamp":"2026-10-01T09:00:00Z"}'
  echo '{"type":"identify","userId":"t1","traits":{"plan":"pro"},"timestamp":"2026-10-15T09:00:00Z"}'
  echo '{"type":"track","userId":"t1","event":"Promo","timestamp":"2026-10-20T10:00:00Z"}'
} > "$TMP/traits.jsonl"
"$DRIP" simulate --journeys "$TMP/caps" --events "$TMP/traits.jsonl" --db "$TMP/traits.db" >/dev/null
traits=$("$DRIP" backtest --journeys "$TMP/caps" --since 10d --db "$TMP/traits.db" --format json)
expect_eq "the promo still has its address and consent in the backtest (none suppressed, none changed)" "0 0 0" \
  "$(printf '%s' "$traits" | python3 -c 'import json,sys; j=json.load(sys.stdin)["journeys"][0]; print(j["actual"]["suppressed"], j["backtest"]["suppressed"], j["changed"])')"

# 7. bad input
"$DRIP" backtest --since 30d --db "$DB" 2>"$TMP/err"; expect_eq "no --journeys is bad usage" 2 $?
expect_contains "... saying so" "$(cat "$TMP/err")" "--journeys NEW is required"
"$DRIP" backtest --journeys scripts --since soon --db "$DB" 2>"$TMP/err"; expect_eq "a bad --since is bad usage" 2 $?
expect_contains "... naming the flag" "$(cat "$TMP/err")" '--since: bad duration "soon"'
printf 'return journey {\n  trigger = "X",\n  timeout = "later",\n  steps = function() end }\n' >"$TMP/broken.lua"
"$DRIP" backtest --journeys "$TMP/broken.lua" --db "$DB" 2>"$TMP/err"; expect_eq "a journey that does not compile" 2 $?
expect_contains "... is named with its line" "$(cat "$TMP/err")" "broken.lua:3: timeout: bad duration"
"$DRIP" backtest --journeys scripts --db "$TMP/none.db" 2>"$TMP/err"; expect_eq "a missing store" 2 $?
expect_contains "... is named" "$(cat "$TMP/err")" "none.db: no such database"
"$DRIP" backtest --journeys "$TMP/broken.lua" --db "$DB" --jobs 3 2>"$TMP/err"; expect_eq "... in three processes too" 2 $?
expect_eq "... named once" 1 "$(grep -c 'broken.lua:3: timeout: bad duration' "$TMP/err")"
"$DRIP" backtest --journeys scripts --db "$DB" --jobs 0 2>"$TMP/err"; expect_eq "--jobs 0 is bad usage" 2 $?
expect_contains "... naming the flag" "$(cat "$TMP/err")" "--jobs: a number of processes"

# 8. the contacts split among processes: the same answer whatever the split
without_time() { python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("seconds"); d.pop("jobs"); print(json.dumps(d, sort_keys=True))'; }
jobs_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"])'; }
"$DRIP" backtest --journeys "$TMP/new/abandoned_cart.lua" --since 90d --db "$DB" --format json --jobs 3 >"$TMP/three.json"
expect_eq "--jobs 3: three processes" 3 "$(jobs_of <"$TMP/three.json")"
one=$("$DRIP" backtest --journeys "$TMP/new/abandoned_cart.lua" --since 90d --db "$DB" --format json --jobs 1 | without_time)
three=$(without_time <"$TMP/three.json")
expect_eq "a changed version backtested in one process and in three: the same answer" "$one" "$three"
expect_contains "... one that shows the change" "$one" '"changed": '
expect_eq "each process replays one part of the contacts: the parts' events add up to the whole" \
  "$(printf '%s' "$one" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')" \
  "$(for k in 0 1 2; do "$DRIP" backtest --part $k/3 --journeys scripts --since 90d --db "$DB"; done \
     | python3 -c 'import json,sys; print(sum(json.loads(l)["result"]["events"] for l in sys.stdin))')"
mkdir -p "$TMP/coin"
cat > "$TMP/coin/coin.lua" <<'LUA'
return journey {
  name = "coin", trigger = "Cart Updated", reentry = true,
  steps = function(ctx)
    if math.random() < 0.5 then email { subject = "Heads" } else email { subject = "Tails" } end
  end,
}
LUA
one=$("$DRIP" backtest --journeys "$TMP/coin" --since 90d --db "$DB" --format json --jobs 1 | without_time)
expect_eq "a journey that draws math.random: the same draws whatever the split" "$one" \
  "$("$DRIP" backtest --journeys "$TMP/coin" --since 90d --db "$DB" --format json --jobs 2 | without_time)"
expect_eq "... both sides of the coin drawn" "2" \
  "$(printf '%s' "$one" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["journeys"][0]["backtest"]["messages"]))')"
expect_eq "by default one process per processor it may use (at most 8)" "$(nproc | awk '{ print ($1 < 8 ? $1 : 8) }')" \
  "$("$DRIP" backtest --journeys scripts --since 90d --db "$DB" --format json | jobs_of)"
expect_eq "... one when its CPU affinity allows one processor (taskset)" 1 \
  "$(taskset -c 0 "$DRIP" backtest --journeys scripts --since 90d --db "$DB" --format json | jobs_of)"
expect_contains "... and the table says so" "$(taskset -c 0 "$DRIP" backtest --journeys scripts --since 90d --db "$DB")" \
  "events/s, 1 process)"
# a part that dies (killed, as by the kernel's OOM killer): the command fails, naming it
mkdir -p "$TMP/slow"
cat > "$TMP/slow/slow.lua" <<'LUA'
return journey {
  name = "slow", trigger = { event = "Cart Updated", where = function(event)
    local n = 0
    for i = 1, 2000000 do n = n + i % 7 end -- (a slow where(): the parts take a second or two)
    return n > 0
  end },
  steps = function(ctx) email { subject = "Hi" } end,
}
LUA
"$DRIP" backtest --journeys "$TMP/slow" --since 90d --db "$DB" --jobs 2 >"$TMP/slow.out" 2>"$TMP/slow.err" &
BT=$!
for _ in $(seq 200); do pgrep -f "backtest --part 1/2:" >/dev/null && break; sleep 0.02; done
pkill -9 -f "backtest --part 1/2:"
wait "$BT"; code=$?
expect_eq "a part killed as it replays: the backtest fails (1)" 1 "$code"
expect_contains "... saying which part" "$(cat "$TMP/slow.err")" "drip backtest: the replay of part 1 of 2 failed: "
expect_eq "... and prints no comparison" "" "$(cat "$TMP/slow.out")"
"$DRIP" backtest --part 2/2 --journeys scripts --db "$DB" 2>"$TMP/err"; expect_eq "a part that is not one: bad usage" 2 $?
expect_contains "... saying what it takes" "$(cat "$TMP/err")" "--part: K/N"
finish
