/*
 * idset — the messageIds of a bulk load, for deduplication without an index.
 *
 * Owns: a hash table from a messageId's 64-bit hash to the seq of the event
 * row that carries it. While `drip simulate` writes a new store's events
 * without their indexes (see drip.store), this is how it tells a repeated
 * messageId. The table only narrows: candidate() gives the seqs whose
 * messageId hashes the same, and the store compares the stored messageIds,
 * so a collision of hashes can never drop an event. Each entry takes 16
 * bytes, in a table kept at most 3/4 full.
 */
#include "host.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IDSET "drip.idset"

typedef struct {
  uint64_t *hash; /* 0: an empty slot */
  lua_Integer *seq;
  size_t cap;     /* a power of two, or 0 */
  size_t count;
} idset;

/* 64-bit FNV-1a, then a finalizer that spreads it over the table's bits */
static uint64_t id_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h ? h : 1;
}

static int grow(idset *set) {
  size_t cap = set->cap ? set->cap * 2 : 1024;
  uint64_t *hash = calloc(cap, sizeof *hash);
  lua_Integer *seq = malloc(cap * sizeof *seq);
  if (!hash || !seq) {
    free(hash);
    free(seq);
    return 0;
  }
  for (size_t i = 0; i < set->cap; i++) {
    if (!set->hash[i]) continue;
    size_t j = set->hash[i] & (cap - 1);
    while (hash[j]) j = (j + 1) & (cap - 1);
    hash[j] = set->hash[i];
    seq[j] = set->seq[i];
  }
  free(set->hash);
  free(set->seq);
  set->hash = hash;
  set->seq = seq;
  set->cap = cap;
  return 1;
}

static idset *check_set(lua_State *L) { return luaL_checkudata(L, 1, IDSET); }

/* set:candidate(message_id, i) -> the seq of the i-th event (from 1) whose
 * messageId hashes the same, or nil */
static int l_candidate(lua_State *L) {
  idset *set = check_set(L);
  size_t n;
  const char *id = luaL_checklstring(L, 2, &n);
  lua_Integer want = luaL_checkinteger(L, 3);
  if (!set->cap) return 0;
  uint64_t h = id_hash(id, n);
  for (size_t j = h & (set->cap - 1); set->hash[j]; j = (j + 1) & (set->cap - 1)) {
    if (set->hash[j] == h && --want == 0) {
      lua_pushinteger(L, set->seq[j]);
      return 1;
    }
  }
  return 0;
}

/* set:add(message_id, seq) */
static int l_add(lua_State *L) {
  idset *set = check_set(L);
  size_t n;
  const char *id = luaL_checklstring(L, 2, &n);
  lua_Integer seq = luaL_checkinteger(L, 3);
  if ((set->count + 1) * 4 > set->cap * 3 && !grow(set)) return luaL_error(L, "not enough memory for the messageId set");
  uint64_t h = id_hash(id, n);
  size_t j = h & (set->cap - 1);
  while (set->hash[j]) j = (j + 1) & (set->cap - 1);
  set->hash[j] = h;
  set->seq[j] = seq;
  set->count++;
  return 0;
}

/* #set -> how many messageIds it holds */
static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_set(L)->count);
  return 1;
}

static int l_gc(lua_State *L) {
  idset *set = check_set(L);
  free(set->hash);
  free(set->seq);
  memset(set, 0, sizeof *set);
  return 0;
}

/* host.idset() -> an empty set */
static int l_idset(lua_State *L) {
  idset *set = lua_newuserdatauv(L, sizeof *set, 0);
  memset(set, 0, sizeof *set);
  if (luaL_newmetatable(L, IDSET)) {
    static const luaL_Reg methods[] = {{"candidate", l_candidate}, {"add", l_add}, {NULL, NULL}};
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return 1;
}

void drip_idset_register(lua_State *L) {
  lua_pushcfunction(L, l_idset);
  lua_setfield(L, -2, "idset");
}
