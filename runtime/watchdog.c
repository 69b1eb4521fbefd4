/*
 * watchdog — a CPU-time limit for replays, which run without the count hook,
 * and for the engine's work inside a step (see host.trusted in sandbox.c).
 *
 * Owns: one thread that watches the replay (or step) in progress, and the
 * signal by which it stops one that overruns. A replay re-runs code that already ran
 * under the instruction budget (live, step by step, or in `drip migrate`'s
 * check on the version it moved to), so it needs no budget of its own; but a
 * count hook costs on every instruction, a fifth of a replay. This is the
 * guard in its place, should a journey's code not do the same thing twice:
 * once a replay has used more than `limit_ms` of the main thread's CPU time,
 * the thread signals the main thread, whose handler sets a hook on the
 * replaying coroutine that raises at its next instruction (and at every one
 * after, so a pcall in the journey cannot swallow it). Setting a hook from a
 * signal handler is what Lua's own interpreter does to stop a script.
 *
 * It also watches every resume, live or replay, for a stall: code stuck in
 * one call of C, where no hook runs (a string pattern that backtracks, such
 * as ("a"):rep(3000):find(".-.-.-.-b"), takes hours). The instruction budget
 * ends a Lua loop long before a resume has used `stall_ms` of CPU (10 s, or
 * DRIP_STALL_SECONDS), so a resume that has is stuck: the thread names the
 * journey and instance on stderr, writes the instance's id to the stall file
 * (set by drip.engine for a store on disk, which fails that instance at the
 * next start instead of running it again) and ends the process with status
 * 1. A stop with a message beats a process that hangs.
 * The thread is stopped and joined when this code is unloaded (the system
 * lua5.4 closing drip_host.so at exit) or the process exits, so that it never
 * runs on in code that is gone.
 */
#define _GNU_SOURCE
#include "watchdog.h"

#include <fcntl.h>
#include <lauxlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic(lua_State *) replaying; /* the coroutine of the replay (or step) in progress, or NULL */
static enum drip_guarded guarded;      /* what it runs */
static atomic_ulong replay_gen;        /* counts replays, so a tick tells one from the next */
static atomic_ulong overrun_gen;       /* the replay the watchdog asked to stop */
static atomic_int limit_ms = 2000;
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t limit_changed = PTHREAD_COND_INITIALIZER;
static pthread_t main_thread;
static clockid_t main_cpu;
static int started; /* 1: running, -1: could not start */
static pthread_t watcher;
static pid_t watcher_pid; /* the process the thread runs in (not a forked child) */
static atomic_int stopping;

static atomic_int resuming;           /* 1 while the main thread is in a resume */
static atomic_ulong resume_gen;       /* counts resumes */
static atomic_long noted_instance;    /* the instance the resume runs, 0 for a where() or segment */
static char noted_journey[128];       /* its journey (written by the main thread before the resume) */
static char stall_file[4096];         /* where to leave the stalled instance's id, or "" */
static long stall_ms = 10000;

static void overrun_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (guarded == DRIP_GUARD_STEP)
    luaL_error(L, "a step ran for more than %d ms of CPU (a metamethod of a value given to it that does not end?)",
               atomic_load(&limit_ms));
  luaL_error(L, "replay ran for more than %d ms of CPU without reaching the wait it sleeps in "
                "(journey code must do the same thing each time it runs)", atomic_load(&limit_ms));
}

static void on_overrun(int sig) {
  (void)sig;
  lua_State *co = atomic_load(&replaying);
  if (co && atomic_load(&replay_gen) == atomic_load(&overrun_gen)) lua_sethook(co, overrun_hook, LUA_MASKCOUNT, 1);
}

