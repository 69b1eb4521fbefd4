#!/usr/bin/env bash
# End-to-end tests of delivery: `drip run` sends to real loopback servers
# (tests/sinks/sinks.py: SMTP with STARTTLS, HTTP stubs that fail on purpose),
# and we assert on what those servers received.
DRIP=$(realpath "${1:?usage: deliver.sh path/to/drip}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/server.sh"
. "$HERE/sinks.sh"

# --- the sinks -----------------------------------------------------------------
start_sinks

# Quiet hours are 21:00-08:00. The default zone is one where it is now
# midday; a "night" contact lives where it is now 02:00-05:59.
hour=$(date -u +%H); hour=${hour#0}
zone_at() { # local hour range lo hi -> an Etc/GMT zone whose local hour is in it now
  local off h
  for off in $(seq -12 12); do
    h=$(( (hour + off + 24) % 24 ))
    if [ "$h" -ge "$1" ] && [ "$h" -le "$2" ]; then
      if [ "$off" -ge 0 ]; then echo "Etc/GMT-$off"; else echo "Etc/GMT+$((-off))"; fi
      return
    fi
  done
}
DAY_ZONE=$(zone_at 11 14); NIGHT_ZONE=$(zone_at 2 5)

J="$TMP/journeys"; mkdir -p "$J"
cat > "$J/hello.lua" <<'EOF'
return journey { name = "hello", trigger = "Hello", steps = function(ctx)
  email { subject = "Привет, {{contact.first_name}}!", text = "Hi {{contact.first_name}}. Leave: {{unsubscribe_url}}",
          html = "<p>سلام {{contact.first_name}}، خوش آمدید</p>" }
  sms { text = "{{event.properties.sms}}" }
  push { title = "Hi", body = "Your cart misses you", data = { cart = "c1" } }
  telegram { text = "Привет из drip" }
  telegram { text = "a second one today" }
  webhook { event = "hello", n = 1 }
end }
EOF
cat > "$J/paths.lua" <<'EOF'
return journey { name = "paths", trigger = "Path", reentry = true, steps = function(ctx)
  webhook { to = ctx.event.properties.url, event = "path" }
end }
EOF
cat > "$J/fallback.lua" <<'EOF'
return journey { name = "fallback", trigger = "Fallback", steps = function(ctx)
  send { channels = { "push", "sms", "email" }, title = "fb", text = "fallback text", subject = "fb" }
end }
EOF
cat > "$J/receipt.lua" <<'EOF'
return journey { name = "receipt", trigger = "Order Completed", steps = function(ctx)
  email { kind = "transactional", subject = "Receipt", text = "Thanks" }
end }
EOF
cat > "$J/news.lua" <<'EOF'
return journey { name = "news", trigger = "News", exit_on = { "Unsubscribed" }, steps = function(ctx)
  email { subject = "News", text = "Read: {{unsubscribe_url}}" }
  wait "1h"
  email { subject = "More news", text = "..." }
end }
EOF
cat > "$J/again.lua" <<'EOF'
return journey { name = "again", trigger = "Again", steps = function(ctx)
  email { subject = "Again", text = "..." }
end }
EOF
cat > "$TMP/drip.conf.lua" <<EOF
timezone = "$DAY_ZONE"
quiet_hours = { from = "21:00", to = "08:00" }
frequency_cap = { telegram = "1/1d" }
secret = "unsub-secret"
public_url = "http://drip.test"
channels = {
  email = { smtp = "smtp://127.0.0.1:$SMTP_PORT", from = "Шоп <hi@shop.test>", insecure = true, backoff = "1s" },
  sms = { url = "$H/ok/sms", account = "AC1", token = "sms-token", from = "+15550001111" },
  push = { url = "$H/ok/push", token = env "PUSH_TOKEN" },
  telegram = { url = "$H/ok/tg", bot_token = "123:abc" },
  webhook = { url = "$H/ok/hook", secret = "hook-secret", timeout = "2s", backoff = "1s" },
}
EOF
printf 'channels = { sms = { url = "http://x", from = "+1", colour = "red" } }\n' > "$TMP/bad.conf.lua"
BAD=$("$DRIP" run --config "$TMP/bad.conf.lua" --journeys "$J" --db "$TMP/bad.db" 2>&1); rc=$?
expect_eq "a bad channel setting: exit 2" 2 "$rc"
expect_contains "... naming the file, the line and the key" "$BAD" "$TMP/bad.conf.lua:1: channels.sms.colour: unknown key"
printf 'frequency_cap = { email = "often" }\n' > "$TMP/bad.conf.lua"
BAD=$("$DRIP" run --config "$TMP/bad.conf.lua" --journeys "$J" --db "$TMP/bad.db" 2>&1); rc=$?
expect_eq "a bad cap: exit 2 naming it" "2 $TMP/bad.conf.lua:1: frequency_cap.email" "$rc $(printf '%s' "$BAD" | grep -o '[^ ]*:1: frequency_cap.email')"
cd "$TMP"
DB="$TMP/deliver.db"
export PUSH_TOKEN=push-secret
start_drip run --journeys "$J" --db "$DB"
expect_eq "drip says which channels it delivers to" 1 \
  "$(grep -c 'msg=delivering channels=email,push,sms,telegram,webhook' "$LOG")"

post() { curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL$1" --data-binary "$2"; }
ident() { post /v1/identify "{\"userId\":\"$1\",\"traits\":$2}"; }
track() { post /v1/track "{\"userId\":\"$1\",\"event\":\"$2\",\"properties\":${3:-{\}}}"; }
SMS_FA="سلام! سبد خرید شما هنوز منتظر است. برای تکمیل خرید همین حالا برگردید و از تخفیف ویژه استفاده کنید."
ident ann '{"first_name":"Анна","email":"ann@x.test","phone":"+15550002222","push_token":"pt-ann","telegram_chat_id":"4242","consent":{"email":true,"sms":true,"push":true,"telegram":true}}' >/dev/null
ident bob '{"email":"bob@x.test","consent.sms":true}' >/dev/null
ident fb '{"phone":"+15550003333","email":"fb@x.test","consent":{"sms":true,"email":true,"push":true}}' >/dev/null
ident night "{\"email\":\"night@x.test\",\"timezone\":\"$NIGHT_ZONE\",\"consent\":{\"email\":true}}" >/dev/null
ident tx '{"email":"tx@x.test"}' >/dev/null
ident bad '{"email":"fail550@x.test","consent":{"email":true}}' >/dev/null
ident later '{"email":"fail451@x.test","consent":{"email":true}}' >/dev/null
ident blocked '{"email":"block550@x.test","consent":{"email":true}}' >/dev/null
ident ops '{}' >/dev/null
for mode in 500 429 slow drop 400; do track ops Path "{\"url\":\"$H/$mode/hook\"}" >/dev/null; done
expect_eq "events in" 200 "$(track ann Hello "{\"sms\":\"$SMS_FA\"}")"
track bob Hello '{"sms":"hi"}' >/dev/null
track fb Fallback >/dev/null
track night News >/dev/null
track tx "Order Completed" >/dev/null
track bad Again >/dev/null
track later Again >/dev/null
track blocked Again >/dev/null

# wait until nothing is due or in flight any more (retries take a few seconds)
settled() { sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE status IN ('queued','sending') OR (status = 'deferred' AND reason = 'retry')"; }
for _ in $(seq 200); do [ "$(settled)" = 0 ] && break; sleep 0.1; done
expect_eq "every message reached a final state" 0 "$(settled)"
status_of() { sqlite3 "$DB" "SELECT o.status || ' ' || coalesce(o.reason, '-') FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = '$1' AND o.channel = '$2' ORDER BY o.id LIMIT 1 OFFSET ${3:-0}"; }

# --- email over SMTP ---------------------------------------------------------------
expect_eq "email: ann's arrived over STARTTLS" True "$(q 'mail("ann@x.test")["tls"]')"
expect_eq "email: UTF-8 subject (RFC 2047) decodes" "Привет, Анна!" "$(q 'mail("ann@x.test")["subject"]')"
expect_contains "email: the raw subject is an encoded word" "$(q 'mail("ann@x.test")["headers"]["Subject"] and [l for l in mail("ann@x.test")["raw"].splitlines() if l.startswith("Subject:")][0]')" "=?UTF-8?B?"
expect_contains "email: From keeps the Cyrillic display name" "$(q 'mail("ann@x.test")["headers"]["From"]')" "Шоп <hi@shop.test>"
expect_eq "email: Message-ID from the idempotency key" "1" \
  "$(q 'int(mail("ann@x.test")["headers"]["Message-ID"].startswith("<drip-"))')"
expect_eq "email: multipart/alternative" "multipart/alternative" "$(q 'mail("ann@x.test")["headers"]["Content-Type"].split(";")[0]')"
expect_contains "email: text part, unsubscribe link rendered" "$(q 'mail("ann@x.test")["text"]')" "Leave: http://drip.test/u/"
expect_contains "email: Persian HTML gets dir=rtl" "$(q 'mail("ann@x.test")["html"]')" '<div dir="rtl"><p>سلام Анна، خوش آمدید</p></div>'
expect_contains "email: List-Unsubscribe on marketing mail" "$(q 'mail("ann@x.test")["headers"]["List-Unsubscribe"]')" "<http://drip.test/u/"
expect_eq "email: List-Unsubscribe-Post one-click" "List-Unsubscribe=One-Click" "$(q 'mail("ann@x.test")["headers"]["List-Unsubscribe-Post"]')"
expect_eq "email: transactional mail goes without consent" "sent -" "$(status_of tx email)"
expect_eq "email: ... and without List-Unsubscribe" None "$(q 'mail("tx@x.test")["headers"].get("List-Unsubscribe")')"
expect_eq "email: SMTP 550 is a permanent failure, in the server's words" "failed rejected: SMTP 550 5.1.1 no such user" \
  "$(status_of bad email)"
expect_eq "email: a refusal of the sender (5.7.1, blocklisted) fails the message" \
  "failed rejected: SMTP 550 5.7.1 Service unavailable; client host blocked using a blocklist" "$(status_of blocked email)"
expect_eq "email: ... but does not mark the address bounced" "" \
  "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.\"bounced.email\"') FROM contacts WHERE id = 'blocked'")"
expect_eq "email: a mailbox refused at RCPT (550) is marked bounced on the contact" "fail550@x.test" \
  "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.\"bounced.email\"') FROM contacts WHERE id = 'bad'")"
track bad Again > /dev/null
expect_eq "email: ... and the next message to it is suppressed as bounced, not tried" "suppressed bounced" \
  "$(sqlite3 "$DB" "SELECT status || ' ' || reason FROM outbox WHERE contact = 'bad' ORDER BY id DESC LIMIT 1")"
ident bad '{"email":"fixed@x.test"}' > /dev/null
track bad Again > /dev/null
expect_eq "email: a new address is tried again" "fixed@x.test" \
  "$(sqlite3 "$DB" "SELECT address FROM outbox WHERE contact = 'bad' AND status != 'suppressed' ORDER BY id DESC LIMIT 1")"
expect_eq "email: SMTP 451 is retried, then sent" "sent -" "$(status_of later email)"
expect_eq "email: ... after two attempts" 2 "$(sqlite3 "$DB" "SELECT attempts FROM outbox WHERE address = 'fail451@x.test'")"

# --- SMS, push, Telegram, webhook -------------------------------------------------------
ANN_SMS='[r for r in http("/ok/sms") if "15550002222" in r["body"]]'
expect_eq "sms: one request for ann" 1 "$(q "len($ANN_SMS)")"
expect_eq "sms: form body, Persian text intact" "$SMS_FA" \
  "$(q "__import__('urllib.parse').parse.parse_qs($ANN_SMS[0]['body'])['Body'][0]")"
expect_eq "sms: basic auth with account and token" "Basic $(printf 'AC1:sms-token' | base64)" "$(q 'http("/ok/sms")[0]["headers"]["authorization"]')"
expect_eq "sms: segment count recorded (UCS-2, 2 segments)" '2 UCS-2' \
  "$(sqlite3 "$DB" "SELECT json_extract(detail, '$.segments') || ' ' || json_extract(detail, '$.encoding') FROM outbox WHERE channel = 'sms' AND address = '+15550002222'")"
expect_eq "push: FCM v1 shape" '{"message": {"data": {"cart": "c1"}, "notification": {"body": "Your cart misses you", "title": "Hi"}, "token": "pt-ann"}}' \
  "$(q 'json.loads(http("/ok/push")[0]["body"])')"
expect_eq "push: bearer token from the environment" "Bearer push-secret" "$(q 'http("/ok/push")[0]["headers"]["authorization"]')"
expect_eq "telegram: sendMessage with the bot token in the path" "/ok/tg/bot123:abc/sendMessage" "$(q 'http("/ok/tg")[0]["path"]')"
expect_eq "telegram: chat_id from the trait, text intact" '{"chat_id": "4242", "text": "Привет из drip"}' "$(q 'json.loads(http("/ok/tg")[0]["body"])')"
expect_eq "telegram: the second one today hits the frequency cap" "suppressed frequency_cap" "$(status_of ann telegram 1)"
expect_eq "webhook: signature verifies" True "$(q 'http("/ok/hook")[0]["signature_ok"]')"
expect_eq "webhook: timestamp header" 1 "$(q 'int(http("/ok/hook")[0]["headers"]["x-drip-timestamp"].isdigit())')"
expect_eq "every HTTP request carries an Idempotency-Key" 0 "$(q 'len([r for r in http("/") if not r["headers"].get("idempotency-key", "").startswith("drip-")])')"

# --- suppression, deferral, fallback ---------------------------------------------------------
expect_eq "no consent: suppressed" "suppressed no_consent" "$(status_of bob email)"
expect_eq "no address: suppressed" "suppressed no_address" "$(status_of bob push)"
expect_eq "nothing was sent to bob by email" None "$(q 'mail("bob@x.test")')"
expect_eq "quiet hours: the night contact's email is deferred" "deferred quiet_hours" "$(status_of night email)"
expect_eq "quiet hours: ... not sent yet" None "$(q 'mail("night@x.test")')"
expect_eq "quiet hours: ... due at 08:00 local" "08:00" \
  "$(TZ=$NIGHT_ZONE date -d "@$(sqlite3 "$DB" "SELECT due FROM outbox WHERE address = 'night@x.test'")" +%H:%M)"
expect_eq "fallback: no push token, so SMS" "sms" "$(sqlite3 "$DB" "SELECT channel FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = 'fb'")"
expect_eq "fallback: ... which arrived" 1 "$(q 'len([r for r in http("/ok/sms") if "fallback" in r["body"]])')"

# --- retries -------------------------------------------------------------------------
for mode in 500 429 slow drop; do
  expect_eq "retry: $mode once, then again with the same Idempotency-Key, then sent" "2 1 sent" \
    "$(q "str(len(http('/$mode/hook'))) + ' ' + str(len(keys('/$mode/hook')))") $(sqlite3 "$DB" "SELECT status FROM outbox WHERE address LIKE '%/$mode/%'")"
done
expect_eq "retry: 429's Retry-After: 1 was honoured" 1 \
  "$(q 'int(http("/429/hook")[1]["at"] - http("/429/hook")[0]["at"] >= 0.9)')"
FIRST_MAIL='[r for r in recs if r["kind"] == "smtp" and "ann@x.test" in r["to"]][0]["at"]'
expect_eq "a slow provider holds up only its own channel: ann's email and SMS, queued after the slow webhook, arrived before it timed out" "True True" \
  "$(q "$FIRST_MAIL < http('/slow/hook')[0]['at'] + 2") $(q "$ANN_SMS[0]['at'] < http('/slow/hook')[0]['at'] + 2")"
expect_eq "retry: the slow answer timed out (2s) and went again" 1 \
  "$(sqlite3 "$DB" "SELECT count(*) FROM deliveries d JOIN outbox o ON o.id = d.message WHERE o.address LIKE '%/slow/%' AND d.detail LIKE '%timed_out%'")"
expect_eq "permanent: 400 is not retried" "1 failed rejected: HTTP 400" \
  "$(q 'len(http("/400/hook"))') $(sqlite3 "$DB" "SELECT status || ' ' || reason FROM outbox WHERE address LIKE '%/400/%'")"
expect_eq "every change is recorded" "sending deferred sending sent" \
  "$(sqlite3 "$DB" "SELECT group_concat(d.status, ' ') FROM (SELECT d.status FROM deliveries d JOIN outbox o ON o.id = d.message WHERE o.address LIKE '%/500/%' ORDER BY d.id) d")"
METRICS=$(curl -s "$URL/metrics")
# (a dropped connection that curl had reused is retried by curl itself, so 3 or 4)
expect_eq "metrics: retries counted" 1 \
  "$(echo "$METRICS" | awk '/^drip_sends_total\{channel="webhook",status="retry"\}/ { print ($2 >= 3) }')"
expect_contains "metrics: failures counted" "$METRICS" 'drip_sends_total{channel="webhook",status="failed"} 1'

# --- unsubscribe ------------------------------------------------------------------------
track ann News >/dev/null
for _ in $(seq 50); do [ "$(q 'len([m for m in mails() if m["subject"] == "News"])')" = 1 ] && break; sleep 0.1; done
LINK=$(q '[m for m in mails() if m["subject"] == "News"][0]["headers"]["List-Unsubscribe"]' | tr -d '<>')
TOKEN=${LINK##*/u/}
expect_eq "the link points at public_url" "http://drip.test/u/$TOKEN" "$LINK"
PAGE=$(curl -s -w '\n%{http_code}' -A "Mozilla/5.0 (compatible; Barracuda Sentinel link scanner)" "$URL/u/$TOKEN")
expect_contains "GET /u/{token} by a mail server's link scanner: a page that asks" "$PAGE" "<h1>Unsubscribe?</h1>"
expect_contains "... whose button unsubscribes" "$PAGE" "<form method=\"post\" action=\"/u/$TOKEN\"><button type=\"submit\">Unsubscribe</button>"
expect_eq "... and no one unsubscribed by the scan" "" \
  "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.\"unsubscribed.email\"') FROM contacts WHERE id = 'ann'")"
expect_contains "... nor by a HEAD request" "$(curl -s -I "$URL/u/$TOKEN" "${BROWSER[@]}")" "200 OK"
expect_eq "..." "" "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.\"unsubscribed.email\"') FROM contacts WHERE id = 'ann'")"
PAGE=$(curl -s -w '\n%{http_code}' "${BROWSER[@]}" "$URL/u/$TOKEN")
expect_contains "GET /u/{token} in a browser: 200 page" "$PAGE" "You are unsubscribed"
expect_contains "... offering to resubscribe" "$PAGE" "/u/$TOKEN/resubscribe"
expect_eq "... sets the trait" 1 "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.\"unsubscribed.email\"') FROM contacts WHERE id = 'ann'")"
expect_eq "... emits Unsubscribed" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE contact = 'ann' AND name = 'Unsubscribed'")"
expect_eq "... which ends the journey waiting on it (exit_on)" exit_event \
  "$(sqlite3 "$DB" "SELECT exit_reason FROM instances WHERE contact = 'ann' AND journey = 'news'")"
