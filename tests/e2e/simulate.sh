#!/usr/bin/env bash
# End-to-end tests of `drip simulate` through the real binary.
DRIP=${1:?usage: simulate.sh path/to/drip}
. "$(dirname "$0")/lib.sh"
EV=examples/events.jsonl

# --- JSON Lines records: shape and kinds ---------------------------------
"$DRIP" simulate --events $EV --journeys scripts --format jsonl > "$TMP/full.jsonl" 2> "$TMP/err"
expect_eq "simulate exits 0" 0 $?
expect_eq "no warnings on the sample events" "" "$(cat "$TMP/err")"
shape=$(lua5.4 "$(dirname "$0")/check_records.lua" "$TMP/full.jsonl")
expect_eq "records well formed, in time order, all kinds present" "0 convert,enter,exit,log,send,suppress,variant" "$shape"

# --- determinism: the same input twice gives the same output --------------
"$DRIP" simulate --events $EV --journeys scripts --format jsonl > "$TMP/again.jsonl"
expect_eq "two jsonl runs identical" "" "$(cmp "$TMP/full.jsonl" "$TMP/again.jsonl" 2>&1)"
"$DRIP" simulate --events $EV --journeys scripts | grep -v ' events (' > "$TMP/t1"
"$DRIP" simulate --events $EV --journeys scripts | grep -v ' events (' > "$TMP/t2"
expect_eq "two table runs identical" "" "$(cmp "$TMP/t1" "$TMP/t2" 2>&1)"
expect_contains "table has a funnel" "$(cat "$TMP/t1")" "Funnel"
expect_contains "table has sends per channel" "$(cat "$TMP/t1")" "Sends per channel"

# --- durability: half a run, a new process for the rest = one run ---------
grep -v '^#' $EV > "$TMP/all.jsonl"
total=$(wc -l < "$TMP/all.jsonl")
half=$((total / 2))
head -n $half "$TMP/all.jsonl" > "$TMP/a.jsonl"
tail -n +$((half + 1)) "$TMP/all.jsonl" > "$TMP/b.jsonl"
cut_at=$(head -n 1 "$TMP/b.jsonl" | grep -o '"timestamp":"[^"]*"' | cut -d'"' -f4)
"$DRIP" simulate --events "$TMP/a.jsonl" --journeys scripts --format jsonl --db "$TMP/s.db" --until "$cut_at" > "$TMP/p1.jsonl"
"$DRIP" simulate --events "$TMP/b.jsonl" --journeys scripts --format jsonl --db "$TMP/s.db" > "$TMP/p2.jsonl"
cat "$TMP/p1.jsonl" "$TMP/p2.jsonl" > "$TMP/split.jsonl"
expect_eq "two processes over one --db = one uninterrupted run" "" "$(cmp "$TMP/full.jsonl" "$TMP/split.jsonl" 2>&1)"
expect_eq "the first process left sleeping instances" 1 "$([ "$(sqlite3 "$TMP/s.db" 'SELECT count(*) FROM steps')" -gt 0 ] && echo 1)"

# the same with one file: an --until before its end stops there, and a second run reads on
"$DRIP" simulate --events $EV --journeys scripts --format jsonl --db "$TMP/u.db" --until "$cut_at" > "$TMP/u1.jsonl" 2> "$TMP/err"
expect_contains "--until before the last event stops reading there, and says so" "$(cat "$TMP/err")" \
  "drip simulate: stopped at --until $cut_at; the events from"
expect_eq "a run of distinct messageIds (loaded without their index) leaves the store with it" "events_message_id" \
  "$(sqlite3 "$TMP/u.db" "SELECT name FROM sqlite_master WHERE name = 'events_message_id'")"
expect_eq "simulate makes its store with 16 KiB pages" 16384 "$(sqlite3 "$TMP/u.db" "PRAGMA page_size")"
expect_eq "nothing after --until happened" "" "$(python3 -c 'import sys, json; print(*[r["at"] for r in map(json.loads, open(sys.argv[1])) if r["at"] > sys.argv[2]])' "$TMP/u1.jsonl" "$cut_at")"
"$DRIP" simulate --events $EV --journeys scripts --format jsonl --db "$TMP/u.db" > "$TMP/u2.jsonl"
cat "$TMP/u1.jsonl" "$TMP/u2.jsonl" > "$TMP/u.jsonl"
expect_eq "one file, two processes split by --until = one uninterrupted run" "" "$(cmp "$TMP/full.jsonl" "$TMP/u.jsonl" 2>&1)"
# ... and the table's funnel of the second run counts the whole simulation, as one run's does
"$DRIP" simulate --events $EV --journeys scripts --db "$TMP/f.db" --until "$cut_at" > /dev/null 2>&1
"$DRIP" simulate --events $EV --journeys scripts --db "$TMP/f.db" 2> /dev/null | sed -n '/^Funnel/,/^[0-9]* events/p' | sed '$d' > "$TMP/f2.txt"
"$DRIP" simulate --events $EV --journeys scripts 2> /dev/null | sed -n '/^Funnel/,/^[0-9]* events/p' | sed '$d' > "$TMP/f1.txt"
expect_contains "the funnel has its rows" "$(cat "$TMP/f2.txt")" "abandoned_cart"
expect_eq "a continued run's funnel = one uninterrupted run's (no negative active)" "" "$(diff "$TMP/f1.txt" "$TMP/f2.txt")"

# the same with events that carry no messageId: a line is known again by its number and text
sed 's/,"messageId":"[^"]*"//' $EV > "$TMP/noid.jsonl"
expect_eq "the file has no messageId left" 0 "$(grep -c messageId "$TMP/noid.jsonl")"
"$DRIP" simulate --events "$TMP/noid.jsonl" --journeys scripts --format jsonl > "$TMP/noid_full.jsonl"
"$DRIP" simulate --events "$TMP/noid.jsonl" --journeys scripts --format jsonl --db "$TMP/n.db" --until "$cut_at" > "$TMP/n1.jsonl" 2> /dev/null
"$DRIP" simulate --events "$TMP/noid.jsonl" --journeys scripts --format jsonl --db "$TMP/n.db" > "$TMP/n2.jsonl"
cat "$TMP/n1.jsonl" "$TMP/n2.jsonl" > "$TMP/n.jsonl"
expect_eq "without messageIds too, the second run skips what the first read: one uninterrupted run" "" \
  "$(cmp "$TMP/noid_full.jsonl" "$TMP/n.jsonl" 2>&1)"

