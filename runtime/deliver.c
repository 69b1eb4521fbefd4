/*
 * deliver — libcurl's multi interface on the libuv loop, as the `drip_curl`
 * Lua module. The outbox dispatcher (stdlib/drip/deliver.lua) decides what
 * to send; this file only moves bytes.
 *
 * Owns: the multi handle; one uv_poll per socket curl asks about and one
 * uv_timer for curl's timeout (no blocking calls anywhere); each transfer's
 * request (URL, method, headers, body or SMTP envelope and upload) and the
 * start of its answer (status, Retry-After, the first bytes of the body);
 * a tick timer the dispatcher arms for itself. Transfers that finish in one
 * loop turn go to Lua together from a uv_check, so the dispatcher can mark
 * them all in one transaction.
 */
#include "deliver.h"
#include "loopcall.h"

#include <curl/curl.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define SNIPPET 2048 /* bytes of a response body kept for the record */
#define POOL 1024    /* finished easy handles kept for reuse (each holds large buffers) */
#define REPLY 256    /* bytes of an SMTP server's refusal kept for the record */

typedef struct transfer transfer;
struct transfer {
  lua_Integer id;
  CURL *easy;
  struct curl_slist *headers, *rcpt;
  char *upload; /* SMTP: the whole message */
  size_t upload_len, upload_pos;
  char body[SNIPPET];
  size_t body_len;
  CURLcode result;
  char error[CURL_ERROR_SIZE];
  char reply[REPLY]; /* SMTP: the server's refusal, such as "550 5.1.1 no such user" */
  transfer *next;             /* in the done list */
  transfer *prev_all, *next_all; /* in the list of all transfers not yet handed to Lua */
};

typedef struct {
  uv_poll_t poll;
  curl_socket_t fd;
} socket_ctx;

static struct {
  lua_State *L;
  CURLM *multi;
  uv_timer_t curl_timer, tick;
  uv_check_t check;
  uv_idle_t idle; /* active while finished transfers wait for on_check: keeps poll from blocking */
  transfer *all;
  int on_done, on_tick; /* registry refs */
  CURL *pool[POOL];
  int pooled;
  int inflight;
  transfer *done, **done_tail;
  int started;
} D;

/* curl's sockets and timeout on the loop ---------------------------------------- */

static void on_check(uv_check_t *c);
static void on_idle(uv_idle_t *i) {}

static void collect_done(void) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(D.multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    transfer *t;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    t->result = msg->data.result;
    curl_multi_remove_handle(D.multi, t->easy);
    D.inflight--;
    t->next = NULL;
    *D.done_tail = t;
    D.done_tail = &t->next;
  }
  if (D.done) {
    uv_check_start(&D.check, on_check);
    uv_idle_start(&D.idle, on_idle);
  }
}

static void on_socket_ready(uv_poll_t *p, int status, int events) {
  socket_ctx *ctx = p->data;
  int flags = status < 0 ? CURL_CSELECT_ERR : 0;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running;
  curl_multi_socket_action(D.multi, ctx->fd, flags, &running);
  collect_done();
}

static void free_ctx(uv_handle_t *h) { free(h->data); }

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  socket_ctx *ctx = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (ctx) {
      uv_poll_stop(&ctx->poll);
      uv_close((uv_handle_t *)&ctx->poll, free_ctx);
      curl_multi_assign(D.multi, fd, NULL);
    }
    return 0;
  }
  if (!ctx) {
    ctx = calloc(1, sizeof *ctx);
    if (!ctx) return -1;
    ctx->fd = fd;
    uv_poll_init_socket(uv_default_loop(), &ctx->poll, fd);
    ctx->poll.data = ctx;
    curl_multi_assign(D.multi, fd, ctx);
  }
  int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
  uv_poll_start(&ctx->poll, events, on_socket_ready);
  return 0;
}

