#!/usr/bin/env bash
# Where a drip command's time goes, by Lua function (and by C function called
# from Lua, such as a statement's `run`): a sampling profile printed to
# stderr after the command's own output (see lua_profile.c). The journeys run
# without their instruction budget while profiled. From the repository root:
#   tests/bench/lua_profile.sh BUILD_DIR [TOP] -- DRIP_ARGS...
# e.g. tests/bench/lua_profile.sh build 40 -- simulate --events tests/bench/out/cart_300000.jsonl \
#        --journeys scripts/abandoned_cart.lua --format jsonl > /dev/null
set -eu
BUILD=$1
TOP=${2:-40}
shift 2
[ "${1:-}" = "--" ] && shift
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cc -O2 -shared -fPIC $(pkg-config --cflags lua5.4) tests/bench/lua_profile.c -o "$OUT/lua_profile.so"
lua5.4 - "$@" <<EOF
package.path = "stdlib/?.lua;stdlib/?/init.lua;" .. package.path
package.cpath = "$OUT/?.so;$BUILD/?.so;" .. package.cpath
local profile = require "lua_profile"
local host = require "drip_host"
local resume = host.resume
host.resume = function(co, ...) profile.watch(co) return resume(co, ...) end
host.trusted = function(fn, ...) profile.watch(coroutine.running()) return fn(...) end
profile.start()
local status = require("drip.cli").main(arg)
io.stdout:flush()
profile.report($TOP)
os.exit(status)
EOF
