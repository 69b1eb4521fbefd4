#!/usr/bin/env bash
# Crash test of delivery: kill -9 `drip run` at random moments while it
# delivers webhooks to a loopback sink (50 ms per answer, rate-limited so the
# backlog lasts through the kills), restart it each time, then count at the
# sink by Idempotency-Key: every message arrived, and a key arrived twice only
# if it was in flight at a kill (those are counted and reported).
# Usage: deliver_crash.sh path/to/drip [KILLS] [CONTACTS]
DRIP=$(realpath "${1:?usage: deliver_crash.sh path/to/drip [KILLS] [CONTACTS]}")
KILLS=${2:-20}
CONTACTS=${3:-600}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../e2e/lib.sh"
SINKS="$HERE/../sinks"

PORT=$((20000 + RANDOM % 9000)); SMTP_PORT=$((PORT + 1)); HTTP_PORT=$((PORT + 2))
OUT="$TMP/received.jsonl"
python3 "$SINKS/sinks.py" --smtp "$SMTP_PORT" --http "$HTTP_PORT" --out "$OUT" --secret s > "$TMP/sinks.out" 2>&1 &
SINK_PID=$!
trap 'kill $SINK_PID $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do grep -q ready "$TMP/sinks.out" && break; sleep 0.05; done

J="$TMP/journeys"; mkdir -p "$J"
cat > "$J/buy.lua" <<'EOF'
return journey { name = "buy", trigger = "Buy", steps = function(ctx)
  webhook { event = "thanks" }
  wait "1s"
  webhook { event = "follow-up" }
end }
EOF
cat > "$TMP/drip.conf.lua" <<EOF
channels = { webhook = { url = "http://127.0.0.1:$HTTP_PORT/delay50/hook", secret = "s", rate = "250/s", backoff = "1s" } }
EOF
cd "$TMP"
DB="$TMP/crash.db"
mkdir -p batches
for ((i = 0; i < CONTACTS; i += 20)); do
  { printf '{"batch":['
    for ((c = i; c < i + 20 && c < CONTACTS; c++)); do
      [ "$c" -gt "$i" ] && printf ','
      printf '{"type":"track","userId":"c%d","event":"Buy","messageId":"b%d"}' "$c" "$c"
    done
    printf ']}'; } > "batches/$(printf %05d "$i").json"
done

PID=""
. "$HERE/lib.sh"

start
client &
CLIENT=$!
INFLIGHT=0
for _ in $(seq "$KILLS"); do
  sleep "0.$((2 + RANDOM % 4))$((RANDOM % 10))"
  kill -9 "$PID"
  wait "$PID" 2>/dev/null
  INFLIGHT=$((INFLIGHT + $(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE status = 'sending'")))
  start
done
wait "$CLIENT"
pending() { sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE status <> 'sent'"; }
for _ in $(seq 300); do
  [ "$(pending)" = 0 ] && [ "$(sqlite3 "$DB" 'SELECT count(*) FROM instances WHERE active = 1')" = 0 ] && break
  sleep 0.1
done
kill -TERM "$PID"
wait "$PID"
expect_eq "drip stops cleanly at the end" 0 $?

EXPECTED=$((CONTACTS * 2))
expect_eq "every message is in the outbox and sent" "$EXPECTED $EXPECTED" \
  "$(sqlite3 "$DB" "SELECT count(*) || ' ' || sum(status = 'sent') FROM outbox")"
sqlite3 "$DB" "SELECT 'drip-' || instance || '-' || seq FROM outbox" | sort > "$TMP/want"
python3 "$SINKS/received.py" "$OUT" '"\n".join(sorted(keys("/hook")))' | sort > "$TMP/got"
expect_eq "every message's key arrived at the sink" "" "$(comm -23 "$TMP/want" "$TMP/got" | head -3)"
expect_eq "nothing arrived that drip did not send" "" "$(comm -13 "$TMP/want" "$TMP/got" | head -3)"
DUPS=$(python3 "$SINKS/received.py" "$OUT" 'sum(1 for n in keys("/hook").values() if n > 1)')
echo "$KILLS kills; $EXPECTED messages; $INFLIGHT were in flight at a kill; $DUPS keys arrived twice"
if [ "$DUPS" -le "$INFLIGHT" ]; then
  pass "keys that arrived twice ($DUPS) were all in flight at a kill ($INFLIGHT)"
else
  fail "$DUPS keys arrived twice but only $INFLIGHT messages were in flight at the kills"
fi
[ "$INFLIGHT" -gt 0 ] || fail "no kill hit a delivery in flight: the test did not test anything"
expect_eq "stats after the kills count the messages as the outbox holds them" "same" \
  "$(python3 "$E2E_DIR/stats_match.py" "$DB" "$("$DRIP" stats --db "$DB" --format json)")"
finish
