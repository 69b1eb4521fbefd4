/* jsonenc.c — host.encode_json(v): drip's deterministic JSON encoding in C.
 *
 * Owns the output format of drip.json.encode (records, history, outbox
 * messages, step results): object keys sorted bytewise, UTF-8 and '/' left
 * as they are, integral numbers without a fraction, NaN and infinities as
 * null, an empty table as {} (as [] when json.array marked it a list), a
 * table whose keys are exactly 1..n as an array. Returns nothing for a
 * table with keys of mixed types, which the Lua encoder handles (rare, and
 * sorted there by tostring), as it does an object of more than MAX_KEYS
 * keys. Also host.quote, and host.record_line and host.write_record: simulate's
 * JSON Lines record; and for records.c, which writes a record's history row
 * beside its line, the same encoding into a kept buffer (drip_encode_kept)
 * and the same line (drip_put_record).
 */
#include "host.h"

#include <lauxlib.h>
#include <lua.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_KEYS 65536 /* keys of one object held on Lua's stack (2 slots each) */

typedef struct {
  char *p;
  size_t len, cap;
  const void *path[MAX_DEPTH]; /* tables being encoded, outermost first */
  int depth;
  const char *error; /* set when encoding must stop */
  int mixed;         /* a table with non-string keys: leave it to Lua */
} out;

static void put(out *o, const char *s, size_t n) {
  if (o->error) return;
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + n) cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
      o->error = "out of memory";
      return;
    }
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static void put_char(out *o, char c) { put(o, &c, 1); }

/* the bytes a JSON string writes escaped: '"', '\\', control bytes and DEL */
static const unsigned char MUST_ESCAPE[256] = {[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1};

/* a JSON string: the bytes of MUST_ESCAPE escaped, runs of others copied whole */
static void put_quoted(out *o, const char *s, size_t n) {
  put_char(o, '"');
  size_t from = 0; /* start of the run not yet copied */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!MUST_ESCAPE[c]) continue;
    put(o, s + from, i - from);
    from = i + 1;
    char esc[8];
    switch (c) {
    case '"': put(o, "\\\"", 2); break;
    case '\\': put(o, "\\\\", 2); break;
    case '\n': put(o, "\\n", 2); break;
    case '\r': put(o, "\\r", 2); break;
    case '\t': put(o, "\\t", 2); break;
    default: put(o, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", c));
    }
  }
  put(o, s + from, n - from);
  put_char(o, '"');
}

/* an integer's decimal digits, written without printf (records hold many small ones) */
static void put_integer(out *o, long long v) {
  char digits[24], *end = digits + sizeof digits, *p = end;
  unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
  do *--p = (char)('0' + u % 10); while ((u /= 10) != 0);
  if (v < 0) *--p = '-';
  put(o, p, (size_t)(end - p));
}

static void put_number(out *o, lua_State *L, int idx) {
  if (lua_isinteger(L, idx)) {
    put_integer(o, (long long)lua_tointeger(L, idx));
    return;
  }
  double v = lua_tonumber(L, idx);
  if (isnan(v) || isinf(v)) {
    put(o, "null", 4);
  } else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
    put_integer(o, (long long)v);
  } else {
    char num[32];
    put(o, num, (size_t)snprintf(num, sizeof num, "%.14g", v));
  }
}

typedef struct {
  const char *s;
  size_t n;
  int slot; /* stack index of the key's value (put_object) */
} key;

static int key_cmp(const void *a, const void *b) {
  const key *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  if (c) return c;
  return (x->n > y->n) - (x->n < y->n);
}

static void put_value(out *o, lua_State *L, int idx);

/* keys exactly 1..n (n > 0) -> n, else 0 */
static lua_Integer array_length(lua_State *L, int t) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, t), count = 0;
  if (n == 0) return 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
      lua_pop(L, 1);
      return 0;
    }
    count++;
  }
  return count == n ? n : 0;
}

/* an empty table marked as a list (json.array: metatable __jsontype = "array") */
static int empty_array(lua_State *L, int t) {
  lua_pushnil(L);
  if (lua_next(L, t)) {
    lua_pop(L, 2);
    return 0;
  }
  if (!lua_getmetatable(L, t)) return 0;
  lua_getfield(L, -1, "__jsontype");
  int yes = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "array") == 0;
  lua_pop(L, 2);
  return yes;
}

/* keys with room for twice as many (the first beyond `small` on the heap),
 * or NULL with o->error set and the old list freed */
static key *more_keys(out *o, key *keys, key *small, size_t *cap) {
  key *more = malloc(*cap * 2 * sizeof *more);
  if (more) memcpy(more, keys, *cap * sizeof *keys);
  else o->error = "out of memory";
  if (keys != small) free(keys);
  *cap *= 2;
  return more;
}

