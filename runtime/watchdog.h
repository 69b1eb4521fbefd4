/* watchdog — a CPU-time limit for replays, and the stall watch on every resume (see watchdog.c). */
#ifndef DRIP_WATCHDOG_H
#define DRIP_WATCHDOG_H

#include <lua.h>

enum drip_guarded { DRIP_GUARD_REPLAY, DRIP_GUARD_STEP };

/* Watch a replay of `co` (or a step's call, see host.trusted) on the main
 * thread. Returns 0 when the watchdog cannot (no thread, not the main
 * thread, or watching another): the caller keeps the count hook. */
int drip_watchdog_arm(lua_State *co, enum drip_guarded what);

/* The resume of `co` ended. */
void drip_watchdog_disarm(lua_State *co);

/* The step's call in `co` ended. Returns 1 when the watchdog stopped it: its
 * raising hook stays on `co`. */
int drip_watchdog_end_step(lua_State *co);

/* Around every resume (live or replay): the stall watch (see watchdog.c). */
void drip_watchdog_resume_begin(void);
void drip_watchdog_resume_end(void);

/* The instance (and its journey) the next resume runs. */
void drip_watchdog_note(long instance, const char *journey);

/* The file that receives a stalled instance's id ("" for none). */
void drip_watchdog_set_stall_file(const char *path);

/* Milliseconds of CPU a replay may take; returns the old limit. */
int drip_watchdog_set_limit(int ms);

#endif