# --- records that stdout does not take (a full disk, a closed stdout) stop simulate with a line that says so
"$DRIP" simulate --events $EV --journeys scripts --format jsonl --db "$TMP/full_disk.db" > /dev/full 2> "$TMP/err"; code=$?
expect_eq "records stdout refuses stop simulate with status 1" 1 $code
expect_eq "one line says so, with what is kept and where" 1 "$(wc -l < "$TMP/err")"
expect_contains "it names stdout and why" "$(cat "$TMP/err")" "drip simulate: cannot write the records to stdout (No space left on device)"
expect_contains "and where what was done is kept" "$(cat "$TMP/err")" "what was done is kept in $TMP/full_disk.db (drip records --db $TMP/full_disk.db"
expect_eq "no instance failed over it" 0 "$(sqlite3 "$TMP/full_disk.db" "SELECT count(*) FROM instances WHERE exit_reason = 'error'")"
expect_eq "what it did is in the store" 1 "$([ "$(sqlite3 "$TMP/full_disk.db" 'SELECT count(*) FROM history')" -gt 0 ] && echo 1)"
"$DRIP" simulate --events $EV --journeys scripts >&- 2> "$TMP/err"; code=$?
expect_eq "the table to a closed stdout: status 1 too" 1 $code
expect_contains "with its line" "$(cat "$TMP/err")" "drip simulate: cannot write the records to stdout ("

# --- a step stuck inside C (a backtracking pattern) stops drip with a message; the next start fails it
mkdir -p "$TMP/stall"
cat > "$TMP/stall/slow.lua" <<'LUA'
return journey { name = "slowpat", trigger = "Go", steps = function(ctx)
  wait "1h"
  log("found %s", tostring(string.rep("a", 3000):find(".-.-.-.-b")))
end }
LUA
printf 'return journey { name = "fine", trigger = "Go", steps = function(ctx) wait "2h" log("fine") end }\n' > "$TMP/stall/fine.lua"
printf '{"type":"track","userId":"u1","event":"Go","timestamp":"2026-11-01T00:00:00Z","messageId":"g1"}\n' > "$TMP/stall.jsonl"
"$DRIP" simulate --events "$TMP/stall.jsonl" --journeys "$TMP/stall" --db "$TMP/stall.db" --until 2026-11-01T00:30:00Z --format jsonl > /dev/null
DRIP_STALL_SECONDS=1 timeout 60 "$DRIP" simulate --events "$TMP/stall.jsonl" --journeys "$TMP/stall" --db "$TMP/stall.db" --format jsonl > /dev/null 2> "$TMP/err"; code=$?
expect_eq "a step stuck inside C stops drip with status 1 (not a hang)" 1 $code
expect_contains "naming the journey and instance" "$(cat "$TMP/err")" \
  "drip: journey 'slowpat', instance 2, has run for 1 s inside one call of C code (a string pattern that backtracks?); stopping drip. The next start fails that instance."
expect_eq "and leaves its id beside the store" 2 "$(cat "$TMP/stall.db-stalled" 2>/dev/null)"
out=$(DRIP_STALL_SECONDS=1 timeout 60 "$DRIP" simulate --events "$TMP/stall.jsonl" --journeys "$TMP/stall" --db "$TMP/stall.db" --format jsonl); code=$?
expect_eq "the next start fails that instance and goes on" "0 slowpat error fine completed" \
  "$code $(printf '%s\n' "$out" | python3 -c 'import json,sys; print(" ".join(r["journey"] + " " + r["reason"] for r in map(json.loads, sys.stdin) if r["kind"] == "exit"))')"
expect_eq "the stall file is gone" "" "$(ls "$TMP"/stall.db-stalled 2>/dev/null)"

# --- replay: with no live coroutines kept, every wake replays; same output
DRIP_LIVE_CACHE=0 "$DRIP" simulate --events $EV --journeys scripts --format jsonl > "$TMP/replay.jsonl"
expect_eq "replay-only run identical" "" "$(cmp "$TMP/full.jsonl" "$TMP/replay.jsonl" 2>&1)"

# --- bad lines are reported with their line number and skipped ------------
cat > "$TMP/bad.jsonl" <<'JSONL'
# a comment