/* An object: its string keys sorted, each with the value lua_next gave it.
 * The traversal leaves every key and value on the stack (a copy of the key
 * drives the next step), so the values are encoded from there, with no
 * lookup of each key again; a small object's keys are listed on the C stack. */
static void put_object(out *o, lua_State *L, int t) {
  enum { ON_STACK = 16 };
  key small[ON_STACK], *keys = small;
  size_t nkeys = 0, cap = ON_STACK;
  int base = lua_gettop(L);
  lua_pushnil(L);
  while (!o->error && lua_next(L, t)) {
    int kt = lua_type(L, -2);
    if (kt == LUA_TNUMBER) o->mixed = 1;
    if (kt == LUA_TSTRING) { /* other keys are not JSON (the Lua encoder skips them too) */
      if (nkeys == cap && !(keys = more_keys(o, keys, small, &cap))) break;
      keys[nkeys].s = lua_tolstring(L, -2, &keys[nkeys].n); /* alive: on the stack */
      keys[nkeys].slot = lua_gettop(L);
      nkeys++;
      if (nkeys == MAX_KEYS || !lua_checkstack(L, 3)) { /* a huge object: the Lua encoder takes it */
        o->mixed = 1;
        break;
      }
      lua_pushvalue(L, -2); /* the key and its value stay; a copy goes on */
    } else {
      lua_pop(L, 1);
    }
  }
  if (!o->error && !o->mixed) {
    qsort(keys, nkeys, sizeof *keys, key_cmp);
    put_char(o, '{');
    for (size_t i = 0; i < nkeys && !o->error && !o->mixed; i++) {
      if (i) put_char(o, ',');
      put_quoted(o, keys[i].s, keys[i].n);
      put_char(o, ':');
      put_value(o, L, keys[i].slot);
    }
    put_char(o, '}');
  }
  lua_settop(L, base);
  if (keys != small) free(keys);
}

static void put_table(out *o, lua_State *L, int t) {
  const void *self = lua_topointer(L, t);
  for (int i = 0; i < o->depth; i++) {
    if (o->path[i] == self) {
      o->error = "cannot encode a table that contains itself";
      return;
    }
  }
  if (o->depth == MAX_DEPTH) {
    o->error = "cannot encode tables nested more than 64 deep";
    return;
  }
  if (!lua_checkstack(L, 4)) {
    o->error = "out of stack";
    return;
  }
  o->path[o->depth++] = self;
  lua_Integer n = array_length(L, t);
  if (n == 0 && empty_array(L, t)) {
    put(o, "[]", 2);
  } else if (n > 0) {
    put_char(o, '[');
    for (lua_Integer i = 1; i <= n && !o->error && !o->mixed; i++) {
      if (i > 1) put_char(o, ',');
      lua_rawgeti(L, t, i);
      put_value(o, L, lua_gettop(L));
      lua_pop(L, 1);
    }
    put_char(o, ']');
  } else {
    put_object(o, L, t);
  }
  o->depth--;
}

static void put_value(out *o, lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    put_quoted(o, s, n);
    break;
  }
  case LUA_TNUMBER: put_number(o, L, idx); break;
  case LUA_TBOOLEAN: lua_toboolean(L, idx) ? put(o, "true", 4) : put(o, "false", 5); break;
  case LUA_TNIL: put(o, "null", 4); break;
  case LUA_TLIGHTUSERDATA: /* lua-cjson's null */
    if (lua_touserdata(L, idx) == NULL) {
      put(o, "null", 4);
      break;
    }
    /* fall through */
  default:
    if (lua_type(L, idx) == LUA_TTABLE) {
      put_table(o, L, idx);
    } else if (!o->error) {
      o->error = lua_typename(L, lua_type(L, idx));
      o->mixed = -1; /* error message names the type */
    }
  }
}

/* Raise the error that stopped o's encoding (o->error is cleared first) */
static int raise_encode_error(lua_State *L, out *o) {
  const char *error = o->error;
  o->error = NULL;
  if (o->mixed == -1) lua_pushfstring(L, "cannot encode a %s as JSON", error);
  else lua_pushstring(L, error);
  return lua_error(L);
}

/* host.encode_json(v) -> text | nothing (mixed keys: the caller's job); raises on what JSON cannot hold */
int drip_encode_json(lua_State *L) {
  luaL_checkany(L, 1);
  out o = {0};
  put_value(&o, L, 1);
  if (o.error) {
    free(o.p);
    return raise_encode_error(L, &o);
  }
  if (o.mixed) {
    free(o.p);
    return 0;
  }
  lua_pushlstring(L, o.p ? o.p : "", o.len);
  free(o.p);
  return 1;
}

/* push what o holds as a string and free it, or raise its error */
static int push_out(lua_State *L, out *o) {
  if (o->error) {
    free(o->p);
    return luaL_error(L, "%s", o->error);
  }
  lua_pushlstring(L, o->p ? o->p : "", o->len);
  free(o->p);
  return 1;
}

