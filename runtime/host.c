/*
 * host — the Lua state with a memory ceiling, and the `drip.host` module.
 * See host.h.
 */
#include "host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

typedef struct {
  size_t used;
  size_t limit;        /* 0: unlimited */
  size_t growth_base;  /* `used` when the growth limit was set */
  size_t growth_limit; /* how far a step may grow the state past growth_base; 0: no limit */
  int growth_hit;      /* a refusal came from the growth limit */
  int sized_free;      /* blocks are freed with sdallocx (see sized_free_fits) */
} alloc_state;

/* jemalloc's sized free, when the process allocates with jemalloc (the drip
 * binary): it need not look the block's size up. NULL elsewhere (drip_host.so
 * in a plain lua5.4, the sanitizers' builds). */
extern void sdallocx(void *ptr, size_t size, int flags) __attribute__((weak));

/* Whether blocks from malloc may go to sdallocx: whether malloc is
 * jemalloc's own, which its count of the bytes this thread allocated tells
 * (a tool may replace malloc and free: valgrind's memcheck does, and its
 * blocks handed to jemalloc crashed the process). */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
  __attribute__((weak));
static uint64_t jemalloc_allocated(void) {
  uint64_t bytes = 0;
  size_t len = sizeof bytes;
  return mallctl("thread.allocated", &bytes, &len, NULL, 0) == 0 ? bytes : 0;
}
static int sized_free_fits(void) {
  if (!sdallocx || !mallctl) return 0;
  enum { PROBE = 4096 };
  uint64_t before = jemalloc_allocated();
  void *volatile probe = malloc(PROBE); /* (volatile: a compiler may not leave it out) */
  int fits = probe && jemalloc_allocated() >= before + PROBE;
  free(probe);
  return fits;
}

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  alloc_state *st = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    if (ptr && st->sized_free) sdallocx(ptr, osize, 0);
    else free(ptr);
    st->used -= old;
    return NULL;
  }
  if (nsize > old && st->growth_limit && st->used + (nsize - old) > st->growth_base + st->growth_limit) {
    st->growth_hit = 1;
    return NULL;
  }
  if (st->limit && nsize > old && st->used + (nsize - old) > st->limit)
    return NULL; /* Lua raises "not enough memory" in the running coroutine */
  void *p = ptr ? realloc(ptr, nsize) : malloc(nsize);
  if (p) st->used = st->used - old + nsize;
  return p;
}

static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "drip: fatal Lua error: %s\n", msg ? msg : "(not a string)");
  return 0;
}

lua_State *drip_host_newstate(size_t limit_bytes) {
  alloc_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->limit = limit_bytes;
  st->sized_free = sized_free_fits();
  lua_State *L = lua_newstate(limited_alloc, st);
  if (!L) {
    free(st);
    return NULL;
  }
  lua_atpanic(L, panic);
  return L;
}

void drip_host_close(lua_State *L) {
  if (!L) return;
  void *ud = NULL;
  lua_Alloc f = lua_getallocf(L, &ud);
  lua_close(L);
  if (f == limited_alloc) free(ud);
}

/* the allocator state of a state made by drip_host_newstate, else NULL */
static alloc_state *state_of(lua_State *L) {
  void *ud = NULL;
  return lua_getallocf(L, &ud) == limited_alloc ? ud : NULL;
}

int drip_host_limit_growth(lua_State *L, size_t bytes) {
  alloc_state *st = state_of(L);
  if (!st) return 0;
  int hit = st->growth_hit;
  st->growth_base = st->used;
  st->growth_limit = bytes;
  st->growth_hit = 0;
  return hit;
}

size_t drip_host_memory_used(lua_State *L) {
  alloc_state *st = state_of(L);
  return st ? st->used : 0;
}

/* 64-bit FNV-1a: script versions, deterministic split buckets and backtest's partitions. */
uint64_t drip_fnv1a(const void *data, size_t n) {
  const unsigned char *s = data;
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

/* host.hash(s) -> 16 hex digits */
static int l_hash(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  char out[17];
  snprintf(out, sizeof out, "%016llx", (unsigned long long)drip_fnv1a(s, n));
  lua_pushstring(L, out);
  return 1;
}

/* host.bucket(s, n) -> integer in [0, n) from the hash of s */
static int l_bucket(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_Integer m = luaL_checkinteger(L, 2);
  luaL_argcheck(L, m > 0, 2, "must be positive");
  lua_pushinteger(L, (lua_Integer)(drip_fnv1a(s, n) % (uint64_t)m));
  return 1;
}

/* host.clock() -> monotonic seconds (float), for timing and benchmarks */
static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + ts.tv_nsec / 1e9);
  return 1;
}

/* host.sleep(seconds): wait that long (a pause that lets another process
 * that shares the store take its turn) */
static int l_sleep(lua_State *L) {
  double secs = luaL_checknumber(L, 1);
  if (secs > 0) {
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  }
  return 0;
}

/* host.time() -> wall-clock epoch seconds (integer) */
static int l_time(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)time(NULL));
  return 1;
}

/* host.memory() -> bytes allocated by this Lua state (0 when not ours) */
static int l_memory(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)drip_host_memory_used(L));
  return 1;
}

