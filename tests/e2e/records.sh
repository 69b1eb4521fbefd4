#!/usr/bin/env bash
# End-to-end tests of `drip records` and GET /v1/records: a simulation's
# store gives the records simulate printed; a store `drip run` serves gives
# delivery states and tracked opens and clicks of emails delivered to a real
# loopback SMTP server (tests/sinks), a page at a time, with cursors.
DRIP=$(realpath "${1:?usage: records.sh path/to/drip}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/server.sh"
. "$HERE/sinks.sh"
cd "$HERE/../.."

# --- a simulation's store ---------------------------------------------------------------
SIM="$TMP/sim.db"
"$DRIP" simulate --journeys scripts --events examples/events.jsonl --db "$SIM" --format jsonl > "$TMP/sim.jsonl"
"$DRIP" records --db "$SIM" > "$TMP/all.jsonl"; code=$?
expect_eq "drip records on a simulation's store succeeds" 0 "$code"
grep -v '"kind":"wait"' "$TMP/all.jsonl" | grep -v '"kind":"[a-z]*subscribed"' | sed 's/,"instance":[0-9]*}$/}/' | sort > "$TMP/a"
sort "$TMP/sim.jsonl" > "$TMP/b"
expect_eq "... and gives every record simulate printed, byte for byte (with the instance's id, and the waits)" \
  "$(wc -l < "$TMP/b") same" "$(wc -l < "$TMP/a") $(cmp -s "$TMP/a" "$TMP/b" && echo same || echo differ)"
expect_eq "... each with the instance it belongs to" 0 "$(grep -v '"kind":"[a-z]*subscribed"' "$TMP/all.jsonl" | grep -vc ',"instance":[0-9]*}$')"
expect_eq "... and each unsubscribe and resubscribe of the events, the contact's, of no journey" \
  "$(grep -c '"event":"\(Uns\|Res\)ubscribed"' examples/events.jsonl) 0" \
  "$(grep -c '"kind":"[a-z]*subscribed"' "$TMP/all.jsonl") $(grep '"kind":"[a-z]*subscribed"' "$TMP/all.jsonl" | grep -c '"journey"')"
expect_eq "... and the waits, with what ended them" 1 \
  "$(grep -c '"kind":"wait".*"ended_by":"time"' "$TMP/all.jsonl" | awk '{print ($1 > 0)}')"
python3 - "$TMP/all.jsonl" > "$TMP/order" <<'PY'
import json, sys
ats = [json.loads(l)["at"] for l in open(sys.argv[1])]
print("in time order" if ats == sorted(ats) else "out of order")
PY
expect_eq "... oldest first" "in time order" "$(cat "$TMP/order")"
"$DRIP" records --db "$SIM" --journey welcome > "$TMP/welcome.jsonl"
expect_eq "--journey: only that journey's records, all of them" \
  "$(grep -c '"journey":"welcome"' "$TMP/all.jsonl") 0" \
  "$(wc -l < "$TMP/welcome.jsonl") $(grep -vc '"journey":"welcome"' "$TMP/welcome.jsonl")"
last=$(tail -1 "$TMP/all.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["at"])')
"$DRIP" records --db "$SIM" --since 2d > "$TMP/recent.jsonl"
python3 - "$TMP/all.jsonl" "$TMP/recent.jsonl" > "$TMP/since" <<'PY'
import json, sys, datetime
def at(l): return datetime.datetime.strptime(json.loads(l)["at"], "%Y-%m-%dT%H:%M:%SZ")
every = [l for l in open(sys.argv[1])]
end = max(at(l) for l in every)
want = [l for l in every if at(l) >= end - datetime.timedelta(days=2)]
got = list(open(sys.argv[2]))
print(len(got) > 0 and sorted(got) == sorted(want))
PY
expect_eq "--since 2d: the records of the store's last two days, all of them" True "$(cat "$TMP/since")"

C="$TMP/export.cursor"
"$DRIP" records --db "$SIM" --cursor-file "$C" > "$TMP/first.jsonl"
expect_eq "--cursor-file with no file yet: every record" "$(wc -l < "$TMP/all.jsonl")" "$(wc -l < "$TMP/first.jsonl")"
expect_eq "... and the cursor saved" 1 "$(grep -cE '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$C")"
expect_eq "the same again: nothing new" 0 "$("$DRIP" records --db "$SIM" --cursor-file "$C" | wc -l)"
half=$(sed -n '500p' "$TMP/all.jsonl")
out=$("$DRIP" records --db "$SIM" --after 0.0.0.0 | sed -n '500p')
expect_eq "--after 0.0.0.0 is the start" "$half" "$out"

"$DRIP" records --db "$SIM" --format csv > "$TMP/all.csv"
expect_eq "--format csv: a row for each record, under one header, every row with every column" \
  "$(wc -l < "$TMP/all.jsonl") True" "$(python3 - "$TMP/all.csv" "$TMP/all.jsonl" <<'PY'
import csv, json, sys
raw = open(sys.argv[1], encoding="utf-8").read()
rows = list(csv.DictReader(raw.lstrip("\ufeff").splitlines(True)))
recs = [json.loads(l) for l in open(sys.argv[2])]
same = raw.startswith("\ufeffat,contact,journey,instance,kind,") and all(
    r["at"] == j["at"] and r["contact"] == j["contact"] and r["kind"] == j["kind"] and r["instance"] == str(j.get("instance", ""))
    and r["channel"] == (j.get("channel") or "") and r["reason"] == (j.get("reason") or "")
    and (j["kind"] != "send" or r["message"] == j["message"].get("subject", j["message"].get("text", r["message"])))
    for r, j in zip(rows, recs))
print(len(rows), same)
PY
)"
"$DRIP" records --db "$SIM" --format csv --after 1.0.0.0 > "$TMP/rest.csv"
expect_eq "... and one that goes on after a cursor adds rows, not a second header" \
  "$(($(wc -l < "$TMP/all.jsonl") - 1)) 0" "$(python3 -c 'import csv, sys; print(len(list(csv.reader(open(sys.argv[1], encoding="utf-8")))))' "$TMP/rest.csv") $(grep -c 'at,contact' "$TMP/rest.csv")"
