#!/usr/bin/env bash
# End-to-end tests of tracked clicks and opens (config `tracking`): emails
# delivered to a real loopback SMTP server (tests/sinks), their links and
# open image followed against the running drip run.
DRIP=$(realpath "${1:?usage: tracking.sh path/to/drip}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/server.sh"
. "$HERE/sinks.sh"

start_sinks
mkdir -p "$TMP/j"
cat > "$TMP/j/promo.lua" <<'LUA'
return journey {
  name = "promo", trigger = "Go",
  steps = function(ctx)
    email { subject = "New in", text = "See https://shop.test/new",
            html = '<html><body><p><a href="https://shop.test/p?a=1&b=2">Shop</a> '
              .. '<a href="mailto:hi@shop.test">Write</a> <a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>' }
    if wait_for("Email Link Clicked", "1d") then webhook { n = "clicked" } end
  end,
}
LUA
tracking_conf "$TMP/drip.conf.lua"
DB="$TMP/live.db"
start_drip run --config "$TMP/drip.conf.lua" --journeys "$TMP/j" --db "$DB"
req POST /v1/identify '{"userId":"u1","traits":{"email":"u1@example.com","consent":{"email":true}}}' > /dev/null
req POST /v1/track '{"userId":"u1","event":"Go"}' > /dev/null
for _ in $(seq 100); do [ "$(q 'len(mails())')" = 1 ] && break; sleep 0.05; done
html=$(q 'mail("u1@example.com")["html"]')
tracked_links u1@example.com
click=$CLICK open=$OPEN
expect_contains "the email's link goes through drip" "$click" "/c/"
expect_contains "... and it has an open image" "$open" "/o/"
expect_contains "the unsubscribe link stays as it was" "$html" 'href="http://drip.test/u/'
expect_contains "... and so does a mailto: link" "$html" 'href="mailto:hi@shop.test"'
expect_eq "the text part is left as written" "See https://shop.test/new" "$(q 'mail("u1@example.com")["text"].strip()')"

SCANNER=(-A "Mozilla/5.0 (compatible; Mimecast link scanner)")
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${SCANNER[@]}" "$URL$click")
expect_eq "a link scanner's GET /c/TOKEN: on to the link, as anyone's" "302 https://shop.test/p?a=1&b=2" "$out"
expect_eq "... and HEAD /o/TOKEN: the image's headers" "200 image/gif" \
  "$(curl -s -I -o /dev/null -w '%{http_code} %{content_type}' "${BROWSER[@]}" "$URL$open")"
expect_eq "... curl's GET (a program) too" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$open")"
sleep 0.3
expect_eq "... but a journey waiting for a click hears nothing of them" 0 "$(q 'len(http("/ok/hook"))')"
expect_eq "... they are no opens or clicks in drip stats" 0 "$("$DRIP" stats promo --db "$DB" | grep -c 'opened\|clicked')"
story=$("$DRIP" explain u1 --db "$DB")
expect_contains "... and explain tells of each, with what gave it away" "$story" \
  "a program followed a link 20"
expect_contains "..." "$story" "(Mozilla/5.0 (compatible; Mimecast link scanner); not counted as a click)"
expect_contains "..." "$story" "(a HEAD request; not counted as an open)"
expect_contains "..." "$story" "(curl/"
expect_eq "... as drip records does (delivery state scanned)" 3 "$("$DRIP" records --db "$DB" | grep -c '"status":"scanned"')"
out=$(curl -s -o "$TMP/pixel" -w '%{http_code} %{content_type} %{size_download}' "${BROWSER[@]}" "$URL$open")
expect_eq "GET /o/TOKEN: the image" "200 image/gif 43" "$out"
expect_eq "... a GIF" "GIF89a" "$(head -c 6 "$TMP/pixel")"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${BROWSER[@]}" "$URL$click")
expect_eq "GET /c/TOKEN: on to the link as written" "302 https://shop.test/p?a=1&b=2" "$out"
for _ in $(seq 100); do [ "$(q 'len(http("/ok/hook"))')" = 1 ] && break; sleep 0.05; done
expect_eq "a journey waiting for the click goes on" 1 "$(q 'len(http("/ok/hook"))')"
curl -s -o /dev/null "${BROWSER[@]}" "$URL$click"
curl -s -o /dev/null "${BROWSER[@]}" "$URL$open"
expect_contains "drip stats: opens and clicks of the emails sent, each message once" \
  "$("$DRIP" stats promo --db "$DB")" "email    sent 1, opened 1 (100.0%), clicked 1 (100.0%)"
expect_contains "... and per message" "$("$DRIP" stats promo --db "$DB")" \
  "    email    “New in”  1, opened 1 (100.0%), clicked 1 (100.0%)"
story=$("$DRIP" explain u1 --db "$DB")
expect_contains "explain: the clicks are the contact's events" "$story" "Email Link Clicked"
expect_contains "..." "$story" "Email Opened"
expect_contains "... and the message says when it was first opened and clicked" "$story" "sent (SMTP 250), opened 20"
expect_contains "..." "$("$DRIP" inspect u1 --db "$DB")" '"clicked_at":"20'
tok=${click#/c/}
[ "${tok:0:1}" = Y ] && other=Z || other=Y
expect_contains "a link whose token was changed: 400" "$(req GET "/c/$other${tok:1}")" "400 "
expect_contains "... and one of another kind" "$(req GET "/c/${open#/o/}")" "400 "
stop_drip

# --- SMS links (sms_clicks) ---------------------------------------------------------------
mkdir -p "$TMP/sj"
cat > "$TMP/sj/cart.lua" <<'LUA'
return journey {
  name = "cart", trigger = "Cart Updated",
  steps = function(ctx)
    sms { text = "سبد خرید شما منتظر است: {{event.properties.cart_url}}. Ещё: https://shop.test/help" }
    if wait_for("SMS Link Clicked", "1d") then webhook { n = "sms clicked" } end
  end,
}
LUA
cat > "$TMP/sms.conf.lua" <<CONF
public_url = "http://drip.test"
tracking = { sms_clicks = true }
channels = {
  sms = { url = "$H/ok/sms", account = "AC1", token = "sms-token", from = "+15550001111" },
  webhook = { url = "$H/ok/after-sms", secret = "hook-secret" },
}
CONF
DB="$TMP/sms.db"
start_drip run --config "$TMP/sms.conf.lua" --journeys "$TMP/sj" --db "$DB"
req POST /v1/identify '{"userId":"s1","traits":{"phone":"+15550002222","consent":{"sms":true}}}' > /dev/null
CART_URL="https://shop.test/cart?u=s1&utm_source=drip&utm_medium=sms&utm_campaign=cart_reminder_autumn"
req POST /v1/track "{\"userId\":\"s1\",\"event\":\"Cart Updated\",\"properties\":{\"cart_url\":\"$CART_URL\"}}" > /dev/null
for _ in $(seq 100); do [ "$(q 'len(http("/ok/sms"))')" = 1 ] && break; sleep 0.05; done
body=$(q 'form("/ok/sms")[0]["Body"]')
short=$(printf '%s' "$body" | grep -o 'http://drip.test/s/[0-9A-Za-z_-]*' | sed 's/^http:\/\/drip.test//')
expect_eq "an SMS's links go out short, through drip, the punctuation after them kept" \
  "سبد خرید شما منتظر است: http://drip.test$(echo "$short" | sed -n 1p). Ещё: http://drip.test$(echo "$short" | sed -n 2p)" \
  "$body"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -A "WhatsApp/2.23.20.0" "$URL$(echo "$short" | sed -n 1p)")
expect_eq "a messaging app's link preview of GET /s/CODE: on to the link" "302 $CART_URL" "$out"
sleep 0.3
expect_eq "... waking no journey" 0 "$(q 'len(http("/ok/after-sms"))')"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${BROWSER[@]}" "$URL$(echo "$short" | sed -n 1p)")
expect_eq "GET /s/CODE: on to the link as the message has it" "302 $CART_URL" "$out"
# (UCS-2: one segment holds 70 characters, each of a longer text's 67)
segments=$(python3 -c 'import sys, math; n = len(sys.argv[1]); print(1 if n <= 70 else math.ceil(n / 67))' "$body")
expect_eq "the SMS's segments are counted as it went out, short links and all (3 with its long link)" \
  "2 $segments" "$("$DRIP" records --db "$DB" | python3 -c '
import json, sys
print(*[r["segments"] for r in map(json.loads, sys.stdin) if r["kind"] == "send" and r["channel"] == "sms"])') $segments"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${BROWSER[@]}" "$URL$(echo "$short" | sed -n 2p)")
expect_eq "... each link its own" "302 https://shop.test/help" "$out"
for _ in $(seq 100); do [ "$(q 'len(http("/ok/after-sms"))')" = 1 ] && break; sleep 0.05; done
expect_eq "a journey waiting for SMS Link Clicked goes on" 1 "$(q 'len(http("/ok/after-sms"))')"
expect_contains "drip stats: the SMS clicked, and no opens" "$("$DRIP" stats cart --db "$DB")" \
  "sms      sent 1, clicked 1 (100.0%)"
expect_contains "drip records: the click, of the SMS, with the link" "$("$DRIP" records --db "$DB")" \
  '"kind":"clicked","channel":"sms","label":"'
first=$(echo "$short" | sed -n 1p)
code=${first#/s/}
[ "${code: -1}" = A ] && other=B || other=A
expect_contains "a short code changed: 400" "$(req GET "/s/${code%?}$other")" "400 "
stop_drip
printf 'tracking = { clicks = "yes" }\n' > "$TMP/bad.conf.lua"
out=$("$DRIP" run --config "$TMP/bad.conf.lua" --journeys "$TMP/j" --db "$TMP/bad.db" 2>&1); code=$?
expect_eq "a tracking setting that is not one: bad usage, naming the key" \
  "2 drip run: $TMP/bad.conf.lua:1: tracking.clicks: true or false, not yes" "$code $out"
printf 'tracking = { opens = true }\n' > "$TMP/nourl.conf.lua"
out=$("$DRIP" run --config "$TMP/nourl.conf.lua" --journeys "$TMP/j" --db "$TMP/bad.db" 2>&1); code=$?
expect_eq "tracking with no public_url: bad usage, as links to 127.0.0.1 would work in no inbox" \
  "2 drip run: $TMP/nourl.conf.lua:1: tracking needs public_url: the address at which people's clicks reach this drip run" \
  "$code $out"
finish
