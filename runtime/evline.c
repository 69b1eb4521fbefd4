/*
 * evline — the fields that route a track or identify event, read from its
 * JSON line without decoding the rest of it.
 *
 * Owns: host.plain_event(line, mt, array_mt) and the event it makes
 * (drip_push_event; evfile.c's reader of files fills its own tables with
 * the same fields, drip_set_event_fields), the messageId of a line for
 * evfile.c's first look at a file (drip_line_message_id), and the pieces of
 * JSON's grammar jsondec.c reads with too (blanks, numbers, \u digits). Most
 * event lines are `track` calls whose properties no journey reads (a product
 * viewed, a cart updated again while an instance is already running), so
 * drip.events takes the fields that route an event from here and decodes
 * the rest only when asked for it; of an `identify`, only its traits are
 * decoded (by jsondec.c), which is what the engine stores.
 *
 * It answers only when sure: the line must be strict JSON (RFC 8259) that
 * lua-cjson decodes, in UTF-8, and the fields must be in the plain form that
 * drip.events would accept without change. Anything else (an escape in a
 * field, a duplicate key, another timestamp form, a control character in a
 * string, deep nesting, a null) answers "do not know", and drip.events takes
 * the slow path, which decodes, validates and reports as before.
 */
#include "host.h"

#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

enum { MAX_DEPTH = 32, MAX_ID = 256 };

#define LITTLE_ENDIAN_WORDS (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) /* first_stop reads the first byte lowest */

typedef struct {
  const char *p, *end;
  int depth;
} cursor;

typedef struct {
  const char *start;
  size_t len;
  int plain; /* no escape inside */
} text;

