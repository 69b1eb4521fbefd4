#!/usr/bin/env bash
# End-to-end tests of `drip preview`: a journey's messages for one contact,
# printed, and with --to sent now to real loopback providers (tests/sinks).
DRIP=$(realpath "${1:?usage: preview.sh path/to/drip}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/server.sh"
. "$HERE/sinks.sh"

# --- without a store: a blank contact, the properties given --------------------------
out=$("$DRIP" preview abandoned_cart --properties '{"cart_url":"https://shop.test/c/9"}'); code=$?
expect_eq "a preview of the cart journey succeeds" 0 "$code"
expect_contains "... says what it entered on" "$out" 'abandoned_cart for a contact with no traits, entering on Cart Updated {"cart_url":"https://shop.test/c/9"} (--properties)'
expect_contains "... the email an hour after the entry, to a stand-in address" "$out" "  +1h               email to preview@example.com"
expect_contains "... rendered, with the default the template gives" "$out" "subject  You left something behind, there"
expect_contains "... and the properties in its text" "$out" "text     Your cart is waiting: https://shop.test/c/9"
expect_contains "... the SMS a day later, as the order never comes" "$out" "  +1d 1h            sms to +15555550100"
expect_contains "... and how it ends" "$out" "2 messages; the instance ends at +1d 1h (completed)"

out=$("$DRIP" preview abandoned_cart --then 'Order Completed +3h {"revenue":80}' 'Session Started +10m'); code=$?
expect_eq "--then: the contact's later events, another path" 0 "$code"
expect_contains "... in time order, where they come" "$out" "  +10m              ← Session Started"
expect_contains "..." "$out" "  +3h               ← Order Completed"
expect_contains "... the goal converts, with the order's revenue" "$out" "  +3h               converted (80)"
expect_contains "... and no SMS comes" "$out" "1 message; the instance ends at +3h (goal)"
out=$("$DRIP" preview abandoned_cart --then 'Order Completed' 2>&1); code=$?
expect_eq "... one with no time after the entry: bad usage, named" \
  "2 drip preview: --then 'Order Completed': not an event after the entry such as 'Order Completed +2h'" "$code $out"
expect_eq "--format json: the records, each with its time after the entry" "3600 email | 90000 sms | completed" \
  "$("$DRIP" preview abandoned_cart --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" | ".join(["%d %s" % (r["after"], r["channel"]) for r in d["records"] if r["kind"] == "send"] + [r["reason"] for r in d["records"] if r["kind"] == "exit"]))')"
out=$("$DRIP" preview abandond_cart 2>&1); code=$?
expect_eq "an unknown journey is bad usage" 2 "$code"
expect_contains "... naming the one it resembles" "$out" "no journey named 'abandond_cart' loads from scripts"
expect_contains "..." "$out" "did you mean 'abandoned_cart'?"
mkdir -p "$TMP/bad"
printf 'return journey { trigger = "Go", steps = function() email { text = "x" end }\n' > "$TMP/bad/b.lua"
out=$("$DRIP" preview b --journeys "$TMP/bad" 2>&1); code=$?
expect_eq "a journey whose file does not compile: bad usage, with why" \
  "2 drip preview: no journey named 'b' loads from $TMP/bad (none loads from there)|$TMP/bad/b.lua:1: '}' expected near 'end'" \
  "$code $(printf '%s' "$out" | paste -sd'|')"
out=$("$DRIP" preview abandoned_cart --properties '[1]' 2>&1); code=$?
expect_eq "properties that are not an object: bad usage, named" "2 drip preview: --properties: not a JSON object" \
  "$code $(printf '%s' "$out" | cut -d\' -f1 | sed 's/ such as $//')"

out=$("$DRIP" preview welcome --traits '{"language":"fa-IR","first_name":"سارا"}')
expect_contains "--traits: a contact made of them, here in Persian" "$out" "welcome for a contact with the traits given"
expect_contains "... gets the Persian version of the template" "$out" "text     سارا، سلام!"
expect_eq "--traits that are not an object (an empty array): bad usage" 2 \
  "$("$DRIP" preview welcome --traits '[]' 2>/dev/null; echo $?)"

# a journey whose where() refuses, one that fails, one on an inactive trigger
mkdir -p "$TMP/j"
cat > "$TMP/j/vip.lua" <<'LUA'
return journey { trigger = { event = "Go", where = function(e) return e.properties.vip end },
  steps = function(ctx) telegram { text = "VIP {{contact.first_name | default \"friend\"}}" } end }
LUA
cat > "$TMP/j/broken.lua" <<'LUA'
return journey { trigger = "Go", steps = function(ctx)
  wait "2h"
  email { subject = "first", text = "ok" }
  local n = ctx.event.properties.count + 1
end }
LUA
cat > "$TMP/j/back.lua" <<'LUA'
return journey { trigger = { inactive = "30d" }, steps = function(ctx)
  email { subject = "We miss you", text = "Come back" }
  wait "3d"
  push { title = "Still here", body = "10% off" }
end }
LUA
out=$("$DRIP" preview vip --journeys "$TMP/j" 2>&1); code=$?
expect_eq "a where() that does not take the event: exit 1" 1 "$code"
expect_contains "... saying so" "$out" "drip preview: preview did not enter: its trigger's where() did not take Go {}; give --properties that it takes"
out=$("$DRIP" preview vip --journeys "$TMP/j" --properties '{"vip":true}'); code=$?
expect_eq "... and with properties it takes, the message" "0" "$code"
expect_contains "..." "$out" "telegram to 100000001"
out=$("$DRIP" preview broken --journeys "$TMP/j" 2>&1); code=$?
expect_eq "a journey that fails: exit 1" 1 "$code"
expect_contains "... after the messages before the error" "$out" "subject  first"
expect_contains "... with the error" "$out" "the instance ends at +2h (error)"
expect_contains "... and its line" "$out" "broken.lua:4: attempt to perform arithmetic on a nil value"
cat > "$TMP/j/loop.lua" <<'LUA'
return journey { trigger = "Go", steps = function(ctx) while true do wait "1m" log("tick") end end }
LUA
out=$("$DRIP" preview loop --journeys "$TMP/j"); code=$?
expect_contains "a journey that loops for ever: the preview stops" "$out" "0 messages; the preview stops after 2000 records"
cat > "$TMP/j/daily.lua" <<'LUA'
return journey { trigger = { schedule = "daily 10:00" }, steps = function(ctx) email { subject = "Today", text = "…" } end }
LUA
printf 'return { everyone = function() return true end }\n' > "$TMP/j/segments.lua"
out=$("$DRIP" preview daily --journeys "$TMP/j" --traits '{"timezone":"Asia/Tehran"}')
expect_contains "a broadcast enters at its next time in the contact's zone (10:00 in Tehran)" "$out" \
  "daily for a contact with the traits given, entering on schedule at $(date -u +%Y-%m-%d -d "$( [ $((10#$(date -u +%H%M))) -lt 630 ] && echo today || echo tomorrow)")T06:30:00Z"
expect_contains "... and one instance only, though it is daily" "$out" "1 message; the instance ends at +0 (completed)"
cat > "$TMP/j/gone.lua" <<'LUA'
return journey { trigger = { schedule = "2020-01-01 10:00" }, steps = function(ctx) email { subject = "Old", text = "…" } end }
LUA
expect_contains "a one-off broadcast whose time has passed: shown as if now, and said so" \
  "$("$DRIP" preview gone --journeys "$TMP/j" 2>/dev/null | head -1)" "(its one-off schedule has passed: shown as if now)"
out=$("$DRIP" preview back --journeys "$TMP/j"); code=$?
expect_eq "an inactivity journey starts at once" 0 "$code"
expect_contains "..." "$out" "back for a contact with no traits, entering on inactive"
expect_contains "... and runs its steps" "$out" "  +3d               push to preview-device-token"

# --- a stored contact: their traits, variant, latest trigger event, own rules --------------
"$DRIP" simulate --journeys scripts --events examples/events.jsonl --db "$TMP/month.db" > /dev/null
out=$("$DRIP" preview abandoned_cart --contact c006 --db "$TMP/month.db"); code=$?
expect_eq "a stored contact's preview" 0 "$code"
expect_contains "... enters on their latest cart" "$out" 'entering on Cart Updated {"cart_url":"https://shop.test/cart/c006","value":12.5} (its latest, 2026-11-27T10:05:33Z)'
expect_contains "... with their name and address" "$out" "email to c006@example.com"
expect_contains "..." "$out" "You left something behind, Сергей"
out=$("$DRIP" preview winback --contact c152 --db "$TMP/month.db")
expect_contains "a stored contact's segments see their stored traits and events: the VIP's second email" "$out" \
  "  +7d               email to c152@example.com"
expect_contains "... one instance only: no later entry of the journey" "$out" "2 messages; the instance ends at +7d (completed)"
cat > "$TMP/j/repeat.lua" <<'LUA'
return journey { trigger = "Go", steps = function(ctx)
  if happened("Order Completed", "90d") then log("ordered before") else log("never ordered") end
end }
LUA
out=$("$DRIP" preview repeat --journeys "$TMP/j" --contact c006 --db "$TMP/month.db" 2>&1)
expect_contains "happened() sees the stored contact's events of the 90 days before" "$out" "log: ordered before"
out=$("$DRIP" preview winback --contact c052 --db "$TMP/month.db")
expect_contains "... and another's log line" "$out" "  +7d               log: not a vip: no second email"
out=$("$DRIP" preview welcome --contact c006 --traits '{"language":"ru","first_name":"Серёжа"}' --db "$TMP/month.db")
expect_contains "--traits over a stored contact's: their address, the name given" "$out" "email to c006@example.com"
expect_contains "..." "$out" "text     Здравствуйте, Серёжа!"
out=$("$DRIP" preview abandoned_cart --contact c001 --db "$TMP/month.db")
expect_contains "a message the contact's own consent would stop is marked" "$out" "sms to +7040400400 — c001 itself would not get it: no_consent"
w_sim=$("$DRIP" simulate --journeys scripts --events examples/events.jsonl --format jsonl \
  | python3 -c 'import sys,json; print(*[r["variant"] for r in map(json.loads, sys.stdin) if r["kind"]=="variant" and r["contact"]=="c003" and r["journey"]=="welcome"])')
out=$("$DRIP" preview welcome --contact c003@example.com --db "$TMP/month.db" 2>&1)
expect_contains "a contact found by email; their split variant is the one the month gave them" "$out" "split welcome_subject: $w_sim"
before=$(sqlite3 "$TMP/month.db" "select count(*) from instances; select count(*) from outbox")
out=$("$DRIP" preview welcome --contact nobody --db "$TMP/month.db" 2>&1); code=$?
expect_eq "an unknown contact: exit 1, named" "1 drip preview: no contact 'nobody'" "$code $out"
expect_eq "nothing is written to the store" "$before" "$(sqlite3 "$TMP/month.db" "select count(*) from instances; select count(*) from outbox")"

# --- --to: sent now through the configured providers -------------------------------------
start_sinks
cat > "$TMP/drip.conf.lua" <<CONF
public_url = "http://drip.test"
secret = "the-real-secret"
channels = {
  email = { smtp = "smtp://127.0.0.1:$SMTP_PORT", from = "Shop <hi@shop.test>", insecure = true },
  sms = { url = "$H/ok/sms", account = "AC1", token = "t", from = "+15550001111" },
  webhook = { url = "$H/ok/hook", secret = "hook-secret" },
}
CONF
out=$("$DRIP" preview abandoned_cart --contact c006 --db "$TMP/month.db" --config "$TMP/drip.conf.lua" --to me@shop.test); code=$?
expect_eq "--to an email address sends the journey's emails" 0 "$code"
expect_contains "... saying what the provider answered" "$out" "email to me@shop.test “You left something behind, Сергей”: sent (SMTP 250)"
expect_contains "... and what it left" "$out" "sent 1 of 1 email message to me@shop.test (1 on other channels not sent)"
expect_eq "the inbox has it, marked as a preview" "[preview] You left something behind, Сергей" "$(q 'mail("me@shop.test")["subject"]')"
expect_eq "... only that one" 1 "$(q 'len(mails())')"
expect_contains "... with the contact's cart" "$(q 'mail("me@shop.test")["text"]')" "https://shop.test/cart/c006"
unsub=$(q 'mail("me@shop.test")["headers"].get("List-Unsubscribe", "")')
expect_contains "... and an unsubscribe link" "$unsub" "<http://drip.test/u/"
token=$(printf '%s' "$unsub" | sed 's|.*/u/\([^>]*\)>.*|\1|')
start_drip run --config "$TMP/drip.conf.lua" --journeys scripts --db "$TMP/live.db" --dry-run
req POST /v1/identify '{"userId":"c006","traits":{"email":"c006@example.com","consent":{"email":true}}}' > /dev/null
expect_contains "... that the real server refuses: a click must not unsubscribe c006" "$(req GET "/u/$token")" "400 "
expect_eq "... who stays subscribed" "" "$(req GET /v1/contacts/c006 | grep -o '"unsubscribed[^,]*')"

# the same preview over HTTP, from the store drip run serves
req POST /v1/track '{"userId":"c006","event":"Cart Updated","properties":{"cart_url":"https://shop.test/c/live"}}' > /dev/null
doc=$(req GET '/v1/journeys/abandoned_cart/preview?contact=c006')
expect_eq "GET /v1/journeys/NAME/preview: the messages, with when, the stored cart, and what the contact's rules say" \
  "200 3600 email c006@example.com Your cart is waiting: https://shop.test/c/live | 90000 sms no_address | completed" \
  "$(printf '%s' "${doc#* }" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [r for r in d["records"] if r["kind"] == "send"]
e = [r for r in d["records"] if r["kind"] == "exit"][0]
print(s[0]["after"], s[0]["channel"], s[0]["to"], s[0]["message"]["text"], "|", s[1]["after"], s[1]["channel"], s[1]["would_stop"], "|", e["reason"])' | sed "s/^/${doc%% *} /")"
doc=$(req GET '/v1/journeys/abandoned_cart/preview?then=Order%20Completed%20%2B2h%3BSession%20Started%20%2B1m')
expect_eq "... ?then= the later events (several split by ;), in time order, and the path they make" \
  "event:Session Started@60 event:Order Completed@7200 exit:goal@7200" \
  "$(printf '%s' "${doc#* }" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(*["%s:%s@%d" % (r["kind"], r.get("event") or r.get("reason"), r["after"]) for r in d["records"] if r["kind"] in ("event", "exit")])')"
doc=$(req GET '/v1/journeys/welcome/preview?traits=%7B%22language%22%3A%22ru%22%2C%22first_name%22%3A%22%D0%90%D0%BD%D0%BD%D0%B0%22%7D')
expect_contains "... ?traits= makes the contact (here in Russian)" "$doc" "Здравствуйте, Анна!"
expect_contains "... and says which traits stood in" "$doc" '"stand_ins":["email","phone","push_token","telegram_chat_id"]'
expect_eq "... an unknown journey: 404" 404 "$(req GET /v1/journeys/nope/preview | cut -c1-3)"
expect_eq "... an unknown contact: 404" 404 "$(req GET '/v1/journeys/welcome/preview?contact=nobody' | cut -c1-3)"
expect_contains "... traits that are not an object: 400 naming the field" "$(req GET '/v1/journeys/welcome/preview?traits=%5B%5D')" \
  '400 {"error":"traits: not a JSON object'
expect_eq "... and nothing of it is stored" "1" "$(sqlite3 "$TMP/live.db" "select count(*) from instances where journey = 'abandoned_cart'")"
stop_drip
out=$("$DRIP" preview abandoned_cart --contact c006 --db "$TMP/month.db" --config "$TMP/drip.conf.lua" --to "+49 151 1234567"); code=$?
expect_eq "--to a phone number sends the SMS" 0 "$code"
expect_eq "... to that number, marked" "+491511234567 [preview] Still thinking? https://shop.test/cart/c006" \
  "$(q '(lambda b: b["To"][0] + " " + b["Body"][0])(__import__("urllib.parse").parse.parse_qs(http("/sms")[-1]["body"]))')"
out=$("$DRIP" preview abandoned_cart --config "$TMP/drip.conf.lua" --to block550@shop.test); code=$?
expect_eq "a refusal: exit 1" 1 "$code"
expect_contains "... with the provider's words" "$out" "not sent: SMTP 550 5.7.1 Service unavailable"
out=$("$DRIP" preview abandoned_cart --config "$TMP/drip.conf.lua" --format json --to a@x.test 2>&1); code=$?
expect_eq "--format json with --to: bad usage, nothing sent" \
  "2 drip preview: --format json shows the messages; it does not send them (leave out --to) 0" \
  "$code $(printf '%s' "$out" | head -1) $(q 'len([m for m in mails() if "a@x.test" in m["to"]])')"
out=$("$DRIP" preview abandoned_cart --config "$TMP/drip.conf.lua" --to 12345 2>&1); code=$?
expect_eq "an address of no known form: bad usage" 2 "$code"
expect_contains "... asking for its channel" "$out" "name its channel with --channel (push, telegram)"
out=$("$DRIP" preview abandoned_cart --config "$TMP/drip.conf.lua" --to 12345 --channel telegram 2>&1); code=$?
expect_eq "a channel not configured: bad usage" 2 "$code"
expect_contains "... naming it" "$out" "channels.telegram is not in the configuration"
finish
