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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define DEFAULT_MEMORY_LIMIT ((size_t)2 << 30)

/* jemalloc's settings, read as the process starts (MALLOC_CONF in the
 * environment still overrides them). Transparent huge pages: simulate's
 * heap and SQLite's page cache are some hundred MiB touched at random (a
 * woken instance's tables, a contact's cached rows), and with 4 KiB pages
 * most of those touches also miss the TLB. With 2 MiB pages a month of
 * 1,000,000 cart events runs 2-3% faster (user time 0.3-0.4 s less). The
 * symbol is unused where jemalloc is not the allocator (the sanitizers'
 * builds). */
const char *malloc_conf = "thp:always,metadata_thp:always";

/* Only simulate takes huge pages. Every other command turns them off: in
 * drip run a fault that must first compact memory into a huge page would
 * stall a request, and backtest's forked processes would copy 2 MiB at
 * their first write to a shared page (the month's backtest took 0.8-1 s
 * more with them). */
static void huge_pages_for(const char *command) {
  if (command && strcmp(command, "simulate") == 0) return;
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0); /* (an old kernel without it: huge pages stay allowed) */
}

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

/* Where the Lua stdlib and drip_host.so (for `drip test`) are: $DRIP_STDLIB;
 * else, for an installed drip (make install), PREFIX/share/drip/stdlib and
 * PREFIX/lib/drip beside PREFIX/bin/drip, wherever PREFIX was moved; else the
 * source tree and build directory this binary was built from. */
static char installed_stdlib[PATH_MAX], installed_modules[PATH_MAX];
static int find_installed(void) {
  char exe[PATH_MAX], probe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return 0;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return 0;
  *slash = '\0'; /* exe: PREFIX/bin */
  int n1 = snprintf(installed_stdlib, sizeof installed_stdlib, "%s/../share/drip/stdlib", exe);
  int n2 = snprintf(installed_modules, sizeof installed_modules, "%s/../lib/drip", exe);
  int n3 = snprintf(probe, sizeof probe, "%s/drip/cli.lua", installed_stdlib);
  if (n1 >= (int)sizeof installed_stdlib || n2 >= (int)sizeof installed_modules || n3 >= (int)sizeof probe) return 0;
  if (access(probe, R_OK) != 0) return 0;
  char real[PATH_MAX]; /* (PREFIX/share/drip/stdlib, not PREFIX/bin/../share/...) */
  if (realpath(installed_stdlib, real)) memcpy(installed_stdlib, real, sizeof real);
  if (realpath(installed_modules, real)) memcpy(installed_modules, real, sizeof real);
  return 1;
}

/* package.path: the stdlib first, so `require "drip.engine"` finds ours;
 * drip_host's stdlib_dir and module_dir say where they were found. */
static void set_paths(lua_State *L) {
  const char *dir = getenv("DRIP_STDLIB"), *modules = DRIP_MODULE_DIR;
  int installed = find_installed();
  if (installed) modules = installed_modules;
  if (!dir || !*dir) dir = installed ? installed_stdlib : DRIP_STDLIB_DIR;
  luaL_requiref(L, "drip_host", luaopen_drip_host, 0);
  lua_pushstring(L, dir);
  lua_setfield(L, -2, "stdlib_dir");
  lua_pushstring(L, modules);
  lua_setfield(L, -2, "module_dir");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
  lua_setfield(L, -2, "path");
  luaL_getsubtable(L, -1, "preload");
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
  huge_pages_for(argc > 1 ? argv[1] : NULL);
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
