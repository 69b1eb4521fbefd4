/*
 * tz — local time in a named zone, from the system zoneinfo (tzdata).
 *
 * Owns: converting between epoch seconds and wall-clock time in an IANA zone
 * ("Asia/Tehran"), by pointing the C library at the zone (TZ=:name). There is
 * no table of offsets here; tzdata decides. Only this file touches TZ.
 */
#include "host.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char current_zone[128];

static const char *zoneinfo_dir(void) {
  const char *dir = getenv("TZDIR");
  return dir && *dir ? dir : "/usr/share/zoneinfo";
}

/* A zone name is letters, digits, '_', '-', '+', '/' and no "..". */
static int zone_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n >= sizeof current_zone || name[0] == '/' || strstr(name, "..")) return 0;
  for (const char *p = name; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-' || c == '+' || c == '/'))
      return 0;
  }
  return 1;
}

static int zone_exists(const char *name) {
  if (!zone_name_ok(name)) return 0;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", zoneinfo_dir(), name);
  return access(path, R_OK) == 0;
}

static void use_zone(lua_State *L, const char *name) {
  if (strcmp(name, current_zone) == 0) return;
  if (!zone_exists(name)) luaL_error(L, "unknown time zone '%s'", name);
  char value[sizeof current_zone + 1];
  snprintf(value, sizeof value, ":%s", name);
  setenv("TZ", value, 1);
  tzset();
  snprintf(current_zone, sizeof current_zone, "%s", name);
}

/* host.tz_valid(name) -> boolean */
static int l_tz_valid(lua_State *L) {
  lua_pushboolean(L, zone_exists(luaL_checkstring(L, 1)));
  return 1;
}

/* host.tz_local(name, epoch) -> year, month, day, hour, min, sec, wday(0=Sunday), utc_offset */
static int l_tz_local(lua_State *L) {
  use_zone(L, luaL_checkstring(L, 1));
  time_t t = (time_t)luaL_checkinteger(L, 2);
  struct tm tm;
  if (!localtime_r(&t, &tm)) return luaL_error(L, "time out of range");
  lua_pushinteger(L, tm.tm_year + 1900);
  lua_pushinteger(L, tm.tm_mon + 1);
  lua_pushinteger(L, tm.tm_mday);
  lua_pushinteger(L, tm.tm_hour);
  lua_pushinteger(L, tm.tm_min);
  lua_pushinteger(L, tm.tm_sec);
  lua_pushinteger(L, tm.tm_wday);
  lua_pushinteger(L, tm.tm_gmtoff);
  return 8;
}

/* host.tz_epoch(name, year, month, day, hour, min, sec) -> epoch seconds.
 * A wall time skipped by a DST jump resolves forward, as mktime does. */
static int l_tz_epoch(lua_State *L) {
  use_zone(L, luaL_checkstring(L, 1));
  struct tm tm = {0};
  tm.tm_year = (int)luaL_checkinteger(L, 2) - 1900;
  tm.tm_mon = (int)luaL_checkinteger(L, 3) - 1;
  tm.tm_mday = (int)luaL_checkinteger(L, 4);
  tm.tm_hour = (int)luaL_checkinteger(L, 5);
  tm.tm_min = (int)luaL_checkinteger(L, 6);
  tm.tm_sec = (int)luaL_optinteger(L, 7, 0);
  tm.tm_isdst = -1;
  time_t t = mktime(&tm);
  if (t == (time_t)-1) return luaL_error(L, "time out of range");
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

static const luaL_Reg tz_funcs[] = {
    {"tz_valid", l_tz_valid}, {"tz_local", l_tz_local}, {"tz_epoch", l_tz_epoch}, {NULL, NULL}};

void drip_tz_register(lua_State *L) { luaL_setfuncs(L, tz_funcs, 0); }
