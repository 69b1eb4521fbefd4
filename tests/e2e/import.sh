#!/usr/bin/env bash
# End-to-end tests of `drip import`: contacts from CSV, events from JSON Lines.
DRIP=$(realpath "${1:?usage: import.sh path/to/drip}")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.sh"
DB="$TMP/i.db"

printf '\357\273\277id,first_name,email,consent.email,consent.sms,note\r\n' > "$TMP/c.csv"
cat >> "$TMP/c.csv" <<'CSV'
u1,Анна,anna@x.test,yes,no,"likes ""red"", and blue"
u2,مریم,maryam@x.test,1,,"two
lines"
u3,Bob,bob@x.test,maybe,no,
,NoId,x@x.test,yes,no,
u4,Short
u5,Ivan,ivan@x.test,TRUE,false,
CSV
OUT=$("$DRIP" import "$TMP/c.csv" --db "$DB" 2> "$TMP/err"); rc=$?
expect_eq "bad rows make exit 2, the rest is imported" 2 "$rc"
expect_eq "it says what it imported" "imported 3 contacts from $TMP/c.csv; 3 bad rows reported above and skipped" "$OUT"
expect_eq "each bad row named by its line (a quoted line break counts)" \
  "$TMP/c.csv:5: column 'consent.email': 'maybe' is not yes/no
$TMP/c.csv:6: empty id
$TMP/c.csv:7: expected 6 fields, got 2" "$(cat "$TMP/err")"
printf 'id,first_name\nu9,Иван\n' | iconv -f UTF-8 -t CP1251 > "$TMP/cp1251.csv"
"$DRIP" import "$TMP/cp1251.csv" --db "$TMP/cp.db" > /dev/null 2> "$TMP/cp_err"
expect_eq "a CSV saved as Windows-1251 is named by line and column, and how to save it" \
  "$TMP/cp1251.csv:2: column 'first_name' is not UTF-8; save the file as UTF-8 (Excel: \"CSV UTF-8\")" "$(cat "$TMP/cp_err")"
# a spreadsheet in Russian settings writes semicolons (the comma is its decimal mark); a .tsv has tabs
printf 'id;first_name;consent.email;consent.sms;note\r\nr1;Иван;ДА;بله;"a; b, c"\r\nr2;Ольга;нет;خیر;1,5\r\n' > "$TMP/semi.csv"
"$DRIP" import "$TMP/semi.csv" --db "$TMP/semi.db" > /dev/null 2> "$TMP/semi_err"
expect_eq "a semicolon-separated CSV is read by its header's separator; yes/no in Russian and Persian" "Ольга|0|0|1.5 Иван|1|1|a; b, c" \
  "$(sqlite3 "$TMP/semi.db" "SELECT group_concat(json_extract(traits, '$.first_name') || '|' || json_extract(traits, '$.consent.email') || '|' || json_extract(traits, '$.consent.sms') || '|' || json_extract(traits, '$.note'), ' ') FROM (SELECT traits FROM contacts ORDER BY id DESC)")"
printf 'id\temail\nt1\tt1@x.test\n' > "$TMP/tabs.tsv"
"$DRIP" import "$TMP/tabs.tsv" --db "$TMP/semi.db" > /dev/null
expect_eq "... where 1,5 is a number with a decimal comma" "real" "$(sqlite3 "$TMP/semi.db" "SELECT json_type(traits, '$.note') FROM contacts WHERE id = 'r2'")"
expect_eq "a .tsv is read by tabs" "t1@x.test" "$(sqlite3 "$TMP/semi.db" "SELECT json_extract(traits, '$.email') FROM contacts WHERE id = 't1'")"
printf 'id,first_name\nu9,Иван\n' | iconv -f UTF-8 -t UTF-16 > "$TMP/wide.csv"
"$DRIP" import "$TMP/wide.csv" --db "$TMP/cp.db" > /dev/null 2> "$TMP/cp_err"; rc=$?
expect_eq "a CSV saved as UTF-16 (Excel's Unicode text) is named once, with exit 2" \
  "2 drip import: $TMP/wide.csv:1: the file is UTF-16 text; save it as UTF-8" "$rc $(cat "$TMP/cp_err")"