track ann Again >/dev/null
sleep 0.3
expect_eq "an unsubscribed contact's next marketing email is suppressed" "suppressed unsubscribed" \
  "$(sqlite3 "$DB" "SELECT o.status || ' ' || o.reason FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.contact = 'ann' AND i.journey = 'again'")"
expect_eq "POST /u/{token} (RFC 8058 one-click): 200" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/u/$TOKEN" -d 'List-Unsubscribe=One-Click')"
expect_eq "... and no second Unsubscribed event" 1 "$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE contact = 'ann' AND name = 'Unsubscribed'")"
TAMPERED="${TOKEN:0:5}$( [ "${TOKEN:5:1}" = A ] && echo B || echo A )${TOKEN:6}"
expect_eq "a tampered token: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/u/$TAMPERED")"
EXPIRED=$(python3 - <<'PY'
import base64, hashlib, hmac
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
payload = b"v1\nbob\nsms\n1000"
print(b(payload) + "." + b(hmac.new(b"unsub-secret", payload, hashlib.sha256).digest()))
PY
)
expect_eq "an expired token: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/u/$EXPIRED")"
expect_eq "... and they change nothing" "" "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.\"unsubscribed.sms\"') FROM contacts WHERE id = 'bob'")"
expect_eq "resubscribe: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/u/$TOKEN/resubscribe")"
expect_eq "... clears the trait and emits Resubscribed" "0 1" \
  "$(sqlite3 "$DB" "SELECT json_extract(traits, '$.\"unsubscribed.email\"') FROM contacts WHERE id = 'ann'") $(sqlite3 "$DB" "SELECT count(*) FROM events WHERE contact = 'ann' AND name = 'Resubscribed'")"
