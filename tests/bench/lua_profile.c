/* lua_profile — a sampling profiler of drip's Lua, by line and by function
 * (a Lua module for tests/bench/lua_profile.sh; not part of drip).
 *
 * SIGPROF (CPU time) arms a count hook of one instruction on the thread
 * that runs; at the next VM instruction the hook notes where the thread is
 * and puts the thread's own hook back (the sandbox's budget hook, say). So a
 * sample costs one hook call, and the profile adds almost nothing to what it
 * measures (a hook on every call would cost most where calls are many). A C
 * function's time (a statement's run, the events reader, JSON) goes to the
 * Lua line that called it, where the VM goes on; signals that come while a
 * sample is armed (a long C call) add to its weight.
 *
 *   profile.start()       sample the running thread
 *   profile.enter(co)     co runs now (before each resume)
 *   profile.leave(...)    it stopped (after each resume); returns its arguments
 *   profile.report(n)     stop, and print the n costliest lines and functions to stderr
 *
 * Three views: "line" (the line where the thread was), "self" (the function
 * it was in), "inclusive" (every Lua function on its stack and on the
 * stacks of the threads that resumed it, once). The VM looks at its hooks
 * only at calls, returns and instructions that may run a metamethod or the
 * collector, so a line's figure holds the plain instructions just before it
 * too (those since the last such point, often in the line above or in the
 * caller): read the line view for where to look, the self view for how much.
 */
#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SLOTS 16384 /* distinct lines and functions seen, at most (a power of two) */
#define DEPTH 64    /* stack levels looked at */
#define THREADS 64  /* nested resumes followed */

enum { LINE, SELF, INCLUSIVE, VIEWS };
static const char *const VIEW_TITLES[VIEWS] = {"line (where the thread was; a C call's time at its line)",
                                               "self (the function it was in)",
                                               "inclusive (Lua functions on the stacks)"};

struct slot {
  char *name; /* "file:line"; NULL: free */
  long cost[VIEWS];
};
static struct slot slots[SLOTS];
static long total;

static lua_State *running, *armed;   /* the thread that runs; the one a sample is armed on */
static lua_State *resumers[THREADS]; /* the threads that resumed `running`, innermost last */
static int n_resumers;
static lua_Hook its_hook; /* the armed thread's own hook, put back after the sample */
static int its_mask, its_count;
static volatile long weight; /* signals since the sample was armed */

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

static void charge(const char *src, int line, int view, long w) {
  char name[300];
  snprintf(name, sizeof name, "%s:%d", src, line);
  struct slot *s = slot_of(name);
  if (s) s->cost[view] += w;
}

/* charge the Lua functions on co's stack (the innermost as line and self
 * when `innermost`); seen: the functions charged inclusive already */
static void charge_stack(lua_State *co, int innermost, long w, struct slot **seen, int *n_seen) {
  lua_Debug d;
  for (int level = 0; level < DEPTH && lua_getstack(co, level, &d); level++) {
    if (!lua_getinfo(co, "Sl", &d) || d.what[0] == 'C') continue;
    if (innermost) {
      charge(d.short_src, d.currentline, LINE, w);
      charge(d.short_src, d.linedefined, SELF, w);
      innermost = 0;
    }
    char name[300];
    snprintf(name, sizeof name, "%s:%d", d.short_src, d.linedefined);
    struct slot *s = slot_of(name);
    int counted = !s;
    for (int j = 0; j < *n_seen && !counted; j++) counted = seen[j] == s;
    if (counted) continue;
    s->cost[INCLUSIVE] += w;
    if (*n_seen < DEPTH * 4) seen[(*n_seen)++] = s;
  }
}

static void sample(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, its_hook, its_mask, its_count);
  armed = NULL;
  long w = weight;
  struct slot *seen[DEPTH * 4];
  int n_seen = 0;
  charge_stack(L, 1, w, seen, &n_seen);
  for (int i = n_resumers - 1; i >= 0; i--) charge_stack(resumers[i], 0, w, seen, &n_seen);
  total += w;
}

static void on_tick(int sig) {
  (void)sig;
  if (armed) {
    weight++;
    return;
  }
  if (!running) return;
  weight = 1;
  its_hook = lua_gethook(running);
  its_mask = lua_gethookmask(running);
  its_count = lua_gethookcount(running);
  armed = running;
  lua_sethook(running, sample, LUA_MASKCOUNT, 1);
}

/* a sample armed on a thread that stopped before its next instruction is dropped */
static void disarm(void) {
  if (armed && lua_gethook(armed) == sample) lua_sethook(armed, its_hook, its_mask, its_count);
  armed = NULL;
}

/* the thread that runs now: `to`, resumed; or (NULL) back to the one that
 * resumed it. SIGPROF is held off meanwhile. */
static void switch_thread(lua_State *to) {
  sigset_t prof, old;
  sigemptyset(&prof);
  sigaddset(&prof, SIGPROF);
  sigprocmask(SIG_BLOCK, &prof, &old);
  disarm();
  if (to) {
    if (n_resumers < THREADS) resumers[n_resumers++] = running;
    running = to;
  } else if (n_resumers > 0) {
    running = resumers[--n_resumers];
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
}

static int l_enter(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTHREAD);
  switch_thread(lua_tothread(L, 1));
  return 0;
}

static int l_leave(lua_State *L) {
  switch_thread(NULL);
  return lua_gettop(L);
}

static int l_start(lua_State *L) {
  running = L;
  signal(SIGPROF, on_tick);
  struct itimerval every = {{0, 1000}, {0, 1000}}; /* (the kernel's tick is coarser) */
  setitimer(ITIMER_PROF, &every, NULL);
  return 0;
}

static void print_top(int view, int n) {
  fprintf(stderr, "-- %s\n", VIEW_TITLES[view]);
  static char printed[SLOTS];
  memset(printed, 0, sizeof printed);
  for (int k = 0; k < n; k++) {
    int best = -1;
    for (int i = 0; i < SLOTS; i++)
      if (slots[i].name && !printed[i] && (best < 0 || slots[i].cost[view] > slots[best].cost[view])) best = i;
    if (best < 0 || slots[best].cost[view] == 0) break;
    printed[best] = 1;
    fprintf(stderr, "%6.2f%%  %s\n", 100.0 * (double)slots[best].cost[view] / (double)total, slots[best].name);
  }
}

static int l_report(lua_State *L) {
  int n = (int)luaL_optinteger(L, 1, 40);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  disarm();
  running = NULL;
  fprintf(stderr, "%ld ticks of CPU time\n", total);
  if (total == 0) return 0;
  for (int view = 0; view < VIEWS; view++) print_top(view, n);
  return 0;
}

int luaopen_lua_profile(lua_State *L) {
  luaL_Reg fns[] = {{"start", l_start}, {"enter", l_enter}, {"leave", l_leave}, {"report", l_report}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
