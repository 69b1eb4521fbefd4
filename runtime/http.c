/*
 * http — the HTTP server of `drip run` and the libuv loop it lives on.
 *
 * Owns: the libmicrohttpd daemon, driven from libuv through its epoll fd
 * (MHD parses HTTP; we write no parser); request bodies and their size limit
 * (413); the token check on /v1/ and /ui (401, constant time: a bearer
 * token, or a browser's basic auth whose password is the token); overload and
 * shutdown answers (503 with Retry-After); the loop's other handles: the one
 * due-timer, the journeys-directory watch, SIGHUP (read the journeys again)
 * and SIGINT/SIGTERM.
 *
 * It does not interpret requests. Every request that passes those checks is
 * suspended; after the loop's poll phase all requests that completed in that
 * turn go to one Lua callback together (the engine commits them in one
 * transaction), and each is answered only after that callback returns. Every
 * call into Lua goes through one protected call with a traceback; a Lua error
 * answers that batch 500 and is logged, it never stops the process.
 */
#include "http.h"
#include "loopcall.h"

#include <lauxlib.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#define DEBOUNCE_MS 200
#define DRAIN_MS 300

enum { CB_REQUESTS, CB_TIMER, CB_CHANGE, CB_STOP, CB_COUNT };
static const char *const CB_NAMES[CB_COUNT] = {"on_requests", "on_timer", "on_change", "on_stop"};

typedef struct request request;

typedef struct server {
  lua_State *L;
  uv_loop_t *loop; /* the process's default loop: delivery (drip_curl) shares it */
  struct MHD_Daemon *mhd;
  uv_poll_t poll;
  uv_timer_t mhd_timer, due_timer, debounce, drain;
  uv_check_t check;
  uv_idle_t idle; /* active while requests wait for on_check: keeps poll from blocking */
  uv_fs_event_t watch, watch_templates; /* the journeys directory and its templates/ */
  char templates_dir[4096];             /* "" when there is nothing to watch */
  uv_signal_t sigint, sigterm, sighup;
  int refs[CB_COUNT];
  char *token;
  size_t body_limit;     /* bytes per request body */
  size_t buffered;       /* bytes of bodies held now, all requests */
  size_t buffered_limit; /* above it new requests get 503 */
  request *pending, **pending_tail;
  int npending;
  int stopping, watching;
} server;

struct request {
  struct MHD_Connection *conn;
  char method[16];
  char *path;
  char *body;
  size_t len, cap;
  unsigned reject;   /* a status to answer without Lua, or 0 */
  int rejected;      /* that answer is queued */
  unsigned status;   /* the answer from Lua, once made */
  struct MHD_Response *response;
  request *next;
};

/* The one entry into Lua. stack: args (nargs) -> results (nres) on success,
 * nothing on failure (the error is logged). */
static int call_lua(server *s, int cb, int nargs, int nres) {
  return drip_call_ref(s->L, s->refs[cb], nargs, nres, CB_NAMES[cb]);
}

/* the due timer -------------------------------------------------------------- */

