/*
 * tz — local time in a named zone, from the system zoneinfo (tzdata).
 *
 * Owns: converting between epoch seconds and wall-clock time in an IANA zone
 * ("Asia/Tehran"), by pointing the C library at the zone (TZ=:name). There is
 * no table of offsets here; tzdata decides. A fixed offset, written
 * "UTC+03:30" (drip.time makes that form of what people write), is a POSIX
 * TZ rule of its own. Only this file touches TZ.
 * Also the fast path of reading the usual UTC timestamp
 * ("2026-11-01T09:00:00Z"), which nearly every event has: drip.time parses
 * every other form.
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

/* "UTC+03:30" or "UTC-05:00": the POSIX TZ rule of that fixed offset in
 * rule[] (POSIX counts west, so the sign turns); 0 when name is not one. */
static int fixed_offset_rule(const char *name, char rule[48]) {
  const char *d = name + 4;
  if (strlen(name) != 9 || strncmp(name, "UTC", 3) != 0 || (name[3] != '+' && name[3] != '-') || d[2] != ':')
    return 0;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (d[i] < '0' || d[i] > '9')) return 0;
  int h = (d[0] - '0') * 10 + (d[1] - '0'), m = (d[3] - '0') * 10 + (d[4] - '0');
  if (m > 59 || h * 60 + m > 14 * 60) return 0;
  snprintf(rule, 48, "<%c%02d%02d>%c%02d:%02d", name[3], h, m, name[3] == '+' ? '-' : '+', h, m);
  return 1;
}

static int zone_exists(const char *name) {
  char rule[48];
  if (fixed_offset_rule(name, rule)) return 1;
  if (!zone_name_ok(name)) return 0;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", zoneinfo_dir(), name);
  return access(path, R_OK) == 0;
}

static void use_zone(lua_State *L, const char *name) {
  if (strcmp(name, current_zone) == 0) return;
  if (!zone_exists(name)) luaL_error(L, "unknown time zone '%s'", name);
  char value[sizeof current_zone + 1];
  if (!fixed_offset_rule(name, value)) snprintf(value, sizeof value, ":%s", name);
  setenv("TZ", value, 1);
  tzset();
  snprintf(current_zone, sizeof current_zone, "%s", name);
}

/* host.tz_valid(name) -> boolean */
static int l_tz_valid(lua_State *L) {
  lua_pushboolean(L, zone_exists(luaL_checkstring(L, 1)));
  return 1;
}

/* host.tz_dir() -> the zoneinfo directory zones are read from (TZDIR, else the system's) */
static int l_tz_dir(lua_State *L) {
  lua_pushstring(L, zoneinfo_dir());
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

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static long days_from_civil(long y, long m, long d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* digits s[0..n) as a number, or -1 when one is not a digit */
static long digits(const char *s, int n) {
  long v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int drip_utc_time(const char *s, size_t len, lua_Integer *out) {
  if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
    return 0;
  long y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
  long H = digits(s + 11, 2), M = digits(s + 14, 2), S = digits(s + 17, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31 || H < 0 || H > 23 || M < 0 || M > 59 || S < 0 || S > 60)
    return 0;
  *out = (lua_Integer)days_from_civil(y, m, d) * 86400 + H * 3600 + M * 60 + S;
  return 1;
}

/* host.utc_time(text) -> epoch seconds, or nil when text is not the usual UTC form */
static int l_utc_time(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_Integer t;
  if (drip_utc_time(s, len, &t)) lua_pushinteger(L, t);
  else lua_pushnil(L);
  return 1;
}

/* the civil date of a day since 1970-01-01 (the inverse of days_from_civil) */
static void civil_from_days(long z, long *y, long *m, long *d) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* the last `width` decimal digits of v (0 <= v), zero-padded, at out */
static void put_digits(char *out, int width, long v) {
  for (int i = width - 1; i >= 0; i--, v /= 10) out[i] = (char)('0' + v % 10);
}

int drip_utc_iso(lua_Integer t, char iso[20]) {
  if (t < -62167219200LL || t > 253402300799LL) return 0;
  long days = (long)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400)), secs = (long)(t - (lua_Integer)days * 86400);
  long y, m, d;
  civil_from_days(days, &y, &m, &d);
  memcpy(iso, "0000-00-00T00:00:00Z", 20); /* (by hand: snprintf took most of the call's time) */
  put_digits(iso, 4, y);
  put_digits(iso + 5, 2, m);
  put_digits(iso + 8, 2, d);
  put_digits(iso + 11, 2, secs / 3600);
  put_digits(iso + 14, 2, secs % 3600 / 60);
  put_digits(iso + 17, 2, secs % 60);
  return 1;
}

/* host.utc_iso(t) -> "2026-11-01T09:00:00Z" for epoch seconds t (an
 * integer in the years 0 to 9999), else nil */
static int l_utc_iso(lua_State *L) {
  int is_int;
  char iso[20];
  lua_Integer t = lua_tointegerx(L, 1, &is_int);
  if (!is_int || !drip_utc_iso(t, iso)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushlstring(L, iso, sizeof iso);
  return 1;
}

static const luaL_Reg tz_funcs[] = {
    {"tz_valid", l_tz_valid}, {"tz_dir", l_tz_dir}, {"tz_local", l_tz_local}, {"tz_epoch", l_tz_epoch},
    {"utc_time", l_utc_time}, {"utc_iso", l_utc_iso}, {NULL, NULL}};

void drip_tz_register(lua_State *L) { luaL_setfuncs(L, tz_funcs, 0); }
