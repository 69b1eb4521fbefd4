/*
 * loopcall — what the loop's C modules (http, deliver) share: a logfmt line
 * on stderr, and calling a Lua callback (by registry ref) under a protected
 * call with a traceback, so a Lua error is logged and never stops the loop.
 */
#ifndef DRIP_LOOPCALL_H
#define DRIP_LOOPCALL_H

#include <lua.h>

/* ts=... level=LEVEL msg="MSG" [error="DETAIL"] */
void drip_log_line(const char *level, const char *msg, const char *detail);

/* Call the function at registry ref with the nargs values on top of the
 * stack. -> 1 and nres results on the stack | 0 and nothing (error logged
 * with `name`). */
int drip_call_ref(lua_State *L, int ref, int nargs, int nres, const char *name);

#endif
