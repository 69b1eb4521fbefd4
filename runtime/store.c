/*
 * store — the SQLite binding the engine's store module (stdlib/drip/store.lua)
 * is written on.
 *
 * Owns: database handles and prepared statements as Lua userdata, binding Lua
 * values to parameters and reading rows back. It knows no schema: tables,
 * pragmas and queries belong to store.lua. A statement holds a reference to
 * its database (user value), so the database outlives every statement.
 */
#include "host.h"

#include <lauxlib.h>
#include <sqlite3.h>

#define DB_MT "drip.db"
#define STMT_MT "drip.stmt"

typedef struct {
  sqlite3 *db;
} db_ud;

typedef struct {
  sqlite3_stmt *stmt;
  sqlite3 *db; /* borrowed: the db userdata is pinned as our user value */
} stmt_ud;

static db_ud *check_db(lua_State *L, int idx) {
  db_ud *d = luaL_checkudata(L, idx, DB_MT);
  if (!d->db) luaL_error(L, "database is closed");
  return d;
}

static stmt_ud *check_stmt(lua_State *L, int idx) {
  stmt_ud *s = luaL_checkudata(L, idx, STMT_MT);
  if (!s->stmt) luaL_error(L, "statement is finalized");
  return s;
}

/* the first 80 bytes of a statement, for an error message: on one line,
 * each run of blanks and line breaks as one space, and cut at a UTF-8
 * character's start */
static const char *sql_head(char *buf, size_t size, const char *sql) {
  size_t n = 0;
  int blank = 0;
  if (!sql) sql = "?";
  for (; *sql && n + 1 < size && n < 80; sql++) {
    int is_blank = *sql == ' ' || *sql == '\n' || *sql == '\r' || *sql == '\t';
    if (is_blank && (blank || n == 0)) continue;
    blank = is_blank;
    buf[n++] = is_blank ? ' ' : *sql;
  }
  size_t start = n; /* of the last character: back over its continuation bytes to its lead byte */
  while (start > 0 && ((unsigned char)buf[start - 1] & 0xC0) == 0x80) start--;
  if (start > 0 && (unsigned char)buf[start - 1] >= 0xC0) {
    unsigned char lead = (unsigned char)buf[--start];
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (n - start < len) n = start; /* cut inside it: leave it out */
  }
  buf[n] = '\0';
  return buf;
}

static int fail(lua_State *L, sqlite3 *db, const char *sql) {
  char head[96];
  return luaL_error(L, "sqlite: %s (in: %s)", sqlite3_errmsg(db), sql_head(head, sizeof head, sql));
}

/* SQL drip_bucket(text, n): host.bucket's integer in [0, n) for a text
 * (NULL for NULL), so that a query can take one partition of the contacts. */
static void sql_bucket(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  sqlite3_int64 n = sqlite3_value_int64(argv[1]);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || n <= 0) {
    sqlite3_result_null(ctx);
    return;
  }
  const unsigned char *text = sqlite3_value_text(argv[0]);
  int len = sqlite3_value_bytes(argv[0]);
  sqlite3_result_int64(ctx, (sqlite3_int64)(drip_fnv1a(text, (size_t)len) % (uint64_t)n));
}

/* host.open(path) -> db */
static int l_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  db_ud *d = lua_newuserdatauv(L, sizeof *d, 0);
  d->db = NULL;
  luaL_setmetatable(L, DB_MT);
  int rc = sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    const char *msg = d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc);
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, msg);
    sqlite3_close_v2(d->db);
    d->db = NULL;
    return 2;
  }
  sqlite3_busy_timeout(d->db, 5000);
  sqlite3_create_function_v2(d->db, "drip_bucket", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_bucket, NULL, NULL,
                             NULL);
  return 1;
}

/* db:exec(sql): runs one or more statements without results */
static int l_db_exec(lua_State *L) {
  db_ud *d = check_db(L, 1);
  const char *sql = luaL_checkstring(L, 2);
  char *err = NULL;
  if (sqlite3_exec(d->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    char head[96];
    lua_pushfstring(L, "sqlite: %s (in: %s)", err ? err : "error", sql_head(head, sizeof head, sql));
    sqlite3_free(err);
    return lua_error(L);
  }
  return 0;
}

/* db:prepare(sql) -> stmt */
static int l_db_prepare(lua_State *L) {
  db_ud *d = check_db(L, 1);
  size_t len;
  const char *sql = luaL_checklstring(L, 2, &len);
  stmt_ud *s = lua_newuserdatauv(L, sizeof *s, 1);
  s->stmt = NULL;
  s->db = d->db;
  luaL_setmetatable(L, STMT_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1); /* pin the db */
  if (sqlite3_prepare_v3(d->db, sql, (int)len + 1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL) != SQLITE_OK)
    return fail(L, d->db, sql);
  return 1;
}

static int l_db_last_id(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sqlite3_last_insert_rowid(check_db(L, 1)->db));
  return 1;
}