static double wall_now(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void on_due(uv_timer_t *t);

/* Arm the due timer from the value on top of the stack (epoch seconds or nil), and pop it. */
static void arm_due(server *s) {
  lua_State *L = s->L;
  if (lua_isnumber(L, -1) && !s->stopping) {
    double delay = (lua_tonumber(L, -1) - wall_now()) * 1000.0;
    uint64_t ms = delay <= 0 ? 0 : delay > 86400000.0 ? 86400000 : (uint64_t)delay;
    uv_timer_start(&s->due_timer, on_due, ms, 0);
  } else {
    uv_timer_stop(&s->due_timer);
  }
  lua_pop(L, 1);
}

static void on_due(uv_timer_t *t) {
  server *s = t->data;
  if (call_lua(s, CB_TIMER, 0, 1)) {
    arm_due(s);
  } else {
    uv_timer_start(&s->due_timer, on_due, 1000, 0); /* retry after an error, do not spin */
  }
}

/* answers ------------------------------------------------------------------------- */

/* location: a redirect's target, or NULL */
static struct MHD_Response *make_response(const char *body, size_t len, const char *type, int retry_after,
                                          const char *location) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!r) return NULL;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type ? type : "application/json");
  if (location) MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
  if (retry_after > 0) {
    char v[16];
    snprintf(v, sizeof v, "%d", retry_after);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
  }
  return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r) {
  if (!r) return MHD_NO;
  enum MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

static struct MHD_Response *error_response(unsigned status) {
  const char *msg;
  int retry = 0;
  switch (status) {
  case 401: msg = "{\"error\":\"missing or wrong bearer token\",\"field\":\"Authorization\"}"; break;
  case 413: msg = "{\"error\":\"request body over the size limit\"}"; break;
  case 503: msg = "{\"error\":\"overloaded or shutting down; retry later\"}"; retry = 1; break;
  default: msg = "{\"error\":\"internal error\"}"; break;
  }
  return make_response(msg, strlen(msg), NULL, retry, NULL);
}

/* checks before Lua ---------------------------------------------------------- */

static int equal_ct(const char *a, size_t alen, const char *b, size_t blen) {
  unsigned char diff = (unsigned char)(alen != blen);
  for (size_t i = 0; i < alen; i++) diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
  return diff == 0;
}

/* The bearer token, or basic auth whose password is the token (what a
 * browser sends for the pages of /ui, any user name) */
static int authorized(server *s, struct MHD_Connection *c) {
  if (!s->token) return 1;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (h && strncmp(h, "Bearer ", 7) == 0) return equal_ct(h + 7, strlen(h + 7), s->token, strlen(s->token));
  char *password = NULL;
  char *user = MHD_basic_auth_get_username_password(c, &password);
  int ok = password && equal_ct(password, strlen(password), s->token, strlen(s->token));
  if (user) MHD_free(user);
  if (password) MHD_free(password);
  return ok;
}

/* the dashboard's pages (drip.ui): a browser asks for the token as a password */
static int is_ui(const char *url) { return strcmp(url, "/ui") == 0 || strncmp(url, "/ui/", 4) == 0; }

/* The status to answer at once from the headers alone, or 0. */
static unsigned admit(server *s, struct MHD_Connection *c, const char *url) {
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  unsigned long long length = cl ? strtoull(cl, NULL, 10) : 0;
  if (s->stopping) return 503;
  if ((strncmp(url, "/v1/", 4) == 0 || is_ui(url)) && !authorized(s, c)) return 401;
  if (length > s->body_limit) return 413;
  if (s->buffered + length > s->buffered_limit || s->buffered >= s->buffered_limit) return 503;
  return 0;
}

static unsigned append_body(server *s, request *r, const char *data, size_t n) {
  if (r->len + n > s->body_limit) return 413;
  if (s->buffered + n > s->buffered_limit) return 503;
  if (r->len + n > r->cap) {
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + n) cap *= 2;
    char *b = realloc(r->body, cap);
    if (!b) return 503;
    r->body = b;
    r->cap = cap;
  }
  memcpy(r->body + r->len, data, n);
  r->len += n;
  s->buffered += n;
  return 0;
}

/* MHD callbacks ---------------------------------------------------------------- */

/* Answer r->reject now. MHD may refuse while a body is still arriving; then
 * the rest of the body is read and dropped, and the answer goes at its end. */
static enum MHD_Result reject(request *r) {
  struct MHD_Response *resp = error_response(r->reject);
  if (!resp) return MHD_NO;
  enum MHD_Result queued = r->reject == 401 && is_ui(r->path)
    ? MHD_queue_basic_auth_fail_response(r->conn, "drip (the password is the API token)", resp)
    : MHD_queue_response(r->conn, r->reject, resp);
  if (queued == MHD_YES) r->rejected = 1;
  MHD_destroy_response(resp);
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
  server *s = cls;
  request *r = *con_cls;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->conn = c;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->path = strdup(url);
    *con_cls = r;
    if (!r->path) return MHD_NO;
    r->reject = admit(s, c, url);
    if (r->reject) return reject(r);
    return MHD_YES;
  }
  if (*upload_size) {
    if (!r->reject) r->reject = append_body(s, r, upload, *upload_size);
    *upload_size = 0;
    if (r->reject && !r->rejected) return reject(r);
    return MHD_YES;
  }
  if (r->response) { /* resumed with Lua's answer */
    struct MHD_Response *resp = r->response;
    r->response = NULL;
    return queue(c, r->status, resp);
  }
  if (r->reject) return r->rejected ? MHD_YES : reject(r);
  /* complete: hold it for this turn's batch */
  r->next = NULL;
  *s->pending_tail = r;
  s->pending_tail = &r->next;
  s->npending++;
  MHD_suspend_connection(c);
  return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code) {
  server *s = cls;
  request *r = *con_cls;
  if (!r) return;
  s->buffered -= r->len;
  if (r->response) MHD_destroy_response(r->response);
  free(r->body);
  free(r->path);
  free(r);
  *con_cls = NULL;
}