gzip -c "$TMP/c.csv" > "$TMP/c.csv.gz"
"$DRIP" import "$TMP/c.csv.gz" --db "$TMP/cp.db" > /dev/null 2> "$TMP/cp_err"; rc=$?
expect_eq "a compressed export is named as such, with exit 2" \
  "2 drip import: '$TMP/c.csv.gz': a compressed file; decompress it first (such as gunzip for .gz)" "$rc $(head -n 1 "$TMP/cp_err")"
cp "$TMP/c.csv.gz" "$TMP/packed.jsonl"
"$DRIP" import "$TMP/packed.jsonl" --db "$TMP/cp.db" > /dev/null 2> "$TMP/cp_err"; rc=$?
expect_eq "... also when its name does not say so" \
  "2 drip import: $TMP/packed.jsonl:1: the file is gzip-compressed; decompress it first" "$rc $(cat "$TMP/cp_err")"
printf '[{"type":"track","userId":"a1","event":"Signed Up"}]\n' > "$TMP/array.jsonl"
"$DRIP" import "$TMP/array.jsonl" --db "$TMP/cp.db" > /dev/null 2> "$TMP/cp_err"; rc=$?
expect_eq "a JSON array of events is named as such, with exit 2" \
  "2 drip import: $TMP/array.jsonl:1: the file is a JSON array of events; drip reads JSON Lines, one event per line (jq -c '.[]' $TMP/array.jsonl > events.jsonl makes them)" \
  "$rc $(cat "$TMP/cp_err")"
: > "$TMP/book.xlsx"
"$DRIP" import "$TMP/book.xlsx" --db "$TMP/cp.db" > /dev/null 2> "$TMP/cp_err"; rc=$?
expect_eq "a spreadsheet is told to be saved as CSV" \
  "2 drip import: '$TMP/book.xlsx': a spreadsheet; save it as CSV UTF-8 first" "$rc $(head -n 1 "$TMP/cp_err")"
expect_eq "UTF-8 names round-trip, consent becomes nested yes/no, quotes and commas survive" \
  'Анна|1|0|likes "red", and blue' \
  "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.first_name') || '|' || json_extract(traits, '$.consent.email') || '|' || json_extract(traits, '$.consent.sms') || '|' || json_extract(traits, '$.note') FROM contacts WHERE id = 'u1'")"
expect_eq "a Persian name and a multi-line cell" "مریم|two
lines" "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.first_name') || '|' || json_extract(traits, '$.note') FROM contacts WHERE id = 'u2'")"
expect_eq "an empty cell sets nothing" "" "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.consent.sms') FROM contacts WHERE id = 'u2'")"

# a second file merges into existing consent instead of replacing it
printf 'userId,consent.sms\nu1,yes\n' > "$TMP/more.csv"
"$DRIP" import "$TMP/more.csv" --db "$DB" > /dev/null
expect_eq "consent columns merge into what is there" "1|1" \
  "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.consent.email') || '|' || json_extract(traits, '$.consent.sms') FROM contacts WHERE id = 'u1'")"

mkdir -p "$TMP/dir.jsonl"
"$DRIP" import "$TMP/dir.jsonl" --db "$DB" > /dev/null 2> "$TMP/err"; rc=$?
expect_eq "a directory named like a file: exit 2, one line" "2 drip import: $TMP/dir.jsonl: Is a directory" "$rc $(cat "$TMP/err")"

# a header row that cannot be used refuses the whole file, and says so
printf 'id,email,email\nh1,a@x.io,b@x.io\n' > "$TMP/twice.csv"
OUT=$("$DRIP" import "$TMP/twice.csv" --db "$DB" 2> "$TMP/err"); rc=$?
expect_eq "a column named twice: exit 2, its line, and nothing imported" \
  "2|$TMP/twice.csv:1: column 'email' is named twice (columns 2 and 3)|nothing imported from $TMP/twice.csv: its header row is reported above|0" \
  "$rc|$(cat "$TMP/err")|$OUT|$(sqlite3 "$DB" "SELECT count(*) FROM contacts WHERE id = 'h1'")"
