/*
 * records — simulate's records written in C: each record's history row and
 * its JSON Lines line in one call.
 *
 * Owns: host.record_writer(history_add, lines) -> write, and write(instance,
 * at, kind, fields, contact, journey) -> true, which Engine:record calls in
 * simulate. The fields' JSON (their text, or a table encoded as
 * drip.json.encode encodes it) goes into the history row (history_add:
 * instance, at, kind, data) and, when `lines` (not for simulate's table,
 * which the engine's sink prints), after the record's time, contact, journey
 * and kind in its line to stdout, made as host.write_record makes it. No Lua
 * string is made for the JSON, the time or the line: the month of cart
 * events writes some 450,000 records.
 * write returns nothing, and does nothing, for what it leaves to the Lua
 * path: a table with keys of mixed types, a contact or journey that is not a
 * string, a time outside the years 0 to 9999. It does not decide which
 * records there are or what they hold (engine.lua).
 */
#include "host.h"

#include <lauxlib.h>

/* write(instance, at, kind, fields, contact, journey) -> true | nothing
 * (upvalue 1: the history_add statement; upvalue 2: whether to write lines) */
static int l_write(lua_State *L) {
  lua_Integer instance = luaL_checkinteger(L, 1), at = luaL_checkinteger(L, 2);
  drip_record_text r = {0};
  r.kind = luaL_checklstring(L, 3, &r.kind_len);
  for (int i = 5; i <= 6; i++)
    if (!lua_isnil(L, i) && lua_type(L, i) != LUA_TSTRING) return 0;
  char iso[20];
  if (!drip_utc_iso(at, iso)) return 0;
  if (lua_type(L, 4) == LUA_TSTRING) {
    r.fields = lua_tolstring(L, 4, &r.fields_len);
  } else {
    luaL_checktype(L, 4, LUA_TTABLE);
    r.fields = drip_encode_kept(L, 4, &r.fields_len);
    if (!r.fields) return 0;
  }
  drip_sql_value row[] = {{.i = instance}, {.i = at}, {r.kind, r.kind_len, 0}, {r.fields, r.fields_len, 0}};
  drip_stmt_run(L, lua_upvalueindex(1), row, 4);
  lua_pushboolean(L, 1);
  if (!lua_toboolean(L, lua_upvalueindex(2))) return 1;
  r.at = iso;
  r.at_len = sizeof iso;
  r.contact = lua_tolstring(L, 5, &r.contact_len);
  r.journey = lua_tolstring(L, 6, &r.journey_len);
  if (!drip_put_record(&r)) return luaL_error(L, "out of memory");
  return 1;
}

/* host.record_writer(history_add, lines) -> write (see above) */
static int l_record_writer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TUSERDATA);
  lua_settop(L, 2);
  lua_pushcclosure(L, l_write, 2);
  return 1;
}

static const luaL_Reg records_funcs[] = {{"record_writer", l_record_writer}, {NULL, NULL}};

void drip_records_register(lua_State *L) { luaL_setfuncs(L, records_funcs, 0); }