"$DRIP" records --db "$SIM" --format table > "$TMP/all.txt"
expect_eq "--format table: a line to read for each record" "$(wc -l < "$TMP/all.jsonl")" "$(wc -l < "$TMP/all.txt")"
expect_contains "... a send as simulate's table shows it" "$(cat "$TMP/all.txt")" "welcome              email → "
expect_contains "... a wait and what ended it" "$(cat "$TMP/all.txt")" "abandoned_cart       wait_for Order Completed: timed out"
expect_contains "... an unsubscribe, of no journey" "$(cat "$TMP/all.txt")" "c193           -                    unsubscribed from email"
expect_contains "--format must be one drip writes" "$("$DRIP" records --db "$SIM" --format xml 2>&1)" \
  "drip records: --format is jsonl, csv or table"

out=$("$DRIP" records --db "$SIM" --after 1.2.3 2>&1); code=$?
expect_eq "a cursor that is not one: bad usage, saying so" \
  "2 drip records: '1.2.3' is not a cursor drip records gave (such as 120.4410.87.3)" "$code $(echo "$out" | head -1)"
out=$("$DRIP" records --db "$SIM" --after 0.0.0.0 --cursor-file "$C" 2>&1); code=$?
expect_eq "--after and --cursor-file together: bad usage" \
  "2 drip records: give --after or --cursor-file, not both" "$code $(echo "$out" | head -1)"
echo "nonsense" > "$TMP/bad.cursor"
out=$("$DRIP" records --db "$SIM" --cursor-file "$TMP/bad.cursor" 2>&1); code=$?
expect_eq "a cursor file that holds no cursor: bad usage, naming the file" \
  "2 drip records: $TMP/bad.cursor: 'nonsense' is not a cursor drip records gave (such as 120.4410.87.3)" \
  "$code $(echo "$out" | head -1)"
out=$("$DRIP" records --db "$SIM" --journey welcom 2>&1); code=$?
expect_eq "an unknown journey: bad usage, with the one it may mean" 2 "$code"
expect_contains "..." "$out" "no journey named 'welcom' in this store"
expect_contains "..." "$out" "did you mean 'welcome'?"
out=$("$DRIP" records --db "$TMP/none.db" 2>&1); code=$?
expect_eq "no store there: bad usage" "2 drip records: $TMP/none.db: no such database" "$code $out"

