/*
 * timers — the timers a store this process alone writes holds in memory:
 * host.timer_heap(), a binary min-heap of timer rows in (due, id) order,
 * with an index from id to place so that any row can be taken out.
 *
 * Owns: the rows and their order, and which of them are written to the
 * timers table yet. It does not know the table: drip.timer_window decides
 * which rows it holds (every unwritten one, and the table's earliest) and
 * drip.store writes them. A row is { id, due, instance, seq (or nil), kind }
 * as the store's timer queries give it; `due` comes back as it went in (an
 * integer stays one).
 */
#include "host.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TIMER_HEAP_MT "drip.timer_heap"
#define KIND_MAX 15

typedef struct {
  lua_Integer id, instance, seq, due_int;
  lua_Number due;                  /* the order */
  unsigned char due_is_int, has_seq, written;
  char kind[KIND_MAX + 1];
} timer_row;

/* id -> place in rows: open addressing, 0 for an empty slot, -1 for a removed one */
typedef struct {
  lua_Integer *keys;
  uint32_t *places;
  size_t mask, used; /* used: slots not empty (rows and removed ones) */
} id_index;

typedef struct {
  timer_row *rows;
  size_t n, cap, unwritten;
  id_index index;
} timer_heap;

static int before(const timer_row *a, const timer_row *b) {
  return a->due < b->due || (a->due == b->due && a->id < b->id);
}

/* index ------------------------------------------------------------------- */

#define REMOVED ((lua_Integer)-1)

static size_t slot_of(lua_Integer id, size_t mask) {
  uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15u;
  return (size_t)(h >> 17) & mask;
}

/* the slot holding id, or the empty slot where it would go */
static size_t index_find(const id_index *x, lua_Integer id) {
  size_t j = slot_of(id, x->mask);
  while (x->keys[j] != 0 && x->keys[j] != id) j = (j + 1) & x->mask;
  return j;
}

static int index_rebuild(id_index *x, size_t size, const timer_row *rows, size_t n) {
  lua_Integer *keys = calloc(size, sizeof *keys);
  uint32_t *places = malloc(size * sizeof *places);
  if (!keys || !places) {
    free(keys);
    free(places);
    return 0;
  }
  free(x->keys);
  free(x->places);
  *x = (id_index){keys, places, size - 1, n};
  for (size_t i = 0; i < n; i++) {
    size_t j = index_find(x, rows[i].id);
    x->keys[j] = rows[i].id;
    x->places[j] = (uint32_t)i;
  }
  return 1;
}

/* at least twice the slots of n ids */
static size_t index_size(size_t n) {
  size_t size = 64;
  while (size < 2 * (n + 1)) size *= 2;
  return size;
}

/* room for one more id: at most 3/4 of the slots used */
static int index_room(id_index *x, const timer_row *rows, size_t n) {
  if (x->keys && (x->used + 1) * 4 <= (x->mask + 1) * 3) return 1;
  return index_rebuild(x, index_size(n), rows, n);
}

static void index_set(id_index *x, lua_Integer id, uint32_t place) {
  size_t j = index_find(x, id);
  if (x->keys[j] == 0) {
    x->keys[j] = id;
    x->used++;
  }
  x->places[j] = place;
}

/* heap ---------------------------------------------------------------------- */

static void put(timer_heap *h, size_t i, const timer_row *row) {
  h->rows[i] = *row;
  index_set(&h->index, row->id, (uint32_t)i);
}

static void sift_up(timer_heap *h, size_t i) {
  timer_row row = h->rows[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(&row, &h->rows[parent])) break;
    put(h, i, &h->rows[parent]);
    i = parent;
  }
  put(h, i, &row);
}

static void sift_down(timer_heap *h, size_t i) {
  timer_row row = h->rows[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= h->n) break;
    if (child + 1 < h->n && before(&h->rows[child + 1], &h->rows[child])) child++;
    if (!before(&h->rows[child], &row)) break;
    put(h, i, &h->rows[child]);
    i = child;
  }
  put(h, i, &row);
}

static timer_heap *check_heap(lua_State *L) { return luaL_checkudata(L, 1, TIMER_HEAP_MT); }