/* driving MHD from libuv --------------------------------------------------------- */

static void on_mhd_timer(uv_timer_t *t);

static void on_idle(uv_idle_t *h) {}

static void run_mhd(server *s) {
  if (!s->mhd) return;
  MHD_run(s->mhd);
  if (s->npending) uv_idle_start(&s->idle, on_idle);
  MHD_UNSIGNED_LONG_LONG ms;
  if (MHD_get_timeout(s->mhd, &ms) == MHD_YES) uv_timer_start(&s->mhd_timer, on_mhd_timer, ms, 0);
  else uv_timer_stop(&s->mhd_timer);
}

static void on_mhd_timer(uv_timer_t *t) { run_mhd(t->data); }

static void on_poll(uv_poll_t *p, int status, int events) { run_mhd(p->data); }

/* the batch ------------------------------------------------------------------------ */

/* one ?key=value of the URL (decoded by MHD) into the table on top */
static enum MHD_Result add_query_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  lua_State *L = cls;
  lua_pushstring(L, value ? value : "");
  lua_setfield(L, -2, key);
  return MHD_YES;
}

static void push_request(lua_State *L, request *r) {
  lua_createtable(L, 0, 4);
  int nquery = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
  if (nquery > 0) { /* (most requests have none: no table for them) */
    lua_createtable(L, 0, nquery);
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_query_value, L);
    lua_setfield(L, -2, "query");
  }
  lua_pushstring(L, r->method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, r->path);
  lua_setfield(L, -2, "path");
  lua_pushlstring(L, r->body ? r->body : "", r->len);
  lua_setfield(L, -2, "body");
  const char *lang = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
  if (lang) { /* (for the unsubscribe page, in the reader's language) */
    lua_pushstring(L, lang);
    lua_setfield(L, -2, "accept_language");
  }
  const char *agent = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
  if (agent) { /* (a tracked link fetched by a program, not a person: see drip.tracking) */
    lua_pushstring(L, agent);
    lua_setfield(L, -2, "user_agent");
  }
}

/* stack: response table -> (popped); the request gets its MHD response */
static void take_response(lua_State *L, request *r) {
  unsigned status = 500;
  const char *body = "{\"error\":\"internal error\"}", *type = NULL;
  size_t len = strlen(body);
  int retry = 0;
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "status");
    lua_getfield(L, -2, "body");
    lua_getfield(L, -3, "type");
    lua_getfield(L, -4, "retry_after");
    lua_getfield(L, -5, "location");
    if (lua_isinteger(L, -5)) status = (unsigned)lua_tointeger(L, -5);
    if (lua_isstring(L, -4)) body = lua_tolstring(L, -4, &len);
    if (lua_isstring(L, -3)) type = lua_tostring(L, -3);
    if (lua_isinteger(L, -2)) retry = (int)lua_tointeger(L, -2);
    r->response = make_response(body, len, type, retry, lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL);
    lua_pop(L, 5);
  } else {
    r->response = make_response(body, len, NULL, 0, NULL);
  }
  r->status = status;
  lua_pop(L, 1);
}

static void dispatch_batch(server *s) {
  lua_State *L = s->L;
  request *head = s->pending;
  int n = s->npending;
  s->pending = NULL;
  s->pending_tail = &s->pending;
  s->npending = 0;

  lua_createtable(L, n, 0);
  int i = 1;
  for (request *r = head; r; r = r->next) {
    push_request(L, r);
    lua_rawseti(L, -2, i++);
  }
  int ok = call_lua(s, CB_REQUESTS, 1, 2); /* stack: responses next_due */
  i = 1;
  for (request *r = head, *next; r; r = next) {
    next = r->next;
    if (ok) lua_rawgeti(L, -2, i++);
    else lua_pushnil(L);
    take_response(L, r);
    MHD_resume_connection(r->conn);
  }
  if (ok) {
    arm_due(s);
    lua_pop(L, 1);
  }
}

static void start_drain(server *s);

static void on_check(uv_check_t *h) {
  server *s = h->data;
  uv_idle_stop(&s->idle);
  if (s->npending) {
    dispatch_batch(s);
    run_mhd(s);
  }
  if (s->stopping && s->mhd && !uv_is_active((uv_handle_t *)&s->drain)) start_drain(s);
}

