/* loopcall — logging and protected Lua calls for the loop's modules. See loopcall.h. */
#include "loopcall.h"

#include <lauxlib.h>
#include <stdio.h>
#include <time.h>

void drip_log_line(const char *level, const char *msg, const char *detail) {
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(stderr, "ts=%s level=%s msg=\"%s\"", stamp, level, msg);
  if (detail) {
    fputs(" error=\"", stderr);
    for (const char *p = detail; *p; p++) {
      if (*p == '"' || *p == '\\') fputc('\\', stderr);
      if (*p == '\n') fputs("\\n", stderr);
      else fputc(*p, stderr);
    }
    fputc('"', stderr);
  }
  fputc('\n', stderr);
}

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

int drip_call_ref(lua_State *L, int ref, int nargs, int nres, const char *name) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_rotate(L, base + 1, 2); /* stack: traceback fn args */
  int rc = lua_pcall(L, nargs, nres, base + 1);
  if (rc != LUA_OK) {
    drip_log_line("error", name, lua_tostring(L, -1));
    lua_settop(L, base);
    return 0;
  }
  lua_remove(L, base + 1); /* the traceback function */
  return 1;
}
