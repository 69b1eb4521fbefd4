/*
 * main — the `drip` command.
 *
 * Owns: making the host Lua state, pointing it at the stdlib, and handing
 * argv to the command dispatcher (stdlib/drip/cli.lua). Every call into Lua
 * goes through one protected call with a traceback; errors become exit codes,
 * never crashes. Exit status: 0 success, 1 failure of the work, 2 bad usage.
 */
#include "host.h"
#include "http.h"
#include "deliver.h"

#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_MEMORY_LIMIT ((size_t)2 << 30)

static size_t memory_limit(void) {
  const char *v = getenv("DRIP_MEMORY_LIMIT_MB");
  if (v && *v) return (size_t)strtoull(v, NULL, 10) << 20;
  return DEFAULT_MEMORY_LIMIT;
}

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

/* package.path: the stdlib first, so `require "drip.engine"` finds ours. */
static void set_paths(lua_State *L) {
  const char *dir = getenv("DRIP_STDLIB");
  if (!dir || !*dir) dir = DRIP_STDLIB_DIR;
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
  lua_setfield(L, -2, "path");
  luaL_getsubtable(L, -1, "preload");
  lua_pushcfunction(L, luaopen_drip_host);
  lua_setfield(L, -2, "drip_host");
  lua_pushcfunction(L, luaopen_drip_server);
  lua_setfield(L, -2, "drip_server");
  lua_pushcfunction(L, luaopen_drip_curl);
  lua_setfield(L, -2, "drip_curl");
  lua_pop(L, 2);
}

int main(int argc, char **argv) {
  /* A file-size limit (ulimit -f) reached by the store is an error SQLite
   * reports (a failed commit, nothing kept), not a signal that kills drip. */
  signal(SIGXFSZ, SIG_IGN);
  lua_State *L = drip_host_newstate(memory_limit());
  if (!L) {
    fprintf(stderr, "drip: out of memory\n");
    return 1;
  }
  luaL_openlibs(L);
  set_paths(L);

  lua_pushcfunction(L, traceback);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "drip.cli");
  int status = 1;
  if (lua_pcall(L, 1, 1, 1) == LUA_OK) {
    lua_getfield(L, -1, "main"); /* stack: traceback cli main */
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i);
    }
    if (lua_pcall(L, 1, 1, 1) == LUA_OK) {
      status = (int)lua_tointeger(L, -1);
    } else {
      fprintf(stderr, "drip: internal error: %s\n", lua_tostring(L, -1));
    }
  } else {
    fprintf(stderr, "drip: cannot load the standard library: %s\n", lua_tostring(L, -1));
  }
  fflush(stdout);
  drip_host_close(L);
  return status;
}