{"type":"identify","userId":"u1","traits":{"email":"a@x.test","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}
{not json
{"type":"track","event":"Signed Up","timestamp":"2026-11-01T09:00:00Z"}
{"type":"track","userId":"u1","event":"Signed Up","timestamp":"yesterday"}
{"type":"pageview","userId":"u1"}
{"type":"track","userId":"u1","event":"Signed Up","timestamp":"2026-11-01T10:00:00Z","messageId":"x1"}
{"type":"track","userId":"u1","event":"Signed Up","timestamp":"2026-11-01T10:00:00Z","messageId":"x1"}
{"type":"page","userId":"u1","name":"Pricing","timestamp":"2026-11-01T11:00:00Z"}
{"type":"alias","userId":"u1","previousId":"anon-1"}
{"type":"track","anonymousId":"anon-1","event":"Signed Up","timestamp":"2026-11-01T11:30:00Z"}
JSONL
out=$("$DRIP" simulate --events "$TMP/bad.jsonl" --journeys scripts/welcome.lua --format jsonl 2> "$TMP/err")
expect_eq "bad lines do not stop the run" 0 $?
err=$(cat "$TMP/err")
expect_contains "bad JSON named by line" "$err" "bad.jsonl:4: bad JSON"
expect_contains "missing userId named by field" "$err" "bad.jsonl:5: field 'userId': required"
expect_contains "bad timestamp named by field" "$err" "bad.jsonl:6: field 'timestamp'"
expect_contains "bad type named by field" "$err" "bad.jsonl:7: field 'type'"
expect_eq "the good event ran, the duplicate messageId did not" 1 "$(printf '%s\n' "$out" | grep -c '"kind":"enter"')"
expect_eq "each bad line is reported once, in line order" "bad.jsonl:4 bad.jsonl:5 bad.jsonl:6 bad.jsonl:7" \
  "$(grep -v '^drip simulate:' "$TMP/err" | awk -F: '{print $1 ":" $2}' | sed 's|.*/||' | tr '\n' ' ' | sed 's/ $//')"
expect_contains "Segment's page and alias calls, and a visitor's event without a userId, are skipped and counted, not bad lines" "$err" \
  "drip simulate: 2 page, screen, group or alias calls and 1 anonymous event (anonymousId, no userId) skipped (journeys take identify and track of users known by userId)"
# the same file out of time order (read through an index instead of as a stream)
{ cat "$TMP/bad.jsonl"; echo '{"type":"track","userId":"u0","event":"Signed Up","timestamp":"2026-11-01T08:00:00Z"}'; } > "$TMP/unsorted.jsonl"
out=$("$DRIP" simulate --events "$TMP/unsorted.jsonl" --journeys scripts/welcome.lua --format jsonl 2> "$TMP/err")
expect_eq "out of order: the same four bad lines, once each" \
  "unsorted.jsonl:4 unsorted.jsonl:5 unsorted.jsonl:6 unsorted.jsonl:7" \
  "$(grep -v '^drip simulate:' "$TMP/err" | awk -F: '{print $1 ":" $2}' | sed 's|.*/||' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_contains "out of order: the same calls skipped" "$(cat "$TMP/err")" "drip simulate: 2 page, screen, group or alias calls and 1 anonymous event"
expect_eq "out of order: the earlier event is handled first" "u0 u1" \
  "$(printf '%s\n' "$out" | python3 -c 'import json,sys; print(" ".join(r["contact"] for r in map(json.loads, sys.stdin) if r["kind"] == "enter"))')"

# --- text that is not UTF-8 (a Latin-1 export) is a bad line; Persian and Russian pass byte for byte
{ printf '{"type":"track","userId":"u1","event":"Signed Up","properties":{"name":"Caf\351"},"timestamp":"2026-11-01T09:00:00Z"}\n'
printf '%s\n' '{"type":"identify","userId":"u2","traits":{"email":"b@x.test","first_name":"مریم","city":"Москва","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"u2","event":"Signed Up","timestamp":"2026-11-01T09:01:00Z"}'; } > "$TMP/enc.jsonl"
out=$("$DRIP" simulate --events "$TMP/enc.jsonl" --journeys scripts/welcome.lua --format jsonl 2> "$TMP/err")
expect_eq "a line that is not UTF-8 is named with the byte, and skipped" \
  "$TMP/enc.jsonl:1: bad JSON: not UTF-8 (byte 76): JSON text must be UTF-8" "$(cat "$TMP/err")"
expect_eq "the other lines ran, the Persian name intact in the message" "u2 مریم" \
  "$(printf '%s\n' "$out" | python3 -c 'import json,sys; r=[r for r in map(json.loads, sys.stdin) if r["kind"] == "send"][0]; print(r["contact"], "مریم" if "مریم" in r["message"]["subject"] + r["message"].get("text", "") else r["message"])')"

tail -n +2 "$TMP/enc.jsonl" | iconv -f UTF-8 -t UTF-16 > "$TMP/wide.jsonl" # (the UTF-8 lines)
"$DRIP" simulate --events "$TMP/wide.jsonl" --journeys scripts/welcome.lua > /dev/null 2> "$TMP/err"; code=$?
expect_eq "an events file saved as UTF-16 is named once, with exit 2 (not a bad line per line)" \
  "2 drip simulate: $TMP/wide.jsonl:1: the file is UTF-16 text; save it as UTF-8" "$code $(cat "$TMP/err")"
gzip -c "$TMP/enc.jsonl" > "$TMP/month.jsonl.gz"
"$DRIP" simulate --events "$TMP/month.jsonl.gz" --journeys scripts/welcome.lua > /dev/null 2> "$TMP/err"; code=$?
expect_eq "a gzip-compressed events file is named once, with exit 2, and how to read it" \
  "2 drip simulate: $TMP/month.jsonl.gz:1: the file is gzip-compressed; decompress it first (zcat $TMP/month.jsonl.gz | drip simulate --events - reads it as it goes)" \
  "$code $(cat "$TMP/err")"
expect_eq "... and that way it reads" 0 "$(zcat "$TMP/month.jsonl.gz" | "$DRIP" simulate --events - --journeys scripts/welcome.lua > /dev/null 2>&1; echo $?)"

# events exported as one JSON document rather than a line each
printf '[{"type":"track","userId":"a1","event":"Signed Up"},\n {"type":"track","userId":"a2","event":"Signed Up"}]\n' > "$TMP/array.json"
"$DRIP" simulate --events "$TMP/array.json" --journeys scripts/welcome.lua > /dev/null 2> "$TMP/err"; code=$?
expect_eq "a JSON array of events is named once, with exit 2, and the jq that makes JSON Lines of it" \
  "2 drip simulate: $TMP/array.json:1: the file is a JSON array of events; drip reads JSON Lines, one event per line (jq -c '.[]' $TMP/array.json > events.jsonl makes them)" \
  "$code $(cat "$TMP/err")"
printf '{"batch":[{"type":"track","userId":"a1","event":"Signed Up"}]}\n' > "$TMP/batch.json"
expect_contains "a Segment batch too" "$("$DRIP" simulate --events "$TMP/batch.json" --journeys scripts/welcome.lua 2>&1 > /dev/null)" \
  "batch.json:1: the file is a Segment batch ({\"batch\": [...]}); drip reads JSON Lines, one event per line (jq -c '.batch[]' "
printf '{\n  "batch": []\n}\n' | "$DRIP" simulate --events - --journeys scripts/welcome.lua > /dev/null 2> "$TMP/err"
expect_eq "pretty-printed JSON on standard input" \
  "drip simulate: stdin:1: the file is JSON over many lines (pretty-printed); drip reads JSON Lines, one event per line (put jq -c '.batch[]? // .' before drip in the pipe)" \
  "$(cat "$TMP/err")"

# --- empty arrays stay arrays: in stored traits, and in a webhook carrying event properties
mkdir -p "$TMP/arr"
printf 'return journey { trigger = "Cart Viewed", steps = function(ctx)\n  webhook { products = ctx.event.properties.products, tags = ctx.contact.tags }\nend }\n' > "$TMP/arr/hook.lua"
printf '%s\n' '{"type":"identify","userId":"u1","traits":{"tags":[],"email":"a@x.test"},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"u1","event":"Cart Viewed","properties":{"products":[ ]},"timestamp":"2026-11-01T09:01:00Z"}' > "$TMP/arr.jsonl"
out=$("$DRIP" simulate --events "$TMP/arr.jsonl" --journeys "$TMP/arr" --format jsonl --db "$TMP/arr.db")
expect_contains "a webhook sends an event's empty list as []" "$out" '"message":{"products":[],"tags":[]}'
expect_eq "a trait's empty list is stored as []" '{"email":"a@x.test","tags":[]}' "$(sqlite3 "$TMP/arr.db" "SELECT traits FROM contacts WHERE id = 'u1'")"

# --- a journey error fails that instance only -----------------------------
mkdir -p "$TMP/j"
cat > "$TMP/j/boom.lua" <<'LUA'
return journey { trigger = "Signed Up", steps = function(ctx)
  if ctx.contact.email == "a@x.test" then error("boom for " .. ctx.contact.email) end
  email { subject = "ok" }
end }
LUA
printf '%s\n' '{"type":"identify","userId":"u1","traits":{"email":"a@x.test"},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"identify","userId":"u2","traits":{"email":"b@x.test","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"u1","event":"Signed Up","timestamp":"2026-11-01T09:01:00Z"}' \
  '{"type":"track","userId":"u2","event":"Signed Up","timestamp":"2026-11-01T09:02:00Z"}' > "$TMP/e.jsonl"
out=$("$DRIP" simulate --events "$TMP/e.jsonl" --journeys "$TMP/j" --format jsonl)
expect_eq "error exits the process 0" 0 $?
expect_contains "the failing instance has the error message" "$out" '"error":"'"$TMP"'/j/boom.lua:2: boom for a@x.test","reason":"error"'
expect_contains "the other instance sent" "$out" '"contact":"u2","journey":"boom","kind":"send"'

# --- memory ceiling: a journey that allocates without bound fails alone -----
cat > "$TMP/j/boom.lua" <<'LUA'
return journey { trigger = "Signed Up", steps = function(ctx)
  local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end
end }
LUA
out=$(DRIP_MEMORY_LIMIT_MB=64 "$DRIP" simulate --events "$TMP/e.jsonl" --journeys "$TMP/j" --format jsonl)
expect_eq "memory ceiling keeps the process alive" 0 $?
expect_eq "both instances failed on memory" 2 "$(printf '%s\n' "$out" | grep -c 'not enough memory')"

# --- UTF-8 round trip, byte for byte ---------------------------------------
cat > "$TMP/j/boom.lua" <<'LUA'
return journey { trigger = "Signed Up", steps = function(ctx)
  email { subject = "{{contact.first_name}} — {{event.properties.note}}", kind = "transactional" }
end }
LUA
printf '%s\n' '{"type":"identify","userId":"u1","traits":{"email":"a@x.test","first_name":"نگار"},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"u1","event":"Signed Up","properties":{"note":"Привет, мир ۱۲۳"},"timestamp":"2026-11-01T09:01:00Z"}' > "$TMP/u.jsonl"
out=$("$DRIP" simulate --events "$TMP/u.jsonl" --journeys "$TMP/j" --format jsonl)
expect_contains "Persian and Russian round-trip" "$out" '"subject":"نگار — Привет, мир ۱۲۳"'

# --- what an SMS costs: segments, and the characters that make it UCS-2 -------
mkdir -p "$TMP/sms"
cat > "$TMP/sms/long_sms.lua" <<'LUA'
return journey { trigger = "Cart Updated", steps = function(ctx)
  sms { text = "Hi {{contact.first_name}}, it’s still in your cart. We kept it for you, and the price is the same as when you left it; tap to finish: {{event.properties.cart_url}}" }
  sms { text = "{{contact.first_name}}, ваша корзина ждёт вас. Мы сохранили товары и цену, чтобы вы могли спокойно завершить заказ: {{event.properties.cart_url}}" }
  sms { text = "Hi {{contact.first_name}}, your cart is waiting" }
  sms { text = ("x"):rep(1601) }
end }
LUA
printf '%s\n' '{"type":"identify","userId":"u1","traits":{"first_name":"Ann","phone":"+15550001111","consent":{"sms":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"u1","event":"Cart Updated","properties":{"cart_url":"https://shop.test/c/1"},"timestamp":"2026-11-01T10:00:00Z"}' > "$TMP/sms.jsonl"
out=$("$DRIP" simulate --events "$TMP/sms.jsonl" --journeys "$TMP/sms" --format jsonl 2> "$TMP/err")
expect_eq "each sms record says its segments, encoding and the characters that forced UCS-2" \
  '3 UCS-2 ’|2 UCS-2 -|1 GSM-7 -|11 GSM-7 -' \
  "$(printf '%s\n' "$out" | python3 -c 'import json,sys; print("|".join("%d %s %s" % (r["segments"], r["encoding"], r.get("ucs2_chars", "-")) for r in map(json.loads, sys.stdin) if r["kind"] == "send"))')"
expect_contains "a text longer than providers take is warned about" "$(cat "$TMP/err")" \
  "journey 'long_sms': an sms of 1601 characters; providers refuse more than 1600, so it will fail"
out=$("$DRIP" simulate --events "$TMP/sms.jsonl" --journeys "$TMP/sms" 2> /dev/null)
expect_contains "the table names a long SMS's cost" "$out" "[3 segments, UCS-2 because of ’]"
expect_eq "one segment goes without a note" 1 "$(printf '%s\n' "$out" | grep 'your cart is waiting' | grep -vc 'segments')"
expect_contains "the funnel adds up the segments" "$out" "sms        sent      4   suppressed      0  in 17 SMS segments"
mkdir -p "$TMP/one_sms"
printf 'return journey { trigger = "Go", steps = function() sms { text = "hi" } end }\n' > "$TMP/one_sms/j.lua"
printf '{"type":"identify","userId":"u","traits":{"phone":"+15550001","consent":{"sms":true}},"timestamp":"2026-11-01T00:00:00Z"}\n{"type":"track","userId":"u","event":"Go","timestamp":"2026-11-01T00:00:01Z"}\n' > "$TMP/one_sms/e.jsonl"
expect_contains "... one segment, in the singular" "$("$DRIP" simulate --journeys "$TMP/one_sms" --events "$TMP/one_sms/e.jsonl")" \
  "sms        sent      1   suppressed      0  in 1 SMS segment"$'\n'

# --- a placeholder that never had a value: most often a misspelt trait --------
mkdir -p "$TMP/ph"
cat > "$TMP/ph/ph.lua" <<'LUA'
return journey { trigger = "Go", steps = function()
  email { subject = "Hi {{contact.frist_name}}", text = "{{event.properties.cart_url}} {{contact.city | default \"your city\"}}" }
end }
LUA
printf '%s\n' '{"type":"identify","userId":"p1","traits":{"email":"a@x.test","first_name":"Ann","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"p1","event":"Go","properties":{"cart_url":"u"},"timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"identify","userId":"p2","traits":{"email":"b@x.test","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"p2","event":"Go","timestamp":"2026-11-01T10:00:00Z"}' > "$TMP/ph.jsonl"
"$DRIP" simulate --events "$TMP/ph.jsonl" --journeys "$TMP/ph" > /dev/null 2> "$TMP/err"
expect_eq "a placeholder empty in every message is named, with the trait it resembles; one found once, or with a default, is not" \
  "drip simulate: warning: journey 'ph': {{contact.frist_name}} had no value in any of its 2 messages (did you mean {{contact.first_name}}?)" \
  "$(cat "$TMP/err")"
expect_eq "the sample month has none" "" "$("$DRIP" simulate --events $EV --journeys scripts 2>&1 > /dev/null)"

# --- SMS to numbers written the national way: a warning, and phone_country -----
mkdir -p "$TMP/nat"
echo 'return journey { trigger = "Go", steps = function() sms { text = "سلام" } end }' > "$TMP/nat/s.lua"
printf '%s\n' '{"type":"identify","userId":"n1","traits":{"phone":"0912 123 4567","consent":{"sms":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"n1","event":"Go","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"identify","userId":"n2","traits":{"phone":"+79121234567","consent":{"sms":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"n2","event":"Go","timestamp":"2026-11-01T10:00:00Z"}' > "$TMP/nat.jsonl"
"$DRIP" simulate --events "$TMP/nat.jsonl" --journeys "$TMP/nat" > /dev/null 2> "$TMP/err"
expect_eq "an sms to a number with no calling code is warned about, with phone_country to give one" \
  'drip simulate: warning: 1 sms went to numbers with no calling code, such as 09121234567; providers such as Twilio refuse those as invalid (phone_country in drip.conf.lua, such as "+98", gives one to numbers written the national way, 0912 …)' \
  "$(cat "$TMP/err")"
echo 'return journey { trigger = "Mail", steps = function() email { subject = "Hi", text = "..." } end }' > "$TMP/nat/m.lua"
printf '%s\n' '{"type":"identify","userId":"m1","traits":{"email":"ann.example.com","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"m1","event":"Mail","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"identify","userId":"m2","traits":{"email":"bob@x.test","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"m2","event":"Mail","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"identify","userId":"m3","traits":{"email":"cy@mail.","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"m3","event":"Mail","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"identify","userId":"m4","traits":{"email":"di@.mail","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"m4","event":"Mail","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"identify","userId":"m5","traits":{"email":"ed@a..b","consent":{"email":true}},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"m5","event":"Mail","timestamp":"2026-11-01T10:00:00Z"}' > "$TMP/mail.jsonl"
"$DRIP" simulate --events "$TMP/mail.jsonl" --journeys "$TMP/nat" > /dev/null 2> "$TMP/err"
expect_eq "... and an email to an address that is not one (no @, nothing after the domain's dot, nothing before it)" \
  "drip simulate: warning: 3 email went to addresses that are not email addresses, such as 'ann.example.com'; the mail server will refuse them" \
  "$(cat "$TMP/err")"
printf 'phone_country = "+98"\n' > "$TMP/nat.conf.lua"
out=$("$DRIP" simulate --events "$TMP/nat.jsonl" --journeys "$TMP/nat" --config "$TMP/nat.conf.lua" --format jsonl 2> "$TMP/err")
expect_eq "... and with it, the number goes in international form, with no warning" "+989121234567,+79121234567|" \
  "$(printf '%s\n' "$out" | python3 -c 'import json,sys; print(",".join(r["to"] for r in map(json.loads, sys.stdin) if r["kind"] == "send"))')|$(cat "$TMP/err")"

# --- a timezone trait naming a city, from the zoneinfo drip reads (TZDIR) -------
mkdir -p "$TMP/zi" "$TMP/tzj"
cp -rs /usr/share/zoneinfo/. "$TMP/zi/"
ln -s /usr/share/zoneinfo/America/New_York "$TMP/zi/America/Gotham"
rm "$TMP/zi/zone1970.tab"
printf '# a test zone table\nUS\t+404251-0740023\tAmerica/Gotham\n' > "$TMP/zi/zone1970.tab"
echo 'return journey { trigger = "Go", steps = function() wait_until "9am" log "nine" end }' > "$TMP/tzj/nine.lua"
printf '%s\n' '{"type":"identify","userId":"g1","traits":{"timezone":"Gotham"},"timestamp":"2026-11-10T00:00:00Z"}' \
  '{"type":"track","userId":"g1","event":"Go","timestamp":"2026-11-10T01:00:00Z"}' > "$TMP/tz.jsonl"
out=$(TZDIR="$TMP/zi" "$DRIP" simulate --events "$TMP/tz.jsonl" --journeys "$TMP/tzj" --format jsonl 2> "$TMP/err")
expect_contains "a city's zone comes from the zoneinfo the zones are read from (9am in New York, 14:00 UTC)" "$out" \
  '"at":"2026-11-10T14:00:00Z","contact":"g1","journey":"nine","kind":"log"'
expect_eq "... with no warning" "" "$(cat "$TMP/err")"

# --- --until -----------------------------------------------------------------
out=$("$DRIP" simulate --events $EV --journeys scripts --format jsonl --until +1d | tail -n 1)
expect_contains "--until +1d stops the clock a day after the last event" "$out" '"at":"2026-1'
last=$(printf '%s' "$out" | grep -o '"at":"[^"]*"' | cut -d'"' -f4)
expect_eq "nothing after the stop" 1 "$([ "$last" \< "2026-12-03" ] && echo 1)"

# --- usage errors ----------------------------------------------------------
"$DRIP" simulate --journeys scripts > /dev/null 2> "$TMP/err"; code=$?
expect_eq "missing --events is exit 2" 2 $code
expect_contains "and says so" "$(cat "$TMP/err")" "--events FILE is required"
"$DRIP" simulate --events $EV --bogus > /dev/null 2> "$TMP/err"; expect_eq "unknown flag is exit 2" 2 $?
expect_contains "naming the flag" "$(cat "$TMP/err")" "unknown flag --bogus"
"$DRIP" simulate --events /nonexistent.jsonl 2> "$TMP/err"; expect_eq "missing file is exit 2" 2 $?
expect_contains "naming the file" "$(cat "$TMP/err")" "/nonexistent.jsonl"
"$DRIP" simulate --events $EV --until tomorrow > /dev/null 2> "$TMP/err"; expect_eq "bad --until is exit 2" 2 $?
"$DRIP" frobnicate 2> /dev/null; expect_eq "unknown command is exit 2" 2 $?
expect_contains "help lists simulate" "$("$DRIP" help)" "simulate"
printf '%s\n' 'return journey { name = "typo", trigger = "Cart Update", steps = function() end }' > "$TMP/typo.lua"
expect_contains "a journey nobody entered has its row of zeros" "$("$DRIP" simulate --events $EV --journeys "$TMP/typo.lua" 2> /dev/null)" \
  "  typo                          0                0        0        0        0        0"
expect_contains "help simulate shows flags" "$("$DRIP" help simulate)" "--until"
expect_contains "version" "$("$DRIP" version)" "drip "
# Ctrl-C (here SIGTERM: a background job ignores SIGINT) stops after an event and keeps what was
# done; the same command reads on: the two runs = one
lua5.4 tests/bench/gen_cart.lua 100000 10000 > "$TMP/cart.jsonl"
"$DRIP" simulate --events "$TMP/cart.jsonl" --journeys scripts/abandoned_cart.lua --format jsonl > "$TMP/cart_whole.jsonl"
"$DRIP" simulate --events "$TMP/cart.jsonl" --journeys scripts/abandoned_cart.lua --db "$TMP/int.db" --format jsonl \
  > "$TMP/int1.jsonl" 2> "$TMP/int1.err" &
pid=$!
for _ in $(seq 400); do [ -s "$TMP/int1.jsonl" ] && break; sleep 0.05; done
kill -TERM $pid
wait $pid
expect_eq "SIGTERM stops the simulation with status 143" 143 $?
expect_contains "... saying where, and that the same command reads on" "$(cat "$TMP/int1.err")" \
  "what was done is kept in $TMP/int.db, and the same command reads on from there"
"$DRIP" simulate --events "$TMP/cart.jsonl" --journeys scripts/abandoned_cart.lua --db "$TMP/int.db" --format jsonl > "$TMP/int2.jsonl"
expect_eq "... and the two runs print the records of one, byte for byte" "$(md5sum < "$TMP/cart_whole.jsonl")" \
  "$(cat "$TMP/int1.jsonl" "$TMP/int2.jsonl" | md5sum)"
expect_eq "... the first of them only a part" 1 "$(($(wc -l < "$TMP/int1.jsonl") < $(wc -l < "$TMP/cart_whole.jsonl")))"

# a progress line on a terminal's stderr while the records go to a file, and none in a file
script -qc "'$DRIP' simulate --events '$TMP/cart.jsonl' --journeys scripts/abandoned_cart.lua --format jsonl > '$TMP/tty.jsonl'" \
  /dev/null > "$TMP/tty.txt"
expect_contains "a terminal sees how far the events are read" "$(cat "$TMP/tty.txt")" " events read, clock at 2026-11-"
expect_eq "... while the records are whole" "$(md5sum < "$TMP/cart_whole.jsonl")" "$(md5sum < "$TMP/tty.jsonl")"
expect_eq "... and a file of stderr gets no such line" "" "$(grep 'events read' "$TMP/int1.err")"
script -qc "'$DRIP' backtest --journeys scripts/abandoned_cart.lua --since 60d --db '$TMP/int.db' --jobs 1" /dev/null > "$TMP/tty.txt"
expect_contains "backtest shows it too, then its comparison" "$(cat "$TMP/tty.txt")" " events read, clock at 2026-11-"
expect_contains "... (the comparison)" "$(cat "$TMP/tty.txt")" "abandoned_cart"

# --events - reads standard input, and names it so in messages
expect_eq "events from standard input = from the file" "$("$DRIP" simulate --events $EV --journeys scripts --format jsonl | md5sum)" \
  "$(cat $EV | "$DRIP" simulate --events - --journeys scripts --format jsonl | md5sum)"
printf '{"type":"track"\n' | "$DRIP" simulate --events - --journeys scripts > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "... a bad line of it is stdin:N" "2 stdin:1: bad JSON: Expected comma or object end but found T_END at character 16
drip simulate: no line of stdin is an event: simulate reads JSON Lines, one Segment-shaped event per line" "$rc $(cat "$TMP/err")"

# messages held by quiet hours are counted as deferred in the summary, not lost from it
printf 'quiet_hours = { from = "21:00", to = "08:00" }\n' > "$TMP/quiet.conf.lua"
"$DRIP" simulate --events $EV --journeys scripts --config "$TMP/quiet.conf.lua" --format jsonl 2> /dev/null > "$TMP/quiet.jsonl"
deferred=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["kind"] == "defer" and json.loads(l)["channel"] == "email"))' "$TMP/quiet.jsonl")
summary=$("$DRIP" simulate --events $EV --journeys scripts --config "$TMP/quiet.conf.lua" 2> /dev/null)
expect_contains "the channel line counts the deferred messages" "$summary" "$(printf '  email      sent %6d   deferred %6d' \
  "$(grep -c '"kind":"send","channel":"email"' "$TMP/quiet.jsonl")" "$deferred")"
expect_contains "... and says they go out when the hours end" "$summary" "(deferred: held by quiet hours; \`drip run\` sends them when the hours end)"
printf 'bogus_key = 1\n' > "$TMP/drip.conf.lua"
"$DRIP" simulate --events $EV --config "$TMP/drip.conf.lua" > /dev/null 2> "$TMP/err"; expect_eq "unknown config key is exit 2" 2 $?
expect_contains "naming the key and line" "$(cat "$TMP/err")" "drip.conf.lua:1: unknown key 'bogus_key'"
printf 'timezone = "UTC"\nquiet_hour = { from = "21:00", to = "08:00" }\n' > "$TMP/drip.conf.lua"
"$DRIP" simulate --events $EV --config "$TMP/drip.conf.lua" > /dev/null 2> "$TMP/err"
expect_contains "a misspelt key: the one it likely means" "$(cat "$TMP/err")" \
  "drip.conf.lua:2: unknown key 'quiet_hour'; did you mean 'quiet_hours'? (known: body_limit,"
printf 'timezone = "UTC"\nconsent = "maybe"\n' > "$TMP/drip.conf.lua"
"$DRIP" simulate --events $EV --config "$TMP/drip.conf.lua" > /dev/null 2> "$TMP/err"; expect_eq "a bad value is exit 2" 2 $?
expect_eq "naming the file and line that set it" "drip simulate: $TMP/drip.conf.lua:2: consent must be \"opt-in\" or \"opt-out\"" "$(cat "$TMP/err")"
printf 'consent = "opt-in"\ntimezone = "Tehran"\n' > "$TMP/drip.conf.lua"
"$DRIP" simulate --events $EV --config "$TMP/drip.conf.lua" > /dev/null 2> "$TMP/err"; expect_eq "an unknown time zone is exit 2" 2 $?
expect_eq "naming its line and the zone of the city it names" \
  "drip simulate: $TMP/drip.conf.lua:2: timezone: unknown time zone 'Tehran' (did you mean 'Asia/Tehran'?)" "$(cat "$TMP/err")"
# a directory where a file belongs is a one-line error, not a traceback
"$DRIP" simulate --events "$TMP" > /dev/null 2> "$TMP/err"; code=$?
expect_eq "--events naming a directory: exit 2, one line" "2 drip simulate: $TMP: Is a directory" "$code $(cat "$TMP/err")"
"$DRIP" simulate --events $EV --config "$TMP" > /dev/null 2> "$TMP/err"; code=$?
expect_eq "--config naming a directory: the same" "2 drip simulate: $TMP: Is a directory" "$code $(cat "$TMP/err")"
: > "$TMP/none.jsonl"
expect_contains "an empty events file: nothing happens, and the clock never starts" \
  "$("$DRIP" simulate --events "$TMP/none.jsonl" 2>&1)" "0 events (0 duplicates, 0 bad lines) in"
expect_contains "... said in words, not as 1970" "$("$DRIP" simulate --events "$TMP/none.jsonl" 2>&1)" "the clock never started"
mkdir -p "$TMP/props"
printf 'return journey { trigger = { event = "Go", where = function(e) return e.properties.plan ~= "free" end },\n  steps = function(ctx) log("plan %%s", tostring(ctx.event.properties.plan)) end }\n' > "$TMP/props/p.lua"
printf '%s\n' '{"type":"track","userId":"u1","event":"Go","timestamp":"2026-11-01T00:00:00Z"}' \
  '{"type":"track","userId":"u2","event":"Go","properties":null,"timestamp":"2026-11-01T00:01:00Z"}' \
  '{"type":"track","userId":"u3","event":"Go","properties":{"plan":"pro"},"timestamp":"2026-11-01T00:02:00Z"}' > "$TMP/props/e.jsonl"
"$DRIP" simulate --journeys "$TMP/props" --events "$TMP/props/e.jsonl" --format jsonl > "$TMP/props/out" 2> "$TMP/err"
log_messages() { python3 -c 'import sys, json; print(",".join(r.get("message", r.get("error", "")) for r in map(json.loads, open(sys.argv[1])) if r["kind"] in ("log", "exit") and r.get("reason") != "completed"))' "$1"; }
expect_eq "events without properties reach journeys with an empty table, no warning" "plan nil,plan nil,plan pro|" \
  "$(log_messages "$TMP/props/out")|$(cat "$TMP/err")"
# ... also in a second process, which rebuilds the instance from its stored trigger event
printf 'return journey { trigger = "Go",\n  steps = function(ctx) wait "1h" log("after %%s", tostring(ctx.event.properties.plan))\n    log("last %%s", tostring(happened("Go").properties.plan)) end }\n' > "$TMP/props/p.lua"
"$DRIP" simulate --journeys "$TMP/props" --events "$TMP/props/e.jsonl" --db "$TMP/props/s.db" --until 2026-11-01T00:30:00Z --format jsonl > /dev/null 2>&1
"$DRIP" simulate --journeys "$TMP/props" --events "$TMP/props/e.jsonl" --db "$TMP/props/s.db" --format jsonl > "$TMP/props/out2" 2> "$TMP/err"
expect_eq "and after a rebuild, and from happened()" "after nil,last nil,after nil,last nil,after pro,last pro|" \
  "$(log_messages "$TMP/props/out2")|$(cat "$TMP/err")"
# a file of which no line is an event (a CSV given by mistake): the first 50
# bad lines, a count of the rest, what simulate reads, and exit 2
{ echo "id,email"; for i in $(seq 1 60); do echo "c$i,c$i@x.test"; done; } > "$TMP/contacts.csv"
"$DRIP" simulate --journeys scripts --events "$TMP/contacts.csv" > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "a file with no event exits 2" 2 $rc
expect_eq "... reports the first 50 bad lines by their line numbers" "50 $TMP/contacts.csv:50: bad JSON" \
  "$(grep -c "^$TMP/contacts.csv:" "$TMP/err") $(grep "^$TMP/contacts.csv:" "$TMP/err" | tail -n 1 | cut -d: -f1-3)"
expect_contains "... counts the rest" "$(cat "$TMP/err")" "drip simulate: 11 more bad lines not shown (61 in all; the first 50 are above)"
expect_contains "... and says what simulate reads, and where a CSV of contacts goes" "$(cat "$TMP/err")" \
  "drip simulate: no line of $TMP/contacts.csv is an event: simulate reads JSON Lines, one Segment-shaped event per line (a CSV of contacts goes into a store with drip import)"
# after the last event the clock runs on for timers and one-off broadcasts, not for a daily one alone
mkdir -p "$TMP/daily"
printf 'return journey { name = "digest", trigger = { schedule = "daily 09:00" }, reentry = true,\n  steps = function() wait "2h" email { subject = "Daily", text = "x" } end }\n' > "$TMP/daily/d.lua"
printf '%s\n' '{"type":"identify","userId":"u1","traits":{"email":"a@x.test","consent":{"email":true}},"timestamp":"2026-11-01T00:00:00Z"}' \
  '{"type":"track","userId":"u1","event":"X","timestamp":"2026-11-05T10:00:00Z"}' > "$TMP/daily/e.jsonl"
"$DRIP" simulate --journeys "$TMP/daily" --events "$TMP/daily/e.jsonl" --format jsonl > "$TMP/daily.jsonl" 2>&1
expect_eq "a daily broadcast alone does not run the clock on for 90 days: its days within the events, and the last one's wait" \
  "2026-11-01T11:00:00Z 2026-11-02T11:00:00Z 2026-11-03T11:00:00Z 2026-11-04T11:00:00Z 2026-11-05T11:00:00Z" \
  "$(python3 -c 'import json,sys; print(*[r["at"] for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "send"])' "$TMP/daily.jsonl")"
"$DRIP" simulate --journeys "$TMP/daily" --events "$TMP/daily/e.jsonl" --format jsonl --until +2d > "$TMP/daily.jsonl" 2>&1
expect_eq "... an --until runs it on as far as asked (to 2026-11-07T10:00)" 6 "$(grep -c '"kind":"send"' "$TMP/daily.jsonl")"
# timers left past the 90 days simulate runs on are told, with the --until that reaches them;
# a timer of an instance that ended (its goal came during a long wait_for) is not
mkdir -p "$TMP/late"
printf 'return journey { name = "late", trigger = "Go", goal = "Buy",\n  steps = function() wait_for("Never", "120d") end }\n' > "$TMP/late/l.lua"
printf '%s\n' '{"type":"track","userId":"a","event":"Go","timestamp":"2026-11-01T00:00:00Z"}' \
  '{"type":"track","userId":"b","event":"Go","timestamp":"2026-11-01T00:00:01Z"}' > "$TMP/late/e.jsonl"
"$DRIP" simulate --journeys "$TMP/late" --events "$TMP/late/e.jsonl" > /dev/null 2> "$TMP/err"
expect_eq "timers left past the run-on are told" \
  "drip simulate: timers are left past the 90 days simulate runs on after the last event: the next is due 2027-03-01T00:00:00Z (--until 2027-03-01T00:00:00Z runs to it)" \
  "$(cat "$TMP/err")"
printf '%s\n' '{"type":"track","userId":"a","event":"Buy","timestamp":"2026-11-01T00:00:02Z"}' \
  '{"type":"track","userId":"b","event":"Buy","timestamp":"2026-11-01T00:00:03Z"}' >> "$TMP/late/e.jsonl"
"$DRIP" simulate --journeys "$TMP/late" --events "$TMP/late/e.jsonl" > /dev/null 2> "$TMP/err"
expect_eq "... not those of instances that ended" "" "$(cat "$TMP/err")"
# a --db that is another program's SQLite database, or no database, is refused and left as it was
sqlite3 "$TMP/app.db" "CREATE TABLE users(id); CREATE TABLE orders(id);"
"$DRIP" simulate --journeys scripts --events examples/events.jsonl --db "$TMP/app.db" > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "another program's database is refused with exit 2" \
  "2 drip simulate: $TMP/app.db: not a store drip made (an SQLite database with the tables orders, users); give drip a file of its own" \
  "$rc $(cat "$TMP/err")"
expect_eq "... and gets no table of drip's" "orders users" "$(sqlite3 "$TMP/app.db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)")"
"$DRIP" stats --db README.md > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "a file that is no database" "2 drip stats: README.md: not a store drip made (file is not a database)" "$rc $(cat "$TMP/err")"
"$DRIP" explain c1 --db "$TMP" > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "a directory" "2 drip explain: $TMP: a directory, not a store (give a file's path)" "$rc $(cat "$TMP/err")"
"$DRIP" stats --db /dev/null > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "a device" "2 drip stats: /dev/null: not a regular file (give a file's path)" "$rc $(cat "$TMP/err")"
"$DRIP" simulate --events examples/events.jsonl --db "$TMP/no/such/dir/s.db" > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "a directory that is not there" \
  "2 drip simulate: $TMP/no/such/dir/s.db: there is no directory $TMP/no/such/dir to make it in" "$rc $(cat "$TMP/err")"

