/*
 * host — the C side that the Lua engine and journeys run on.
 *
 * Owns: creating the Lua state (with its memory ceiling) and the `drip.host`
 * module table that gathers the sandbox, store and tz functions. It does not
 * own engine logic: that lives in the Lua modules under stdlib/drip, on top of this module.
 */
#ifndef DRIP_HOST_H
#define DRIP_HOST_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* A Lua state whose allocator refuses to grow past limit_bytes (0: no limit).
 * Returns NULL when out of memory. Close with drip_host_close(). */
lua_State *drip_host_newstate(size_t limit_bytes);

/* Close a state made by drip_host_newstate and free its allocator. Accepts NULL. */
void drip_host_close(lua_State *L);

/* From now on, refuse allocations that would grow the state more than
 * `bytes` past what it holds now (0: no such limit; a step's own limit, under
 * the state's ceiling). Returns 1 when the previous growth limit refused an
 * allocation, else 0. Only for states made by drip_host_newstate. */
int drip_host_limit_growth(lua_State *L, size_t bytes);

/* Bytes currently allocated by a state made with drip_host_newstate. */
size_t drip_host_memory_used(lua_State *L);

/* The `drip.host` module: sandbox, store, tz and hashing functions. */
int luaopen_drip_host(lua_State *L);

/* Registration of each part into the module table on top of the stack. */
void drip_sandbox_register(lua_State *L);
void drip_store_register(lua_State *L);
void drip_tz_register(lua_State *L);
void drip_crypto_register(lua_State *L);
void drip_evfile_register(lua_State *L);
void drip_evline_register(lua_State *L);
void drip_utf8_register(lua_State *L);
void drip_idset_register(lua_State *L);
void drip_jsondec_register(lua_State *L);
void drip_cpus_register(lua_State *L);
void drip_timers_register(lua_State *L);
void drip_records_register(lua_State *L);

/* The processors the CPU quota of the cgroups named in `proc_cgroup` (as
 * /proc/self/cgroup), under `cgroup_root` (as /sys/fs/cgroup), and of those
 * above them allows, rounded up; 0 when none sets one (cpus.c) */
int drip_cpu_quota(const char *proc_cgroup, const char *cgroup_root);

/* 0 when text[0..n) is UTF-8, else the 1-based position of its first bad
 * byte (utf8.c) */
size_t drip_utf8_error(const char *text, size_t n);

/* "YYYY-MM-DDTHH:MM:SSZ" (exactly len 20) -> epoch seconds in *out; 0 when
 * the text is in another form or out of range (tz.c) */
int drip_utc_time(const char *s, size_t len, lua_Integer *out);

/* An event line in the plain form (evline.c): strict JSON and UTF-8, no
 * field twice, userId a plain string of 1 to 256 bytes, the timestamp in the
 * usual UTC form, messageId (when present) a plain string, and either
 * "type":"track" with event a plain string of 1 to 256 bytes, properties
 * (when present) an object and no traits, or "type":"identify" with traits
 * an object. drip_event_parse -> its kind with the fields (pointers into
 * line; message NULL when absent; event of a track; traits, the object's
 * text, of an identify), DRIP_NOT_PLAIN when the line is not sure to be one. */
enum { DRIP_NOT_PLAIN, DRIP_TRACK, DRIP_IDENTIFY };
typedef struct {
  int kind;
  const char *user, *event, *message, *traits;
  size_t user_len, event_len, message_len, traits_len;
  lua_Integer ts;
} drip_plain_event;
int drip_event_parse(const char *line, size_t len, drip_plain_event *out);
/* push the event drip.events makes of such a line: { type, userId, ts,
 * event (track) or traits (identify, decoded; empty arrays with the
 * metatable at stack index array_mt), messageId (when present), body =
 * line, internal = false } with the metatable at stack index mt (which
 * decodes the body when ev.data is first read). 0, nothing pushed, when
 * host.decode_json is not sure of the traits (a number of 64 digits). */
int drip_push_event(lua_State *L, const drip_plain_event *e, const char *line, size_t len, int mt, int array_mt);
/* set such a line's userId, ts, and event or traits, on the table on top of
 * the stack; 0, the table untouched, when not sure of the traits */
