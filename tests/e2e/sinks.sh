# The loopback providers (tests/sinks/sinks.py: SMTP with STARTTLS, HTTP stubs
# that fail on purpose) for tests that deliver. Source after lib.sh (and
# server.sh, whose PID the exit trap also stops); needs $TMP.
# start_sinks: sets SMTP_PORT, HTTP_PORT, H (the HTTP base URL), OUT (what
# they received, one JSON line each), SINK_PID; q EXPR asks received.py.
SINKS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../sinks" && pwd)"
start_sinks() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
    -subj "/CN=127.0.0.1" 2>/dev/null || { fail "openssl could not make a test certificate"; finish; }
  SMTP_PORT=$((21000 + RANDOM % 9000)); HTTP_PORT=$((SMTP_PORT + 1))
  OUT="$TMP/received.jsonl"
  python3 "$SINKS_DIR/sinks.py" --smtp "$SMTP_PORT" --http "$HTTP_PORT" --out "$OUT" --secret hook-secret \
    --cert "$TMP/cert.pem" --key "$TMP/key.pem" > "$TMP/sinks.out" 2>&1 &
  SINK_PID=$!
  trap 'kill $SINK_PID ${PID:-} 2>/dev/null; rm -rf "$TMP"' EXIT
  for _ in $(seq 100); do grep -qs ready "$TMP/sinks.out" && break; sleep 0.05; done
  H="http://127.0.0.1:$HTTP_PORT"
}
q() { python3 "$SINKS_DIR/received.py" "$OUT" "$1"; }
# tracking_conf FILE: a drip.conf.lua that tracks clicks and opens
# (public_url http://drip.test), with email to the SMTP sink and webhooks to /ok/hook
tracking_conf() {
  cat > "$1" <<CONF
public_url = "http://drip.test"
tracking = { clicks = true, opens = true }
channels = {
  email = { smtp = "smtp://127.0.0.1:$SMTP_PORT", from = "Shop <hi@shop.test>", insecure = true },
  webhook = { url = "$H/ok/hook", secret = "hook-secret" },
}
CONF
}
# tracked_links ADDRESS: CLICK and OPEN, the paths (on drip run) of the
# first tracked link and of the open image in the HTML of the email sent to
# ADDRESS, whose links go through public_url http://drip.test
tracked_links() {
  local html
  html=$(q "mail(\"$1\")[\"html\"]")
  CLICK=$(printf '%s' "$html" | grep -o 'href="http://drip.test/c/[^"]*"' | head -1 | sed 's/^href="http:\/\/drip.test//; s/"$//')
  OPEN=$(printf '%s' "$html" | grep -o 'src="http://drip.test/o/[^"]*"' | sed 's/^src="http:\/\/drip.test//; s/"$//')
}