# --- a store drip run serves ------------------------------------------------------------
start_sinks
mkdir -p "$TMP/j"
cat > "$TMP/j/promo.lua" <<'LUA'
return journey {
  name = "promo", trigger = "Go",
  steps = function(ctx)
    email { subject = "New in", html = '<p><a href="https://shop.test/new">See</a></p>' }
    webhook { n = "{{event.userId}}" }
  end,
}
LUA
tracking_conf "$TMP/drip.conf.lua"
DB="$TMP/live.db"
start_drip run --config "$TMP/drip.conf.lua" --journeys "$TMP/j" --db "$DB"
"$DRIP" records --db "$DB" --follow > "$TMP/followed.jsonl" 2> "$TMP/follow.err" &
FOLLOW=$!
req POST /v1/identify '{"userId":"u1","traits":{"email":"u1@example.com","consent":{"email":true}}}' > /dev/null
req POST /v1/track '{"userId":"u1","event":"Go"}' > /dev/null
for _ in $(seq 100); do [ "$(q 'len(mails())')" = 1 ] && [ "$(q 'len(http("/ok/hook"))')" = 1 ] && break; sleep 0.05; done
tracked_links u1@example.com
curl -s -o /dev/null "${BROWSER[@]}" "$URL$OPEN"
curl -s -o /dev/null "${BROWSER[@]}" "$URL$CLICK"
# the delivery states are written after the provider answers: wait for the last one
for _ in $(seq 100); do [ "$("$DRIP" records --db "$DB" | grep -c '"status":"sent"')" = 2 ] && break; sleep 0.05; done
"$DRIP" records --db "$DB" > "$TMP/live.jsonl"
kinds=$(python3 -c '
import json, sys
print(" ".join(r["kind"] + ("/" + r["channel"] + ":" + r["status"] if r["kind"] == "delivery" else "")
               for r in map(json.loads, open(sys.argv[1]))))' "$TMP/live.jsonl")
expect_contains "the entry and both sends" "$kinds" "enter send send"
expect_contains "... each message's delivery states" "$kinds" "delivery/email:sending"
expect_contains "..." "$kinds" "delivery/email:sent"
expect_contains "..." "$kinds" "delivery/webhook:sent"
expect_contains "... then the open and the click" "$kinds" "opened clicked"
table=$("$DRIP" records --db "$DB" --format table)
expect_contains "--format table: a delivery state with the provider's answer" "$table" "promo                email sent (SMTP 250)"
expect_contains "... and a click with its link" "$table" "promo                email clicked  https://shop.test/new"
joined=$(python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sent = [r for r in rs if r["kind"] == "delivery" and r["channel"] == "email" and r["status"] == "sent"][0]
clicked = [r for r in rs if r["kind"] == "clicked"][0]
print(sent["message_id"] == clicked["message_id"], sent["to"], sent["detail"]["smtp"], clicked["url"], clicked["contact"],
      clicked["journey"], sent["instance"] == rs[0]["instance"])' "$TMP/live.jsonl")
expect_eq "a delivery and a click name the same message, with the provider's answer and the link" \
  "True u1@example.com 250 https://shop.test/new u1 promo True" "$joined"

# pages over HTTP, with cursors, give the same
paged=$(python3 - "$URL" <<'PY'
import json, sys, urllib.request
out, after = [], "0.0.0.0"
for _ in range(50):
    page = json.loads(urllib.request.urlopen(sys.argv[1] + "/v1/records?limit=2&after=" + after).read())
    if not page["records"]:
        break
    assert len(page["records"]) <= 2
    out += page["records"]
    after = page["next"]
print(json.dumps(out, sort_keys=True))
PY
)
whole=$(python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])], sort_keys=True))' "$TMP/live.jsonl")
expect_eq "GET /v1/records two at a time, following next, gives what drip records prints" "$whole" "$paged"
expect_contains "GET /v1/records?journey=nope: 404" "$(req GET '/v1/records?journey=nope')" "404 "
expect_contains "GET /v1/records?limit=0: 400 naming the field" "$(req GET '/v1/records?limit=0')" '"field":"limit"'
expect_contains "GET /v1/records?after=x: 400 naming the field" "$(req GET '/v1/records?after=x')" '"field":"after"'
expect_contains "GET /v1/records?since=soon: 400 naming the field" "$(req GET '/v1/records?since=soon')" '"field":"since"'

for _ in $(seq 100); do [ "$(wc -l < "$TMP/followed.jsonl")" -ge "$(wc -l < "$TMP/live.jsonl")" ] && break; sleep 0.05; done
req POST /v1/track '{"userId":"u2","event":"Go"}' > /dev/null
for _ in $(seq 100); do grep -q '"contact":"u2"' "$TMP/followed.jsonl" && break; sleep 0.05; done
expect_contains "--follow prints what drip run writes next" "$(cat "$TMP/followed.jsonl")" '"contact":"u2","journey":"promo","kind":"enter"'
kill -TERM "$FOLLOW"; wait "$FOLLOW"; code=$? # (a script's background job ignores SIGINT)
expect_eq "... and SIGTERM ends it, as Ctrl-C does" 0 "$code"
expect_eq "... having printed every record once, in the order drip records does" \
  "$(head -n "$(wc -l < "$TMP/live.jsonl")" "$TMP/followed.jsonl")" "$(cat "$TMP/live.jsonl")"
stop_drip
finish