int drip_set_event_fields(lua_State *L, const drip_plain_event *e, int array_mt);
/* the length of a line without its line end (\n, \r\n) */
size_t drip_without_line_end(const char *line, size_t len);

/* The messageId of a JSON event line (evline.c): 1 with *id, *id_len when
 * it is a plain string (no escape, so its bytes are the decoded text), 0
 * when the line has none, -1 when not sure (not strict JSON, a key twice,
 * another form of messageId). */
int drip_line_message_id(const char *line, size_t len, const char **id, size_t *id_len);

/* A set of 64-bit string hashes (idset.c): drip_id_set_add -> 1 when h is
 * new (now added), 0 when in the set, -1 when out of memory. A zeroed
 * struct is an empty set; free it with drip_id_set_free. */
typedef struct {
  uint64_t *slots;
  size_t mask, count;
} drip_id_set;
/* 64-bit FNV-1a of n bytes (host.hash, host.bucket, SQL's drip_bucket) */
uint64_t drip_fnv1a(const void *data, size_t n);
uint64_t drip_id_hash(const char *s, size_t n);
int drip_id_set_add(drip_id_set *s, uint64_t h);
int drip_id_set_has(const drip_id_set *s, uint64_t h);
void drip_id_set_free(drip_id_set *s);

/* Pieces of JSON's grammar (evline.c), for the readers of JSON text: the end
 * of blanks at p; the end of the number at p, or NULL when none is there;
 * the code unit of 4 hex digits at s (0 when they are not). */
const char *drip_json_space_end(const char *p, const char *end);
const char *drip_json_number_end(const char *p, const char *end);
int drip_hex4(const char *s, unsigned *out);

/* A text view (evfile.c): a userdata that stands for bytes of a line an
 * events reader holds, without copying them into a Lua string. A statement
 * binds it as text (store.c); tostring() copies it. The reader empties it
 * (p NULL) before it reads the next line, so a view used too late is an
 * error, not a read of freed memory. */
typedef struct {
  const char *p;
  size_t len;
} drip_text_view;
/* the view at stack index idx, or NULL when that is not one */
drip_text_view *drip_to_text_view(lua_State *L, int idx);

/* JSON text decoded as host.decode_json decodes it (jsondec.c): 1 with the
 * value pushed, 0 (nothing pushed) when not sure; array_mt: the stack index
 * of the metatable of empty arrays */
int drip_json_push(lua_State *L, const char *text, size_t len, int array_mt);

/* A value for a statement's parameter: the text p[0..len) when p is set,
 * else the integer i */
typedef struct {
  const char *p;
  size_t len;
  lua_Integer i;
} drip_sql_value;

/* Run the statement of the stmt userdata at idx with values[0..n) bound to
 * its parameters 1..n; raises as stmt:run does (store.c) */
void drip_stmt_run(lua_State *L, int idx, const drip_sql_value *values, int n);

/* One record of simulate's JSON Lines output: at, contact and journey (NULL:
 * left out), kind, and its fields as a JSON object's text */
typedef struct {
  const char *at, *contact, *journey, *kind, *fields;
  size_t at_len, contact_len, journey_len, kind_len, fields_len;
} drip_record_text;

/* Write record r's line to stdout as host.write_record does: 0 only when out
 * of memory (jsonenc.c) */
int drip_put_record(const drip_record_text *r);

/* The JSON text of the value at idx, as host.encode_json makes it, in a
 * buffer kept until the next call; NULL when the Lua encoder must make it (a
 * table with keys of mixed types). Raises on what JSON cannot hold (jsonenc.c). */
const char *drip_encode_kept(lua_State *L, int idx, size_t *len);

/* "YYYY-MM-DDTHH:MM:SSZ" for epoch seconds t into iso[0..20) (no NUL): 0 when
 * t is outside the years 0 to 9999 (tz.c) */
int drip_utc_iso(lua_Integer t, char iso[20]);

/* host.encode_json, host.quote, host.record_line, host.write_record and
 * host.write_failure (jsonenc.c) */
int drip_encode_json(lua_State *L);
int drip_quote_json(lua_State *L);
int drip_record_line(lua_State *L);
int drip_write_record(lua_State *L);
int drip_write_failure(lua_State *L);

#endif
