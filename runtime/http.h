/*
 * http — the HTTP server of `drip run` on one libuv loop (see http.c).
 *
 * Owns the loop, libmicrohttpd, body limits, the token check, overload
 * answers, the due timer, the journeys watch and the stop signals. It hands
 * each loop turn's requests to Lua as one batch and never interprets them.
 */
#ifndef DRIP_HTTP_H
#define DRIP_HTTP_H

#include <lua.h>

/* The `drip_server` Lua module: serve{...} runs the loop until SIGINT/SIGTERM. */
int luaopen_drip_server(lua_State *L);

#endif
