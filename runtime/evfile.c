/*
 * evfile — the quick first look at a JSON Lines events file.
 *
 * Owns: finding a line's "timestamp" without decoding the line, and telling
 * whether a whole file is already in time order, so that drip.events can
 * stream it, and whether its messageIds are distinct, so that a simulation
 * loading it into a new store need not look each one up. It validates
 * nothing else and reports nothing: whenever a line is not the usual shape,
 * it answers "do not know" and drip.events reads the file in Lua, where
 * every bad line is reported with its number. And reading a file's event
 * lines in order, each plain track or identify event made ready for the
 * engine in C, in one event table the reader fills anew for each line of
 * its kind, its body and messageId as text views of the line (see
 * drip_text_view in host.h).
 */
#define _GNU_SOURCE /* memmem, getline */
#include "host.h"

#include <errno.h>
#include <stdint.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char TIMESTAMP_KEY[] = "\"timestamp\":\"";

/* A file read in blocks of READ_BLOCK: stdio's own (4 KiB) costs a system
 * call for every twenty lines or so. *block: the buffer, for close_read
 * (NULL when there was no memory for it: stdio's then). */
enum { READ_BLOCK = 1 << 18 };

static FILE *open_read(const char *path, char **block) {
  FILE *f = fopen(path, "rb");
  *block = f ? malloc(READ_BLOCK) : NULL;
  if (*block) setvbuf(f, *block, _IOFBF, READ_BLOCK);
  return f;
}

static void close_read(FILE *f, char *block) {
  fclose(f);
  free(block);
}

/* The text of a line's "timestamp":"..." value: *start and its length, or -1. */
static long timestamp_text(const char *line, size_t len, const char **start) {
  const char *s = memmem(line, len, TIMESTAMP_KEY, sizeof TIMESTAMP_KEY - 1);
  if (!s) return -1;
  s += sizeof TIMESTAMP_KEY - 1;
  const char *end = memchr(s, '"', len - (size_t)(s - line));
  if (!end) return -1;
  *start = s;
  return end - s;
}

/* host.line_time(line) -> epoch seconds of the line's "timestamp":"..." in
 * the usual UTC form; nil, text when it is in another form; nil when the
 * line has none. */
static int l_line_time(lua_State *L) {
  size_t len;
  const char *line = luaL_checklstring(L, 1, &len);
  const char *text;
  long n = timestamp_text(line, len, &text);
  if (n < 0) return 0;
  lua_Integer t;
  if (drip_utc_time(text, (size_t)n, &t)) {
    lua_pushinteger(L, t);
    return 1;
  }
  lua_pushnil(L);
  lua_pushlstring(L, text, (size_t)n);
  return 2;
}

/* As drip.events: a line that is blank, or whose first non-space is '#', is
 * not an event. (Lua's %s: space, \t, \n, \v, \f, \r.) */
static int skipped(const char *line, size_t len) {
  if (len > 0 && line[0] == '{') return 0;
  size_t i = 0;
  while (i < len && line[i] != '\0' && strchr(" \t\n\v\f\r", line[i])) i++;
  return i == len || line[i] == '#';
}

static const char MESSAGE_ID_KEY[] = "\"messageId\"";

/* drip_line_message_id without parsing the line, when a plain search is
 * sure: a line with no backslash (so no key is escaped) where the text
 * "messageId" in quotes appears at most once, right before :"VALUE". That
 * one may be nested (in properties) rather than the event's own, when the
 * event has none; its value is then one more id in the set, which can only
 * make the answer "not distinct". -> as drip_line_message_id, or -2 when
 * not sure. */
static int quick_message_id(const char *line, size_t len, const char **id, size_t *id_len) {
  const size_t key_len = sizeof MESSAGE_ID_KEY - 1;
  if (memchr(line, '\\', len)) return -2;
  const char *key = memmem(line, len, MESSAGE_ID_KEY, key_len);
  if (!key) return 0;
  const char *after = key + key_len, *end = line + len;
  if (memmem(after, (size_t)(end - after), MESSAGE_ID_KEY, key_len)) return -2;
  if (end - after < 3 || after[0] != ':' || after[1] != '"') return -2;
  const char *value = after + 2, *close = memchr(value, '"', (size_t)(end - value));
  if (!close || close == value) return -2;
  *id = value;
  *id_len = (size_t)(close - value);
  return 1;
}

/* A line's messageId is new to the set (or the line has none: drip.events
 * names it after its line number, "line-N-...", which no messageId given
 * in the file may start with); 0 when seen before or not sure. */
