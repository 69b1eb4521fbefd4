/*
 * sandbox — running journey code with an instruction budget.
 *
 * Owns: host.resume(co, ...), a coroutine.resume that arms a count hook on
 * the coroutine so one resume can execute at most `budget` VM instructions,
 * and adds a traceback to errors. Once the budget is spent the hook fires on
 * every instruction, so a pcall inside the journey cannot swallow the kill.
 * host.replay_resume(co) is the same for a replay, guarded by the watchdog
 * (watchdog.c) instead of the count hook. host.trusted(fn, ...) runs the
 * engine's own work inside a step without the count hook: the budget counts
 * the journey's instructions. Each resume may also grow the
 * state by at most `step_memory` bytes (256 MiB, or DRIP_STEP_MEMORY_MB): a
 * journey that builds a huge table fails at once, not after filling the
 * whole state's ceiling (seconds of work, and gigabytes the machine may not
 * have).
 * host.coroutine(fn) and host.recycle(co) keep the threads of finished
 * coroutines for the next ones: a thread, its stack and the call frames
 * its calls grew (about 1.5 KB) are otherwise made and collected for every
 * instance of a journey.
 * The allowed globals and the read-only environment are built in Lua
 * (stdlib/drip/sandbox.lua); this file does not decide what scripts may call.
 *
 * One budget per process: the host runs one journey state, one resume at a time.
 */
#include "host.h"
#include "watchdog.h"

#include <lauxlib.h>
#include <stdlib.h>

#define HOOK_EVERY 1000

static lua_Integer budget = 50 * 1000 * 1000; /* instructions per resume */
static lua_Integer remaining;
#define DEFAULT_STEP_MEMORY_MB 256
static size_t step_memory = (size_t)DEFAULT_STEP_MEMORY_MB << 20; /* bytes a resume may grow the state by */

static void budget_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  remaining -= HOOK_EVERY;
  if (remaining > 0) return;
  lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
  remaining = HOOK_EVERY; /* keeps firing: every instruction now raises */
  luaL_error(L, "instruction budget exceeded (%I instructions in one step)", (LUAI_UACINT)budget);
}

/* host.set_budget(n): instructions allowed per resume; returns the old one */
static int l_set_budget(lua_State *L) {
  lua_Integer old = budget;
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= HOOK_EVERY, 1, "budget too small");
  budget = n;
  lua_pushinteger(L, old);
  return 1;
}

/* Replace the error value on top of L by its text, and return it: a string
 * or number as it is, a table as JSON (error{ code = 7 } reads
 * 'error object {"code":7}'), anything else by its type. */
static const char *error_text(lua_State *L) {
  int top = lua_gettop(L);
  int type = lua_type(L, top);
  if (type == LUA_TSTRING || type == LUA_TNUMBER) return lua_tostring(L, top);
  if (type == LUA_TTABLE) {
    lua_pushcfunction(L, drip_encode_json);
    lua_pushvalue(L, top);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
      lua_pushfstring(L, "error object %s", lua_tostring(L, -1));
      lua_replace(L, top);
      lua_settop(L, top);
      return lua_tostring(L, top);
    }
    lua_settop(L, top);
  }
  lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, top));
  lua_replace(L, top);
  return lua_tostring(L, top);
}

/* Resume co with the arguments above it on L's stack, guarded by the count
 * hook, or by the watchdog when `replay` (and it can). Returns what
 * host.resume returns. */
static int resume(lua_State *L, int replay) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "coroutine");
  int narg = lua_gettop(L) - 1;
  if (!lua_checkstack(co, narg + 1)) return luaL_error(L, "too many arguments to resume");
  int st = lua_status(co);
  if (st != LUA_YIELD && !(st == LUA_OK && lua_gettop(co) > 0)) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "cannot resume dead coroutine");
    return 2;
  }
  lua_xmove(L, co, narg); /* stack of co: [fn] args... */
  int watched = replay && drip_watchdog_arm(co, DRIP_GUARD_REPLAY);
  if (!watched) {
    remaining = budget;
    lua_sethook(co, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
  }
  int nres = 0;
  drip_host_limit_growth(L, step_memory);
  drip_watchdog_resume_begin();
  int status = lua_resume(co, L, narg, &nres);
  drip_watchdog_resume_end();
  int grew_too_much = drip_host_limit_growth(L, 0);
  if (watched) drip_watchdog_disarm(co);
  else lua_sethook(co, NULL, 0, 0);
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      return luaL_error(L, "too many results to resume");
    }
    lua_pushboolean(L, 1);
    lua_xmove(co, L, nres); /* stack: true results... */
    return nres + 1;
  }
  /* error: move the message out, drop what the dead coroutine holds (after a
   * memory error, that is what filled the state), then add its traceback */
  lua_xmove(co, L, 1);
  lua_settop(co, 0);
  if (status == LUA_ERRMEM) lua_gc(L, LUA_GCCOLLECT);
  if (status == LUA_ERRMEM && grew_too_much) {
    lua_pop(L, 1);
    lua_pushfstring(L, "not enough memory: one step may use at most %d MiB (DRIP_STEP_MEMORY_MB)",
                    (int)(step_memory >> 20));
  }
  const char *msg = error_text(L);
  lua_pushboolean(L, 0);
  luaL_traceback(L, co, msg, 0);
  return 2;
}