printf 'email\na@x.io\n' > "$TMP/noid.csv"
OUT=$("$DRIP" import "$TMP/noid.csv" --db "$DB" 2> "$TMP/err"); rc=$?
expect_eq "no id column: the same" "2|$TMP/noid.csv:1: no id column (id, userId, user_id or User ID)|nothing imported from $TMP/noid.csv: its header row is reported above" \
  "$rc|$(cat "$TMP/err")|$OUT"

# columns as exports name them ("Email", "User ID", Russian, Persian) are the traits drip reads, and it says so
printf '%s\n' 'User ID,E-mail,Mobile Phone,First Name,Loyalty Tier' 'x1,x1@x.io,0049151000111,Ann,gold' > "$TMP/export.csv"
OUT=$("$DRIP" import "$TMP/export.csv" --db "$DB" 2> "$TMP/err"); rc=$?
expect_eq "an export's column names: the address traits drip reads, the rest as written" \
  '0|{"Loyalty Tier":"gold","email":"x1@x.io","first_name":"Ann","phone":"0049151000111"}' \
  "$rc|$(sqlite3 "$DB" "SELECT traits FROM contacts WHERE id = 'x1'")"
expect_contains "... and it says which columns it read as which traits" "$OUT" \
  "read the columns 'E-mail' as email, 'Mobile Phone' as phone, 'First Name' as first_name"
printf '%s\n' 'id,ایمیل,شماره موبایل,نام,زبان,Телефон' 'x2,x2@x.io,۰۹۱۲۱۲۳۴۵۶۷,مریم,fa,+7 912' > "$TMP/fa.csv"
"$DRIP" import "$TMP/fa.csv" --db "$DB" > /dev/null 2>&1
expect_eq "... in Persian too (the language, which templates pick their version by); a second column for the same trait stays as written" \
  '{"email":"x2@x.io","first_name":"مریم","language":"fa","phone":"۰۹۱۲۱۲۳۴۵۶۷","Телефон":"+7 912"}' \
  "$(sqlite3 "$DB" "SELECT traits FROM contacts WHERE id = 'x2'")"

# cells typed as JSON would type them; a stray quote costs one row, not the rest of the file
printf 'id,phone,age,spent,zip,vip,code\nt1,4915112345678,30,59.90,01234,true,-7\nt2,+49,"oops,1,2,3,false,x\nt3,+491,41,0.5,99,false,007\n' > "$TMP/typed.csv"
OUT=$("$DRIP" import "$TMP/typed.csv" --db "$DB" 2> "$TMP/err"); rc=$?
expect_eq "an unclosed quote is reported by its line and the next row still goes in" \
  "2|$TMP/typed.csv:3: a quoted field is never closed|imported 2 contacts from $TMP/typed.csv; 1 bad row reported above and skipped" \
  "$rc|$(cat "$TMP/err")|$OUT"
expect_eq "numbers and booleans typed; addresses, zero-led codes and other text stay text" \
  "text integer real text integer true|text integer real integer text false" \
  "$(sqlite3 "$DB" "SELECT group_concat(t, '|') FROM (SELECT json_type(traits, '$.phone') || ' ' || json_type(traits, '$.age') || ' ' || json_type(traits, '$.spent') || ' ' || json_type(traits, '$.zip') || ' ' || json_type(traits, '$.code') || ' ' || json_type(traits, '$.vip') AS t FROM contacts WHERE id IN ('t1', 't3') ORDER BY id)")"

