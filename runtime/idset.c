/*
 * idset — sets of 64-bit hashes of strings: "seen before?" without keeping
 * the strings.
 *
 * Owns: the set evfile.c tells a file's messageIds apart with, and
 * host.id_set(), the same set for Lua (a store that began empty tells the
 * contacts it made from those it never had, without asking SQLite). Two
 * strings with one hash count as one, so a set answers "maybe" for a string
 * it may have seen and a sure "no" for one it has not: 16 bytes or less per
 * string instead of the string itself.
 */
#include "host.h"

#include <lauxlib.h>
#include <stdlib.h>

#define ID_SET_MT "drip.idset"

uint64_t drip_id_hash(const char *s, size_t n) { /* FNV-1a, then murmur3's final mix */
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53u;
  h ^= h >> 33;
  return h ? h : 1;
}

static int id_set_grow(drip_id_set *s) {
  size_t size = s->slots ? 2 * (s->mask + 1) : 1024;
  uint64_t *slots = calloc(size, sizeof *slots);
  if (!slots) return 0;
  for (size_t i = 0; s->slots && i <= s->mask; i++) {
    if (!s->slots[i]) continue;
    size_t j = s->slots[i] & (size - 1);
    while (slots[j]) j = (j + 1) & (size - 1);
    slots[j] = s->slots[i];
  }
  free(s->slots);
  s->slots = slots;
  s->mask = size - 1;
  return 1;
}

/* open addressing, 0 for an empty slot, at most 3/4 full */
int drip_id_set_add(drip_id_set *s, uint64_t h) {
  if ((s->count + 1) * 4 > (s->mask + 1) * 3 && !id_set_grow(s)) return -1;
  size_t j = h & s->mask;
  for (; s->slots[j]; j = (j + 1) & s->mask)
    if (s->slots[j] == h) return 0;
  s->slots[j] = h;
  s->count++;
  return 1;
}

int drip_id_set_has(const drip_id_set *s, uint64_t h) {
  if (!s->slots) return 0;
  for (size_t j = h & s->mask; s->slots[j]; j = (j + 1) & s->mask)
    if (s->slots[j] == h) return 1;
  return 0;
}

void drip_id_set_free(drip_id_set *s) {
  free(s->slots);
  *s = (drip_id_set){0};
}

static uint64_t checked_hash(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  return drip_id_hash(s, n);
}

/* set:add(s) -> true when s is new to the set (now in it); raises when out of memory */
static int l_add(lua_State *L) {
  drip_id_set *s = luaL_checkudata(L, 1, ID_SET_MT);
  int added = drip_id_set_add(s, checked_hash(L));
  if (added < 0) return luaL_error(L, "not enough memory");
  lua_pushboolean(L, added);
  return 1;
}

/* set:has(s) -> false when s was never added; true when it (or another string of its hash) was */
static int l_has(lua_State *L) {
  drip_id_set *s = luaL_checkudata(L, 1, ID_SET_MT);
  lua_pushboolean(L, drip_id_set_has(s, checked_hash(L)));
  return 1;
}

static int l_gc(lua_State *L) {
  drip_id_set_free(luaL_checkudata(L, 1, ID_SET_MT));
  return 0;
}

/* host.id_set() -> an empty set */
static int l_id_set(lua_State *L) {
  drip_id_set *s = lua_newuserdatauv(L, sizeof *s, 0);
  *s = (drip_id_set){0};
  luaL_setmetatable(L, ID_SET_MT);
  return 1;
}

void drip_idset_register(lua_State *L) {
  static const luaL_Reg methods[] = {{"add", l_add}, {"has", l_has}, {NULL, NULL}};
  luaL_newmetatable(L, ID_SET_MT);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_id_set);
  lua_setfield(L, -2, "id_set");
}