# the page speaks the reader's language: the browser's, or the contact's own (which wins)
PAGE=$(curl -s "${BROWSER[@]}" -H 'Accept-Language: de-DE,ru;q=0.9,en;q=0.8' "$URL/u/$TOKEN")
expect_contains "the page in Russian for a browser that prefers it" "$PAGE" "<h1>Вы отписались</h1><p>Вы больше не будете получать от нас писем."
expect_contains "... and the resubscribe button too" "$PAGE" ">Подписаться снова</button>"
ident ann '{"language":"fa-IR"}' > /dev/null
PAGE=$(curl -s -H 'Accept-Language: ru' -XPOST "$URL/u/$TOKEN/resubscribe")
expect_contains "a contact's language trait wins: Persian, right to left" "$PAGE" '<html lang="fa" dir="rtl">'
expect_contains "... saying they are subscribed again" "$PAGE" "<h1>اشتراک شما دوباره فعال شد</h1>"
expect_contains "a bad link in the reader's language" "$(curl -s -H 'Accept-Language: ru' "$URL/u/$TAMPERED")" "<h1>Ссылка не работает</h1>"
expect_eq "the unsubscribe link needs no bearer token (it is under /u/)" 0 "$(grep -c 'level=error' "$LOG")"

stop_drip
expect_eq "drip stops cleanly while delivering" 0 "$(wait "$PID" 2>/dev/null; echo $?)"