/* host.list_dir(path) -> { names } (unsorted, without "." and ".."), or nil, message */
static int l_list_dir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *dir = opendir(path);
  if (!dir) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  lua_newtable(L);
  lua_Integer n = 0;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  closedir(dir);
  return 1;
}

/* host.file_kind(path) -> "file" | "directory" | "other" (a device, a pipe,
 * a socket), its size in bytes | nil, message when there is nothing there (or
 * it cannot be seen). (It opens nothing: closing a descriptor of a SQLite
 * database file would drop the process's locks on it.) */
static int l_file_kind(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(errno));
    return 2;
  }
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
  lua_pushinteger(L, (lua_Integer)st.st_size);
  return 2;
}

/* A batch command's clean stop on Ctrl-C or SIGTERM: the first one only
 * raises a flag the command looks at between events (and puts the default
 * back, so a second one stops the process at once). A signal the process
 * was started to ignore (nohup, a background job) stays ignored. */
static volatile sig_atomic_t interrupted_by;
static struct sigaction before_int, before_term;
static int caught_int, caught_term;

static void note_interrupt(int signo) { interrupted_by = signo; }

static int catch_signal(int signo, struct sigaction *before) {
  sigaction(signo, NULL, before);
  if (before->sa_handler == SIG_IGN) return 0;
  struct sigaction sa = {0};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = note_interrupt;
  sa.sa_flags = SA_RESETHAND;
  sigaction(signo, &sa, NULL);
  return 1;
}

/* host.on_interrupt(true | false): catch SIGINT and SIGTERM as above, or
 * give them back what they had before */
static int l_on_interrupt(lua_State *L) {
  if (lua_toboolean(L, 1)) {
    interrupted_by = 0;
    caught_int = catch_signal(SIGINT, &before_int);
    caught_term = catch_signal(SIGTERM, &before_term);
  } else {
    if (caught_int) sigaction(SIGINT, &before_int, NULL);
    if (caught_term) sigaction(SIGTERM, &before_term, NULL);
    caught_int = caught_term = 0;
  }
  return 0;
}

/* host.interrupted() -> "SIGINT" | "SIGTERM" | nil */
static int l_interrupted(lua_State *L) {
  int signo = interrupted_by;
  if (signo == 0) return 0;
  lua_pushstring(L, signo == SIGINT ? "SIGINT" : "SIGTERM");
  return 1;
}

/* host.is_terminal("stdout" | "stderr") -> whether a person is watching it
 * (a progress line is for them, not for a file or a log) */
static int l_is_terminal(lua_State *L) {
  static const char *const names[] = {"stdout", "stderr", NULL};
  int which = luaL_checkoption(L, 1, NULL, names);
  lua_pushboolean(L, isatty(which == 0 ? STDOUT_FILENO : STDERR_FILENO));
  return 1;
}

/* host.lock_file(path) -> true | nil, message (naming the holder's pid)
 * An exclusive lock on path for the rest of the process's life: the kernel
 * lets it go when the process ends, however it ends. The file holds the pid. */
static int l_lock_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char pid[32] = "";
    ssize_t n = read(fd, pid, sizeof pid - 1);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    close(fd);
    lua_pushnil(L);
    if (err == EWOULDBLOCK) lua_pushfstring(L, "process %s", pid[0] ? pid : "unknown");
    else lua_pushfstring(L, "%s: %s", path, strerror(err));
    return 2;
  }
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)len) != len) { /* the pid is only for the message */ }
  lua_pushboolean(L, 1);
  return 1;
}

/* host.executable() -> the path of the running drip binary | nil */
static int l_executable(lua_State *L) {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return 0;
  lua_pushlstring(L, path, (size_t)n);
  return 1;
}

static const luaL_Reg host_funcs[] = {
    {"quote", drip_quote_json}, {"encode_json", drip_encode_json}, {"record_line", drip_record_line},
    {"write_record", drip_write_record}, {"write_failure", drip_write_failure},
    {"hash", l_hash}, {"bucket", l_bucket}, {"clock", l_clock}, {"sleep", l_sleep},
    {"time", l_time}, {"memory", l_memory}, {"list_dir", l_list_dir},
    {"file_kind", l_file_kind}, {"on_interrupt", l_on_interrupt}, {"interrupted", l_interrupted},
    {"is_terminal", l_is_terminal}, {"lock_file", l_lock_file}, {"executable", l_executable},
    {NULL, NULL}};

int luaopen_drip_host(lua_State *L) {
  luaL_newlib(L, host_funcs);
  lua_pushstring(L, DRIP_STDLIB_DIR);
  lua_setfield(L, -2, "stdlib_dir");
  lua_pushstring(L, DRIP_MODULE_DIR); /* where this build left drip_host.so, for `drip test` */
  lua_setfield(L, -2, "module_dir");
  lua_pushstring(L, sqlite3_libversion());
  lua_setfield(L, -2, "sqlite_version");
  drip_sandbox_register(L);
  drip_store_register(L);
  drip_tz_register(L);
  drip_crypto_register(L);
  drip_evfile_register(L);
  drip_evline_register(L);
  drip_idset_register(L);
  drip_jsondec_register(L);
  drip_cpus_register(L);
  drip_timers_register(L);
  drip_records_register(L);
  drip_utf8_register(L);
  return 1;
}
