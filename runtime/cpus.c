/*
 * cpus — how many processors this process may keep busy.
 *
 * Owns: host.cpu_count, the processors of the process's CPU affinity
 * (taskset, a container's cpuset), fewer when its cgroup's CPU quota (a
 * container's --cpus) allows less. It reads only: cgroup v2's cpu.max and
 * v1's cpu.cfs_quota_us / cpu.cfs_period_us, of the process's cgroup and of
 * each one above it, whose limits apply too.
 */
#define _GNU_SOURCE
#include "host.h"

#include <lauxlib.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the first number of the file at `path` (and its second, when `second`),
 * or 0 when it cannot be read or begins with "max" (no limit) */
static int read_numbers(const char *path, long long *first, long long *second) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = second ? fscanf(f, "%lld %lld", first, second) : fscanf(f, "%lld", first);
  fclose(f);
  return second ? n == 2 : n == 1;
}

/* processors a quota of `quota` µs per `period` µs gives (rounded up), or
 * INT_MAX when there is none */
static int processors_of(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return INT_MAX;
  long long n = (quota + period - 1) / period;
  return n < INT_MAX ? (int)n : INT_MAX;
}

/* the number of the file `file` of the cgroup `dir` below `root` (and its
 * second number, when `second`): as read_numbers */
static int read_cgroup(const char *root, const char *dir, const char *file, long long *first, long long *second) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "%s%s/%s", root, dir, file);
  return n > 0 && (size_t)n < sizeof path && read_numbers(path, first, second);
}

/* the least quota set on `dir` (a cgroup's directory, below `root`) or on a
 * cgroup above it: INT_MAX when none is */
static int least_quota(const char *root, char *dir, int v2) {
  int least = INT_MAX;
  for (;;) {
    long long quota, period;
    int known = v2 ? read_cgroup(root, dir, "cpu.max", &quota, &period)
                   : read_cgroup(root, dir, "cpu.cfs_quota_us", &quota, NULL)
                       && read_cgroup(root, dir, "cpu.cfs_period_us", &period, NULL);
    int n = known ? processors_of(quota, period) : INT_MAX;
    if (n < least) least = n;
    char *slash = strrchr(dir, '/');
    if (!slash) return least;
    *slash = '\0'; /* (the root cgroup, "/", reads as "") */
  }
}

int drip_cpu_quota(const char *proc_cgroup, const char *cgroup_root) {
  FILE *f = fopen(proc_cgroup, "r");
  if (!f) return 0;
  char line[PATH_MAX + 128];
  int least = INT_MAX;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *controllers = strchr(line, ':');
    char *dir = controllers ? strchr(controllers + 1, ':') : NULL;
    if (!dir) continue;
    *dir++ = '\0';
    *controllers++ = '\0';
    char root[PATH_MAX];
    int n = INT_MAX;
    if (strcmp(line, "0") == 0 && *controllers == '\0') { /* v2: "0::/path" */
      n = least_quota(cgroup_root, dir, 1);
    } else if (strstr(controllers, "cpu") && snprintf(root, sizeof root, "%s/%s", cgroup_root, controllers) > 0) {
      char *c = controllers, *one; /* v1: "N:cpu,cpuacct:/path", mounted as cpu,cpuacct (or cpu) */
      while ((one = strsep(&c, ",")))
        if (strcmp(one, "cpu") == 0) n = least_quota(root, dir, 0);
    }
    if (n < least) least = n;
  }
  fclose(f);
  return least == INT_MAX ? 0 : least;
}

/* host.cpu_count() -> the processors this process may keep busy (at least 1) */
static int l_cpu_count(lua_State *L) {
  cpu_set_t set;
  long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
  int quota = drip_cpu_quota("/proc/self/cgroup", "/sys/fs/cgroup");
  if (quota > 0 && quota < n) n = quota;
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

void drip_cpus_register(lua_State *L) {
  lua_pushcfunction(L, l_cpu_count);
  lua_setfield(L, -2, "cpu_count");
}