static int new_message_id(drip_id_set *seen, const char *line, size_t len) {
  const char *id;
  size_t n;
  int has = quick_message_id(line, len, &id, &n);
  if (has == -2) has = drip_line_message_id(line, len, &id, &n);
  if (has == 0) return 1;
  if (has < 0 || (n >= 5 && memcmp(id, "line-", 5) == 0)) return 0;
  return drip_id_set_add(seen, drip_id_hash(id, n)) == 1;
}

/* host.events_in_order(path, since, check_ids) -> in_order, distinct_ids.
 * in_order: true when every event line of the file has a timestamp in the
 * usual UTC form, none before `since` or before the line above it; false
 * when not (or when unsure). distinct_ids (told only for a file in order,
 * when check_ids): true when no two event lines have one messageId, false
 * when some do (or when unsure). nil, error when the file cannot be read. */
static int l_events_in_order(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer latest = luaL_optinteger(L, 2, 0);
  int distinct = lua_toboolean(L, 3);
  char *block;
  FILE *f = open_read(path, &block);
  if (!f) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int in_order = 1;
  drip_id_set seen = {0};
  while (in_order && (len = getline(&line, &cap, f)) >= 0) {
    if (skipped(line, (size_t)len)) continue;
    const char *text;
    long n = timestamp_text(line, (size_t)len, &text);
    lua_Integer t;
    if (n < 0 || !drip_utc_time(text, (size_t)n, &t) || t < latest) in_order = 0;
    else latest = t;
    if (distinct && !new_message_id(&seen, line, (size_t)len)) distinct = 0;
  }
  int failed = ferror(f);
  drip_id_set_free(&seen);
  free(line);
  close_read(f, block);
  if (failed) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: read error", path);
    return 2;
  }
  lua_pushboolean(L, in_order);
  lua_pushboolean(L, in_order && distinct);
  return 2;
}

#define LINES_MT "drip.event_lines"
#define VIEW_MT "drip.text_view"

drip_text_view *drip_to_text_view(lua_State *L, int idx) { return luaL_testudata(L, idx, VIEW_MT); }

/* tostring(view) -> its text, copied */
static int l_view_tostring(lua_State *L) {
  const drip_text_view *view = luaL_checkudata(L, 1, VIEW_MT);
  if (!view->p) return luaL_error(L, "a line the events reader has read past");
  lua_pushlstring(L, view->p, view->len);
  return 1;
}

static drip_text_view *new_view(lua_State *L) {
  drip_text_view *view = lua_newuserdatauv(L, sizeof *view, 0);
  *view = (drip_text_view){0};
  luaL_setmetatable(L, VIEW_MT);
  return view;
}

/* The views of one kind of plain event (its table's body and messageId) */
typedef struct {
  drip_text_view *body, *message;
} event_views;

/* the reader of host.event_lines; its four user values are the views */
typedef struct {
  FILE *f; /* NULL once the last line was read */
  char *block; /* f's buffer */
  char *line;
  size_t cap;
  lua_Integer lineno;
  event_views views[2]; /* a track's and an identify's: those of the line read last stand for it */
} events_reader;

/* the line is about to change or go: no view stands for anything (a table
 * of the other kind than the next line's must not show that line's text) */
static void forget_line(events_reader *r) {
  for (int k = 0; k < 2; k++) {
    r->views[k].body->p = NULL;
    r->views[k].message->p = NULL;
  }
}

/* the views of a kind of plain event (DRIP_TRACK or DRIP_IDENTIFY) */
static event_views *views_of(events_reader *r, int kind) { return &r->views[kind == DRIP_IDENTIFY]; }

static void reader_close(events_reader *r) {
  if (r->f) close_read(r->f, r->block);
  free(r->line);
  r->f = NULL;
  r->line = NULL;
  forget_line(r);
}

static int l_reader_gc(lua_State *L) {
  reader_close(luaL_checkudata(L, 1, LINES_MT));
  return 0;
}

/* the reader's event table of the line's kind (upvalue 3: track, 4:
 * identify) filled with a plain line's fields: userId, ts, and event or
 * traits; data cleared (its metatable decodes the body when data is read).
 * 0, nothing pushed, when not sure of its traits. */
