#!/usr/bin/env bash
# End-to-end tests of `drip run`: the real server on loopback, driven with curl.
DRIP=$(realpath "${1:?usage: run.sh path/to/drip}")
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.sh"

J="$TMP/journeys"
mkdir -p "$J"
cat > "$J/quick.lua" <<'EOF'
return journey {
  name = "quick",
  trigger = "Signed Up",
  steps = function(ctx)
    email { subject = "hi {{contact.name | default \"there\"}}", text = "v1" }
    wait "2s"
    sms { text = "later" }
  end,
}
EOF
cat > "$J/broken_later.lua" <<'EOF'
return journey { name = "other", trigger = "Other", steps = function() log "other v1" end }
EOF
cat > "$J/long.lua" <<'EOF'
return journey { name = "long", trigger = "Long", steps = function() wait "1h" end }
EOF
echo 'return journey { name = "digest", trigger = { schedule = "daily 09:00" }, steps = function() end }' > "$J/digest.lua"
echo 'return { named_ann = function(c) return c.name == "Ann" end, buyers = { did = "Bought" } }' > "$J/segments.lua"
mkdir -p "$J/templates"
echo "template v1 for {{contact.name}}" > "$J/templates/note.txt"
cat > "$J/note.lua" <<'EOF'
return journey { name = "note", trigger = "Note", steps = function() email { template = "note", subject = "n" } end }
EOF
cat > "$TMP/drip.conf.lua" <<'EOF'
body_limit = "256KiB"
buffer_limit = "300KiB"
EOF
cd "$TMP"
DB="$TMP/run.db"
start_drip run --journeys "$J" --db "$DB"

# --- health, ingest, dedupe ------------------------------------------------
expect_eq "healthz" '200 {"ok":true}' "$(req GET /healthz)"
expect_eq "the server takes no transparent huge pages (a fault that compacts memory would stall a request)" \
  "0" "$(awk '/^THP_enabled/ { print $2 }' "/proc/$PID/status")"
TRAITS='{"userId":"ann","traits":{"name":"Ann","email":"ann@x.test","phone":"+15550002222","consent":{"email":true,"sms":true}}}'
expect_eq "identify" '200 {"accepted":1,"duplicates":0,"ok":true}' "$(req POST /v1/identify "$TRAITS")"
expect_eq "track" '200 {"accepted":1,"duplicates":0,"ok":true}' \
  "$(req POST /v1/track '{"userId":"ann","event":"Signed Up","messageId":"m-1"}')"
expect_eq "same messageId again is a duplicate" '200 {"accepted":0,"duplicates":1,"ok":true}' \
  "$(req POST /v1/track '{"userId":"ann","event":"Signed Up","messageId":"m-1"}')"
expect_eq "batch" '200 {"accepted":2,"duplicates":0,"ok":true}' \
  "$(req POST /v1/batch '{"batch":[{"type":"identify","userId":"bob","traits":{"plan":"pro"}},{"type":"track","userId":"bob","event":"Other"}]}')"
expect_eq "JSON Lines" '200 {"accepted":2,"duplicates":0,"ok":true}' \
  "$(req POST /v1/events "$(printf '{"type":"track","userId":"cy","event":"Other"}\n\n{"type":"identify","userId":"cy","traits":{"name":"Сай"}}\n')")"
expect_eq "a batch from a Segment pipeline: page and screen calls skipped, the rest taken" \
  '200 {"accepted":1,"duplicates":0,"ignored":2,"ok":true}' \
  "$(req POST /v1/batch '{"batch":[{"type":"page","userId":"pat","name":"Home"},{"type":"track","userId":"pat","event":"Other","messageId":"m-2"},{"type":"screen","userId":"pat"}]}')"
expect_eq "JSON Lines: a group call skipped, a comment line too" '200 {"accepted":1,"duplicates":0,"ignored":1,"ok":true}' \
  "$(req POST /v1/events "$(printf '# exported\n{"type":"group","userId":"cy","groupId":"g1"}\n{"type":"track","userId":"cy","event":"Other","messageId":"m-3"}\n')")"
