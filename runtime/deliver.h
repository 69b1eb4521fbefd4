/*
 * deliver — libcurl multi on the libuv default loop, as the `drip_curl` Lua
 * module (see deliver.c). It sends what the outbox dispatcher asks and
 * reports each answer; it decides nothing about messages.
 */
#ifndef DRIP_DELIVER_H
#define DRIP_DELIVER_H

#include <lua.h>

int luaopen_drip_curl(lua_State *L);

#endif