static int fill_event(lua_State *L, events_reader *r, const drip_plain_event *e, const char *line, size_t len) {
  lua_pushvalue(L, lua_upvalueindex(e->kind == DRIP_IDENTIFY ? 4 : 3));
  if (!drip_set_event_fields(L, e, lua_upvalueindex(5))) {
    lua_pop(L, 1);
    return 0;
  }
  event_views *views = views_of(r, e->kind);
  *views->body = (drip_text_view){line, drip_without_line_end(line, len)}; /* (the event, not its line end) */
  *views->message = (drip_text_view){e->message, e->message_len};
  lua_pushnil(L);
  lua_setfield(L, -2, "data");
  return 1;
}

/* the iterator of host.event_lines: ev, nil, lineno for a track or identify
 * event in the plain form with a messageId; false, line (without its line
 * end), lineno for any other event line (drip.events decodes it whole);
 * nothing at the end. Blank lines and comments are passed over (and
 * counted). ev is the same table at every line of its kind: it, and the
 * views in it, stand for this line until the next call (an identify's
 * traits are its own table). */
static int l_next_event(lua_State *L) {
  events_reader *r = lua_touserdata(L, lua_upvalueindex(1));
  forget_line(r);
  while (r->f) {
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0) break;
    r->lineno++;
    const char *line = r->line;
    size_t len = (size_t)n;
    if (skipped(line, len)) continue;
    drip_plain_event e;
    if (drip_event_parse(line, len, &e) && e.message && fill_event(L, r, &e, line, len)) {
      lua_pushnil(L);
    } else {
      lua_pushboolean(L, 0);
      lua_pushlstring(L, line, drip_without_line_end(line, len));
    }
    lua_pushinteger(L, r->lineno);
    return 3;
  }
  if (!r->f) return 0;
  int failed = ferror(r->f);
  reader_close(r);
  if (failed) return luaL_error(L, "%s: read error", lua_tostring(L, lua_upvalueindex(2)));
  return 0;
}

/* the event table of a kind the reader (at stack index reader) fills: {
 * type = type, internal = false, body = its body view, messageId = its
 * message view } with the metatable at stack index mt */
static void push_event_table(lua_State *L, int kind, int reader, int mt) {
  const char *type = kind == DRIP_IDENTIFY ? "identify" : "track";
  int first_view = kind == DRIP_IDENTIFY ? 3 : 1; /* (user values: body and message of a track, of an identify) */
  lua_createtable(L, 0, 8); /* (with userId, event or traits, ts and data: no key is added later) */
  lua_pushstring(L, type);
  lua_setfield(L, -2, "type");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "internal");
  lua_getiuservalue(L, reader, first_view);
  lua_setfield(L, -2, "body");
  lua_getiuservalue(L, reader, first_view + 1);
  lua_setfield(L, -2, "messageId");
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
}

/* host.event_lines(path, mt, array_mt) -> iterator of the event lines of a
 * file (see l_next_event) | nil, error. One C call a line, read by getline
 * (not a block at a time in Lua); the file closes after its last line, or
 * when the iterator is collected. A track or identify event in the plain
 * form, as most lines of a simulation's file are, comes out ready for the
 * engine in that call, in the one table the reader fills for its kind (with
 * metatable mt): a track event allocates nothing, an identify its traits
 * (decoded with array_mt, the metatable of empty arrays). */
static int l_event_lines(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  events_reader *r = lua_newuserdatauv(L, sizeof *r, 4);
  *r = (events_reader){0};
  for (int k = 0; k < 2; k++) {
    r->views[k].body = new_view(L);
    lua_setiuservalue(L, -2, 2 * k + 1);
    r->views[k].message = new_view(L);
    lua_setiuservalue(L, -2, 2 * k + 2);
  }
  luaL_setmetatable(L, LINES_MT);
  r->f = open_read(path, &r->block);
  if (!r->f) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  int reader = lua_gettop(L);
  lua_pushvalue(L, 1);
  push_event_table(L, DRIP_TRACK, reader, 2);
  push_event_table(L, DRIP_IDENTIFY, reader, 2);
  lua_pushvalue(L, 3);
  lua_pushcclosure(L, l_next_event, 5);
  return 1;
}

static const luaL_Reg evfile_funcs[] = {{"line_time", l_line_time},
                                        {"events_in_order", l_events_in_order},
                                        {"event_lines", l_event_lines},
                                        {NULL, NULL}};

void drip_evfile_register(lua_State *L) {
  luaL_newmetatable(L, LINES_MT);
  lua_pushcfunction(L, l_reader_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newmetatable(L, VIEW_MT);
  lua_pushcfunction(L, l_view_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_setfuncs(L, evfile_funcs, 0);
}