expect_eq "a batch with a visitor's events before sign-in (anonymousId, no userId): those skipped, the rest taken" \
  '200 {"accepted":1,"anonymous":2,"duplicates":0,"ignored":2,"ok":true}' \
  "$(req POST /v1/batch '{"batch":[{"type":"track","anonymousId":"a-1","event":"Product Viewed"},{"type":"identify","anonymousId":"a-1","userId":null,"traits":{"plan":"x"}},{"type":"track","userId":"pat","anonymousId":"a-1","event":"Other","messageId":"m-4"}]}')"
expect_eq "a single track of an anonymous visitor is skipped, not refused" '200 {"accepted":0,"anonymous":1,"duplicates":0,"ignored":1,"ok":true}' \
  "$(req POST /v1/track '{"anonymousId":"a-2","event":"Product Viewed"}')"
expect_eq "neither userId nor anonymousId is still a 400 naming userId" '400 {"error":"field '"'"'userId'"'"': required","field":"userId"}' \
  "$(req POST /v1/track '{"event":"Product Viewed"}')"
expect_eq "a backend's integer userId is taken as its digits" '200 {"accepted":1,"duplicates":0,"ok":true}' \
  "$(req POST /v1/track '{"userId":4242,"event":"Other","messageId":"m-5"}')"
expect_eq "... the same contact as the string id, stored as text" '4242|"4242"' \
  "$(sqlite3 "$DB" "SELECT contact, json_quote(json_extract(body, '$.userId')) FROM events WHERE message_id = 'm-5'")"
expect_eq "a userId that is not a whole number is a 400" \
  '400 {"error":"field '"'"'userId'"'"': must be a string (or a whole number of at most 15 digits)","field":"userId"}' \
  "$(req POST /v1/track '{"userId":42.5,"event":"Other"}')"
req POST /v1/track '{"userId":"pat","event":"signed_up"}' > /dev/null
req POST /v1/track '{"userId":"pat","event":"signed_up"}' > /dev/null
wait_log 'level=warn msg="an event name differs only in spelling from one a journey or segment expects; names must match exactly" event=signed_up journey=quick expects="Signed Up"'
req POST /v1/track '{"userId":"pat","event":"bought"}' > /dev/null
wait_log 'level=warn msg="an event name differs only in spelling.*" event=bought segment=buyers expects=Bought'
expect_eq "... said once per name, and not for names that match" 2 "$(grep -c 'only in spelling' "$LOG")"
expect_eq "no anonymous event made a contact" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM contacts WHERE id LIKE 'a-%'")"
expect_eq "an unknown type still refuses the batch" '400' \
  "$(req POST /v1/batch '{"batch":[{"type":"pageview","userId":"bob"}]}' | cut -c1-3)"
expect_eq "an event stored before its 200" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE message_id = 'm-1'")"

# --- reading -----------------------------------------------------------------
contact=$(req GET /v1/contacts/ann)
expect_contains "the contact view lists the segments the contact is in" "$contact" '"segments":["named_ann"]'
expect_contains "contact has traits" "$contact" '"name":"Ann"'
req POST /v1/identify '{"userId":"zed","traits":{"name":"Zed"}}' > /dev/null
expect_contains "empty lists are JSON arrays" "$(req GET /v1/contacts/zed)" '"instances":[],"segments":[]'
expect_contains "contact has its instance" "$contact" '"journey":"quick"'

# --- broadcasts are planned on the wall clock, per time zone ---------------------
req POST /v1/identify '{"userId":"tina","traits":{"timezone":"Asia/Tehran"}}' > /dev/null
expect_eq "a daily broadcast waits for the next 09:00 in UTC and in each contact's zone" "same" "$(python3 - "$DB" <<'PY'
import sqlite3, sys, time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
rows = dict(sqlite3.connect(sys.argv[1]).execute("SELECT zone, due FROM schedules WHERE journey = 'digest'").fetchall())
def next_nine(zone, t):  # the first 09:00 in the zone at or after t
    now = datetime.fromtimestamp(t, ZoneInfo(zone))
    at = now.replace(hour=9, minute=0, second=0, microsecond=0)
    if at.timestamp() < t:
        at = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    return int(at.timestamp())