static int l_db_changes(lua_State *L) {
  lua_pushinteger(L, sqlite3_changes(check_db(L, 1)->db));
  return 1;
}

static int l_db_close(lua_State *L) {
  db_ud *d = luaL_checkudata(L, 1, DB_MT);
  if (d->db) sqlite3_close_v2(d->db); /* deferred until statements finalize */
  d->db = NULL;
  return 0;
}

/* a text view's bytes to parameter i (an error once its reader has read past them) */
static int bind_view(lua_State *L, sqlite3_stmt *st, int i, const drip_text_view *view) {
  if (!view->p) {
    sqlite3_reset(st);
    luaL_error(L, "sqlite: parameter %d is a line the events reader has read past", i);
  }
  return sqlite3_bind_text(st, i, view->p, (int)view->len, SQLITE_STATIC);
}

/* Bind arguments first..top of the Lua stack to parameters 1..n (every
 * parameter, nil past the last argument; a text view as its text). Text is
 * bound without a copy: the strings (and the lines views stand for) stay put
 * for the whole call that steps the statement, and every call binds every
 * parameter again before its first step. */
static void bind_args(lua_State *L, stmt_ud *s, int first) {
  sqlite3_stmt *st = s->stmt;
  int n = lua_gettop(L) - first + 1;
  int want = sqlite3_bind_parameter_count(st);
  if (n > want) {
    char head[96];
    luaL_error(L, "sqlite: %d values for %d parameters (in: %s)", n, want, sql_head(head, sizeof head, sqlite3_sql(st)));
  }
  for (int i = 1; i <= want; i++) {
    int idx = first + i - 1;
    int rc;
    const drip_text_view *view;
    switch (i <= n ? lua_type(L, idx) : LUA_TNIL) {
    case LUA_TNIL: rc = sqlite3_bind_null(st, i); break;
    case LUA_TBOOLEAN: rc = sqlite3_bind_int(st, i, lua_toboolean(L, idx)); break;
    case LUA_TNUMBER:
      rc = lua_isinteger(L, idx) ? sqlite3_bind_int64(st, i, lua_tointeger(L, idx))
                                 : sqlite3_bind_double(st, i, lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *str = lua_tolstring(L, idx, &len);
      rc = sqlite3_bind_text(st, i, str, (int)len, SQLITE_STATIC);
      break;
    }
    case LUA_TUSERDATA: /* (a text view; no other userdata binds) */
      view = drip_to_text_view(L, idx);
      if (view) {
        rc = bind_view(L, st, i, view);
        break;
      }
      /* fall through */
    default:
      sqlite3_reset(st);
      luaL_error(L, "sqlite: cannot bind a %s to parameter %d", luaL_typename(L, idx), i);
      return;
    }
    if (rc != SQLITE_OK) {
      sqlite3_reset(st);
      fail(L, s->db, sqlite3_sql(st));
    }
  }
}