# --- drip explain shows every decision and every delivery state ---------------------------
EX=$("$DRIP" explain ops --db "$DB")
expect_contains "explain: a retried webhook's states in order" "$EX" "sent (HTTP 200); sending"
expect_contains "explain: ... with the retry between" "$EX" "→ deferred"
expect_contains "explain: a permanent failure and the provider's answer" "$EX" "failed: rejected: HTTP 400 (HTTP 400)"
expect_contains "explain: no consent" "$("$DRIP" explain bob hello --db "$DB")" "email not sent: no_consent"
expect_contains "explain: quiet hours, until when" "$("$DRIP" explain night --db "$DB")" "email deferred (quiet_hours) until"
expect_contains "explain: SMTP refusal" "$("$DRIP" explain bad --db "$DB")" "failed: rejected: SMTP 550"
expect_contains "explain: the unsubscribe and the exit it caused" "$("$DRIP" explain ann news --db "$DB")" "exit: exit_event (Unsubscribed)"
expect_contains "explain: what consent allows per channel" "$("$DRIP" explain bob --db "$DB")" "email no consent, sms no address, push no consent and no address"
expect_contains "explain: a bounced address, until it changed" "$("$DRIP" explain bad --db "$DB")" "consent  email ok,"
sqlite3 "$DB" "UPDATE contacts SET traits = json_set(traits, '$.email', 'fail550@x.test') WHERE id = 'bad'"
expect_contains "explain: ... and bounced again when it is that address" "$("$DRIP" explain bad --db "$DB")" "consent  email bounced,"
expect_contains "explain: a message not sent after the unsubscribe" "$("$DRIP" explain ann again --db "$DB")" "email not sent: unsubscribed"
INS=$("$DRIP" inspect later --db "$DB")
expect_eq "inspect: JSON with each message's delivery states" "2 sending,deferred,sending,sent no_address" \
  "$(printf '%s' "$INS" | python3 -c 'import json,sys; v=json.load(sys.stdin); m=v["instances"][0]["messages"][0]; print(m["attempts"], ",".join(d["status"] for d in m["deliveries"]), v["marketing_allowed"]["sms"])')"