static void on_curl_timeout(uv_timer_t *t) {
  int running;
  curl_multi_socket_action(D.multi, CURL_SOCKET_TIMEOUT, 0, &running);
  collect_done();
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
  if (timeout_ms < 0) uv_timer_stop(&D.curl_timer);
  else uv_timer_start(&D.curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

/* transfers -------------------------------------------------------------------------- */

static size_t keep_snippet(char *data, size_t size, size_t n, void *userp) {
  transfer *t = userp;
  size_t len = size * n, room = SNIPPET - t->body_len;
  memcpy(t->body + t->body_len, data, len < room ? len : room);
  t->body_len += len < room ? len : room;
  return len;
}

/* libcurl hands an SMTP server's replies to the header callback: keep the
 * first refusal (4xx or 5xx), the one that ended the transfer */
static size_t keep_reply(char *data, size_t size, size_t n, void *userp) {
  transfer *t = userp;
  size_t len = size * n;
  if (t->reply[0] || !len || (data[0] != '4' && data[0] != '5')) return len;
  while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) len--;
  if (len >= REPLY) len = REPLY - 1;
  memcpy(t->reply, data, len);
  t->reply[len] = 0;
  return size * n;
}

static size_t read_upload(char *buf, size_t size, size_t n, void *userp) {
  transfer *t = userp;
  size_t left = t->upload_len - t->upload_pos, len = size * n < left ? size * n : left;
  memcpy(buf, t->upload + t->upload_pos, len);
  t->upload_pos += len;
  return len;
}

static void free_transfer(transfer *t) {
  if (t->prev_all) t->prev_all->next_all = t->next_all;
  else D.all = t->next_all;
  if (t->next_all) t->next_all->prev_all = t->prev_all;
  if (D.started && D.pooled < POOL) {
    curl_easy_reset(t->easy);
    D.pool[D.pooled++] = t->easy;
  } else {
    curl_easy_cleanup(t->easy);
  }
  curl_slist_free_all(t->headers);
  curl_slist_free_all(t->rcpt);
  free(t->upload);
  free(t);
}

static const char *opt_string(lua_State *L, int idx, const char *key) {
  lua_getfield(L, idx, key);
  const char *v = lua_tostring(L, -1); /* stays alive: the spec table holds it */
  lua_pop(L, 1);
  return v;
}

static struct curl_slist *opt_list(lua_State *L, int idx, const char *key) {
  struct curl_slist *list = NULL;
  lua_getfield(L, idx, key);
  if (lua_istable(L, -1)) {
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
      list = curl_slist_append(list, lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return list;
}

/* The SMTP parts of a spec: envelope and the message as an upload. */
static void set_smtp(lua_State *L, transfer *t, const char *body, size_t body_len) {
  const char *from = opt_string(L, 2, "mail_from");
  t->rcpt = opt_list(L, 2, "mail_rcpt");
  t->upload = malloc(body_len ? body_len : 1);
  memcpy(t->upload, body, body_len);
  t->upload_len = body_len;
  curl_easy_setopt(t->easy, CURLOPT_MAIL_FROM, from);
  curl_easy_setopt(t->easy, CURLOPT_MAIL_RCPT, t->rcpt);
  curl_easy_setopt(t->easy, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(t->easy, CURLOPT_READDATA, t);
  curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, keep_reply);
  curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(t->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
  curl_easy_setopt(t->easy, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY); /* STARTTLS when offered */
}

/* drip_curl.request(id, { url=, method="POST", headers={"K: v"}, body=, timeout_ms=,
 *   username=, password=, insecure=bool, mail_from=, mail_rcpt={...} }) -> true | nil, err */
static int l_request(lua_State *L) {
  lua_Integer id = luaL_checkinteger(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!D.started) return luaL_error(L, "drip_curl.start was not called");
  const char *url = opt_string(L, 2, "url");
  if (!url) return luaL_argerror(L, 2, "url");
  transfer *t = calloc(1, sizeof *t);
  if (t) t->easy = D.pooled ? D.pool[--D.pooled] : curl_easy_init();
  if (!t || !t->easy) {
    free(t);
    lua_pushnil(L);
    lua_pushstring(L, "out of memory");
    return 2;
  }
  t->id = id;
  t->next_all = D.all;
  if (D.all) D.all->prev_all = t;
  D.all = t;
  CURL *e = t->easy;
  size_t body_len = 0;
  lua_getfield(L, 2, "body");
  const char *body = lua_tolstring(L, -1, &body_len);
  lua_pop(L, 1);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_snippet);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  lua_getfield(L, 2, "timeout_ms");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)luaL_optinteger(L, -1, 10000));
  lua_pop(L, 1);
  t->headers = opt_list(L, 2, "headers");
  if (t->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  const char *user = opt_string(L, 2, "username"), *pass = opt_string(L, 2, "password");
  if (user) curl_easy_setopt(e, CURLOPT_USERNAME, user);
  if (pass) curl_easy_setopt(e, CURLOPT_PASSWORD, pass);
  lua_getfield(L, 2, "insecure");
  if (lua_toboolean(L, -1)) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  lua_pop(L, 1);
  if (opt_string(L, 2, "mail_from")) {
    set_smtp(L, t, body ? body : "", body_len);
  } else {
    const char *method = opt_string(L, 2, "method");
    if (body) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
      curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
    }
    if (method && strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0)
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  }
  CURLMcode rc = curl_multi_add_handle(D.multi, e);
  if (rc != CURLM_OK) {
    free_transfer(t);
    lua_pushnil(L);
    lua_pushstring(L, curl_multi_strerror(rc));
    return 2;
  }
  D.inflight++;
  lua_pushboolean(L, 1);
  return 1;
}

/* handing finished transfers to Lua ---------------------------------------------------- */

static void push_result(lua_State *L, transfer *t) {
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, t->id);
  lua_setfield(L, -2, "id");
  long code = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "status");
  if (t->result != CURLE_OK) {
    lua_pushstring(L, t->error[0] ? t->error : curl_easy_strerror(t->result));
    lua_setfield(L, -2, "error");
    lua_pushinteger(L, t->result);
    lua_setfield(L, -2, "curl_code");
    if (t->reply[0]) {
      lua_pushstring(L, t->reply);
      lua_setfield(L, -2, "reply");
    }
    lua_pushboolean(L, t->result == CURLE_OPERATION_TIMEDOUT);
    lua_setfield(L, -2, "timed_out");
  }
  struct curl_header *h;
  if (curl_easy_header(t->easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK) {
    lua_pushstring(L, h->value);
    lua_setfield(L, -2, "retry_after");
  }
  lua_pushlstring(L, t->body, t->body_len);
  lua_setfield(L, -2, "body");
  double secs = 0;
  curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &secs);
  lua_pushnumber(L, secs);
  lua_setfield(L, -2, "seconds");
}