# --- a goal's window: an order soon after the journey ended still converts it -----------
mkdir -p "$TMP/gw"
cat > "$TMP/gw/cart.lua" <<'LUA'
return journey { name = "cart", trigger = "Cart Updated", goal = { event = "Order Completed", within = "2d" },
  steps = function() wait "1h" end }
LUA
printf '%s\n' '{"type":"track","userId":"g1","event":"Cart Updated","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"track","userId":"g1","event":"Order Completed","properties":{"revenue":30},"timestamp":"2026-11-02T10:00:00Z"}' \
  > "$TMP/gw.jsonl"
"$DRIP" simulate --events "$TMP/gw.jsonl" --journeys "$TMP/gw" --db "$TMP/gw.db" --format jsonl > "$TMP/gw_out.jsonl"
expect_eq "a goal event a day after the end converts the instance, marked after_end" \
  '{"at":"2026-11-02T10:00:00Z","contact":"g1","journey":"cart","kind":"convert","after_end":true,"event":"Order Completed","value":30}' \
  "$(grep '"kind":"convert"' "$TMP/gw_out.jsonl")"
expect_contains "... drip stats counts it" "$("$DRIP" stats --db "$TMP/gw.db")" "converted 1 (100.0%)   failed 0   revenue 30"
expect_contains "... and drip explain says so" "$("$DRIP" explain g1 --db "$TMP/gw.db")" \
  "converted on Order Completed worth 30 (after it ended, within its goal's window)"