# stats keeps counts as messages move (queued, sending, deferred, sent, failed): they match the outbox
expect_eq "stats: messages per journey, channel and outcome match the outbox after delivery" "same" \
  "$(python3 "$E2E_DIR/stats_match.py" "$DB" "$("$DRIP" stats --db "$DB" --format json)")"
"$DRIP" explain nobody --db "$DB" 2> "$TMP/err"; rc=$?
expect_eq "explain: an unknown contact exits 1 and says so" "1 drip explain: no contact 'nobody'" "$rc $(cat "$TMP/err")"
# a message that waited is checked again at the door: sms is not configured
# in a first run, so the messages wait; one contact takes back consent and
# the other unsubscribes meanwhile; the next run, with sms, sends neither
# of theirs, and the one whose mind did not change gets it
W="$TMP/waited"; mkdir -p "$W"
echo 'return journey { name = "nudge", trigger = "Nudge", steps = function() sms { text = "hi" } end }' > "$W/nudge.lua"
printf 'timezone = "%s"\n' "$DAY_ZONE" > "$TMP/nosms.conf.lua"
printf 'timezone = "%s"\nquiet_hours = { from = "21:00", to = "08:00" }\nchannels = { sms = { url = "%s/ok/sms", account = "AC1", token = "t", from = "+15550001111" } }\n' \
  "$DAY_ZONE" "$H" > "$TMP/sms.conf.lua"
