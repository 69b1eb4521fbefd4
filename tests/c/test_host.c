/*
 * test_host — unit tests of the C host: the allocator ceiling, the
 * instruction budget, journey error values, the memory a step may take, the
 * replay watchdog, the SQLite binding, the timer heap, zoneinfo, JSON string
 * quoting, the UTF-8 check and the reading of a cgroup's CPU quota.
 * Each test drives the `drip_host` module from a small Lua snippet and
 * checks what comes back in C.
 */
#include "host.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

static lua_State *new_state(size_t limit) {
  lua_State *L = drip_host_newstate(limit);
  luaL_openlibs(L);
  luaL_requiref(L, "drip_host", luaopen_drip_host, 1);
  lua_pop(L, 1);
  return L;
}

/* Run a chunk returning one string (or the error message); never NULL. */
static const char *eval(lua_State *L, const char *code) {
  lua_settop(L, 0);
  (void)luaL_dostring(L, code);
  const char *r = lua_tostring(L, -1);
  return r ? r : "(no result)";
}

static void test_budget(void) {
  lua_State *L = new_state(0);
  const char *r = eval(L, "local h = require 'drip_host'\n"
                          "local co = coroutine.create(function() pcall(function() while true do end end) return 'escaped' end)\n"
                          "local ok, err = h.resume(co)\n"
                          "return tostring(ok) .. ' ' .. err");
  CHECK(strstr(r, "false") == r, "got %s", r);
  CHECK(strstr(r, "instruction budget exceeded"), "got %s", r);
  CHECK(strstr(r, "stack traceback"), "no traceback in %s", r);
  r = eval(L, "local h = require 'drip_host'\n"
              "local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)\n"
              "local _, x = h.resume(co, 1) local _, y = h.resume(co, 10)\n"
              "local dead_ok = h.resume(co)\n"
              "return x .. ' ' .. y .. ' ' .. tostring(dead_ok)");
  CHECK(strcmp(r, "2 20 false") == 0, "got %s", r);
  drip_host_close(L);
}

/* A journey's error value that is not a string still says what it was. */
static void test_error_values(void) {
  lua_State *L = new_state(0);
  const char *r = eval(L, "local h = require 'drip_host'\n"
                          "local function fail(v) local _, e = h.resume(coroutine.create(function() error(v) end))\n"
                          "  return (e:match('^[^\\n]*')) end\n"
                          "return fail({ code = 7 }) .. '|' .. fail() .. '|' .. fail(true) .. '|' .. fail(42)");
  CHECK(strcmp(r, "error object {\"code\":7}|(error object is a nil value)|(error object is a boolean value)|42") == 0,
        "got %s", r);
  drip_host_close(L);
}

/* A step may grow the state by at most DRIP_STEP_MEMORY_MB; the next step starts afresh. */
static void test_step_memory(void) {
  setenv("DRIP_STEP_MEMORY_MB", "8", 1);
  lua_State *L = new_state(0);
  const char *r = eval(L, "local h = require 'drip_host'\n"
                          "local function step(mb) return h.resume(coroutine.create(function()\n"
                          "  local t = {} for i = 1, mb do t[i] = string.rep('x', 1 << 20) .. i end return #t end)) end\n"
                          "local _, big = step(20) local ok, small = step(4) local ok2, again = step(6)\n"
                          "local _, engine = h.resume(coroutine.create(function() return h.trusted(function()\n"
                          "  local t = {} for i = 1, 20 do t[i] = string.rep('x', 1 << 20) .. i end return #t end) end))\n"
                          "return big:match('^[^\\n]*') .. '|' .. tostring(ok) .. ' ' .. small .. '|' .. tostring(ok2) .. ' ' .. again\n"
                          "  .. '|' .. engine:match('^[^\\n]*')");
  CHECK(strcmp(r, "not enough memory: one step may use at most 8 MiB (DRIP_STEP_MEMORY_MB)|true 4|true 6|"
                  "not enough memory: one step may use at most 8 MiB (DRIP_STEP_MEMORY_MB)") == 0,
        "got %s", r);
  drip_host_close(L);
  unsetenv("DRIP_STEP_MEMORY_MB");
  L = new_state(0); /* registering again restores the default for the tests after this one */
  drip_host_close(L);
}

