# Helpers for the kill -9 tests. Source after ../e2e/lib.sh; needs $DRIP,
# $J (journeys), $DB, $PORT and $TMP.

# start: drip run on $PORT, waiting until it answers /healthz; sets PID
start() {
  "$DRIP" run --journeys "$J" --db "$DB" --listen "127.0.0.1:$PORT" 2>> "$TMP/drip.log" &
  PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && return; sleep 0.02; done
  fail "drip run did not come back: $(tail -n 3 "$TMP/drip.log")"
  finish
}

# client: POST every $TMP/batches/*.json to /v1/batch until it gets a 200 (a
# kill cuts some requests); each retry is a line in $TMP/retries, and each
# acknowledged batch's messageIds go to $TMP/acked
client() {
  for b in "$TMP"/batches/*.json; do
    until [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' -XPOST "http://127.0.0.1:$PORT/v1/batch" --data-binary @"$b")" = 200 ]; do
      echo retry >> "$TMP/retries"
      sleep 0.05
    done
    grep -o '"messageId":"[^"]*"' "$b" | cut -d'"' -f4 >> "$TMP/acked"
  done
}