start_drip run --journeys "$W" --db "$TMP/waited.db" --config "$TMP/nosms.conf.lua"
for who in w_keep w_revoke w_unsub w_night; do
  ident "$who" "{\"phone\":\"+1555000$((RANDOM % 9000 + 1000))\",\"consent\":{\"sms\":true}}" > /dev/null
  track "$who" Nudge > /dev/null
done
ident w_night "{\"timezone\":\"$NIGHT_ZONE\"}" > /dev/null
ident w_revoke '{"consent":{"sms":false}}' > /dev/null
ident w_unsub '{"unsubscribed":true}' > /dev/null
stop_drip
sleep 2
start_drip run --journeys "$W" --db "$TMP/waited.db" --config "$TMP/sms.conf.lua"
for _ in $(seq 100); do [ "$(sqlite3 "$TMP/waited.db" "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")" = 0 ] && break; sleep 0.1; done
expect_eq "messages that waited go only to those still willing, and not into their quiet hours" "w_keep|sent|
w_night|deferred|quiet_hours
w_revoke|suppressed|no_consent
w_unsub|suppressed|unsubscribed" \
  "$(sqlite3 "$TMP/waited.db" "SELECT contact, status, reason FROM outbox ORDER BY contact")"
expect_eq "... the night one until 08:00 where it lives" 1 \
  "$(sqlite3 "$TMP/waited.db" "SELECT due > strftime('%s', 'now') + 3600 FROM outbox WHERE contact = 'w_night'")"