static void push_column(lua_State *L, sqlite3_stmt *st, int i) {
  switch (sqlite3_column_type(st, i)) {
  case SQLITE_INTEGER: lua_pushinteger(L, (lua_Integer)sqlite3_column_int64(st, i)); break;
  case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(st, i)); break;
  case SQLITE_NULL: lua_pushnil(L); break;
  default:
    lua_pushlstring(L, (const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
  }
}

/* Step once; raises on error (after resetting so the statement is reusable). */
static int step(lua_State *L, stmt_ud *s) {
  int rc = sqlite3_step(s->stmt);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return rc;
  sqlite3_reset(s->stmt);
  return fail(L, s->db, sqlite3_sql(s->stmt));
}

/* Step the bound statement to its end, then reset it. */
static void run_to_end(lua_State *L, stmt_ud *s) {
  while (step(L, s) == SQLITE_ROW) {
  }
  sqlite3_reset(s->stmt);
}

/* stmt:run(...) -> number of rows changed */
static int l_stmt_run(lua_State *L) {
  stmt_ud *s = check_stmt(L, 1);
  bind_args(L, s, 2);
  run_to_end(L, s);
  lua_pushinteger(L, sqlite3_changes(s->db));
  return 1;
}

void drip_stmt_run(lua_State *L, int idx, const drip_sql_value *values, int n) {
  stmt_ud *s = check_stmt(L, idx);
  for (int i = 0; i < n; i++) {
    int rc = values[i].p ? sqlite3_bind_text(s->stmt, i + 1, values[i].p, (int)values[i].len, SQLITE_STATIC)
                         : sqlite3_bind_int64(s->stmt, i + 1, values[i].i);
    if (rc != SQLITE_OK) {
      sqlite3_reset(s->stmt);
      fail(L, s->db, sqlite3_sql(s->stmt));
    }
  }
  run_to_end(L, s);
}

/* stmt:first(...) -> the columns of the first row, or nothing */
static int l_stmt_first(lua_State *L) {
  stmt_ud *s = check_stmt(L, 1);
  bind_args(L, s, 2);
  int n = 0;
  if (step(L, s) == SQLITE_ROW) {
    n = sqlite3_column_count(s->stmt);
    luaL_checkstack(L, n, "too many columns");
    for (int i = 0; i < n; i++) push_column(L, s->stmt, i);
  }
  sqlite3_reset(s->stmt);
  return n;
}

/* stmt:all(...) -> { {col1, col2, ...}, ... } (nil columns leave holes) */
static int l_stmt_all(lua_State *L) {
  stmt_ud *s = check_stmt(L, 1);
  bind_args(L, s, 2);
  lua_newtable(L);
  int ncol = sqlite3_column_count(s->stmt);
  lua_Integer row = 0;
  while (step(L, s) == SQLITE_ROW) {
    lua_createtable(L, ncol, 0);
    for (int i = 0; i < ncol; i++) {
      push_column(L, s->stmt, i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_rawseti(L, -2, ++row);
  }
  sqlite3_reset(s->stmt);
  return 1;
}

/* stmt:column(...) -> { first column of row 1, of row 2, ... } */
static int l_stmt_column(lua_State *L) {
  stmt_ud *s = check_stmt(L, 1);
  bind_args(L, s, 2);
  lua_newtable(L);
  lua_Integer row = 0;
  while (step(L, s) == SQLITE_ROW) {
    push_column(L, s->stmt, 0);
    lua_rawseti(L, -2, ++row);
  }
  sqlite3_reset(s->stmt);
  return 1;
}

/* stmt:events(mt, ...) -> list, last: the statement's rows (position, event
 * body), each body a track event in the plain form made ready as
 * host.plain_event makes it (metatable mt), else left as its text for
 * drip.events to decode; last: the position of the last row (0: none). One
 * call a page of a replay, with no table per row but the event. */
static int l_stmt_events(lua_State *L) {
  stmt_ud *s = check_stmt(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  bind_args(L, s, 3);
  lua_newtable(L); /* stack: ..., list */
  lua_Integer n = 0, last = 0;
  while (step(L, s) == SQLITE_ROW) {
    last = sqlite3_column_int64(s->stmt, 0);
    const char *body = (const char *)sqlite3_column_text(s->stmt, 1);
    size_t len = (size_t)sqlite3_column_bytes(s->stmt, 1);
    drip_plain_event e; /* (a track event has no traits: no metatable of empty arrays is read) */
    if (!body || drip_event_parse(body, len, &e) != DRIP_TRACK || !drip_push_event(L, &e, body, len, 2, 2))
      lua_pushlstring(L, body ? body : "", len);
    lua_rawseti(L, -2, ++n);
  }
  sqlite3_reset(s->stmt);
  lua_pushinteger(L, last);
  return 2;
}

static int l_stmt_gc(lua_State *L) {
  stmt_ud *s = luaL_checkudata(L, 1, STMT_MT);
  sqlite3_finalize(s->stmt); /* accepts NULL */
  s->stmt = NULL;
  return 0;
}

static const luaL_Reg db_methods[] = {
    {"exec", l_db_exec}, {"prepare", l_db_prepare}, {"last_id", l_db_last_id},
    {"changes", l_db_changes}, {"close", l_db_close}, {NULL, NULL}};

static const luaL_Reg stmt_methods[] = {
    {"run", l_stmt_run}, {"first", l_stmt_first}, {"all", l_stmt_all}, {"column", l_stmt_column},
    {"events", l_stmt_events}, {NULL, NULL}};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}

/* Each database handle is used by the one thread that runs Lua, so SQLite
 * needs no mutex per call, nor memory statistics (a mutex per allocation):
 * about 6% of simulate's instructions. Only possible before SQLite starts;
 * if something in this process started it already, it keeps its defaults. */
static void configure_sqlite(void) {
  static int done;
  if (done) return;
  done = 1;
  if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) == SQLITE_OK) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void drip_store_register(lua_State *L) {
  configure_sqlite();
  new_class(L, DB_MT, db_methods, l_db_close);
  new_class(L, STMT_MT, stmt_methods, l_stmt_gc);
  lua_pushcfunction(L, l_open);
  lua_setfield(L, -2, "open");
}