/* host.trusted(fn, ...) -> fn(...), for the engine's work inside a step
 * (sending, rendering, storing; see drip.steps): called in a resume under
 * the count hook, it runs without it, for a count hook costs on every VM
 * instruction (6% of a simulation's instructions went to it, nearly all in
 * the engine's code). The watchdog guards the call instead, as it guards
 * replays, since the engine may still reach journey code there (a
 * metamethod of a value given to the step); once it stopped the call, its
 * raising hook stays, so a pcall in the journey cannot swallow the stop.
 * Anywhere else (no count hook, or the watchdog busy): a plain call. */
static int l_trusted(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  int nargs = lua_gettop(L) - 1;
  if (lua_gethook(L) != budget_hook || !drip_watchdog_arm(L, DRIP_GUARD_STEP)) {
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L);
  }
  lua_sethook(L, NULL, 0, 0);
  int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
  if (!drip_watchdog_end_step(L)) lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
  if (status != LUA_OK) return lua_error(L); /* (Lua's memory error is raised as one again) */
  return lua_gettop(L);
}

/* host.resume(co, ...) -> true, results... | false, message-with-traceback */
static int l_resume(lua_State *L) { return resume(L, 0); }

/* host.replay_resume(co, ...): the same for replaying history recorded on co's
 * script (see watchdog.c) */
static int l_replay_resume(lua_State *L) { return resume(L, 1); }

/* host.set_replay_limit(ms): CPU time a replay may take; returns the old limit */
static int l_set_replay_limit(lua_State *L) {
  lua_Integer ms = luaL_checkinteger(L, 1);
  luaL_argcheck(L, ms >= 1 && ms <= 3600 * 1000, 1, "limit out of range");
  lua_pushinteger(L, drip_watchdog_set_limit((int)ms));
  return 1;
}

/* host.note_instance(id, journey): what the next resume runs, for the stall watch */
static int l_note_instance(lua_State *L) {
  drip_watchdog_note((long)luaL_checkinteger(L, 1), luaL_checkstring(L, 2));
  return 0;
}

/* host.set_stall_file(path): where the stall watch leaves a stalled instance's id */
static int l_set_stall_file(lua_State *L) {
  drip_watchdog_set_stall_file(luaL_checkstring(L, 1));
  return 0;
}

/* host.coroutine(fn) -> a coroutine of fn: coroutine.create, on a kept
 * thread when there is one (upvalue 1: the kept threads) */
static int l_coroutine(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_Integer kept = (lua_Integer)lua_rawlen(L, lua_upvalueindex(1));
  lua_State *co;
  if (kept > 0) {
    lua_rawgeti(L, lua_upvalueindex(1), kept);
    co = lua_tothread(L, -1);
    lua_pushnil(L);
    lua_rawseti(L, lua_upvalueindex(1), kept);
  } else {
    co = lua_newthread(L);
  }
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  return 1;
}

enum { THREADS_KEPT = 8 };

/* host.recycle(co): keep the thread of a coroutine that returned (not one
 * that failed, waits, or runs) for host.coroutine; its caller lets go of co */
static int l_recycle(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "coroutine");
  lua_Integer kept = (lua_Integer)lua_rawlen(L, lua_upvalueindex(1));
  if (co == L || lua_status(co) != LUA_OK || lua_gettop(co) != 0 || kept >= THREADS_KEPT) return 0;
  lua_resetthread(co); /* (a thread that returned has nothing left to close) */
  lua_pushvalue(L, 1);
  lua_rawseti(L, lua_upvalueindex(1), kept + 1);
  return 0;
}

static const luaL_Reg thread_funcs[] = {{"coroutine", l_coroutine}, {"recycle", l_recycle}, {NULL, NULL}};

static const luaL_Reg sandbox_funcs[] = {{"resume", l_resume},
                                         {"trusted", l_trusted},
                                         {"note_instance", l_note_instance},
                                         {"set_stall_file", l_set_stall_file},
                                         {"replay_resume", l_replay_resume},
                                         {"set_budget", l_set_budget},
                                         {"set_replay_limit", l_set_replay_limit},
                                         {NULL, NULL}};

void drip_sandbox_register(lua_State *L) {
  const char *mb = getenv("DRIP_STEP_MEMORY_MB");
  step_memory = (size_t)(mb && atol(mb) > 0 ? atol(mb) : DEFAULT_STEP_MEMORY_MB) << 20;
  luaL_setfuncs(L, sandbox_funcs, 0);
  lua_newtable(L); /* the kept threads */
  luaL_setfuncs(L, thread_funcs, 1);
}