t = time.time()  # drip planned it a moment ago: either side of a 09:00 passing in between
ok = all(rows.get(z) in (next_nine(z, t - 5), next_nine(z, t)) for z in ("UTC", "Asia/Tehran"))
print("same" if ok else f"got {rows}")
PY
)"
expect_contains "UTF-8 traits round-trip" "$(req GET /v1/contacts/cy)" '"name":"Сай"'
expect_contains "a percent-encoded id" "$(req POST /v1/track '{"userId":"a b/c","event":"Other"}'; req GET /v1/contacts/a%20b%2Fc)" '"id":"a b/c"'
expect_contains "journeys list" "$(req GET /v1/journeys)" '"name":"quick"'
expect_contains "journey stats" "$(req GET /v1/journeys/quick/stats)" '"entered":1'
expect_eq "... the same as drip stats --format json tells of the journey" same "$(python3 - "$(req GET /v1/journeys/quick/stats | cut -d' ' -f2-)" \
  "$("$DRIP" stats quick --db "$DB" --format json)" <<'PY'
import json, sys
http, cli = json.loads(sys.argv[1]), json.loads(sys.argv[2])["journeys"][0]
print("same" if http == cli and http["steps"] else f"http {http} cli {cli}")
PY
)"
expect_contains "... ?since= counts the instances entered in that last period" \
  "$(req GET '/v1/journeys/quick/stats?since=30d')" '"entered":1'
expect_contains "... and says from when" "$(req GET '/v1/journeys/quick/stats?since=30d')" '"since":"'
expect_contains "... a loaded journey no one has entered yet has stats of nothing, not a 404" \
  "$(req GET /v1/journeys/long/stats)" '200 {"active":0,'
expect_eq "... a bad since is a 400 naming it" 400 "$(req GET '/v1/journeys/quick/stats?since=soon' | cut -d' ' -f1)"
expect_eq "unknown journey stats" '404 {"error":"journey '"'"'nope'"'"' not found"}' "$(req GET /v1/journeys/nope/stats)"
expect_eq "unknown contact" "404" "$(req GET /v1/contacts/nobody | cut -d' ' -f1)"
expect_eq "unknown path" "404" "$(req GET /v2/what | cut -d' ' -f1)"
expect_eq "wrong method" '405 {"error":"/v1/track takes POST, not GET"}' "$(req GET /v1/track)"

# --- bad input: 400 naming the field, 413 over the limit, 503 when full ------
expect_eq "bad JSON" 400 "$(req POST /v1/track '{"userId":' | cut -d' ' -f1)"
expect_contains "missing userId" "$(req POST /v1/track '{"event":"X"}')" '"field":"userId"'
expect_contains "userId of the wrong type" "$(req POST /v1/track '{"userId":true,"event":"X"}')" "field 'userId': must be a string"
expect_contains "an empty array is not an event" "$(req POST /v1/track '[]')" "the body must be a JSON object"
expect_contains "... which names the body as the field" "$(req POST /v1/track '[]')" '"field":"body"'
expect_contains "properties that are not an object" "$(req POST /v1/track '{"userId":"u","event":"X","properties":[1,2]}')" "field 'properties': must be an object"
long=$(head -c 70000 /dev/zero | tr '\0' 'x')
expect_contains "an oversize string" "$(req POST /v1/track '{"userId":"u","event":"X","properties":{"note":"'$long'"}}')" '"field":"properties.note"'
expect_contains "a bad batch item names its index" "$(req POST /v1/batch '{"batch":[{"type":"track","userId":"u","event":"X"},{"type":"track","event":"X"}]}')" '"field":"batch[1].userId"'
expect_eq "a bad batch keeps none of it" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM contacts WHERE id = 'u'")"
expect_contains "a body that is not UTF-8 is refused, naming the byte" \
  "$(req POST /v1/track "$(printf '{"userId":"u","event":"X","properties":{"name":"Caf\351"}}')")" 'not UTF-8 (byte 52)'