static long cpu_ms(void) {
  struct timespec ts;
  if (clock_gettime(main_cpu, &ts) != 0) return 0;
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Sleep a quarter of the limit (1 to 250 ms), or until the limit changes or
 * the thread is to stop. */
static void pause_tick(void) {
  long tick = atomic_load(&limit_ms) / 4;
  tick = tick < 1 ? 1 : (tick > 250 ? 250 : tick);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += tick * 1000000L;
  until.tv_sec += until.tv_nsec / 1000000000L;
  until.tv_nsec %= 1000000000L;
  pthread_mutex_lock(&limit_lock);
  if (!atomic_load(&stopping)) pthread_cond_timedwait(&limit_changed, &limit_lock, &until);
  pthread_mutex_unlock(&limit_lock);
}

/* A resume has stayed in C for stall_ms: say so, leave the instance's id
 * for the next start, and end the process. */
static void stalled(void) {
  long id = atomic_load(&noted_instance);
  char what[192];
  if (id > 0) snprintf(what, sizeof what, "journey '%s', instance %ld,", noted_journey, id);
  else snprintf(what, sizeof what, "a where() or segment function");
  if (id > 0 && stall_file[0]) {
    int fd = open(stall_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dprintf(fd, "%ld\n", id);
      fsync(fd);
      close(fd);
    }
  }
  dprintf(2, "drip: %s has run for %ld s inside one call of C code (a string pattern that backtracks?); "
             "stopping drip.%s\n", what, stall_ms / 1000,
          id > 0 && stall_file[0] ? " The next start fails that instance." : "");
  _exit(1);
}

static void *watch(void *arg) {
  (void)arg;
  unsigned long watched = 0, stall_watched = 0;
  long since = 0, stall_since = 0;
  for (;;) {
    pause_tick();
    if (atomic_load(&stopping)) return NULL;
    long now = cpu_ms();
    if (atomic_load(&resuming)) {
      unsigned long rgen = atomic_load(&resume_gen);
      if (rgen != stall_watched) {
        stall_watched = rgen;
        stall_since = now;
      } else if (now - stall_since >= stall_ms) {
        stalled();
      }
    }
    int limit = atomic_load(&limit_ms);
    unsigned long gen = atomic_load(&replay_gen);
    if (!atomic_load(&replaying)) continue;
    if (gen != watched) { /* a replay this thread has not seen yet: start its clock */
      watched = gen;
      since = now;
    } else if (now - since >= limit && atomic_load(&overrun_gen) != gen) {
      atomic_store(&overrun_gen, gen);
      pthread_kill(main_thread, SIGRTMIN + 2);
    }
  }
  return NULL;
}

static int start(void) {
  const char *s = getenv("DRIP_STALL_SECONDS");
  if (s && atol(s) > 0) stall_ms = atol(s) * 1000;
  main_thread = pthread_self();
  if (pthread_getcpuclockid(main_thread, &main_cpu) != 0) return -1;
  struct sigaction sa = {0};
  sa.sa_handler = on_overrun;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGRTMIN + 2, &sa, NULL) != 0) return -1;
  sigset_t all, old; /* the thread takes no signal meant for the process */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&watcher, NULL, watch, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) return -1;
  watcher_pid = getpid();
  return 1;
}

/* Wake the thread, wait for it to end, and take our signal handler away. */
__attribute__((destructor)) static void stop(void) {
  if (started != 1 || watcher_pid != getpid()) return;
  pthread_mutex_lock(&limit_lock);
  atomic_store(&stopping, 1);
  pthread_cond_broadcast(&limit_changed);
  pthread_mutex_unlock(&limit_lock);
  pthread_join(watcher, NULL);
  signal(SIGRTMIN + 2, SIG_IGN);
  started = 0;
}

static int on_main_thread(void) {
  if (!started) started = start();
  return started > 0 && pthread_equal(pthread_self(), main_thread);
}

int drip_watchdog_arm(lua_State *co, enum drip_guarded what) {
  if (!on_main_thread() || atomic_load(&replaying)) return 0;
  guarded = what;
  atomic_fetch_add(&replay_gen, 1);
  atomic_store(&replaying, co);
  return 1;
}

void drip_watchdog_disarm(lua_State *co) {
  atomic_store(&replaying, NULL);
  lua_sethook(co, NULL, 0, 0); /* a stop that came as the replay ended */
}

int drip_watchdog_end_step(lua_State *co) {
  atomic_store(&replaying, NULL);
  return lua_gethook(co) == overrun_hook;
}

void drip_watchdog_resume_begin(void) {
  if (!on_main_thread()) return;
  atomic_fetch_add(&resume_gen, 1);
  atomic_store(&resuming, 1);
}

void drip_watchdog_resume_end(void) {
  atomic_store(&resuming, 0);
  atomic_store(&noted_instance, 0);
}

void drip_watchdog_note(long instance, const char *journey) {
  snprintf(noted_journey, sizeof noted_journey, "%s", journey);
  atomic_store(&noted_instance, instance);
}

void drip_watchdog_set_stall_file(const char *path) { snprintf(stall_file, sizeof stall_file, "%s", path); }

int drip_watchdog_set_limit(int ms) {
  int old = atomic_exchange(&limit_ms, ms);
  pthread_mutex_lock(&limit_lock);
  pthread_cond_broadcast(&limit_changed);
  pthread_mutex_unlock(&limit_lock);
  return old;
}