cat > "$TMP/e.jsonl" <<'EV'
{"type":"track","userId":"u1","event":"Order Completed","messageId":"o-1","timestamp":"2026-10-01T10:00:00Z"}
{"type":"track","userId":"u1","event":"Order Completed","messageId":"o-1","timestamp":"2026-10-01T10:00:00Z"}
{"type":"track","event":"No User"}
{"type":"identify","userId":"u9","traits":{"email":"u9@x.test"}}
{"type":"page","userId":"u9","name":"Home","timestamp":"2026-10-01T10:05:00Z"}
{"type":"track","userId":null,"anonymousId":"a-7","event":"Product Viewed","timestamp":"2026-10-01T10:06:00Z"}
{"type":"track","anonymousId":"a-8","event":"Product Viewed","timestamp":"2026-10-01T10:07:00Z"}
EV
OUT=$("$DRIP" import "$TMP/e.jsonl" --db "$DB" 2> "$TMP/err"); rc=$?
expect_eq "events: the bad line named, exit 2" "2 $TMP/e.jsonl:3: field 'userId': required" "$rc $(head -n 1 "$TMP/err" | sed 's/ (.*//')"
expect_contains "events: duplicates and page calls skipped" "$OUT" \
  "imported 2 events from $TMP/e.jsonl (1 duplicate skipped) (1 page, screen, group or alias call and 2 anonymous events (anonymousId, no userId) skipped)"
expect_eq "events stored with their own time; no journey ran" "1 0" \
  "$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE message_id = 'o-1' AND ts = strftime('%s', '2026-10-01T10:00:00Z')") $(sqlite3 "$DB" "SELECT count(*) FROM instances")"
OUT=$("$DRIP" import "$TMP/e.jsonl" --db "$DB" 2> /dev/null)
expect_contains "the same file again: every event a duplicate, the line without a messageId too" "$OUT" \
  "imported 0 events from $TMP/e.jsonl (3 duplicates skipped)"
# the sample contacts of examples/ (the walk-through): all import, typed, and the broadcast reaches them
WALK="$TMP/walk.db"
OUT=$("$DRIP" import examples/contacts.csv --db "$WALK" 2>&1); rc=$?
expect_eq "examples/contacts.csv imports whole" "0 imported 10 contacts from examples/contacts.csv" "$rc $OUT"
"$DRIP" simulate --journeys scripts --events examples/events.jsonl --db "$WALK" --format jsonl > "$TMP/walk.jsonl"
expect_eq "an imported Persian contact gets the Yalda broadcast at 10:00 Tehran time" \
  '2026-12-20T06:30:00Z email' \
  "$(python3 -c 'import json,sys; r=[x for x in map(json.loads, open(sys.argv[1])) if x["contact"]=="p004" and x["kind"]=="send"]; print(r[0]["at"], r[0]["channel"])' "$TMP/walk.jsonl")"
expect_contains "the walk-through's preview: p004's welcome in Persian, from the fa template" \
  "$("$DRIP" preview welcome --contact p004 --db "$WALK")" "text     شیرین، سلام!"
out=$("$DRIP" segments --db "$WALK")
expect_contains "the walk-through's segments: the Persian-speaking contacts, and whom email reaches" "$out" \
  "  persian             51   20.4%        39"
expect_contains "... and the Yalda broadcast's rollout" "$out" 'seasonal_yalda  schedule "2026-12-20 10:00" for persian, rollout 50%: 21 contacts (email 15,'
expect_eq "the walk-through's records: the welcome journey's, as CSV, Persian and Russian subjects whole" "True True True" \
  "$("$DRIP" records --db "$WALK" --journey welcome --format csv | python3 -c '
import csv, re, sys
rows = list(csv.DictReader(sys.stdin.read().lstrip("\ufeff").splitlines(True)))
sends = [r["message"] for r in rows if r["kind"] == "send"]
print(all(r["journey"] == "welcome" for r in rows), any(re.search("[\u0600-\u06ff]", m) for m in sends),
      any(re.search("[\u0400-\u04ff]", m) for m in sends))')"

"$DRIP" import "$TMP/c.txt" --db "$DB" 2> /dev/null; rc=$?
expect_eq "another file type is a usage error" 2 "$rc"
for i in $(seq 1 55); do echo "not json $i"; done > "$TMP/junk.jsonl"
out=$("$DRIP" import "$TMP/junk.jsonl" --db "$DB" 2> "$TMP/err"); rc=$?
expect_eq "a file of bad lines: exit 2, the first 50 reported" "2 50" "$rc $(grep -c "^$TMP/junk.jsonl:" "$TMP/err")"
expect_contains "... the rest counted" "$(cat "$TMP/err")" "drip import: 5 more bad lines not shown (55 in all; the first 50 are above)"
expect_eq "... and the summary says so" "imported 0 events from $TMP/junk.jsonl; 55 bad lines skipped (the first 50 reported above)" "$out"

