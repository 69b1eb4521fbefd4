#!/usr/bin/env bash
# Delivery benchmarks (issue 4): printed, not asserted.
#  1. event in -> webhook delivered, the sink answering after 50 ms, at a
#     5,000/s rate limit: sends/s sustained and p99 event-to-send latency;
#  2. a backlog of 1,000,000 queued messages drains at the rate limit, with
#     the server's memory sampled as it goes.
# Usage: tests/bench/deliver.sh [BUILD_DIR] [BACKLOG] [BACKLOG_RATE]
# EVENT_RATE= (default 5000), EVENT_BATCH= (events per request, default 100)
# and EVENT_SECONDS= (default 60) shape the load of the first.
set -eu
BUILD=${1:-build}
BACKLOG=${2:-1000000}
BACKLOG_RATE=${3:-2000}
EVENT_RATE=${EVENT_RATE:-5000}
EVENT_SECONDS=${EVENT_SECONDS:-60}
DRIP=$(realpath "$BUILD/drip")
OUT=$(realpath -m tests/bench/out); mkdir -p "$OUT"
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=18700; SMTP_PORT=18701; HTTP_PORT=18702
URL=http://127.0.0.1:$PORT
SINK_OUT=$OUT/received.jsonl

sink() { rm -f "$SINK_OUT"; python3 "$HERE/../sinks/sinks.py" --smtp $SMTP_PORT --http $HTTP_PORT --out "$SINK_OUT" --secret s \
           > "$OUT/sink.log" 2>&1 & SINK=$!; until grep -q ready "$OUT/sink.log"; do sleep 0.05; done; }
conf() { printf 'channels = { webhook = { url = "http://127.0.0.1:%s/delay50/hook", secret = "s", rate = "%s", concurrency = %s } }\n' \
           $HTTP_PORT "$1" "$2" > "$OUT/drip.conf.lua"; }
start() { (cd "$OUT" && exec "$DRIP" run --journeys "$HERE/journeys/hook" --db "$1" --listen 127.0.0.1:$PORT 2>> "$OUT/deliver.log") & PID=$!
          until curl -s -o /dev/null $URL/healthz; do sleep 0.01; done; }
stop() { kill -TERM $PID; wait $PID || true; kill $SINK; wait $SINK 2>/dev/null || true; }

echo "== event in -> webhook delivered: $EVENT_RATE events/s (${EVENT_BATCH:-100} per request) for $EVENT_SECONDS s, rate limit 5000/s, sink latency 50 ms"
rm -f "$OUT"/deliver.db*
sink; conf "5000/s" 1000; start "$OUT/deliver.db"
cpu() { awk '{ print $14 + $15 }' /proc/$1/stat; }
c0=$(cpu $PID); s0=$(cpu $SINK)
python3 "$HERE/deliver_load.py" $URL $EVENT_RATE $EVENT_SECONDS ${EVENT_BATCH:-100} > "$OUT/load.txt"
sleep 3
c1=$(cpu $PID); s1=$(cpu $SINK)
stop
echo "CPU (one core = 100 ticks/s): drip $((c1 - c0)) ticks, the python sink $((s1 - s0)) ticks"
python3 - "$SINK_OUT" $(cat "$OUT/load.txt") <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
sent, elapsed = int(sys.argv[2]), float(sys.argv[3])
lat = sorted(r["at"] * 1000 - json.loads(r["body"])["message"]["t"] for r in recs)
times = sorted(r["at"] for r in recs)
print(f"events in: {sent / elapsed:.0f}/s for {elapsed:.1f} s; delivered {len(recs)} of {sent} at "
      f"{len(recs) / (times[-1] - times[0]):.0f} sends/s; event-to-send p50 {lat[len(lat) // 2]:.0f} ms, "
      f"p99 {lat[int(len(lat) * 0.99)]:.0f} ms, max {lat[-1]:.0f} ms")
PY

echo "== a backlog of $BACKLOG queued webhooks drains at the rate limit ($BACKLOG_RATE/s), memory sampled"
rm -f "$OUT"/backlog.db*
"$DRIP" simulate --events /dev/null --journeys "$HERE/journeys/hook" --db "$OUT/backlog.db" > /dev/null
sqlite3 "$OUT/backlog.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $BACKLOG)
  INSERT INTO outbox(instance, seq, channel, address, kind, message, status, created_at, contact, due)
  SELECT i, 1, 'webhook', 'webhook', 'marketing', '{\"t\":0}', 'queued', strftime('%s','now'), 'c' || i, strftime('%s','now')
  FROM n;
  INSERT INTO instances(id, journey, version, contact, active, entered_at)
  SELECT instance, 'hook', 'v', contact, 0, created_at FROM outbox;"
sink; conf "$BACKLOG_RATE/s" 1000; start "$OUT/backlog.db"
sent() { sqlite3 "$OUT/backlog.db" "SELECT count(*) FROM outbox WHERE status = 'sent'"; }
sleep 5
s0=$(sent); t0=$(date +%s.%N); c0=$(cpu $PID)
for i in 1 2 3 4 5 6; do
  sleep 5
  echo "  after $((i * 5 + 5)) s: $(sent) sent; RSS $(awk '/VmRSS/ { print $2 }' /proc/$PID/status) KiB"
done
s1=$(sent); t1=$(date +%s.%N); c1=$(cpu $PID)
stop
echo "drip's CPU: $(( (c1 - c0) * 10000 / (s1 - s0) )) µs per message delivered"
lua5.4 -e "local r = ($s1 - $s0) / ($t1 - $t0); print(string.format('drained %.0f messages/s over %.0f s against a limit of $BACKLOG_RATE/s (%+.1f%%)', r, $t1 - $t0, (r / $BACKLOG_RATE - 1) * 100))"
