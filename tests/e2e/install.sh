#!/usr/bin/env bash
# End-to-end tests of an installed drip (make install): the binary finds its
# stdlib and drip_host.so under its own prefix, wherever the prefix is moved,
# and behaves as the build's. Not under ASan: `drip test` loads drip_host.so
# into busted's lua5.4.
DRIP=${1:?usage: install.sh path/to/drip BUILD_DIR}
BUILD=${2:?usage: install.sh path/to/drip BUILD_DIR}
. "$(dirname "$0")/lib.sh"

cmake --install "$BUILD" --prefix "$TMP/pfx" > "$TMP/install.log" || fail "cmake --install: $(tail -3 "$TMP/install.log")"
mv "$TMP/pfx" "$TMP/moved" # (a prefix moved after the install, as a package unpacked elsewhere)
P=$TMP/moved
for f in bin/drip lib/drip/drip_host.so share/drip/stdlib/drip/engine.lua share/drip/stdlib/types/drip.lua \
         share/doc/drip/examples/drip.conf.lua share/doc/drip/examples/drip.service; do
  [ -f "$P/$f" ] || fail "installed: $f is missing"
done

expect_contains "the installed drip says which stdlib it runs" "$("$P/bin/drip" version)" "; stdlib $P/share/drip/stdlib"
sed -i 's/^local VERSION = "\(.*\)"/local VERSION = "\1-installed"/' "$P/share/drip/stdlib/drip/cli.lua"
expect_contains "... and runs it, not the source tree's" "$("$P/bin/drip" version)" "drip 0.1.0-installed"
expect_contains "DRIP_STDLIB still overrides it" "$(DRIP_STDLIB=$PWD/stdlib "$P/bin/drip" version)" "; stdlib $PWD/stdlib"

expect_eq "it simulates the month as the build's drip does, byte for byte" \
  "$("$DRIP" simulate --journeys scripts --events examples/events.jsonl --format jsonl | md5sum)" \
  "$("$P/bin/drip" simulate --journeys scripts --events examples/events.jsonl --format jsonl | md5sum)"

mkdir -p "$TMP/proj/scripts" "$TMP/proj/spec"
cp scripts/abandoned_cart.lua "$TMP/proj/scripts/"
cat > "$TMP/proj/spec/cart_spec.lua" <<'LUA'
local testing = require "drip.testing"
describe("cart", function()
  it("runs on the installed drip_host.so", function()
    assert.equal(os.getenv("PFX") .. "/lib/drip/drip_host.so", package.searchpath("drip_host", package.cpath))
  end)
  it("emails after 1h", function()
    local sim = testing.new { journeys = { "scripts/abandoned_cart.lua" }, start = "2026-11-02T09:00:00Z" }
    sim:identify("u1", { email = "a@x.test", consent = { email = true } })
    sim:track("u1", "Cart Updated", { cart_url = "https://x" })
    sim:advance "1h"
    sim:expect_sent { channel = "email", contact = "u1", at = "1h" }
  end)
end)
LUA
out=$(cd "$TMP/proj" && PFX=$P "$P/bin/drip" test 2>&1); code=$?
expect_eq "drip test runs a project's specs with the installed engine" 0 "$code"
expect_contains "... loading the installed drip_host.so" "$out" "2 successes / 0 failures / 0 errors"
finish