/* journeys directory watch ---------------------------------------------------------- */

static void on_debounced(uv_timer_t *t) {
  server *s = t->data;
  if (call_lua(s, CB_CHANGE, 0, 1)) arm_due(s);
}

static void on_fs(uv_fs_event_t *h, const char *name, int events, int status);

/* templates/ made (or made again) after the start: watch it from now on */
static void rewatch_templates(server *s) {
  if (!s->templates_dir[0]) return;
  uv_fs_event_stop(&s->watch_templates);
  uv_fs_event_start(&s->watch_templates, on_fs, s->templates_dir, 0); /* (gone again: nothing to watch) */
}

static void on_fs(uv_fs_event_t *h, const char *name, int events, int status) {
  server *s = h->data;
  if (h == &s->watch && name && strcmp(name, "templates") == 0) rewatch_templates(s);
  uv_timer_start(&s->debounce, on_debounced, DEBOUNCE_MS, 0);
}

/* SIGHUP: read the journeys, segments and templates again now, as a change in
 * the directory does (where the directory cannot be watched, this is the way;
 * and a service manager's reload) */
static void on_hangup(uv_signal_t *h, int signum) {
  server *s = h->data;
  (void)signum;
  if (s->stopping) return;
  drip_log_line("info", "SIGHUP: reading the journeys again", NULL);
  uv_timer_start(&s->debounce, on_debounced, 0, 0);
}

/* stopping ---------------------------------------------------------------------------- */

static void close_handle(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* After the last batch: give answered connections a moment to flush, then close. */
static void on_drained(uv_timer_t *t) {
  server *s = t->data;
  run_mhd(s);
  if (s->npending) { /* bodies that were still arriving: on_check answers them first */
    uv_timer_start(&s->drain, on_drained, DRAIN_MS, 0);
    return;
  }
  call_lua(s, CB_STOP, 0, 0);
  MHD_stop_daemon(s->mhd);
  s->mhd = NULL;
  uv_walk(s->loop, close_handle, NULL);
}

static void start_drain(server *s) { uv_timer_start(&s->drain, on_drained, DRAIN_MS, 0); }

static void on_signal(uv_signal_t *h, int signum) {
  server *s = h->data;
  if (s->stopping) return;
  s->stopping = 1;
  drip_log_line("info", signum == SIGTERM ? "SIGTERM: finishing the current batch, then stopping"
                                     : "SIGINT: finishing the current batch, then stopping", NULL);
  MHD_socket fd = MHD_quiesce_daemon(s->mhd); /* no new connections */
  if (fd != MHD_INVALID_SOCKET) close(fd);
  uv_timer_stop(&s->due_timer);
}

/* setting up ---------------------------------------------------------------------------- */

static int resolve(const char *host, const char *port, struct sockaddr_storage *out, char *err, size_t errlen) {
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    snprintf(err, errlen, "listen: cannot resolve '%s': %s", host, gai_strerror(rc));
    return 0;
  }
  memcpy(out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return 1;
}

static int start_mhd(server *s, const char *host, const char *port, char *err, size_t errlen) {
  struct sockaddr_storage addr;
  if (!resolve(host, port, &addr, err, errlen)) return 0;
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
  if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)4096, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
  /* (not MHD_OPTION_LISTENING_ADDRESS_REUSE: that is SO_REUSEPORT, which lets
   * a second drip listen on the same port and take half of the events into
   * its own store; MHD's default SO_REUSEADDR lets a restart bind at once) */
  if (!s->mhd) {
    snprintf(err, errlen, "listen: cannot listen on %s:%s (in use, or not an address of this machine)", host, port);
    return 0;
  }
  return 1;
}

