/* watchdog — a CPU-time limit for replays (see watchdog.c). */
#ifndef DRIP_WATCHDOG_H
#define DRIP_WATCHDOG_H

#include <lua.h>

/* Watch a resume of `co` on the main thread. Returns 0 when the watchdog
 * cannot (no thread, or not the main thread): the caller keeps the count hook. */
int drip_watchdog_arm(lua_State *co);

/* The resume of `co` ended. */
void drip_watchdog_disarm(lua_State *co);

/* Milliseconds of CPU a replay may take; returns the old limit. */
int drip_watchdog_set_limit(int ms);

#endif
