/* jsondec.c — host.decode_json(text, array_mt): drip's quick JSON decoding in C.
 *
 * Owns the common case of drip.json.decode: strict JSON (RFC 8259) made into
 * Lua values exactly as lua-cjson makes them (numbers as floats, null as
 * cjson.null, the last of a repeated key) and an empty array as a table with
 * metatable array_mt (json.array). It answers only when sure: anything else
 * (a surrogate \u escape, which lua-cjson pairs its own way; a control byte
 * in a string; a number outside JSON's grammar; nesting deeper than 64; text
 * after the value) returns nothing, and drip.json decodes with lua-cjson,
 * which also words the error of a bad text. Strings without escapes are
 * pushed straight from the text; tables are made with room for a few keys.
 */
#include "host.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 64, MAX_NUMBER = 64 };

typedef struct {
  const char *p, *end;
  int depth;
  int array_mt; /* stack index of the metatable for empty arrays */
} reader;

static void skip_space(reader *r) { r->p = drip_json_space_end(r->p, r->end); }

/* the rest of a string with escapes, from its first backslash at r->p */
static int escaped_string(lua_State *L, reader *r, const char *start) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, start, (size_t)(r->p - start));
  while (r->p < r->end) {
    unsigned char c = (unsigned char)*r->p;
    if (c == '"') {
      r->p++;
      luaL_pushresult(&b);
      return 1;
    }
    if (c < 0x20) return 0;
    if (c != '\\') {
      luaL_addchar(&b, (char)c);
      r->p++;
      continue;
    }
    if (r->end - r->p < 2) return 0;
    char e = r->p[1], out;
    switch (e) {
    case '"': out = '"'; break;
    case '\\': out = '\\'; break;
    case '/': out = '/'; break;
    case 'b': out = '\b'; break;
    case 'f': out = '\f'; break;
    case 'n': out = '\n'; break;
    case 'r': out = '\r'; break;
    case 't': out = '\t'; break;
    case 'u': {
      unsigned cp;
      if (r->end - r->p < 6 || !drip_hex4(r->p + 2, &cp) || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
      lua_pushfstring(L, "%U", (long)cp); /* (Lua's own UTF-8 of a code point) */
      luaL_addvalue(&b);
      r->p += 6;
      continue;
    }
    default: return 0;
    }
    luaL_addchar(&b, out);
    r->p += 2;
  }
  return 0;
}

/* a string at r->p (its opening quote), pushed */
static int string_value(lua_State *L, reader *r) {
  const char *start = ++r->p;
  while (r->p < r->end) {
    unsigned char c = (unsigned char)*r->p;
    if (c == '"') {
      lua_pushlstring(L, start, (size_t)(r->p - start));
      r->p++;
      return 1;
    }
    if (c == '\\') return escaped_string(L, r, start);
    if (c < 0x20) return 0;
    r->p++;
  }
  return 0;
}

/* a number (JSON's grammar), pushed as a float as lua-cjson does */
static int number_value(lua_State *L, reader *r) {
  const char *s = r->p, *after = drip_json_number_end(r->p, r->end);
  if (!after || after - s >= MAX_NUMBER) return 0;
  size_t n = (size_t)(after - s);
  char text[MAX_NUMBER];
  memcpy(text, s, n);
  text[n] = '\0';
  lua_pushnumber(L, strtod(text, NULL));
  r->p = after;
  return 1;
}

static int literal(reader *r, const char *word, size_t n) {
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return 0;
  r->p += n;
  return 1;
}

static int value(lua_State *L, reader *r);

/* At the start of a container's items: 1 and past it when the container
 * closes at once (close: '}' or ']'). */
static int closes_at_once(reader *r, char close) {
  r->p++;
  skip_space(r);
  if (r->p >= r->end || *r->p != close) return 0;
  r->p++;
  return 1;
}

/* After an item: 1 when another follows (past its comma), 0 when the
 * container closed (past `close`), -1 for anything else. */
static int next_item(reader *r, char close) {
  skip_space(r);
  if (r->p >= r->end) return -1;
  char c = *r->p++;
  if (c == close) return 0;
  if (c != ',') return -1;
  skip_space(r);
  return 1;
}

/* the members after '{', pushed as a table */
static int object_value(lua_State *L, reader *r) {
  lua_createtable(L, 0, 4);
  if (closes_at_once(r, '}')) return 1;
  for (;;) {
    if (r->p >= r->end || *r->p != '"' || !string_value(L, r)) return 0;
    skip_space(r);
    if (r->p >= r->end || *r->p++ != ':') return 0;
    skip_space(r);
    if (!value(L, r)) return 0;
    lua_rawset(L, -3);
    int more = next_item(r, '}');
    if (more <= 0) return more == 0;
  }
}

/* the elements after '[', pushed as a table (marked when empty) */
static int array_value(lua_State *L, reader *r) {
  lua_createtable(L, 4, 0);
  if (closes_at_once(r, ']')) {
    lua_pushvalue(L, r->array_mt);
    lua_setmetatable(L, -2);
    return 1;
  }
  for (lua_Integer i = 1;; i++) {
    if (!value(L, r)) return 0;
    lua_rawseti(L, -2, i);
    int more = next_item(r, ']');
    if (more <= 0) return more == 0;
  }
}

static int value(lua_State *L, reader *r) {
  if (r->p >= r->end || !lua_checkstack(L, 3)) return 0;
  switch (*r->p) {
  case '{':
  case '[': {
    if (++r->depth > MAX_DEPTH) return 0;
    int ok = *r->p == '{' ? object_value(L, r) : array_value(L, r);
    r->depth--;
    return ok;
  }
  case '"': return string_value(L, r);
  case 't':
    if (!literal(r, "true", 4)) return 0;
    lua_pushboolean(L, 1);
    return 1;
  case 'f':
    if (!literal(r, "false", 5)) return 0;
    lua_pushboolean(L, 0);
    return 1;
  case 'n':
    if (!literal(r, "null", 4)) return 0;
    lua_pushlightuserdata(L, NULL); /* lua-cjson's null */
    return 1;
  default: return number_value(L, r);
  }
}

int drip_json_push(lua_State *L, const char *text, size_t len, int array_mt) {
  reader r = {text, text + len, 0, lua_absindex(L, array_mt)};
  int top = lua_gettop(L);
  skip_space(&r);
  int ok = value(L, &r);
  skip_space(&r);
  if (ok && r.p == r.end) return 1;
  lua_settop(L, top);
  return 0;
}

/* host.decode_json(text, array_mt) -> value | nothing when not sure */
static int l_decode_json(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  luaL_checktype(L, 2, LUA_TTABLE);
  return drip_json_push(L, text, len, 2);
}

void drip_jsondec_register(lua_State *L) {
  lua_pushcfunction(L, l_decode_json);
  lua_setfield(L, -2, "decode_json");
}