# an event's stored body is the event, without its line end (CRLF or LF), whichever way it came in
printf '{"type":"track","userId":"e1","event":"A","timestamp":"2026-11-01T00:00:00Z"}\r\n{"type":"track","userId":"e2","event":"B","properties":{"x":"\\u00e9"},"timestamp":"2026-11-01T00:00:01Z"}\n' > "$TMP/ends.jsonl"
"$DRIP" import "$TMP/ends.jsonl" --db "$TMP/ends.db" > /dev/null
"$DRIP" simulate --events "$TMP/ends.jsonl" --journeys scripts --db "$TMP/ends_sim.db" > /dev/null 2>&1
for db in ends ends_sim; do
  expect_eq "bodies end with the event's brace ($db)" "2|0" \
    "$(sqlite3 "$TMP/$db.db" "SELECT count(*), sum(body LIKE '%' || char(10) OR body LIKE '%' || char(13)) FROM events WHERE contact IN ('e1', 'e2')")"
done
"$DRIP" import "$TMP/ends.jsonl" --db "$TMP/ends.db" > "$TMP/out"
expect_eq "... and a second import knows them again" "imported 0 events from $TMP/ends.jsonl (2 duplicates skipped)" "$(cat "$TMP/out")"
# a large import goes in by chunks: stopped midway it keeps what it did, and
# the same import again adds the rest
N=150000
awk -v n=$N 'BEGIN { print "id,email,plan"; for (i = 1; i <= n; i++) printf "big%d,big%d@x.test,pro\n", i, i }' > "$TMP/big.csv"
"$DRIP" import "$TMP/big.csv" --db "$TMP/big.db" > /dev/null 2> "$TMP/err" &
IMP=$!
for _ in $(seq 200); do
  [ "$(sqlite3 "$TMP/big.db" "SELECT count(*) FROM contacts" 2> /dev/null || echo 0)" -gt 0 ] && break
  sleep 0.05
done
kill -TERM $IMP
wait $IMP
expect_eq "a large import stopped by SIGTERM exits 143" 143 $?
part=$(sqlite3 "$TMP/big.db" "SELECT count(*) FROM contacts")
expect_eq "... keeps the chunks it committed (some, not all)" yes "$([ "$part" -gt 0 ] && [ "$part" -lt $N ] && echo yes || echo "no: $part")"
expect_contains "... and says how to go on" "$(cat "$TMP/err")" "interrupted (SIGTERM) after $part contacts; they are in the store, and the same import again adds the rest"
"$DRIP" import "$TMP/big.csv" --db "$TMP/big.db" > /dev/null
expect_eq "the same import again: every contact once" "$N|$N" \
  "$(sqlite3 "$TMP/big.db" "SELECT count(*), count(DISTINCT id) FROM contacts")"

# an import into a store drip run serves leaves the server its turns: events
# sent meanwhile are taken (200) without waiting out the import
mkdir -p "$TMP/j"
echo 'return journey { name = "hello", trigger = "Hello", steps = function() end }' > "$TMP/j/hello.lua"
start_drip run --journeys "$TMP/j" --db "$TMP/served.db"
"$DRIP" import "$TMP/big.csv" --db "$TMP/served.db" > "$TMP/served_out" &
IMP=$!
sleep 0.3
codes="" slowest=0
for i in $(seq 10); do
  t0=$(date +%s%N)
  codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/track" -d '{"userId":"live'$i'","event":"Hello"}')"
  t=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $t -gt $slowest ] && slowest=$t
  sleep 0.1
done
kill -0 $IMP 2> /dev/null && running=yes || running=no
wait $IMP
expect_eq "events sent during an import into the served store are all taken" \
  " 200 200 200 200 200 200 200 200 200 200" "$codes"
expect_eq "... each within a second (slowest ${slowest} ms), the import still running after them" "yes yes" \
  "$([ $slowest -lt 1000 ] && echo yes || echo no) $running"
expect_eq "... and the import took every row" "imported $N contacts from $TMP/big.csv" "$(cat "$TMP/served_out")"
stop_drip
finish