/* A replay runs without the count hook; the watchdog stops one that runs
 * away, through a pcall, and lets one within its limit finish. */
static void test_replay_watchdog(void) {
  lua_State *L = new_state(0);
  const char *r = eval(L, "local h = require 'drip_host'\n"
                          "local old = h.set_replay_limit(30)\n"
                          "local co = coroutine.create(function() pcall(function() while true do end end) return 'escaped' end)\n"
                          "local ok, err = h.replay_resume(co)\n"
                          "h.set_replay_limit(old)\n"
                          "return tostring(ok) .. ' ' .. err");
  CHECK(strstr(r, "false") == r, "got %s", r);
  CHECK(strstr(r, "replay ran for more than 30 ms of CPU"), "got %s", r);
  r = eval(L, "local h = require 'drip_host'\n"
              "local co = coroutine.create(function(a) local n = 0 for i = 1, 1000000 do n = n + i end\n"
              "  local b = coroutine.yield(n) return b end)\n"
              "local _, x = h.replay_resume(co) local _, y = h.resume(co, 'live')\n"
              "return x .. ' ' .. y");
  CHECK(strcmp(r, "500000500000 live") == 0, "got %s", r);
  drip_host_close(L);
}

static void test_memory_ceiling(void) {
  lua_State *L = new_state((size_t)32 << 20);
  const char *r = eval(L, "local ok, err = pcall(string.rep, 'x', 64 * 1024 * 1024) return tostring(ok) .. ' ' .. tostring(err)");
  CHECK(strstr(r, "false not enough memory"), "got %s", r);
  CHECK(drip_host_memory_used(L) < ((size_t)32 << 20), "used %zu", drip_host_memory_used(L));
  r = eval(L, "return string.rep('y', 1024)");
  CHECK(strlen(r) == 1024, "state unusable after the refusal");
  drip_host_close(L);
}

static void test_store(void) {
  lua_State *L = new_state(0);
  const char *r = eval(L,
      "local h = require 'drip_host'\n"
      "local db = assert(h.open(':memory:'))\n"
      "db:exec('CREATE TABLE t (a INTEGER, b REAL, c TEXT, d)')\n"
      "local ins = db:prepare('INSERT INTO t VALUES (?, ?, ?, ?)')\n"
      "assert(ins:run(1, 2.5, 'سلام', nil) == 1)\n"
      "assert(ins:run(2, 0.5, 'Привет', true) == 1)\n"
      "local a, b, c, d = db:prepare('SELECT a, b, c, d FROM t WHERE a = ?'):first(1)\n"
      "assert(math.type(a) == 'integer' and b == 2.5 and c == 'سلام' and d == nil)\n"
      "local rows = db:prepare('SELECT c FROM t ORDER BY a'):all()\n"
      "assert(#rows == 2 and rows[2][1] == 'Привет')\n"
      "assert(db:prepare('SELECT a FROM t WHERE a = 9'):first() == nil)\n"
      "local ok, err = pcall(db.prepare, db, 'SELEC nonsense')\n"
      "assert(not ok and err:find('sqlite: near'), err)\n"
      "ok, err = pcall(ins.run, ins, {})\n"
      "assert(not ok and err:find('cannot bind a table'), err)\n"
      "return 'ok'");
  CHECK(strcmp(r, "ok") == 0, "%s", r);
  r = eval(L, "local h = require 'drip_host' local db, err = h.open('/nonexistent/dir/x.db') return tostring(db) .. ' ' .. err");
  CHECK(strstr(r, "nil /nonexistent/dir/x.db:"), "got %s", r);
  drip_host_close(L);
}

/* The timer heap (timers.c) against a sorted list, through pushes, removals
 * from anywhere, ordered reads with and without an end, and trims. */
