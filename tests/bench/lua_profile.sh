#!/usr/bin/env bash
# Where a drip command's time goes, by Lua line and function (a C call's
# time, such as a statement's `run`, at the line that called it): a sampling
# profile printed to stderr after the command's own output (see
# lua_profile.c). From the repository root:
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
local resume, replay_resume = host.resume, host.replay_resume
host.resume = function(co, ...) profile.enter(co) return profile.leave(resume(co, ...)) end
host.replay_resume = function(co, ...) profile.enter(co) return profile.leave(replay_resume(co, ...)) end
profile.start()
local status = require("drip.cli").main(arg)
io.stdout:flush()
profile.report($TOP)
os.exit(status)
EOF