expect_contains "... and explain says so" "$("$DRIP" explain w_unsub --db "$TMP/waited.db")" \
  "suppressed: unsubscribed (after it was queued)"
stop_drip
# an SMS provider's own opt-out (the number replied STOP) unsubscribes the contact from SMS, with its event
printf 'timezone = "%s"\nchannels = { sms = { url = "%s/stop/sms", account = "AC1", token = "t", from = "+15550001111" } }\n' \
  "$DAY_ZONE" "$H" > "$TMP/stop.conf.lua"
start_drip run --journeys "$W" --db "$TMP/stop.db" --config "$TMP/stop.conf.lua"
ident w_stop '{"phone":"+15550009999","consent":{"sms":true}}' > /dev/null
track w_stop Nudge > /dev/null
for _ in $(seq 100); do [ "$(sqlite3 "$TMP/stop.db" "SELECT count(*) FROM events WHERE name = 'Unsubscribed'")" = 1 ] && break; sleep 0.1; done
expect_eq "a provider's STOP opt-out: the message failed, the contact unsubscribed from sms, an Unsubscribed event" \
  "failed|1|1" \
  "$(sqlite3 "$TMP/stop.db" "SELECT (SELECT status FROM outbox), (SELECT json_extract(traits, '$.\"unsubscribed.sms\"') FROM contacts WHERE id = 'w_stop'), (SELECT count(*) FROM events WHERE name = 'Unsubscribed')")"