static void test_timer_heap(void) {
  lua_State *L = new_state(0);
  const char *r = eval(L,
      "local heap = require('drip_host').timer_heap()\n"
      "local all, seed, next_id = {}, 7, 1\n"
      "local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end\n"
      "local function before(a, b) return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1]) end\n"
      "local function same(rows, want, what)\n"
      "  assert(#rows == #want, what .. ': ' .. #rows .. ' rows, not ' .. #want)\n"
      "  for i = 1, #want do\n"
      "    for k = 1, 5 do assert(rows[i][k] == want[i][k], what .. ': row ' .. i .. ' field ' .. k) end\n"
      "  end\n"
      "end\n"
      "for step = 1, 20000 do\n"
      "  local op = rand(10)\n"
      "  if op < 5 then\n"
      "    local due = rand(3) == 0 and rand(500) + 0.5 or rand(500)\n"
      "    local row = { next_id, due, rand(50) + 1, rand(4) ~= 0 and next_id or nil, rand(4) ~= 0 and 'wake' or 'expire' }\n"
      "    heap:push(row[1], row[2], row[3], row[4], row[5], rand(2) == 0)\n"
      "    next_id = next_id + 1\n"
      "    all[#all + 1] = row\n"
      "    table.sort(all, before)\n"
      "  elseif op < 8 and #all > 0 then\n"
      "    local i = rand(3) == 0 and rand(#all) + 1 or 1\n"
      "    assert(heap:remove(all[i][1]) ~= nil, 'step ' .. step .. ': held')\n"
      "    table.remove(all, i)\n"
      "  elseif op < 9 then\n"
      "    local limit, now = rand(8) + 1, rand(600)\n"
      "    local want = {}\n"
      "    for _, row in ipairs(all) do if row[2] > now or #want == limit then break end want[#want + 1] = row end\n"
      "    same(heap:rows(now, limit), want, 'step ' .. step)\n"
      "  elseif step % 50 == 0 then\n"
      "    heap:take_unwritten()\n"
      "    local size = rand(200) + 1\n"
      "    local due, id = heap:trim(size)\n"
      "    if #all > size then\n"
      "      assert(due == all[size][2] and id == all[size][1], 'step ' .. step .. ': the new end')\n"
      "      for i = #all, size + 1, -1 do all[i] = nil end\n"
      "    else assert(due == nil, 'step ' .. step .. ': nothing cut') end\n"
      "  end\n"
      "  same({ all[1] and { select(2, heap:first()), (heap:first()), select(3, heap:first()) } },\n"
      "       { all[1] and { all[1][1], all[1][2], all[1][3], all[1][4], all[1][5] } }, 'step ' .. step .. ': first')\n"
      "  assert(heap:counts() == #all, 'step ' .. step .. ': count')\n"
      "end\n"
      "assert(heap:remove(next_id) == nil)\n"
      "same(heap:rows(math.huge, #all + 1), all, 'all')\n"
      "if #all > 2 then same(heap:rows(math.huge, 99, all[2][2], all[2][1]), { all[1], all[2] }, 'up to an end') end\n"
      "heap:push(next_id, 1, 1, nil, 'wake', false)\n"
      "local ok, err = pcall(heap.trim, heap, 5)\n"
      "assert(not ok and err:find('not written yet'), tostring(err))\n"
      "return 'ok'");
  CHECK(strcmp(r, "ok") == 0, "%s", r);
  drip_host_close(L);
}

static void test_tz(void) {
  lua_State *L = new_state(0);
  /* 2026-11-01T12:00:00Z */
  const char *r = eval(L, "local h = require 'drip_host'\n"
                          "local _, _, _, H, M, _, _, off = h.tz_local('Asia/Tehran', 1793534400)\n"
                          "local _, _, _, H2, _, _, _, off2 = h.tz_local('Europe/Moscow', 1793534400)\n"
                          "local _, _, _, H3, _, _, _, off3 = h.tz_local('Europe/Berlin', 1782907200)\n"
                          "return string.format('%d:%02d %d %d %d %d %d', H, M, off, H2, off2, H3, off3)");
  CHECK(strcmp(r, "15:30 12600 15 10800 14 7200") == 0, "got %s", r); /* Berlin in July: CEST */
  r = eval(L, "local h = require 'drip_host'\n"
              "return tostring(h.tz_epoch('Asia/Tehran', 2026, 11, 1, 15, 30, 0)) .. ' ' .. tostring(h.tz_valid('Mars/Base')) .. ' ' .. tostring(h.tz_valid('../etc/passwd'))");
  CHECK(strcmp(r, "1793534400 false false") == 0, "got %s", r);
  drip_host_close(L);
}

