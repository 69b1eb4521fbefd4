/*
 * The replay watchdog's thread must not outlive drip_host.so. busted's lua5.4
 * unloads the module when it closes its state at exit; a thread still ticking
 * in the module's code then crashed the process, now and then. Here the
 * module is loaded as lua5.4 loads it, a replay starts the thread, the state
 * is closed and the module unloaded, and the process lives on for longer than
 * the thread's tick (250 ms).   test_unload path/to/drip_host.so
 */
#include <dlfcn.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_unload drip_host.so\n");
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "test_unload: %s\n", dlerror());
    return 1;
  }
  lua_CFunction open = (lua_CFunction)dlsym(lib, "luaopen_drip_host");
  if (!open) {
    fprintf(stderr, "test_unload: no luaopen_drip_host\n");
    return 1;
  }
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "drip_host", open, 1);
  lua_pop(L, 1);
  const char *replay = "local co = coroutine.create(function() return 1 end)\n"
                       "assert(drip_host.replay_resume(co))";
  if (luaL_dostring(L, replay) != LUA_OK) {
    fprintf(stderr, "test_unload: %s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_close(L);
  if (dlclose(lib) != 0) {
    fprintf(stderr, "test_unload: dlclose: %s\n", dlerror());
    return 1;
  }
  struct timespec wait = {0, 600 * 1000000L};
  nanosleep(&wait, NULL);
  puts("test_unload: the watchdog ended with its module");
  return 0;
}
