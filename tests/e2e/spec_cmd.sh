#!/usr/bin/env bash
# End-to-end tests of `drip test`: journey specs run from a project directory
# of one's own. Not under ASan: busted's lua5.4 cannot load a sanitized
# drip_host.so (as for the busted specs themselves).
DRIP=${1:?usage: spec_cmd.sh path/to/drip}
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/proj/scripts" "$TMP/proj/spec"
cp scripts/abandoned_cart.lua "$TMP/proj/scripts/"
cat > "$TMP/proj/spec/cart_spec.lua" <<'LUA'
local testing = require "drip.testing"
local helper = require "cart_helper" -- (a helper beside the spec)
describe("cart", function()
  it("emails after 1h", function()
    local sim = helper.sim()
    sim:advance "1h"
    sim:expect_sent { channel = "email", contact = "u1", at = "1h" }
  end)
  it("expects too early", function()
    local sim = helper.sim()
    sim:advance "30m"
    sim:expect_sent { channel = "email", contact = "u1", at = "30m" }
  end)
end)
LUA
cat > "$TMP/proj/spec/cart_helper.lua" <<'LUA'
local testing = require "drip.testing"
return { sim = function()
  local sim = testing.new { journeys = { "scripts/abandoned_cart.lua" }, start = "2026-11-02T09:00:00Z" }
  sim:identify("u1", { email = "a@x.test", consent = { email = true } })
  sim:track("u1", "Cart Updated", { cart_url = "https://x" })
  return sim
end }
LUA
out=$(cd "$TMP/proj" && "$DRIP" test 2>&1); code=$?
expect_eq "drip test runs the project's spec directory: a failure is exit 1" 1 "$code"
expect_contains "... with what the journey does instead" "$out" \
  "expected email at +30m to u1, got none; the abandoned_cart instance is waiting until 2026-11-02T10:00:00Z (+1h)"
expect_contains "... and the passing test counted" "$out" "1 success / 0 failures / 1 error"
out=$(cd "$TMP/proj" && "$DRIP" test spec/cart_spec.lua --filter "after 1h" 2>&1); code=$?
expect_eq "a file and a --filter: only that test, exit 0" "0 1" "$code $(printf '%s' "$out" | grep -o '^[0-9]* success' | cut -d' ' -f1)"
out=$(cd "$TMP" && "$DRIP" test 2>&1); code=$?
expect_eq "no spec directory is said, exit 2" \
  "2 drip test: no spec, tests/spec or tests directory here; name the spec files or directories" "$code $out"
finish
