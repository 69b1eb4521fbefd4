# Helpers for tests that start `drip run`. Source after lib.sh; needs $DRIP and $TMP.
PID=""
LOG=""
URL=""

# start_drip ARGS... : start drip on a free loopback port; sets PID, LOG, URL
start_drip() {
  LOG="$TMP/drip.$RANDOM.log"
  "$DRIP" "$@" --listen 127.0.0.1:0 2> "$LOG" &
  PID=$!
  local port="" i
  for i in $(seq 100); do
    port=$(grep -o 'msg=listening addr=127.0.0.1:[0-9]*' "$LOG" 2>/dev/null | grep -o '[0-9]*$')
    [ -n "$port" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    fail "drip run did not start: $(cat "$LOG")"
    finish
  fi
  URL="http://127.0.0.1:$port"
}

stop_drip() {
  kill -TERM "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
}

# req METHOD PATH [BODY] -> "STATUS BODY"
req() {
  local out
  if [ $# -ge 3 ]; then
    out=$(curl -s -w '\n%{http_code}' -X "$1" "$URL$2" --data-binary "$3")
  else
    out=$(curl -s -w '\n%{http_code}' -X "$1" "$URL$2")
  fi
  printf '%s %s' "${out##*$'\n'}" "${out%$'\n'*}"
}

# wait_log REGEX: wait up to 5 s for a log line
wait_log() {
  local i
  for i in $(seq 100); do
    grep -qE "$1" "$LOG" && { pass "log: $1"; return 0; }
    sleep 0.05
  done
  fail "no log line matching [$1]: $(tail -n 5 "$LOG")"
}

# pipelined N: N GET /healthz written at once on one connection; prints what came back
pipelined() {
  local port=${URL##*:} i reqs=""
  for i in $(seq "$1"); do reqs="${reqs}GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"; done
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf "$reqs" >&3
  timeout 1 cat <&3
  exec 3<&-
}

# hold_upload FD LENGTH SENT: open a POST on fd FD declaring LENGTH bytes, send SENT of them, keep it open
hold_upload() {
  local port=${URL##*:}
  eval "exec $1<>/dev/tcp/127.0.0.1/$port"
  printf 'POST /v1/track HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n' "$2" >&"$1"
  head -c "$3" /dev/zero | tr '\0' 'h' >&"$1"
}