static void init_handles(server *s, const char *watch_dir) {
  uv_timer_init(s->loop, &s->mhd_timer);
  uv_timer_init(s->loop, &s->due_timer);
  uv_timer_init(s->loop, &s->debounce);
  uv_timer_init(s->loop, &s->drain);
  uv_check_init(s->loop, &s->check);
  uv_idle_init(s->loop, &s->idle);
  uv_signal_init(s->loop, &s->sigint);
  uv_signal_init(s->loop, &s->sigterm);
  uv_signal_init(s->loop, &s->sighup);
  uv_handle_t *hs[] = {(uv_handle_t *)&s->mhd_timer, (uv_handle_t *)&s->due_timer, (uv_handle_t *)&s->debounce,
                       (uv_handle_t *)&s->drain,     (uv_handle_t *)&s->check,     (uv_handle_t *)&s->sigint,
                       (uv_handle_t *)&s->sigterm,   (uv_handle_t *)&s->poll,      (uv_handle_t *)&s->watch,
                       (uv_handle_t *)&s->idle,      (uv_handle_t *)&s->watch_templates, (uv_handle_t *)&s->sighup};
  for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) hs[i]->data = s;
  int epfd = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
  uv_poll_init(s->loop, &s->poll, epfd);
  uv_poll_start(&s->poll, UV_READABLE, on_poll);
  uv_check_start(&s->check, on_check);
  uv_signal_start(&s->sigint, on_signal, SIGINT);
  uv_signal_start(&s->sigterm, on_signal, SIGTERM);
  uv_signal_start(&s->sighup, on_hangup, SIGHUP);
  if (watch_dir && uv_fs_event_init(s->loop, &s->watch) == 0) {
    if (uv_fs_event_start(&s->watch, on_fs, watch_dir, 0) != 0)
      drip_log_line("warn", "cannot watch the journeys directory; after a change, send SIGHUP (or restart)", watch_dir);
  }
  s->templates_dir[0] = '\0';
  if (watch_dir &&
      snprintf(s->templates_dir, sizeof s->templates_dir, "%s/templates", watch_dir) >= (int)sizeof s->templates_dir)
    s->templates_dir[0] = '\0';
  if (s->templates_dir[0] && uv_fs_event_init(s->loop, &s->watch_templates) != 0) s->templates_dir[0] = '\0';
  rewatch_templates(s); /* (no templates/ directory yet: nothing to watch until it is made) */
}

static size_t opt_size(lua_State *L, const char *key, size_t dflt) {
  lua_getfield(L, 1, key);
  size_t v = lua_isinteger(L, -1) ? (size_t)lua_tointeger(L, -1) : dflt;
  lua_pop(L, 1);
  return v;
}

/* server.serve{ host=, port=, token=, body_limit=, buffered_limit=, watch=DIR,
 *               on_requests=fn(list) -> responses, next_due;
 *               on_timer=fn() -> next_due; on_change=fn() -> next_due; on_stop=fn(),
 *               next_due=N, on_listening=fn(port) }
 * Runs the loop until SIGINT/SIGTERM. -> true | nil, error */
static int l_serve(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  server *s = lua_newuserdatauv(L, sizeof *s, 0); /* kept on the stack (index 2) for the whole run */
  memset(s, 0, sizeof *s);
  s->L = L;
  s->pending_tail = &s->pending;
  s->body_limit = opt_size(L, "body_limit", 1 << 20);
  s->buffered_limit = opt_size(L, "buffered_limit", 256u << 20);
  for (int i = 0; i < CB_COUNT; i++) {
    lua_getfield(L, 1, CB_NAMES[i]);
    luaL_argexpected(L, lua_isfunction(L, -1), 1, CB_NAMES[i]);
    s->refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_getfield(L, 1, "host");
  lua_getfield(L, 1, "port");
  lua_getfield(L, 1, "token");
  lua_getfield(L, 1, "watch");
  const char *host = luaL_checkstring(L, -4), *port = luaL_checkstring(L, -3);
  const char *token = lua_tostring(L, -2), *watch = lua_tostring(L, -1);

  char err[256];
  int ok = start_mhd(s, host, port, err, sizeof err);
  if (ok) {
    s->token = token ? strdup(token) : NULL;
    s->loop = uv_default_loop();
    init_handles(s, watch);
    lua_getfield(L, 1, "on_listening");
    lua_pushinteger(L, MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT)->port);
    if (lua_isfunction(L, -2)) lua_call(L, 1, 0);
    else lua_pop(L, 2);
    lua_getfield(L, 1, "next_due");
    arm_due(s);
    uv_run(s->loop, UV_RUN_DEFAULT);
    uv_loop_close(s->loop);
    free(s->token);
  }
  for (int i = 0; i < CB_COUNT; i++) luaL_unref(L, LUA_REGISTRYINDEX, s->refs[i]);
  if (!ok) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

int luaopen_drip_server(lua_State *L) {
  static const luaL_Reg funcs[] = {{"serve", l_serve}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