stop_drip

# a marketer knows people by email or phone, not by userId
"$DRIP" explain ANN@x.test --db "$DB" > "$TMP/out" 2> "$TMP/err"; rc=$?
expect_eq "explain takes a contact's email, saying whose it is" "0 drip explain: 'ANN@x.test' is the email of contact 'ann'" \
  "$rc $(cat "$TMP/err")"
expect_eq "... and explains that contact" "ann — first seen" "$(head -n 1 "$TMP/out" | cut -d' ' -f1-4)"
expect_contains "inspect takes a phone written with spaces and dashes" \
  "$("$DRIP" inspect '+1 555-000-2222' --db "$DB" 2>&1)" "'+1 555-000-2222' is the phone of contact 'ann'"
printf '%s\n' '{"type":"identify","userId":"fa_phone","traits":{"phone":"۰۰۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷"},"timestamp":"2026-11-01T10:00:00Z"}' \
  > "$TMP/fa_phone.jsonl"
"$DRIP" import "$TMP/fa_phone.jsonl" --db "$DB" > /dev/null
expect_contains "explain finds a phone stored in Persian digits from its plain form" \
  "$("$DRIP" explain '+989121234567' --db "$DB" 2>&1)" "'+989121234567' is the phone of contact 'fa_phone'"
printf '%s\n' '{"type":"identify","userId":"ru_phone","traits":{"phone":"8 (912) 345-67-89"},"timestamp":"2026-11-01T10:00:00Z"}' \
  > "$TMP/ru_phone.jsonl"
"$DRIP" import "$TMP/ru_phone.jsonl" --db "$DB" > /dev/null
printf 'phone_country = "+7"\n' > "$TMP/ru.conf.lua"
expect_contains "... and one written the national way, with phone_country" \
  "$("$DRIP" explain '+7 912 345 67 89' --db "$DB" --config "$TMP/ru.conf.lua" 2>&1)" "is the phone of contact 'ru_phone'"
"$DRIP" explain ANN --db "$DB" 2> "$TMP/err"; rc=$?
expect_eq "an id in other case is only suggested" "1 drip explain: no contact 'ANN'; did you mean 'ann'?" "$rc $(cat "$TMP/err")"
"$DRIP" forget ann@x.test --db "$DB" 2> "$TMP/err"; rc=$?
expect_eq "forget never erases by email: it names the contact to forget" \
  "1 drip forget: $DB: no contact 'ann@x.test'; did you mean 'ann' (its email)?" "$rc $(cat "$TMP/err")"
finish
