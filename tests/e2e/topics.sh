#!/usr/bin/env bash
# End-to-end tests of topics (send{ topic = ... }): emails delivered to a
# real loopback SMTP server (tests/sinks), whose unsubscribe links leave one
# topic, followed against the running drip run.
DRIP=$(realpath "${1:?usage: topics.sh path/to/drip}")
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
    email { topic = "newsletter", subject = "News 1", text = "Leave: {{unsubscribe_url}}" }
    wait_for("Again", "1d")
    email { topic = "newsletter", subject = "News 2", text = "More" }
    email { subject = "Account", text = "Your account" }
  end,
}
LUA
cat > "$TMP/drip.conf.lua" <<CONF
public_url = "http://drip.test"
channels = { email = { smtp = "smtp://127.0.0.1:$SMTP_PORT", from = "Shop <hi@shop.test>", insecure = true } }
CONF
DB="$TMP/live.db"
start_drip run --config "$TMP/drip.conf.lua" --journeys "$TMP/j" --db "$DB"
req POST /v1/identify '{"userId":"u1","traits":{"email":"u1@example.com","consent":{"email":true}}}' > /dev/null
req POST /v1/track '{"userId":"u1","event":"Go"}' > /dev/null
for _ in $(seq 100); do [ "$(q 'len(mails())')" = 1 ] && break; sleep 0.05; done
link=$(q 'mail("u1@example.com")["headers"]["List-Unsubscribe"]' | tr -d '<>')
# what a link's token names, its expiry left out (the header is made as it goes, a second after the text may be)
names() { python3 -c 'import base64, sys; p = sys.argv[1].rsplit("/", 1)[1].split(".")[0]; print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode().split("\n")[:4])' "$1"; }
expect_eq "the message's List-Unsubscribe and its {{unsubscribe_url}} name the contact, the channel and the topic" \
  "['v2', 'u1', 'email', 'newsletter'] ['v2', 'u1', 'email', 'newsletter']" \
  "$(names "$link") $(names "$(q 'mail("u1@example.com")["text"]' | sed -n 's/^Leave: //p' | tr -d '\r')")"
path=${link#http://drip.test}
expect_eq "POST the link (RFC 8058 one-click): 200" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL$path" -d 'List-Unsubscribe=One-Click')"
traits() { req GET /v1/contacts/u1 | python3 -c '
import json, sys
t = json.loads(sys.stdin.read()[4:])["traits"]
print(json.dumps({k[len("unsubscribed."):]: v for k, v in t.items() if k.startswith("unsubscribed.")}, sort_keys=True))'; }
expect_eq "... leaves the topic, not the channel" '{"newsletter": true}' "$(traits)"
req POST /v1/track '{"userId":"u1","event":"Again"}' > /dev/null
for _ in $(seq 100); do [ "$(q 'len(mails())')" = 2 ] && break; sleep 0.05; done
sleep 0.3
expect_eq "the next message of the topic is not sent; the one without a topic is" "News 1|Account" \
  "$(q '"|".join(m["subject"] for m in mails())')"
story=$("$DRIP" explain u1 --db "$DB")
expect_contains "explain: why" "$story" "email not sent: topic_unsubscribed"
expect_contains "... and which topics the contact left" "$story" "  topics   unsubscribed from newsletter"
page=$(curl -s "${BROWSER[@]}" "$URL$path")
expect_contains "the link's page says which topic" "$page" "You are unsubscribed from “newsletter”"
expect_contains "... and offers to leave every email" "$page" "action=\"$path/all\""
curl -s -o /dev/null -XPOST "$URL$path/all"
expect_eq "POST .../all: every email left" '{"email": true, "newsletter": true}' "$(traits)"
expect_contains "... whose page offers to come back to every email" "$(curl -s -XPOST "$URL$path/all")" \
  "action=\"$path/all/resubscribe\""
curl -s -o /dev/null -XPOST "$URL$path/all/resubscribe"
curl -s -o /dev/null -XPOST "$URL$path/resubscribe"
expect_eq "resubscribing: to every email, and to the topic" '{"email": false, "newsletter": false}' "$(traits)"
expect_contains "a topic that is a channel's name fails the instance, saying why" \
  "$(printf 'return journey { trigger = "X", steps = function() email { topic = "sms", subject = "s", text = "t" } end }\n' > "$TMP/j/bad.lua"; sleep 0.5; req POST /v1/track '{"userId":"u1","event":"X"}' > /dev/null; "$DRIP" explain u1 --db "$DB")" \
  'topic must be a name such as "newsletter"'
stop_drip

# a message that waited (no email channel in a first run) is checked at the door for its topic too
printf 'public_url = "http://drip.test"\n' > "$TMP/nomail.conf.lua"
start_drip run --config "$TMP/nomail.conf.lua" --journeys "$TMP/j" --db "$TMP/waited.db"
req POST /v1/identify '{"userId":"w1","traits":{"email":"w1@example.com","consent":{"email":true}}}' > /dev/null
req POST /v1/track '{"userId":"w1","event":"Go"}' > /dev/null
req POST /v1/identify '{"userId":"w1","traits":{"unsubscribed":{"newsletter":true}}}' > /dev/null
stop_drip
sleep 2
start_drip run --config "$TMP/drip.conf.lua" --journeys "$TMP/j" --db "$TMP/waited.db"
for _ in $(seq 100); do [ "$(sqlite3 "$TMP/waited.db" "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")" = 0 ] && break; sleep 0.1; done
expect_eq "a queued message of a topic the contact left meanwhile is not sent" "suppressed|topic_unsubscribed" \
  "$(sqlite3 "$TMP/waited.db" "SELECT status, reason FROM outbox WHERE contact = 'w1'")"
stop_drip
finish