static const char *space_end(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

const char *drip_json_space_end(const char *p, const char *end) { return space_end(p, end); }

static void skip_space(cursor *c) { c->p = space_end(c->p, c->end); }

int drip_hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char h = s[i];
    v <<= 4;
    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

/* Where in the 8 bytes of w (read from memory in order) a string ends, an
 * escape starts or a control character is: '"', '\\' or a byte below 0x20.
 * -> its index, or 8 when there is none. Each test is exact per byte: the
 * high bit of (b & 0x7f) + 0x7f is set unless b is 0, and of
 * (b & 0x7f) + 0x60 unless b is below 0x20 (or b itself has it). */
static int first_stop(uint64_t w) {
  const uint64_t ones = 0x0101010101010101u, low7 = ones * 0x7f, highs = ones * 0x80;
  uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
  uint64_t stops = ~(((quote & low7) + low7) | quote) | ~(((backslash & low7) + low7) | backslash)
                   | ~(((w & low7) + ones * 0x60) | w);
  stops &= highs;
  return stops ? __builtin_ctzll(stops) >> 3 : 8;
}

/* A string at c->p (its opening quote). Escapes must be JSON's; a \u escape
 * of a surrogate answers "do not know" (lua-cjson pairs them its own way). */
static int string_token(cursor *c, text *out) {
  if (c->p >= c->end || *c->p != '"') return 0;
  const char *s = ++c->p;
  int plain = 1;
  while (c->p < c->end) {
    if (LITTLE_ENDIAN_WORDS && c->end - c->p >= 8) { /* plain text goes 8 bytes at a time */
      uint64_t w;
      memcpy(&w, c->p, 8);
      int plain_bytes = first_stop(w);
      c->p += plain_bytes;
      if (plain_bytes == 8) continue;
    }
    unsigned char ch = (unsigned char)*c->p;
    if (ch == '"') {
      if (out) *out = (text){s, (size_t)(c->p - s), plain};
      c->p++;
      return 1;
    }
    if (ch < 0x20) return 0;
    if (ch == '\\') {
      plain = 0;
      if (c->end - c->p < 2) return 0;
      char e = c->p[1];
      if (e == 'u') {
        unsigned cp;
        if (c->end - c->p < 6 || !drip_hex4(c->p + 2, &cp) || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        c->p += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", e) || e == '\0') return 0;
      c->p += 2;
      continue;
    }
    c->p++;
  }
  return 0;
}

static const char *digits_end(const char *p, const char *end) {
  while (p < end && *p >= '0' && *p <= '9') p++;
  return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *number_end(const char *p, const char *end) {
  const char *d;
  if (p < end && *p == '-') p++;
  if (p < end && *p == '0') p++;
  else if ((d = digits_end(p, end)) == p) return NULL;
  else p = d;
  if (p < end && *p == '.') {
    if ((d = digits_end(p + 1, end)) == p + 1) return NULL;
    p = d;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if ((d = digits_end(p, end)) == p) return NULL;
    p = d;
  }
  return p;
}

const char *drip_json_number_end(const char *p, const char *end) { return number_end(p, end); }

static int number_token(cursor *c) {
  const char *after = number_end(c->p, c->end);
  if (!after) return 0;
  c->p = after;
  return 1;
}

static int literal(cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
  c->p += n;
  return 1;
}

static int value(cursor *c);

/* the members or elements after '{' or '[' up to the closing `close` */
static int container(cursor *c, char close, int members) {
  if (++c->depth > MAX_DEPTH) return 0;
  c->p++;
  skip_space(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    c->depth--;
    return 1;
  }
  for (;;) {
    if (members) {
      if (!string_token(c, NULL)) return 0;
      skip_space(c);
      if (c->p >= c->end || *c->p++ != ':') return 0;
      skip_space(c);
    }
    if (!value(c)) return 0;
    skip_space(c);
    if (c->p >= c->end) return 0;
    char ch = *c->p++;
    if (ch == close) break;
    if (ch != ',') return 0;
    skip_space(c);
  }
  c->depth--;
  return 1;
}

static int value(cursor *c) {
  if (c->p >= c->end) return 0;
  switch (*c->p) {
  case '{': return container(c, '}', 1);
  case '[': return container(c, ']', 0);
  case '"': return string_token(c, NULL);
  case 't': return literal(c, "true");
  case 'f': return literal(c, "false");
  case 'n': return literal(c, "null");
  default: return number_token(c);
  }
}

/* The top-level fields drip.events reads; each may appear once. */
enum { F_TYPE, F_USER, F_EVENT, F_TIME, F_MESSAGE, F_PROPERTIES, F_TRAITS, N_FIELDS };
static const char *const FIELD_NAMES[N_FIELDS] = {"type",      "userId",     "event", "timestamp",
                                                  "messageId", "properties", "traits"};

static int field_of(const text *key) {
  for (int i = 0; i < N_FIELDS; i++)
    if (strlen(FIELD_NAMES[i]) == key->len && memcmp(FIELD_NAMES[i], key->start, key->len) == 0) return i;
  return -1;
}

/* The top-level object, with the start of each field's value in at[] and
 * its end in at_end[]. */
static int top_object(cursor *c, const char *at[N_FIELDS], const char *at_end[N_FIELDS]) {
  skip_space(c);
  if (c->p >= c->end || *c->p != '{') return 0;
  c->depth = 1;
  c->p++;
  skip_space(c);
  if (c->p < c->end && *c->p == '}') return 0; /* no fields: not a track call */
  for (;;) {
    text key;
    if (!string_token(c, &key)) return 0;
    if (!key.plain) return 0; /* "typ\u0065" is "type" too */
    skip_space(c);
    if (c->p >= c->end || *c->p++ != ':') return 0;
    skip_space(c);
    int f = field_of(&key);
    if (f >= 0) {
      if (at[f]) return 0; /* lua-cjson keeps the last; leave that to it */
      at[f] = c->p;
    }
    if (!value(c)) return 0;
    if (f >= 0) at_end[f] = c->p;
    skip_space(c);
    if (c->p >= c->end) return 0;
    char ch = *c->p++;
    if (ch == '}') break;
    if (ch != ',') return 0;
    skip_space(c);
  }
  skip_space(c);
  return c->p == c->end;
}

/* A field's value when it is a plain string of 1 to max bytes. */
static int plain_string(const char *at, const char *end, size_t max, text *out) {
  cursor c = {at, end, 0};
  return at && string_token(&c, out) && out->plain && out->len > 0 && out->len <= max;
}

static int is_word(const text *t, const char *word) {
  return t->len == strlen(word) && memcmp(t->start, word, t->len) == 0;
}

/* the fields of a track event: event, properties (when present) an object, no traits */
static int track_fields(const char *at[N_FIELDS], const char *end, drip_plain_event *out) {
  text event;
  if (!plain_string(at[F_EVENT], end, MAX_ID, &event)) return 0;
  if ((at[F_PROPERTIES] && *at[F_PROPERTIES] != '{') || at[F_TRAITS]) return 0;
  out->event = event.start;
  out->event_len = event.len;
  return DRIP_TRACK;
}

/* the fields of an identify: traits, an object (its event and properties
 * are no field of an identify to drip.events) */
static int identify_fields(const char *at[N_FIELDS], const char *at_end[N_FIELDS], drip_plain_event *out) {
  if (!at[F_TRAITS] || *at[F_TRAITS] != '{') return 0;
  out->traits = at[F_TRAITS];
  out->traits_len = (size_t)(at_end[F_TRAITS] - at[F_TRAITS]);
  return DRIP_IDENTIFY;
}

int drip_event_parse(const char *line, size_t len, drip_plain_event *out) {
  const char *at[N_FIELDS] = {0}, *at_end[N_FIELDS] = {0};
  cursor c = {line, line + len, 0};
  *out = (drip_plain_event){0};
  if (drip_utf8_error(line, len) || !top_object(&c, at, at_end)) return 0;
  const char *end = line + len;
  text type, user, stamp, message = {0};
  if (!plain_string(at[F_TYPE], end, 8, &type) || !plain_string(at[F_USER], end, MAX_ID, &user)) return 0;
  if (!plain_string(at[F_TIME], end, 20, &stamp) || !drip_utc_time(stamp.start, stamp.len, &out->ts)) return 0;
  if (at[F_MESSAGE] && !plain_string(at[F_MESSAGE], end, len, &message)) return 0;
  out->user = user.start;
  out->user_len = user.len;
  out->message = message.start;
  out->message_len = message.len;
  if (is_word(&type, "track")) return out->kind = track_fields(at, end, out);
  if (is_word(&type, "identify")) return out->kind = identify_fields(at, at_end, out);
  return 0;
}

size_t drip_without_line_end(const char *line, size_t len) {
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
  return len;
}

int drip_set_event_fields(lua_State *L, const drip_plain_event *e, int array_mt) {
  int table = lua_absindex(L, -1);
  if (e->kind == DRIP_IDENTIFY) {
    if (!drip_json_push(L, e->traits, e->traits_len, array_mt)) return 0;
    lua_setfield(L, table, "traits");
  } else {
    lua_pushlstring(L, e->event, e->event_len);
    lua_setfield(L, table, "event");
  }
  lua_pushlstring(L, e->user, e->user_len);
  lua_setfield(L, table, "userId");
  lua_pushinteger(L, e->ts);
  lua_setfield(L, table, "ts");
  return 1;
}

int drip_push_event(lua_State *L, const drip_plain_event *e, const char *line, size_t len, int mt, int array_mt) {
  mt = lua_absindex(L, mt);
  array_mt = lua_absindex(L, array_mt);
  lua_createtable(L, 0, 7);
  if (!drip_set_event_fields(L, e, array_mt)) {
    lua_pop(L, 1);
    return 0;
  }
  if (e->kind == DRIP_IDENTIFY) lua_pushliteral(L, "identify");
  else lua_pushliteral(L, "track");
  lua_setfield(L, -2, "type");
  if (e->message) {
    lua_pushlstring(L, e->message, e->message_len);
    lua_setfield(L, -2, "messageId");
  }
  lua_pushlstring(L, line, drip_without_line_end(line, len)); /* the body is the event, not its line end */
  lua_setfield(L, -2, "body");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "internal");
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
  return 1;
}

/* host.plain_event(line, mt, array_mt) -> the event of a track or identify
 * line in the plain form (see drip_push_event); nothing when not sure. */
static int l_plain_event(lua_State *L) {
  size_t len;
  const char *line = luaL_checklstring(L, 1, &len);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  drip_plain_event e;
  if (!drip_event_parse(line, len, &e)) return 0;
  return drip_push_event(L, &e, line, len, 2, 3);
}

int drip_line_message_id(const char *line, size_t len, const char **id, size_t *id_len) {
  const char *at[N_FIELDS] = {0}, *at_end[N_FIELDS] = {0};
  cursor c = {line, line + len, 0};
  if (!top_object(&c, at, at_end)) return -1;
  if (!at[F_MESSAGE]) return 0;
  text message;
  if (!plain_string(at[F_MESSAGE], line + len, len, &message)) return -1;
  *id = message.start;
  *id_len = message.len;
  return 1;
}

void drip_evline_register(lua_State *L) {
  lua_pushcfunction(L, l_plain_event);
  lua_setfield(L, -2, "plain_event");
}
