#!/usr/bin/env bash
# tools/lua_pgo.sh BUILD_DIR — Lua for the drip binary, built from Debian's
# own source package of the installed liblua5.4-dev (the same version, the
# same patches and definitions) with the compiler's profile feedback: a build
# that counts what runs, a training run of drip's engine on it, and a build
# laid out by those counts: the interpreter's hot paths are placed and
# inlined by what runs, and a simulation takes about 4% less CPU time
# (tests/bench/README.md).
#
# Leaves BUILD_DIR/lua-pgo/liblua5.4.a, which CMakeLists.txt links when it is
# there, and beside it the version it was built from: an upgraded
# liblua5.4-dev (a security fix) is built again at the next `make`. Needs
# BUILD_DIR/drip_host.so (the training runs the engine through it, in the
# counting interpreter) and the network to Debian's mirrors (the source
# comes through apt with a private list of the system's deb lines as deb-src;
# the system's apt setup is not touched). Exits non-zero, saying why on one
# line, when it cannot: drip then links Debian's liblua5.4.a as before.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
OUT=$BUILD/lua-pgo
ROOT=$(cd "$(dirname "$0")/.." && pwd)
version=$(dpkg-query -W -f='${source:Version}' liblua5.4-dev)
[ -f "$OUT/liblua5.4.a" ] && [ "$(cat "$OUT/version" 2>/dev/null)" = "$version" ] && exit 0
[ -f "$BUILD/drip_host.so" ] || { echo "lua_pgo: $BUILD/drip_host.so is not built" >&2; exit 1; }
rm -rf "$OUT" "$OUT.tmp"
mkdir -p "$OUT.tmp"/{apt/parts,apt/lists/partial,src,gen,use,train}
cd "$OUT.tmp"

# 1. the source package, through a private apt list of deb-src lines
for f in /etc/apt/sources.list.d/*.sources; do
  if [ -e "$f" ]; then sed 's/^Types:.*/Types: deb-src/' "$f" > "apt/parts/$(basename "$f")"; fi
done
sed -n 's/^deb /deb-src /p' /etc/apt/sources.list 2>/dev/null > apt/sources.list || : > apt/sources.list
apt=(apt-get -qq -o "Dir::Etc::SourceList=$PWD/apt/sources.list" -o "Dir::Etc::SourceParts=$PWD/apt/parts"
     -o "Dir::State::Lists=$PWD/apt/lists" -o APT::Sandbox::User=root)
"${apt[@]}" update > apt/update.log 2>&1 || true # (a source that has no deb-src is no matter)
(cd src && "${apt[@]}" source "lua5.4=$version" > ../apt/source.log 2>&1) || {
  echo "lua_pgo: cannot fetch Debian's source of lua5.4 $version (see $OUT.tmp/apt/source.log)" >&2; exit 1; }
SRC=$(echo "$PWD"/src/lua5.4-*/src)

# 2. compile Lua's library (all but the lua and luac programs) as Debian
# does, with the flags given, into DIR
FLAGS_DEBIAN=(-g -O2 -fstack-protector-strong -Wformat -Werror=format-security -DLUA_COMPAT_5_3 -DLUA_USE_LINUX -w)
compile() { # DIR FLAGS...
  local dir=$PWD/$1 c pids=()
  shift
  for c in "$SRC"/*.c; do
    case $(basename "$c") in lua.c|luac.c) continue ;; esac
    gcc "${FLAGS_DEBIAN[@]}" "$@" -c "$c" -o "$dir/$(basename "$c" .c).o" &
    pids+=($!)
  done
  for c in "${pids[@]}"; do wait "$c"; done
}
compile gen -fprofile-generate -fprofile-update=single
gcc "${FLAGS_DEBIAN[@]}" -fprofile-generate "$SRC/lua.c" gen/*.o -o gen/lua -Wl,-E -lm -ldl

# 3. the training: the example month with every example journey, and a
# generated cart month, simulated by drip's engine in the counting interpreter
lua5.4 "$ROOT/tests/bench/gen_cart.lua" 100000 10000 > train/cart.jsonl
GEN=$PWD/gen
train() { (cd "$ROOT" && "$GEN/lua" - "$@" > /dev/null) <<LUA
package.path = "$ROOT/stdlib/?.lua;$ROOT/stdlib/?/init.lua;" .. package.path
package.cpath = "$BUILD/?.so;" .. package.cpath
os.exit(require("drip.cli").main(arg))
LUA
}
{ train simulate --journeys scripts --events examples/events.jsonl &&
  train simulate --journeys scripts/abandoned_cart.lua --events "$OUT.tmp/train/cart.jsonl" --db "$OUT.tmp/train/cart.db" \
    --format jsonl; } || { echo "lua_pgo: the training simulation failed" >&2; exit 1; }

# 4. the library again, laid out by the counts
cp gen/*.gcda use/
compile use -fprofile-use -fprofile-partial-training -fprofile-correction
ar rcs use/liblua5.4.a use/*.o
mkdir -p "$OUT"
mv use/liblua5.4.a "$OUT/liblua5.4.a"
echo "$version" > "$OUT/version"
cd "$BUILD" && rm -rf "$OUT.tmp"
