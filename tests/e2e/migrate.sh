#!/usr/bin/env bash
# End-to-end tests of `drip migrate` (in-flight instances move to a new script
# version only when their history replays on it) and of `drip forget`.
DRIP=$(realpath "${1:?usage: migrate.sh path/to/drip}")
. "$(dirname "$0")/lib.sh"
J="$TMP/journeys"
mkdir -p "$J"
write_journey() { # $1: the sms text after the wait; $2: an extra step before the wait
  cat > "$J/m.lua" <<EOF
return journey {
  name = "m",
  trigger = "Signed Up",
  steps = function()
    email { subject = "hello" }
    $2
    wait "1d"
    sms { text = "$1" }
  end,
}
EOF
}
write_journey "from v1" ""
for u in a b c; do
  echo '{"type":"identify","userId":"'$u'","timestamp":"2026-11-01T10:00:00Z","traits":{"email":"'$u'@x.test","phone":"+1555000'$u'","consent":{"email":true,"sms":true}}}'
  echo '{"type":"track","userId":"'$u'","event":"Signed Up","timestamp":"2026-11-01T10:00:00Z"}'
done > "$TMP/ev.jsonl"
: > "$TMP/none.jsonl"
DB="$TMP/m.db"
"$DRIP" simulate --events "$TMP/ev.jsonl" --journeys "$J" --db "$DB" --until +1h --format jsonl > /dev/null
v1=$(sqlite3 "$DB" "SELECT DISTINCT version FROM instances")
expect_eq "three instances sleep on v1" "3" "$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE active = 1 AND version = '$v1'")"

# --- a change after the wait: every instance can move ------------------------
write_journey "from v2" ""
out=$("$DRIP" migrate m --db "$DB" --journeys "$J" --dry-run)
expect_eq "dry run exits 0" 0 $?
expect_contains "dry run says what it would do" "$out" "m: 3 instances on older versions; would move 3"
expect_eq "dry run changes nothing" 3 "$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE version = '$v1'")"
out=$("$DRIP" migrate m --db "$DB" --journeys "$J")
expect_eq "migrate exits 0" 0 $?
expect_contains "migrate reports" "$out" "moved 3 to"
expect_eq "all on the new version" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE version = '$v1'")"
"$DRIP" simulate --events "$TMP/none.jsonl" --journeys "$J" --db "$DB" --until 2026-11-03T00:00:00Z --format jsonl > "$TMP/rest.jsonl"
expect_eq "moved instances go on with the new code" 3 "$(grep -c '"text":"from v2"' "$TMP/rest.jsonl")"
expect_eq "and nothing was sent twice" 3 "$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE channel = 'email'")"

# --- a step added before the wait: the history no longer fits ----------------
write_journey "from v1" ""
DB2="$TMP/m2.db"
"$DRIP" simulate --events "$TMP/ev.jsonl" --journeys "$J" --db "$DB2" --until +1h --format jsonl > /dev/null
write_journey "from v3" 'log "one more step"'
out=$("$DRIP" migrate m --db "$DB2" --journeys "$J")
expect_eq "migrate exits 1 when some cannot move" 1 $?
expect_contains "it lists them with the reason" "$out" "3 cannot move"
expect_contains "... naming the step" "$out" "replay diverged at step 2"
expect_eq "they stay on their version" 3 "$(sqlite3 "$DB2" "SELECT count(*) FROM instances WHERE version = '$v1'")"
expect_eq "replaying sent nothing" 3 "$(sqlite3 "$DB2" "SELECT count(*) FROM outbox")"

"$DRIP" migrate nope --db "$DB2" --journeys "$J" 2> "$TMP/err"
expect_eq "an unknown journey exits 2" 2 $?
expect_contains "... and names it" "$(cat "$TMP/err")" "no journey named 'nope'"
"$DRIP" migrate M --db "$DB2" --journeys "$J" 2> "$TMP/err"
expect_eq "... with the journeys there, and the nearest" "drip migrate: no journey named 'M' loads from $J (journeys: m); did you mean 'm'?" \
  "$(cat "$TMP/err")"

# --- drip forget (same store) -----------------------------------------------------
out=$("$DRIP" forget a --db "$DB2")
expect_eq "forget exits 0" 0 $?
expect_contains "forget says what it removed, in words for one and for more" "$out" "forgot 'a': removed 1 contact, 2 events, 1 instance,"
expect_eq "nothing of the contact is left" "0 0 0" "$(sqlite3 "$DB2" "SELECT (SELECT count(*) FROM contacts WHERE id = 'a'),
  (SELECT count(*) FROM events WHERE contact = 'a'), (SELECT count(*) FROM instances WHERE contact = 'a')" | tr '|' ' ')"
expect_eq "other contacts stay" 2 "$(sqlite3 "$DB2" "SELECT count(*) FROM instances")"
"$DRIP" forget a --db "$DB2" 2> "$TMP/err"
expect_eq "forgetting an unknown contact exits 1" 1 $?
expect_contains "... and says so" "$(cat "$TMP/err")" "no contact 'a'"
"$DRIP" forget a --db "$TMP/missing.db" 2> "$TMP/err"
expect_eq "a missing database exits 2" 2 $?
finish
