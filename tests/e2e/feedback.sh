#!/usr/bin/env bash
# End-to-end tests of POST /v1/feedback/{provider}: emails delivered to a
# real loopback SMTP server (tests/sinks), then the bounces and spam
# complaints an email provider reports later, in the webhook forms of SES,
# SendGrid, Postmark and Mailgun, stop the next messages.
DRIP=$(realpath "${1:?usage: feedback.sh path/to/drip}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/server.sh"
. "$HERE/sinks.sh"

start_sinks
mkdir -p "$TMP/j"
cat > "$TMP/j/news.lua" <<'LUA'
return journey {
  name = "news", trigger = "Go",
  steps = function(ctx)
    email { subject = "One", text = "first" }
    wait_for("Again", "1d")
    email { subject = "Two", text = "second" }
  end,
}
LUA
cat > "$TMP/drip.conf.lua" <<CONF
channels = { email = { smtp = "smtp://127.0.0.1:$SMTP_PORT", from = "Shop <hi@shop.test>", insecure = true } }
CONF
DB="$TMP/live.db"
start_drip run --config "$TMP/drip.conf.lua" --journeys "$TMP/j" --db "$DB"
for who in a b c d; do
  req POST /v1/identify "{\"userId\":\"$who\",\"traits\":{\"email\":\"$who@x.test\",\"consent\":{\"email\":true}}}" > /dev/null
  req POST /v1/track "{\"userId\":\"$who\",\"event\":\"Go\"}" > /dev/null
done
for _ in $(seq 100); do [ "$(q 'len(mails())')" = 4 ] && break; sleep 0.05; done
for _ in $(seq 100); do [ "$("$DRIP" records --db "$DB" | grep -c '"status":"sent"')" = 4 ] && break; sleep 0.05; done
expect_eq "four first emails delivered" 4 "$(q 'len(mails())')"

ses_bounce=$(python3 -c 'import json; print(json.dumps({"Type": "Notification", "Message": json.dumps({
  "notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [
    {"emailAddress": "A@x.test", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}})}))')
expect_eq "SES (through SNS): a permanent bounce of a known address" \
  '200 {"bounced":1,"complained":0,"ok":true,"soft":0,"unknown":0}' "$(req POST /v1/feedback/ses "$ses_bounce")"
expect_eq "SendGrid: a spam report (the address in another case)" \
  '200 {"bounced":0,"complained":1,"ok":true,"soft":0,"unknown":0}' \
  "$(req POST /v1/feedback/sendgrid '[{"email":"B@X.TEST","event":"spamreport"},{"email":"b@x.test","event":"open"}]')"
expect_eq "Postmark: a hard bounce of an address drip never sent to" \
  '200 {"bounced":0,"complained":0,"ok":true,"soft":0,"unknown":1}' \
  "$(req POST /v1/feedback/postmark '{"RecordType":"Bounce","Type":"HardBounce","Email":"nobody@x.test"}')"
expect_eq "Mailgun: a failure that may pass changes nothing" \
  '200 {"bounced":0,"complained":0,"ok":true,"soft":1,"unknown":0}' \
  "$(req POST /v1/feedback/mailgun '{"event-data":{"event":"failed","severity":"temporary","recipient":"c@x.test"}}')"
expect_eq "drip's own form: a bounce of d's address, which d has changed since" \
  '200 {"bounced":1,"complained":0,"ok":true,"soft":0,"unknown":0}' \
  "$(req POST /v1/identify '{"userId":"d","traits":{"email":"d2@x.test"}}' > /dev/null
     req POST /v1/feedback/drip '{"address":"d@x.test","type":"bounce"}')"

for who in a b c d; do req POST /v1/track "{\"userId\":\"$who\",\"event\":\"Again\"}" > /dev/null; done
for _ in $(seq 100); do [ "$(q 'len(mails())')" = 6 ] && break; sleep 0.05; done
sleep 0.3
expect_eq "the second emails: none to the bounced address nor the complainer; the soft bounce's and the new address's go" \
  "c@x.test d2@x.test" "$(q '" ".join(sorted(m["to"][0] for m in mails() if m["subject"] == "Two"))')"
story=$("$DRIP" explain a --db "$DB")
expect_contains "explain: the bounce told later, with the provider's words" "$story" \
  "sent (ses told of it later: smtp; 550 5.1.1 user unknown)"
expect_contains "... and the next message not sent" "$story" "email not sent: bounced"
expect_contains "... the address marked gone" "$story" '"bounced.email":"a@x.test"'
story=$("$DRIP" explain b --db "$DB")
expect_contains "a complaint unsubscribes the contact from email" "$story" "email not sent: unsubscribed"
expect_contains "... as an Unsubscribed event" "$story" "Unsubscribed"
expect_contains "... whose reason says so" "$(req GET /v1/contacts/b)" '"reason":"complaint"'
expect_contains "drip records: the complaint's unsubscribe" "$("$DRIP" records --db "$DB")" \
  '"contact":"b","kind":"unsubscribed","channel":"email","reason":"complaint"}'
expect_contains "drip records: the bounce as a delivery state of the message" "$("$DRIP" records --db "$DB")" \
  '"kind":"delivery","channel":"email","detail":{"feedback":"ses","reason":"smtp; 550 5.1.1 user unknown"},"label":"One"'

metrics=$(req GET /metrics)
expect_contains "/metrics counts the reports by provider and outcome" "$metrics" 'drip_feedback_total{provider="ses",outcome="bounced"} 1'
expect_contains "..." "$metrics" 'drip_feedback_total{provider="sendgrid",outcome="complained"} 1'
expect_contains "..." "$metrics" 'drip_feedback_total{provider="postmark",outcome="unknown"} 1'
expect_contains "..." "$metrics" 'drip_feedback_total{provider="mailgun",outcome="soft"} 1'
out=$(req POST /v1/feedback/ses '{"Type":"SubscriptionConfirmation","SubscribeURL":"https://sns.test/confirm?t=1"}')
expect_contains "SNS's subscription confirmation: 200" "$out" '"confirm":"the subscription'"'"'s confirmation URL is in drip'"'"'s log"'
wait_log 'msg="Amazon SNS asks drip to confirm its subscription: open this URL once" url="https://sns.test/confirm'
expect_contains "a body that is not JSON: 400" "$(req POST /v1/feedback/ses '{nope')" '400 {"error":"bad JSON'
expect_contains "drip's own form with a bad type: 400 naming the field" \
  "$(req POST /v1/feedback/drip '{"address":"a@x.test","type":"spam"}')" '"field":"type"'
expect_contains "an unknown provider: 404 naming those drip reads" "$(req POST /v1/feedback/sparkpost '{}')" \
  "no provider 'sparkpost' (drip reads drip, mailgun, postmark, sendgrid, ses)"
stop_drip
finish