static void test_quote(void) {
  lua_State *L = new_state(0);
  const char *r = eval(L, "return require('drip_host').quote('a\"b\\\\c\\n\\1 /x سلام')");
  CHECK(strcmp(r, "\"a\\\"b\\\\c\\n\\u0001 /x سلام\"") == 0, "got %s", r);
  drip_host_close(L);
}

/* UTF-8 as RFC 3629: Persian, Russian and emoji pass; Latin-1, a stray
 * continuation byte, overlong forms, surrogates, code points above U+10FFFF
 * and a sequence cut short are each found at their first byte. */
static void test_utf8(void) {
  static const struct { const char *text; size_t bad; } cases[] = {
      {"{\"first_name\":\"سلام\",\"x\":\"Привет 👋\"}", 0},
      {"0123456789abcdef0123456789", 0},
      {"Caf\xe9", 4},
      {"abcdefgh\x80", 9},
      {"\xc0\xaf", 1},
      {"x\xe0\x80\xaf", 2},
      {"\xed\xa0\x80", 1},
      {"\xf4\x90\x80\x80", 1},
      {"ok \xd0", 4},
      {"ok \xe2\x82", 4},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t bad = drip_utf8_error(cases[i].text, strlen(cases[i].text));
    CHECK(bad == cases[i].bad, "case %zu: got %zu, want %zu", i, bad, cases[i].bad);
  }
}

/* write `text` to dir/name, making the directories on the way */
static void put_file(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "mkdir -p \"$(dirname '%s/%s')\"", dir, name);
  CHECK(system(path) == 0, "%s", path);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* A cgroup tree made in a temporary directory: v2's cpu.max and v1's
 * cfs quota, on the process's cgroup or one above it, rounded up; none -> 0 */
static void test_cpu_quota(void) {
  char dir[] = "/tmp/drip_cpus_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char proc[600], root[600];
  snprintf(proc, sizeof proc, "%s/cgroup", dir);
  snprintf(root, sizeof root, "%s/fs", dir);

  put_file(dir, "cgroup", "0::/a/b\n");
  put_file(dir, "fs/a/b/cpu.max", "max 100000\n");
  CHECK(drip_cpu_quota(proc, root) == 0, "v2 with no limit: got %d", drip_cpu_quota(proc, root));
  put_file(dir, "fs/a/cpu.max", "150000 100000\n"); /* (the parent's limit applies too) */
  CHECK(drip_cpu_quota(proc, root) == 2, "v2 1.5 processors above: got %d", drip_cpu_quota(proc, root));
  put_file(dir, "fs/a/b/cpu.max", "50000 100000\n");
  CHECK(drip_cpu_quota(proc, root) == 1, "v2 half a processor: got %d", drip_cpu_quota(proc, root));

  put_file(dir, "cgroup", "12:cpuset:/c\n4:cpu,cpuacct:/c\n1:name=systemd:/c\n");
  put_file(dir, "fs/cpu,cpuacct/c/cpu.cfs_quota_us", "-1\n");
  put_file(dir, "fs/cpu,cpuacct/c/cpu.cfs_period_us", "100000\n");
  CHECK(drip_cpu_quota(proc, root) == 0, "v1 with no limit: got %d", drip_cpu_quota(proc, root));
  put_file(dir, "fs/cpu,cpuacct/c/cpu.cfs_quota_us", "300000\n");
  CHECK(drip_cpu_quota(proc, root) == 3, "v1 three processors: got %d", drip_cpu_quota(proc, root));

  snprintf(proc, sizeof proc, "%s/none", dir);
  CHECK(drip_cpu_quota(proc, root) == 0, "no /proc/self/cgroup: got %d", drip_cpu_quota(proc, root));
  char rm[600];
  snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
  CHECK(system(rm) == 0, "%s", rm);
}

int main(void) {
  test_budget();
  test_error_values();
  test_step_memory();
  test_replay_watchdog();
  test_memory_ceiling();
  test_store();
  test_timer_heap();
  test_tz();
  test_quote();
  test_utf8();
  test_cpu_quota();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("test_host: all checks passed\n");
  return 0;
}