/* heap:push(id, due, instance, seq|nil, kind, written): a row it does not hold yet */
static int l_push(lua_State *L) {
  timer_heap *h = check_heap(L);
  timer_row row = {0};
  row.id = luaL_checkinteger(L, 2);
  row.due = luaL_checknumber(L, 3);
  row.due_is_int = lua_isinteger(L, 3);
  row.due_int = row.due_is_int ? lua_tointeger(L, 3) : 0;
  row.instance = luaL_checkinteger(L, 4);
  row.has_seq = !lua_isnoneornil(L, 5);
  row.seq = row.has_seq ? luaL_checkinteger(L, 5) : 0;
  size_t kind_len;
  const char *kind = luaL_checklstring(L, 6, &kind_len);
  luaL_argcheck(L, kind_len <= KIND_MAX, 6, "kind too long");
  memcpy(row.kind, kind, kind_len + 1);
  row.written = lua_toboolean(L, 7);
  luaL_argcheck(L, row.id > 0, 2, "an id is a positive integer");
  if (h->index.keys && h->index.keys[index_find(&h->index, row.id)] == row.id)
    return luaL_error(L, "timer %I is held already", row.id);
  if (h->n == UINT32_MAX) return luaL_error(L, "too many timers");
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 256;
    timer_row *rows = realloc(h->rows, cap * sizeof *rows);
    if (!rows) return luaL_error(L, "not enough memory");
    h->rows = rows;
    h->cap = cap;
  }
  if (!index_room(&h->index, h->rows, h->n)) return luaL_error(L, "not enough memory");
  h->rows[h->n] = row;
  sift_up(h, h->n++);
  if (!row.written) h->unwritten++;
  return 0;
}