# --- campaign parameters (config utm) -------------------------------------------------
printf 'utm = { source = "crm" }\n' > "$TMP/utm.conf.lua"
"$DRIP" simulate --events $EV --journeys scripts/abandoned_cart.lua --config "$TMP/utm.conf.lua" --format jsonl > "$TMP/utm.jsonl"
expect_eq "with utm, every link of every message sent carries the source, channel and journey" "True True" \
  "$(python3 - "$TMP/utm.jsonl" <<'PY'
import json, re, sys
sends = [r for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "send"]
links = [(r["channel"], l) for r in sends for v in r["message"].values() for l in re.findall(r"https?://[^\s]+", v)]
print(len(links) > 0 and all(l.endswith("utm_source=crm&utm_medium=%s&utm_campaign=abandoned_cart" % c) for c, l in links),
      {c for c, _ in links} == {"email", "sms"})
PY
)"
printf 'utm = { source = 1 }\n' > "$TMP/utm_bad.conf.lua"
"$DRIP" simulate --events $EV --journeys scripts/abandoned_cart.lua --config "$TMP/utm_bad.conf.lua" > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "a utm setting that is not one: bad usage, naming the file, line and key" \
  "2 drip simulate: $TMP/utm_bad.conf.lua:1: utm.source: a text, not 1" "$rc $(cat "$TMP/err")"
finish
