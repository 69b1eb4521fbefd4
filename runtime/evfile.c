/*
 * evfile — the quick first look at a JSON Lines events file.
 *
 * Owns: finding a line's "timestamp" without decoding the line, and telling
 * whether a whole file is already in time order, so that drip.events can
 * stream it. It validates nothing else and reports nothing: whenever a line
 * is not the usual shape, it answers "do not know" and drip.events reads the
 * file in Lua, where every bad line is reported with its number.
 */
#define _GNU_SOURCE /* memmem, getline */
#include "host.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char TIMESTAMP_KEY[] = "\"timestamp\":\"";

/* The text of a line's "timestamp":"..." value: *start and its length, or -1. */
static long timestamp_text(const char *line, size_t len, const char **start) {
  const char *s = memmem(line, len, TIMESTAMP_KEY, sizeof TIMESTAMP_KEY - 1);
  if (!s) return -1;
  s += sizeof TIMESTAMP_KEY - 1;
  const char *end = memchr(s, '"', len - (size_t)(s - line));
  if (!end) return -1;
  *start = s;
  return end - s;
}

/* host.line_time(line) -> epoch seconds of the line's "timestamp":"..." in
 * the usual UTC form; nil, text when it is in another form; nil when the
 * line has none. */
static int l_line_time(lua_State *L) {
  size_t len;
  const char *line = luaL_checklstring(L, 1, &len);
  const char *text;
  long n = timestamp_text(line, len, &text);
  if (n < 0) return 0;
  lua_Integer t;
  if (drip_utc_time(text, (size_t)n, &t)) {
    lua_pushinteger(L, t);
    return 1;
  }
  lua_pushnil(L);
  lua_pushlstring(L, text, (size_t)n);
  return 2;
}

/* As drip.events: a line that is blank, or whose first non-space is '#', is
 * not an event. (Lua's %s: space, \t, \n, \v, \f, \r.) */
static int skipped(const char *line, size_t len) {
  if (len > 0 && line[0] == '{') return 0;
  size_t i = 0;
  while (i < len && line[i] != '\0' && strchr(" \t\n\v\f\r", line[i])) i++;
  return i == len || line[i] == '#';
}

/* host.events_in_order(path, since) -> true when every event line of the
 * file has a timestamp in the usual UTC form, none before `since` or before
 * the line above it; false when not (or when unsure); nil, error when the
 * file cannot be read. */
static int l_events_in_order(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer latest = luaL_optinteger(L, 2, 0);
  FILE *f = fopen(path, "rb");
  if (!f) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int in_order = 1;
  while (in_order && (len = getline(&line, &cap, f)) >= 0) {
    if (skipped(line, (size_t)len)) continue;
    const char *text;
    long n = timestamp_text(line, (size_t)len, &text);
    lua_Integer t;
    if (n < 0 || !drip_utc_time(text, (size_t)n, &t) || t < latest) in_order = 0;
    else latest = t;
  }
  int failed = ferror(f);
  free(line);
  fclose(f);
  if (failed) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: read error", path);
    return 2;
  }
  lua_pushboolean(L, in_order);
  return 1;
}

static const luaL_Reg evfile_funcs[] = {
    {"line_time", l_line_time}, {"events_in_order", l_events_in_order}, {NULL, NULL}};

void drip_evfile_register(lua_State *L) { luaL_setfuncs(L, evfile_funcs, 0); }