expect_contains "a bad line names its number" "$(req POST /v1/events "$(printf '{"type":"track","userId":"u","event":"X"}\nnot json\n')")" 'line 2: bad JSON'
expect_contains "identify with the wrong type" "$(req POST /v1/identify '{"type":"track","userId":"u"}')" '"field":"type"'
head -c 300000 /dev/zero | tr '\0' 'a' > "$TMP/big"
head -c 150000 /dev/zero | tr '\0' 'b' > "$TMP/mid"
expect_eq "413 over body_limit" 413 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/v1/track" --data-binary @"$TMP/big")"
# An upload left half-way holds 200 KB; one more of 150 KB would pass buffer_limit (300 KiB): 503.
hold_upload 4 250000 200000
sleep 0.3
heads=$(curl -s -D - -o /dev/null -XPOST "$URL/v1/track" --data-binary @"$TMP/mid")
exec 4<&-
expect_contains "503 when the buffer is full" "$heads" "HTTP/1.1 503"
expect_contains "503 carries Retry-After" "$heads" "Retry-After: 1"
sleep 0.2
expect_eq "the buffer frees when they go" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"

# --- keep-alive and pipelining ---------------------------------------------------
reused=$(curl -sv "$URL/healthz" "$URL/healthz" 2>&1 | grep -c 'Re-using existing connection')
expect_eq "keep-alive reuses the connection" 1 "$reused"
expect_eq "pipelined requests answered in order" 3 "$(pipelined 3 | grep -c 'HTTP/1.1 200')"

# --- real timers: the wait ends on the wall clock --------------------------------
sleep 3
expect_eq "after 2s the sms step ran" "email sms" \
  "$(sqlite3 "$DB" "SELECT group_concat(channel, ' ') FROM (SELECT channel FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = 'ann' ORDER BY o.seq)")"
expect_contains "metrics count events as the store does" "$(req GET /metrics)" \
  "drip_events_ingested_total $(sqlite3 "$DB" 'SELECT count(*) FROM events WHERE internal = 0')"
expect_contains "metrics count the skipped anonymous events" "$(req GET /metrics)" 'drip_events_skipped_total{reason="anonymous"} 3'
expect_contains "metrics count the skipped page, screen, group and alias calls" "$(req GET /metrics)" 'drip_events_skipped_total{reason="call"} 3'
expect_contains "metrics count sends by channel and status" "$(req GET /metrics)" 'drip_sends_total{channel="sms",status="queued"} 1'
expect_contains "metrics have the commit histogram" "$(req GET /metrics)" 'drip_commit_seconds_count'
expect_contains "metrics count active instances as the store does" "$(req GET /metrics)" \
  "drip_instances_active{journey=\"quick\"} $(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE journey = 'quick' AND active = 1")"

# --- hot reload --------------------------------------------------------------------
sed -i 's/v1/v2/' "$J/quick.lua"
wait_log "journey loaded.*journey=quick"
req POST /v1/batch '{"batch":[{"type":"identify","userId":"dan","traits":{"email":"d@x.test","consent":{"email":true}}},{"type":"track","userId":"dan","event":"Signed Up"}]}' > /dev/null
versions=$(sqlite3 "$DB" "SELECT count(DISTINCT version) FROM instances WHERE journey = 'quick'")
expect_eq "a changed script is the version for new entries" 2 "$versions"
expect_contains "the new version runs" "$(sqlite3 "$DB" "SELECT message FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = 'dan'")" '"text":"v2"'
req POST /v1/track '{"userId":"ann","event":"Note"}' > /dev/null
echo "template v2 for {{contact.name}}" > "$J/templates/note.txt"
wait_log "templates and segments read again"
req POST /v1/track '{"userId":"ann","event":"Note"}' > /dev/null
expect_eq "an edited template is used from the next message on, without a restart" \
  "template v1 for Ann|template v2 for Ann" \
  "$(sqlite3 "$DB" "SELECT group_concat(rtrim(json_extract(message, '$.text'), char(10)), '|') FROM (SELECT o.message FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.journey = 'note' ORDER BY o.id)")"
