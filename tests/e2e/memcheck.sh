#!/usr/bin/env bash
# The real binary under valgrind's memcheck: a simulation of the sample month
# into a file store, and reads of that store, with no memory error and no
# block definitely lost, and the same output as without valgrind. (memcheck
# replaces malloc; the Lua state then frees with free, not jemalloc's sized
# free: see sized_free_fits in runtime/host.c.)
DRIP=${1:?usage: memcheck.sh path/to/drip}
. "$(dirname "$0")/lib.sh"
EV=examples/events.jsonl
MEMCHECK=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)

"$DRIP" simulate --events $EV --journeys scripts --format jsonl > "$TMP/plain.jsonl"
"${MEMCHECK[@]}" "$DRIP" simulate --events $EV --journeys scripts --format jsonl --db "$TMP/s.db" \
  > "$TMP/checked.jsonl" 2> "$TMP/err"
expect_eq "simulate under memcheck exits 0" 0 $?
expect_eq "memcheck reports nothing" "" "$(head -c 2000 "$TMP/err")"
expect_eq "the same records as without memcheck" "" "$(cmp "$TMP/plain.jsonl" "$TMP/checked.jsonl" 2>&1)"

"${MEMCHECK[@]}" "$DRIP" stats --db "$TMP/s.db" --format json > "$TMP/stats.json" 2> "$TMP/err"
expect_eq "stats under memcheck exits 0" 0 $?
expect_eq "stats: memcheck reports nothing" "" "$(head -c 2000 "$TMP/err")"
expect_contains "stats read the store" "$(cat "$TMP/stats.json")" '"abandoned_cart"'

contact=$(grep -o '"contact":"[^"]*"' "$TMP/plain.jsonl" | head -n 1 | cut -d'"' -f4)
"${MEMCHECK[@]}" "$DRIP" explain "$contact" --db "$TMP/s.db" > "$TMP/explain.txt" 2> "$TMP/err"
expect_eq "explain under memcheck exits 0" 0 $?
expect_eq "explain: memcheck reports nothing" "" "$(head -c 2000 "$TMP/err")"
expect_contains "explain names the contact" "$(cat "$TMP/explain.txt")" "$contact"
finish
