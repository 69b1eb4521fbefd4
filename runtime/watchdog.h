/* watchdog — a CPU-time limit for replays, and the stall watch on every resume (see watchdog.c). */
#ifndef DRIP_WATCHDOG_H
#define DRIP_WATCHDOG_H

#include <lua.h>

/* Watch a resume of `co` on the main thread. Returns 0 when the watchdog
 * cannot (no thread, or not the main thread): the caller keeps the count hook. */
int drip_watchdog_arm(lua_State *co);

/* The resume of `co` ended. */
void drip_watchdog_disarm(lua_State *co);

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