/* heap:remove(id) -> nil when not held; else whether the row was written */
static int l_remove(lua_State *L) {
  timer_heap *h = check_heap(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  if (!h->index.keys) return 0;
  size_t j = index_find(&h->index, id);
  if (h->index.keys[j] != id) return 0;
  size_t i = h->index.places[j];
  h->index.keys[j] = REMOVED;
  int written = h->rows[i].written;
  if (!written) h->unwritten--;
  timer_row last = h->rows[--h->n];
  if (i < h->n) {
    put(h, i, &last);
    if (i > 0 && before(&last, &h->rows[(i - 1) / 2])) sift_up(h, i);
    else sift_down(h, i);
  }
  lua_pushboolean(L, written);
  return 1;
}

static void push_due(lua_State *L, const timer_row *row) {
  if (row->due_is_int) lua_pushinteger(L, row->due_int);
  else lua_pushnumber(L, row->due);
}

/* heap:first() -> due, id, instance, seq (nil for none), kind of the earliest
 * row, or nothing when empty */
static int l_first(lua_State *L) {
  timer_heap *h = check_heap(L);
  if (h->n == 0) return 0;
  const timer_row *row = &h->rows[0];
  push_due(L, row);
  lua_pushinteger(L, row->id);
  lua_pushinteger(L, row->instance);
  if (row->has_seq) lua_pushinteger(L, row->seq);
  else lua_pushnil(L);
  lua_pushstring(L, row->kind);
  return 5;
}

static void push_row(lua_State *L, const timer_row *row) {
  lua_createtable(L, 5, 0);
  lua_pushinteger(L, row->id);
  lua_rawseti(L, -2, 1);
  push_due(L, row);
  lua_rawseti(L, -2, 2);
  lua_pushinteger(L, row->instance);
  lua_rawseti(L, -2, 3);
  if (row->has_seq) {
    lua_pushinteger(L, row->seq);
    lua_rawseti(L, -2, 4);
  }
  lua_pushstring(L, row->kind);
  lua_rawseti(L, -2, 5);
}

/* Does a row pass heap:rows' limits? Both hold for a prefix of the (due, id) order. */
typedef struct {
  lua_Number max_due;
  int bounded;
  timer_row end; /* (due, id) of the last row allowed, when bounded */
} row_limits;

static int within(const timer_row *row, const row_limits *lim) {
  return row->due <= lim->max_due && !(lim->bounded && before(&lim->end, row));
}

/* A small heap of places in h (the rows reached and not yet taken), by their rows' order. */
static void frontier_push(const timer_heap *h, size_t *f, size_t *fn, size_t place) {
  size_t i = (*fn)++;
  while (i > 0 && before(&h->rows[place], &h->rows[f[(i - 1) / 2]])) {
    f[i] = f[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  f[i] = place;
}

static size_t frontier_pop(const timer_heap *h, size_t *f, size_t *fn) {
  size_t top = f[0], last = f[--(*fn)], i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= *fn) break;
    if (child + 1 < *fn && before(&h->rows[f[child + 1]], &h->rows[f[child]])) child++;
    if (!before(&h->rows[f[child]], &h->rows[last])) break;
    f[i] = f[child];
    i = child;
  }
  if (*fn > 0) f[i] = last;
  return top;
}

/* heap:rows(max_due, limit[, end_due, end_id]) -> the earliest rows due by
 * max_due (and not after the row (end_due, end_id)), at most limit, in order */
static int l_rows(lua_State *L) {
  timer_heap *h = check_heap(L);
  row_limits lim = {luaL_checknumber(L, 2), !lua_isnoneornil(L, 4), {0}};
  lua_Integer limit = luaL_checkinteger(L, 3);
  if (lim.bounded) {
    lim.end.due = luaL_checknumber(L, 4);
    lim.end.id = luaL_checkinteger(L, 5);
  }
  lua_newtable(L);
  if (h->n == 0 || limit <= 0) return 1;
  size_t *frontier = malloc((2 * (size_t)(limit < (lua_Integer)h->n ? limit : (lua_Integer)h->n) + 1) * sizeof *frontier);
  if (!frontier) return luaL_error(L, "not enough memory");
  size_t fn = 0;
  frontier_push(h, frontier, &fn, 0);
  for (lua_Integer taken = 0; taken < limit && fn > 0;) {
    size_t place = frontier_pop(h, frontier, &fn);
    if (!within(&h->rows[place], &lim)) break; /* (every row left comes after it) */
    push_row(L, &h->rows[place]);
    lua_rawseti(L, -2, ++taken);
    for (size_t child = 2 * place + 1; child <= 2 * place + 2 && child < h->n; child++)
      frontier_push(h, frontier, &fn, child);
  }
  free(frontier);
  return 1;
}

static int by_id(const void *a, const void *b) {
  lua_Integer x = ((const timer_row *)a)->id, y = ((const timer_row *)b)->id;
  return (x > y) - (x < y);
}

/* heap:take_unwritten() -> the rows not written yet, in id order, now marked written */
static int l_take_unwritten(lua_State *L) {
  timer_heap *h = check_heap(L);
  timer_row *rows = malloc((h->unwritten ? h->unwritten : 1) * sizeof *rows);
  if (!rows) return luaL_error(L, "not enough memory");
  size_t k = 0;
  for (size_t i = 0; i < h->n; i++) {
    if (h->rows[i].written) continue;
    h->rows[i].written = 1;
    rows[k++] = h->rows[i];
  }
  h->unwritten = 0;
  qsort(rows, k, sizeof *rows, by_id);
  lua_createtable(L, (int)k, 0);
  for (size_t i = 0; i < k; i++) {
    push_row(L, &rows[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(rows);
  return 1;
}

static int in_order(const void *a, const void *b) {
  const timer_row *x = a, *y = b;
  return before(x, y) ? -1 : before(y, x);
}

/* heap:trim(size[, end_due, end_id]) -> due, id of the new end, or nothing.
 * Every row is written. Drops those after the row (end_due, end_id), then
 * all but the earliest `size`; when that second cut drops any, the last row
 * kept is the new end. (A sorted list is a heap.) */
static int l_trim(lua_State *L) {
  timer_heap *h = check_heap(L);
  lua_Integer size = luaL_checkinteger(L, 2);
  row_limits lim = {HUGE_VAL, !lua_isnoneornil(L, 3), {0}};
  if (lim.bounded) {
    lim.end.due = luaL_checknumber(L, 3);
    lim.end.id = luaL_checkinteger(L, 4);
  }
  luaL_argcheck(L, size > 0, 2, "a size of at least 1");
  if (h->unwritten > 0) return luaL_error(L, "trim: %d timers are not written yet", (int)h->unwritten);
  qsort(h->rows, h->n, sizeof *h->rows, in_order);
  size_t kept = 0;
  while (kept < h->n && within(&h->rows[kept], &lim)) kept++;
  int cut = kept > (size_t)size;
  if (cut) kept = (size_t)size;
  h->n = kept;
  if (h->cap > 1024 && h->cap > 4 * kept) { /* (what a run of unwritten timers grew it to) */
    size_t cap = kept > 128 ? 2 * kept : 256;
    timer_row *rows = realloc(h->rows, cap * sizeof *rows);
    if (rows) {
      h->rows = rows;
      h->cap = cap;
    }
  }
  if (!index_rebuild(&h->index, index_size(kept), h->rows, h->n)) return luaL_error(L, "not enough memory");
  if (!cut) return 0;
  push_due(L, &h->rows[kept - 1]);
  lua_pushinteger(L, h->rows[kept - 1].id);
  return 2;
}

/* heap:counts() -> rows held, rows not written */
static int l_counts(lua_State *L) {
  timer_heap *h = check_heap(L);
  lua_pushinteger(L, (lua_Integer)h->n);
  lua_pushinteger(L, (lua_Integer)h->unwritten);
  return 2;
}

static int l_gc(lua_State *L) {
  timer_heap *h = check_heap(L);
  free(h->rows);
  free(h->index.keys);
  free(h->index.places);
  *h = (timer_heap){0};
  return 0;
}

/* host.timer_heap() -> an empty heap */
static int l_new(lua_State *L) {
  timer_heap *h = lua_newuserdatauv(L, sizeof *h, 0);
  *h = (timer_heap){0};
  luaL_setmetatable(L, TIMER_HEAP_MT);
  return 1;
}

void drip_timers_register(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"push", l_push},   {"remove", l_remove},           {"first", l_first}, {"rows", l_rows},
      {"trim", l_trim},   {"take_unwritten", l_take_unwritten}, {"counts", l_counts}, {"__gc", l_gc},
      {NULL, NULL}};
  if (luaL_newmetatable(L, TIMER_HEAP_MT)) {
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "timer_heap");
}