# templates/ made again (as a deploy that replaces the directory does): still watched
reads() { grep -c "templates and segments read again" "$LOG"; }
before=$(reads)
rm -rf "$J/templates"; mkdir "$J/templates"; echo "template v3 for {{contact.name}}" > "$J/templates/note.txt"
for _ in $(seq 100); do [ "$(reads)" -gt "$before" ] && break; sleep 0.05; done
sleep 0.3; before=$(reads)
echo "template v4 for {{contact.name}}" > "$J/templates/note.txt"
for _ in $(seq 100); do [ "$(reads)" -gt "$before" ] && break; sleep 0.05; done
expect_eq "an edit in a templates/ made again after the start is seen" 1 "$(( $(reads) > before ))"
req POST /v1/track '{"userId":"ann","event":"Note"}' > /dev/null
expect_eq "... and used" "template v4 for Ann" \
  "$(sqlite3 "$DB" "SELECT rtrim(json_extract(o.message, '$.text'), char(10)) FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.journey = 'note' ORDER BY o.id DESC LIMIT 1")"
echo 'return journey { name = "other", trigger = "Other", steps = function() log "x" end' > "$J/broken_later.lua"
wait_log "not loaded; its previous version keeps running.*broken_later.lua:[0-9]"
expect_eq "a broken script keeps its previous version" '200 {"accepted":1,"duplicates":0,"ok":true}' \
  "$(req POST /v1/track '{"userId":"eve","event":"Other"}')"
expect_eq "... which still starts instances" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE contact = 'eve' AND journey = 'other'")"
rm "$J/broken_later.lua"
wait_log "journey removed.*journey=other"
req POST /v1/track '{"userId":"fay","event":"Other"}' > /dev/null
expect_eq "a deleted script starts no new instances" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE contact = 'fay'")"
echo 'return journey { name = "fresh", trigger = "Fresh", steps = function() end' > "$J/fresh_broken.lua"
wait_log 'msg="not loaded" error=.*fresh_broken.lua:[0-9]'
expect_eq "a new script that fails is not said to keep a previous version" "" \
  "$(grep 'previous version.*fresh_broken' "$LOG")"
expect_contains "GET /v1/journeys names the scripts the last load could not take" "$(req GET /v1/journeys)" \
  "\"errors\":[\"$J/fresh_broken.lua:2: "