/* host.quote(s) -> s as a JSON string (the same escaping as encode_json) */
int drip_quote_json(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  out o = {0};
  put_quoted(&o, s, n);
  return push_out(L, &o);
}

/* A record as one JSON line with its line end into o: at, contact and
 * journey (each left out when NULL), kind, then the members of fields (an
 * object, already encoded). */
static void put_record(out *o, const drip_record_text *r) {
  static const char *const names[] = {"{\"at\":", ",\"contact\":", ",\"journey\":", ",\"kind\":"};
  const char *const values[] = {r->at, r->contact, r->journey, r->kind};
  const size_t lens[] = {r->at_len, r->contact_len, r->journey_len, r->kind_len};
  for (int i = 0; i < 4; i++) {
    if (!values[i]) continue;
    put(o, names[i], strlen(names[i]));
    put_quoted(o, values[i], lens[i]);
  }
  if (r->fields_len > 2) { /* '{...}' with members: its members after a comma */
    put_char(o, ',');
    put(o, r->fields + 1, r->fields_len - 1);
  } else {
    put_char(o, '}');
  }
  put_char(o, '\n');
}

/* The record of the arguments at 1..5 (at, contact, journey, kind,
 * fields_json) into o (see put_record). 0 when contact or journey is neither
 * a string nor nil (drip.report then writes it). */
static int record_line(lua_State *L, out *o) {
  drip_record_text r = {0};
  r.at = luaL_checklstring(L, 1, &r.at_len);
  r.kind = luaL_checklstring(L, 4, &r.kind_len);
  r.fields = luaL_checklstring(L, 5, &r.fields_len);
  for (int i = 2; i <= 3; i++)
    if (!lua_isnil(L, i) && lua_type(L, i) != LUA_TSTRING) return 0;
  r.contact = lua_tolstring(L, 2, &r.contact_len);
  r.journey = lua_tolstring(L, 3, &r.journey_len);
  put_record(o, &r);
  return 1;
}

/* host.record_line(at, contact, journey, kind, fields_json) -> the record's
 * line (see record_line), or nothing for an odd contact or journey. The same
 * text as report.jsonl in Lua, without the pieces. */
int drip_record_line(lua_State *L) {
  out o = {0};
  if (!record_line(L, &o)) return 0;
  return push_out(L, &o);
}

/* Why writing a record to stdout failed (a closed stdout, a full disk), or "" */
static char write_failure[128];

/* Write the line in o to stdout: 0 when o ran out of memory. A line stdout
 * does not take is noted for host.write_failure, not raised. */
static int write_line(out *o) {
  if (o->error) {
    o->error = NULL;
    return 0;
  }
  if (fwrite(o->p, 1, o->len, stdout) != o->len && !write_failure[0])
    snprintf(write_failure, sizeof write_failure, "%s", strerror(errno));
  return 1;
}

/* host.write_record(at, contact, journey, kind, fields_json) -> true once the
 * record's line (see record_line) is written to stdout (the FILE that Lua's
 * io.stdout writes too), or nothing for an odd contact or journey. No string
 * is made: simulate writes a line per record. The line is built in a buffer
 * kept from call to call. A line stdout does not take is not an error here
 * (inside a journey's step, it would fail the instance): host.write_failure
 * tells the command, which stops. */
int drip_write_record(lua_State *L) {
  static out line;
  line.len = 0;
  if (!record_line(L, &line)) return 0;
  if (!write_line(&line)) return luaL_error(L, "out of memory");
  lua_pushboolean(L, 1);
  return 1;
}

/* Write the record r's line to stdout as host.write_record does: 0 only when
 * out of memory. */
int drip_put_record(const drip_record_text *r) {
  static out line;
  line.len = 0;
  put_record(&line, r);
  return write_line(&line);
}

/* The JSON text of the value at idx (as host.encode_json makes it) in a
 * buffer kept from call to call: valid until the next call. NULL when the
 * Lua encoder must make it (a table with keys of mixed types); raises on
 * what JSON cannot hold. */
const char *drip_encode_kept(lua_State *L, int idx, size_t *len) {
  static out o;
  o.len = 0;
  o.depth = 0;
  o.mixed = 0;
  put_value(&o, L, idx);
  if (o.error) return (raise_encode_error(L, &o), NULL);
  if (o.mixed) return NULL;
  *len = o.len;
  return o.p ? o.p : "";
}

/* host.write_failure() -> why a record could not be written to stdout (also
 * by Lua's io.stdout, which leaves stdout's error flag), or nil */
int drip_write_failure(lua_State *L) {
  if (!write_failure[0] && ferror(stdout)) snprintf(write_failure, sizeof write_failure, "a write failed");
  if (!write_failure[0]) return 0;
  lua_pushstring(L, write_failure);
  return 1;
}
