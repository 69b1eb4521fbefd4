/*
 * fuzz_ingest — libFuzzer target for the ingest path of `drip run`.
 *
 * Each input is one request body for an ingest endpoint (the first byte picks
 * /v1/track, /v1/identify, /v1/batch or /v1/events). It goes through the same
 * Lua code as the server (drip.api over the engine and an in-memory store,
 * with the example journeys loaded), inside a transaction that is rolled back.
 * A crash, a sanitizer report, a Lua error or an answer other than 200/400
 * is a finding: bad input must always get a clean 400.
 */
#include "host.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  L = drip_host_newstate((size_t)512 << 20);
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_pushstring(L, DRIP_STDLIB_DIR "/?.lua;" DRIP_SOURCE_DIR "/tests/fuzz/?.lua");
  lua_setfield(L, -2, "path");
  luaL_getsubtable(L, -1, "preload");
  lua_pushcfunction(L, luaopen_drip_host);
  lua_setfield(L, -2, "drip_host");
  lua_pop(L, 2);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "ingest_harness");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_ingest: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_pushliteral(L, DRIP_SOURCE_DIR "/scripts");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) { /* stack: handle(selector, body) -> status */
    fprintf(stderr, "fuzz_ingest: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_setglobal(L, "handle");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  lua_getglobal(L, "handle");
  lua_pushinteger(L, data[0]);
  lua_pushlstring(L, (const char *)data + 1, size - 1);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_ingest: Lua error on bad input: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_Integer status = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (status != 200 && status != 400) {
    fprintf(stderr, "fuzz_ingest: answered %lld\n", (long long)status);
    abort();
  }
  return 0;
}
