/* lua_profile — a sampling profiler of drip's Lua, by function (a Lua
 * module for tests/bench/lua_profile.lua; not part of drip).
 *
 * SIGPROF counts CPU time in ticks; a hook on every call and return, and
 * every 1,000 instructions, charges the ticks counted since it last ran to
 * the stack it finds: "self" to the innermost function (a C function by its
 * name and the line that called it, such as a statement's `run`, when the
 * hook runs as it returns, so SQLite's time shows there), "inclusive" to
 * every Lua function on the
 * stack, once. Time spent between two hooks goes to the second: fine for
 * functions, not for lines.
 *
 *   profile.start()       count on the running thread
 *   profile.watch(co)     count on a coroutine too (call before each resume)
 *   profile.report(n)     stop, and print the n costliest each way to stderr
 */
#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SLOTS 8192 /* distinct functions seen, at most (a power of two) */
#define DEPTH 64   /* stack levels looked at */

static volatile sig_atomic_t ticks_due = 0;
static void on_tick(int sig) {
  (void)sig;
  ticks_due++;
}

struct slot {
  char *name; /* "file:line name" or "[C] name"; NULL: free */
  long self, inclusive;
};
static struct slot slots[SLOTS];
static long total_ticks = 0;

static unsigned long hash_of(const char *s) {
  unsigned long h = 5381;
  while (*s) h = h * 33 + (unsigned char)*s++;
  return h;
}

/* the slot of `name`, made on first sight; NULL when the table is full */
static struct slot *slot_of(const char *name) {
  unsigned long i = hash_of(name) & (SLOTS - 1);
  for (int probe = 0; probe < SLOTS; probe++, i = (i + 1) & (SLOTS - 1)) {
    if (!slots[i].name) {
      slots[i].name = strdup(name);
      return &slots[i];
    }
    if (strcmp(slots[i].name, name) == 0) return &slots[i];
  }
  return NULL;
}

/* from `first`, the stack level where the time was spent */
static void charge(lua_State *L, long ticks, int first) {
  struct slot *seen[DEPTH];
  int n_seen = 0;
  lua_Debug d;
  char name[300];
  for (int level = first; level < DEPTH && lua_getstack(L, level, &d); level++) {
    lua_getinfo(L, "Sn", &d);
    int is_c = d.what[0] == 'C';
    if (is_c && level > first) continue; /* only the innermost C function is named */
    if (is_c) {
      lua_Debug caller; /* named with the line that called it */
      int known = lua_getstack(L, level + 1, &caller) && lua_getinfo(L, "Sl", &caller) && caller.currentline > 0;
      snprintf(name, sizeof name, "[C] %s < %s:%d", d.name ? d.name : "?", known ? caller.short_src : "C",
               known ? caller.currentline : 0);
    }
    else snprintf(name, sizeof name, "%s:%d %s", d.short_src, d.linedefined, d.name ? d.name : "?");
    struct slot *s = slot_of(name);
    if (!s) continue;
    if (level == first) s->self += ticks;
    int counted = 0;
    for (int j = 0; j < n_seen; j++) counted |= seen[j] == s;
    if (!counted) {
      s->inclusive += ticks;
      seen[n_seen++] = s;
    }
  }
}

/* At a call the function called has not run yet: the time since the last
 * hook was its caller's. At a return (or a count) it was the function's own. */
static void hook(lua_State *L, lua_Debug *ar) {
  if (!ticks_due) return;
  long ticks = ticks_due;
  ticks_due = 0;
  total_ticks += ticks;
  charge(L, ticks, ar->event == LUA_HOOKCALL || ar->event == LUA_HOOKTAILCALL ? 1 : 0);
}

static void watch(lua_State *L) { lua_sethook(L, hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1000); }

static int l_watch(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTHREAD);
  watch(lua_tothread(L, 1));
  return 0;
}

static int l_start(lua_State *L) {
  signal(SIGPROF, on_tick);
  struct itimerval every = {{0, 1000}, {0, 1000}}; /* (the kernel's tick is coarser) */
  setitimer(ITIMER_PROF, &every, NULL);
  watch(L);
  return 0;
}

static long self_of(const struct slot *s) { return s->self; }
static long inclusive_of(const struct slot *s) { return s->inclusive; }

static void print_top(const char *title, long (*cost)(const struct slot *), int n) {
  fprintf(stderr, "-- %s\n", title);
  static char printed[SLOTS];
  memset(printed, 0, sizeof printed);
  for (int k = 0; k < n; k++) {
    int best = -1;
    for (int i = 0; i < SLOTS; i++)
      if (slots[i].name && !printed[i] && (best < 0 || cost(&slots[i]) > cost(&slots[best]))) best = i;
    if (best < 0 || cost(&slots[best]) == 0) break;
    printed[best] = 1;
    fprintf(stderr, "%6.2f%%  %s\n", 100.0 * (double)cost(&slots[best]) / (double)total_ticks, slots[best].name);
  }
}

static int l_report(lua_State *L) {
  int n = (int)luaL_optinteger(L, 1, 40);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  lua_sethook(L, NULL, 0, 0);
  fprintf(stderr, "%ld ticks of CPU time\n", total_ticks);
  if (total_ticks == 0) return 0;
  print_top("self (the innermost function; C functions by name)", self_of, n);
  print_top("inclusive (Lua functions on the stack)", inclusive_of, n);
  return 0;
}

int luaopen_lua_profile(lua_State *L) {
  luaL_Reg fns[] = {{"start", l_start}, {"watch", l_watch}, {"report", l_report}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