static void on_check(uv_check_t *c) {
  uv_check_stop(&D.check);
  uv_idle_stop(&D.idle);
  transfer *list = D.done;
  D.done = NULL;
  D.done_tail = &D.done;
  if (!list) return;
  lua_State *L = D.L;
  lua_newtable(L);
  int n = 0;
  for (transfer *t = list; t; t = t->next) {
    push_result(L, t);
    lua_rawseti(L, -2, ++n);
  }
  while (list) {
    transfer *next = list->next;
    free_transfer(list);
    list = next;
  }
  drip_call_ref(L, D.on_done, 1, 0, "delivery on_done");
}

static void on_tick(uv_timer_t *t) {
  if (!drip_call_ref(D.L, D.on_tick, 0, 1, "delivery on_tick")) return;
  if (lua_isinteger(D.L, -1)) uv_timer_start(&D.tick, on_tick, (uint64_t)lua_tointeger(D.L, -1), 0);
  lua_pop(D.L, 1);
}

/* the module ----------------------------------------------------------------------------- */

/* drip_curl.start{ on_done = fn(results), on_tick = fn() -> ms | nil } */
static int l_start(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (D.started) return luaL_error(L, "drip_curl.start: already started");
  lua_getfield(L, 1, "on_done");
  luaL_argexpected(L, lua_isfunction(L, -1), 1, "on_done");
  lua_getfield(L, 1, "on_tick");
  luaL_argexpected(L, lua_isfunction(L, -1), 1, "on_tick");
  D.on_tick = luaL_ref(L, LUA_REGISTRYINDEX);
  D.on_done = luaL_ref(L, LUA_REGISTRYINDEX);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return luaL_error(L, "curl_global_init failed");
  D.L = L;
  D.multi = curl_multi_init();
  curl_multi_setopt(D.multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
  curl_multi_setopt(D.multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  curl_multi_setopt(D.multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
  curl_multi_setopt(D.multi, CURLMOPT_MAXCONNECTS, 1024L);
  uv_loop_t *loop = uv_default_loop();
  uv_timer_init(loop, &D.curl_timer);
  uv_timer_init(loop, &D.tick);
  uv_check_init(loop, &D.check);
  uv_idle_init(loop, &D.idle);
  D.all = NULL;
  D.done = NULL;
  D.done_tail = &D.done;
  D.inflight = 0;
  D.started = 1;
  return 0;
}

/* drip_curl.tick(ms): call on_tick after ms (again if it returns a number) */
static int l_tick(lua_State *L) {
  lua_Integer ms = luaL_checkinteger(L, 1);
  if (D.started) uv_timer_start(&D.tick, on_tick, (uint64_t)(ms < 0 ? 0 : ms), 0);
  return 0;
}

/* drip_curl.run_once(): for a command with no server loop of its own (drip
 * preview): run the loop until something happens -> whether more may */
static int l_run_once(lua_State *L) {
  lua_pushboolean(L, uv_run(uv_default_loop(), UV_RUN_ONCE) != 0);
  return 1;
}

static int l_inflight(lua_State *L) {
  lua_pushinteger(L, D.inflight);
  return 1;
}

/* drip_curl.stop(): abandon transfers in flight (the outbox resends them on
 * the next start) and close every handle. */
static int l_stop(lua_State *L) {
  if (!D.started) return 0;
  D.started = 0;
  while (D.all) { /* in flight, or done and not yet handed over */
    curl_multi_remove_handle(D.multi, D.all->easy);
    free_transfer(D.all);
  }
  D.done = NULL;
  D.done_tail = &D.done;
  while (D.pooled) curl_easy_cleanup(D.pool[--D.pooled]);
  curl_multi_cleanup(D.multi);
  D.multi = NULL;
  uv_close((uv_handle_t *)&D.curl_timer, NULL);
  uv_close((uv_handle_t *)&D.tick, NULL);
  uv_close((uv_handle_t *)&D.check, NULL);
  uv_close((uv_handle_t *)&D.idle, NULL);
  luaL_unref(L, LUA_REGISTRYINDEX, D.on_done);
  luaL_unref(L, LUA_REGISTRYINDEX, D.on_tick);
  curl_global_cleanup();
  return 0;
}

int luaopen_drip_curl(lua_State *L) {
  static const luaL_Reg funcs[] = {{"start", l_start}, {"request", l_request}, {"tick", l_tick},
                                   {"inflight", l_inflight}, {"stop", l_stop},
                                   {"run_once", l_run_once}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  lua_setfield(L, -2, "version");
  return 1;
}
