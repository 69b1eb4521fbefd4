# Assertions for the end-to-end tests. Source it; call `finish` at the end.
set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) # the tests cd elsewhere
FAILS=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# a person's browser, for tracked links and unsubscribe pages (a program's
# fetch, curl's own included, counts as no click: see drip.tracking)
BROWSER=(-A "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
expect_eq() { # name expected actual
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}
expect_contains() { # name haystack needle
  case "$2" in *"$3"*) pass "$1" ;; *) fail "$1: [$3] not in output: $(printf '%s' "$2" | head -c 600)" ;; esac
}
finish() {
  if [ "$FAILS" -ne 0 ]; then echo "$FAILS failure(s)" >&2; exit 1; fi
  echo "all passed"
}
