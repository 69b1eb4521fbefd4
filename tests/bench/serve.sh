#!/usr/bin/env bash
# drip run benchmarks (issue 3): printed, not asserted. Load comes from wrk in
# a second process on loopback. Usage: tests/bench/serve.sh [BUILD_DIR] [SCALE]
# SCALE 1 = the issue's figures (1,000,000 sleeping instances, 100,000 timers).
set -eu
BUILD=${1:-build}
SCALE=${2:-1}
DRIP=$(realpath "$BUILD/drip")
OUT=tests/bench/out
J=tests/bench/journeys/sleep
PORT=18600
URL=http://127.0.0.1:$PORT
mkdir -p $OUT
n() { lua5.4 -e "print(math.floor($1 * $SCALE))"; }
now() { date +%s.%N; }
secs() { lua5.4 -e "print(string.format('%.2f', $2 - $1))"; }
PID=""
start() { "$DRIP" run --journeys $J --db "$1" --listen 127.0.0.1:$PORT 2>> $OUT/serve.log & PID=$!; }
up() { until curl -s -o /dev/null $URL/healthz; do sleep 0.01; done; }
stop() { kill -TERM $PID; wait $PID || true; PID=""; }
# a failed step must not leave a server holding the port
trap '[ -z "$PID" ] || kill -TERM $PID 2>/dev/null || true' EXIT
command -v wrk > /dev/null || { echo "serve.sh: needs wrk (make bench installs it: apt-get install wrk)" >&2; exit 1; }
# fresh copy of the base store (no WAL left over from an earlier run), on disk
# before the server starts (the kernel writing the copy back would slow fsync)
fresh() { rm -f "$1" "$1-wal" "$1-shm"; cp $BASE "$1"; sync; }
# rate and latency percentiles of a wrk --latency report; $2 = events per request
summary() {
  lua5.4 -e "
    local t = io.open('$1'):read('a')
    print(string.format('%.0f %s/s; latency p50 %s, p90 %s, p99 %s', tonumber(t:match('Requests/sec:%s*([%d.]+)')) * $2,
      $2 == 1 and 'requests' or 'events', t:match('\n%s+50%%%s+(%S+)'), t:match('\n%s+90%%%s+(%S+)'),
      t:match('\n%s+99%%%s+(%S+)')))"
}


SLEEPERS=$(n 1000000)
BASE=$OUT/sleepers_$SLEEPERS.db
if [ ! -s $BASE ]; then
  echo "== making $SLEEPERS sleeping instances (once; kept in $BASE)"
  lua5.4 tests/bench/gen_sleepers.lua $SLEEPERS > $OUT/sleepers.jsonl
  $DRIP simulate --events $OUT/sleepers.jsonl --journeys $J --db $BASE --until +1h --format jsonl > /dev/null
  sqlite3 $BASE "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
fi

echo "== restart with $SLEEPERS sleeping instances (1,000 of them overdue)"
fresh $OUT/restart.db
sqlite3 $OUT/restart.db "UPDATE timers SET due = strftime('%s','now') - 60 WHERE id <= 1000"
t0=$(now); start $OUT/restart.db; up; t1=$(now)
until [ "$(sqlite3 $OUT/restart.db "SELECT count(*) FROM timers WHERE id <= 1000")" = 0 ]; do sleep 0.01; done
t2=$(now); stop
echo "serving after $(secs $t0 $t1) s; the 1,000 overdue timers fired $(secs $t0 $t2) s after start"

# A closed loop: each connection sends its next batch when the last is
# answered, so latency is connections / throughput; 4 connections keep the
# server busy, 8 queue twice as much behind it.
for conns in 4 8; do
  echo "== /v1/batch, 100 events per request (each starts an instance), $conns connections, synchronous=FULL, $SLEEPERS sleeping"
  fresh $OUT/batch.db
  start $OUT/batch.db; up
  wrk -t1 -c$conns -d30s --latency -s tests/bench/wrk_batch.lua $URL > $OUT/wrk_batch.txt
  stop
  summary $OUT/wrk_batch.txt 100
done

echo "== /v1/track, one event per request, paced at ~2,000 requests/s (28 connections, 10 ms apart)"
fresh $OUT/track.db
start $OUT/track.db; up
DELAY_MS=10 wrk -t1 -c28 -d20s --latency -s tests/bench/wrk_track.lua $URL > $OUT/wrk_track.txt
stop
summary $OUT/wrk_track.txt 1

TIMERS=$(n 100000)
echo "== $TIMERS timers due in the same minute"
lua5.4 tests/bench/gen_sleepers.lua $TIMERS > $OUT/timers.jsonl
rm -f $OUT/timers.db*
$DRIP simulate --events $OUT/timers.jsonl --journeys $J --db $OUT/timers.db --until +1h --format jsonl > /dev/null
sqlite3 $OUT/timers.db "UPDATE timers SET due = strftime('%s','now') + 20 + id % 60;
                        CREATE TABLE bench_due AS SELECT instance, due FROM timers"
start $OUT/timers.db
sleep 20
until [ "$(sqlite3 $OUT/timers.db "SELECT count(*) FROM timers")" = 0 ]; do sleep 0.5; done
stop
sqlite3 $OUT/timers.db "SELECT count(*), max(o.created_at - b.due), avg(o.created_at - b.due),
                               (SELECT count(*) FROM (SELECT instance FROM outbox GROUP BY instance HAVING count(*) > 1))
                        FROM outbox o JOIN bench_due b ON b.instance = o.instance" |
  { IFS='|' read -r fired late avg twice; echo "$fired of $TIMERS fired; latest $late s after its due time (mean $avg s); fired twice: $twice"; }