reloads=$(grep -c "no journey changed" "$LOG")
rm "$J/fresh_broken.lua"
for _ in $(seq 50); do [ "$(grep -c "no journey changed" "$LOG")" -gt "$reloads" ] && break; sleep 0.1; done
expect_contains "... and none once it is gone" "$(req GET /v1/journeys)" '"errors":[]'
# a journeys directory moved away for a moment (as a deploy may) unloads nothing
loaded=$(req GET /v1/journeys | grep -o '"name":"[^"]*"' | sort | tr '\n' ' ')
removed=$(grep -c 'journey removed' "$LOG")
mv "$J" "$J.away"
wait_log 'the journeys are not there; the loaded ones keep running'
expect_eq "a journeys directory gone for a moment unloads nothing" "$loaded" \
  "$(req GET /v1/journeys | grep -o '"name":"[^"]*"' | sort | tr '\n' ' ')"
expect_eq "... and none is logged as removed" "$removed" "$(grep -c 'journey removed' "$LOG")"
mv "$J.away" "$J"
# all of its scripts taken out, on purpose: no journey is loaded, and the list says so as a list
mkdir -p "$TMP/held"
loads=$(grep -c 'journey loaded' "$LOG")
for f in "$J"/*.lua; do [ "$(basename "$f")" = segments.lua ] || mv "$f" "$TMP/held/"; done
for _ in $(seq 50); do req GET /v1/journeys | grep -q '"journeys":\[\]' && break; sleep 0.1; done
expect_contains "with every script taken out, GET /v1/journeys lists none, as an empty list" "$(req GET /v1/journeys)" '"journeys":[]'
mv "$TMP/held/"*.lua "$J/"
for _ in $(seq 50); do [ "$(grep -c 'journey loaded' "$LOG")" -gt "$loads" ] && break; sleep 0.1; done

# SIGHUP reads the journeys again now (where the directory cannot be watched), and drip goes on serving
changes=$(grep -c "no journey changed" "$LOG")
kill -HUP "$PID"
wait_log "SIGHUP: reading the journeys again"
for _ in $(seq 50); do [ "$(grep -c "no journey changed" "$LOG")" -gt "$changes" ] && break; sleep 0.1; done
expect_eq "SIGHUP: the journeys read again, and drip still serves" "1 200" \
  "$(( $(grep -c "no journey changed" "$LOG") - changes )) $(req GET /healthz | cut -d' ' -f1)"

# --- erase ---------------------------------------------------------------------
expect_contains "DELETE a contact says what it removed" "$(req DELETE /v1/contacts/bob)" '"events":2'
expect_eq "... and it is gone" 404 "$(req GET /v1/contacts/bob | cut -d' ' -f1)"
# `drip forget` in another process while this one serves: the contact's next
# event makes it again, and the ids of what was erased are not given again
req POST /v1/track '{"userId":"hal","event":"Signed Up"}' > /dev/null
hal_max=$(sqlite3 "$DB" "SELECT max(id) FROM instances")
expect_eq "the newest instance is hal's" "hal" "$(sqlite3 "$DB" "SELECT contact FROM instances WHERE id = $hal_max")"
"$DRIP" forget hal --db "$DB" > /dev/null
req POST /v1/track '{"userId":"hal","event":"Signed Up"}' > /dev/null
expect_eq "after drip forget beside drip run, the contact's next event makes it again" 200 \
  "$(req GET /v1/contacts/hal | cut -d' ' -f1)"
expect_eq "... and its new instance does not take the erased one's id" 1 \
  "$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE contact = 'hal' AND id > $hal_max")"

# --- crash and restart: overdue timers fire promptly and once --------------------
req POST /v1/track '{"userId":"gus","event":"Signed Up"}' > /dev/null
req POST /v1/batch '{"batch":[{"type":"track","userId":"l1","event":"Long"},{"type":"track","userId":"l2","event":"Long"}]}' > /dev/null
kill -9 "$PID"
wait "$PID" 2>/dev/null
sleep 3
start_drip run --journeys "$J" --db "$DB"
sleep 1
expect_eq "after kill -9 and restart the overdue wait fired" "email sms" \
  "$(sqlite3 "$DB" "SELECT group_concat(channel, ' ') FROM (SELECT channel FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = 'gus' ORDER BY o.seq)")"
expect_contains "after a restart the active gauge counts the store" "$(req GET /metrics)" 'drip_instances_active{journey="long"} 2'
req POST /v1/track '{"userId":"l3","event":"Long"}' > /dev/null
expect_contains "... and then follows entries" "$(req GET /v1/journeys)" '"active":3,"file":"'"$J"'/long.lua","name":"long"'
expect_eq "no timer fired twice" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM (SELECT instance FROM history WHERE kind = 'send' GROUP BY instance, data HAVING count(*) > 1)")"

# --- SIGTERM: stop cleanly ---------------------------------------------------------
kill -TERM "$PID"
wait "$PID"
expect_eq "SIGTERM exits 0" 0 $?
expect_contains "SIGTERM logged" "$(cat "$LOG")" 'msg=stopped'

# --- a restart with a broken script runs the version the store last loaded ----------
cp "$J/long.lua" "$TMP/long.lua.good"
echo 'return journey { name = "long", trigger = "Long", steps = function() wait "1h" end' > "$J/long.lua"
start_drip run --journeys "$J" --db "$DB"
wait_log "not loaded; its previous version keeps running.*long.lua:[0-9]"
req POST /v1/track '{"userId":"l4","event":"Long"}' > /dev/null
expect_eq "restarted with a broken script, drip run serves, and the stored version starts instances" 1 \
  "$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE contact = 'l4' AND journey = 'long'")"
expect_contains "... and GET /v1/journeys names the error" "$(req GET /v1/journeys)" "\"errors\":[\"$J/long.lua:"
stop_drip
mkdir -p "$TMP/only_broken"
cp "$J/long.lua" "$TMP/only_broken/"
"$DRIP" run --journeys "$TMP/only_broken" --db "$TMP/fresh.db" --listen 127.0.0.1:0 2> "$TMP/err"
expect_eq "a new store whose only script is broken: nothing to run, exits 2 naming the line" \
  "2 $TMP/only_broken/long.lua:2:" "$? $(grep -o "^.*long.lua:[0-9]*:" "$TMP/err")"
cp "$TMP/long.lua.good" "$J/long.lua"

# --- tokens ---------------------------------------------------------------------
DRIP_TOKEN=s3cret start_drip run --journeys "$J" --db "$DB"
expect_eq "no token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/v1/track" -d '{}')"
expect_eq "wrong token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$URL/v1/journeys")"
expect_eq "right token: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' "$URL/v1/journeys")"
expect_eq "healthz needs no token" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"
stop_drip

# --- --dry-run records messages instead of queueing them for delivery ----------
expect_eq "live runs queue messages" queued "$(sqlite3 "$DB" "SELECT DISTINCT o.status FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = 'ann'")"
start_drip run --journeys "$J" --db "$DB" --dry-run
wait_log "mode=dry-run"
req POST /v1/track '{"userId":"ann","event":"Signed Up"}' > /dev/null
expect_eq "--dry-run records them as simulated" simulated \
  "$(sqlite3 "$DB" "SELECT o.status FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = 'ann' ORDER BY o.id DESC LIMIT 1")"
expect_contains "... and counts them so" "$(req GET /metrics)" 'drip_sends_total{channel="email",status="simulated"} 1'
timeout 10 "$DRIP" run --journeys "$J" --db "$DB" --listen 127.0.0.1:0 2> "$TMP/err"
expect_eq "a second drip run on the same store exits 1" 1 $?
expect_contains "... and names the one serving it" "$(cat "$TMP/err")" "is served by another drip run (process $PID)"
timeout 10 "$DRIP" run --journeys "$J" --db "$TMP/other.db" --listen "${URL#http://}" 2> "$TMP/err"
expect_eq "a second drip run on the same port (another store) exits 1: it would take half the events" \
  "1 drip run: listen: cannot listen on ${URL#http://} (in use, or not an address of this machine)" "$? $(cat "$TMP/err")"
stop_drip
"$DRIP" run --journeys "$J" --db "$DB" --listen 0.0.0.0:0 2> "$TMP/err"
expect_eq "non-loopback without a token exits 2" 2 $?
expect_contains "... and says why" "$(cat "$TMP/err")" "refusing to listen on 0.0.0.0:0 without a token"
"$DRIP" run --journeys "$TMP/no-such-dir" --db "$TMP/nodir.db" --listen 127.0.0.1:0 2> "$TMP/err"
expect_eq "a journeys directory that is not there exits 2, naming it" \
  "2 drip run: journeys: $TMP/no-such-dir: no such file or directory" "$? $(cat "$TMP/err")"
printf 'timezone = "Europe/Atlantis"\n' > "$TMP/badzone.conf.lua"
"$DRIP" run --journeys "$J" --db "$DB" --config "$TMP/badzone.conf.lua" 2> "$TMP/err"
expect_eq "an unknown time zone in the configuration exits 2, naming it" \
  "2 drip run: $TMP/badzone.conf.lua:1: timezone: unknown time zone 'Europe/Atlantis'" "$? $(cat "$TMP/err")"
"$DRIP" run --journeys "$J" --db "$DB" --listen nonsense 2> "$TMP/err"
expect_eq "a bad --listen exits 2" 2 $?

# --- a served store and a simulation's store are not mixed ------------------------
: > "$TMP/none.jsonl"
"$DRIP" simulate --events "$TMP/none.jsonl" --journeys "$J" --db "$DB" > /dev/null 2> "$TMP/err"
expect_eq "simulate refuses a store drip run serves" 2 $?
expect_contains "... and says why" "$(cat "$TMP/err")" "is a store drip run serves (real time, real sends)"
echo '{"type":"track","userId":"zoe","event":"Long","timestamp":"2099-01-01T00:00:00Z"}' > "$TMP/future.jsonl"
"$DRIP" simulate --events "$TMP/future.jsonl" --journeys "$J" --db "$TMP/sim.db" > /dev/null
timeout 10 "$DRIP" run --journeys "$J" --db "$TMP/sim.db" --listen 127.0.0.1:0 2> "$TMP/err"
expect_eq "drip run refuses a simulation's store whose clock is ahead" 2 $?
expect_contains "... and says why" "$(cat "$TMP/err")" "ahead of now: a simulation's store"

finish
