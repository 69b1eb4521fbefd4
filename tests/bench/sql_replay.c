/*
 * The storage floor under a drip run: plays back a trace of its SQLite calls
 * (sql_trace.lua) through prepared statements, with no Lua, no JSON and no
 * engine, and prints how long SQLite took: in all, per statement and for
 * each exec of over 10 ms (commits, index builds). Reading the trace is not
 * counted. See storage_floor.sh.
 *
 *   cc -O2 tests/bench/sql_replay.c -o /tmp/sql_replay -lsqlite3
 *   /tmp/sql_replay TRACE DB
 *
 * DB takes the place of the first database the run opened: a new file, a
 * copy of the one the run read (a backtest), or :memory:.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DBS 16
#define MAX_STMTS 4096
#define MAX_ARGS 64

typedef struct {
  sqlite3_stmt *stmt;
  long calls;
  double seconds;
} statement;

static FILE *trace;
static sqlite3 *dbs[MAX_DBS];
static statement stmts[MAX_STMTS];
static double in_sqlite;
static long calls;

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* SQL drip_bucket(text, n), as runtime/store.c defines it for drip (64-bit
 * FNV-1a of the text, modulo n): backtest's queries name it. */
static void sql_bucket(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_int64 n = sqlite3_value_int64(argv[1]);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || n <= 0) {
    sqlite3_result_null(ctx);
    return;
  }
  const unsigned char *text = sqlite3_value_text(argv[0]);
  unsigned long long h = 1469598103934665603ULL;
  for (int i = 0; i < sqlite3_value_bytes(argv[0]); i++) h = (h ^ text[i]) * 1099511628211ULL;
  sqlite3_result_int64(ctx, (sqlite3_int64)(h % (unsigned long long)n));
}

static void die(const char *what) {
  fprintf(stderr, "sql_replay: %s\n", what);
  exit(1);
}

static void read_line(char *line, size_t size) {
  if (!fgets(line, (int)size, trace)) die("trace ends inside a record");
}

/* A length-prefixed text: "len\n" was read by the caller; its bytes and "\n" follow. */
static char *read_text(long len) {
  char *text = malloc((size_t)len + 1);
  if (!text || fread(text, 1, (size_t)len + 1, trace) != (size_t)len + 1) die("trace ends inside a text");
  text[len] = '\0';
  return text;
}

static int index_in(long i, long bound, const char *what) {
  if (i < 0 || i >= bound) die(what);
  return (int)i;
}

/* The run's first database is opened at DB; any other must have been in memory. */
static void open_db(const char *args, const char *path) {
  long db, len;
  if (sscanf(args, "%ld %ld", &db, &len) != 2) die("bad O record");
  char *traced = read_text(len);
  if (db != 1 && strcmp(traced, ":memory:") != 0) die("the run opened a second database file");
  if (sqlite3_open(db == 1 ? path : traced, &dbs[index_in(db, MAX_DBS, "too many databases")]) != SQLITE_OK)
    die("cannot open the database");
  sqlite3_create_function_v2(dbs[db], "drip_bucket", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_bucket, NULL,
                             NULL, NULL);
  free(traced);
}

static void exec_sql(const char *args) {
  long db, len;
  if (sscanf(args, "%ld %ld", &db, &len) != 2) die("bad E record");
  char *sql = read_text(len), *err = NULL;
  double start = seconds();
  if (sqlite3_exec(dbs[index_in(db, MAX_DBS, "bad database")], sql, NULL, NULL, &err) != SQLITE_OK)
    fprintf(stderr, "exec: %s: %.80s\n", err, sql);
  double took = seconds() - start;
  in_sqlite += took;
  if (took > 0.01) printf("%8.3f s  exec %.70s\n", took, sql);
  sqlite3_free(err);
  free(sql);
}

static void prepare(const char *args) {
  long db, id, len;
  if (sscanf(args, "%ld %ld %ld", &db, &id, &len) != 3) die("bad P record");
  char *sql = read_text(len);
  sqlite3 *handle = dbs[index_in(db, MAX_DBS, "bad database")];
  statement *s = &stmts[index_in(id, MAX_STMTS, "too many statements")];
  double start = seconds();
  if (sqlite3_prepare_v3(handle, sql, (int)len + 1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL) != SQLITE_OK)
    fprintf(stderr, "prepare: %s: %.80s\n", sqlite3_errmsg(handle), sql);
  in_sqlite += seconds() - start;
  free(sql);
}

typedef struct {
  char type; /* n, i, f or s */
  long long integer;
  double number;
  char *text;
  long len;
} value;

static void read_value(value *v) {
  char line[128];
  read_line(line, sizeof line);
  v->type = line[0];
  if (v->type == 'i') v->integer = strtoll(line + 1, NULL, 10);
  else if (v->type == 'f') v->number = strtod(line + 1, NULL);
  else if (v->type == 's') v->len = strtol(line + 1, NULL, 10), v->text = read_text(v->len);
  else if (v->type != 'n') die("bad argument");
}

/* Bind as drip's bind_args does (runtime/store.c): every parameter, nil past the last argument. */
static void bind_values(sqlite3_stmt *st, const value *values, long n) {
  int want = sqlite3_bind_parameter_count(st);
  for (int i = 1; i <= want; i++) {
    const value *v = &values[i - 1];
    if (i > n || v->type == 'n') sqlite3_bind_null(st, i);
    else if (v->type == 'i') sqlite3_bind_int64(st, i, v->integer);
    else if (v->type == 'f') sqlite3_bind_double(st, i, v->number);
    else sqlite3_bind_text(st, i, v->text, (int)v->len, SQLITE_STATIC);
  }
}

/* R (every row), F (the first row) or A (every row); every column is read. */
static void run(char mode, const char *args) {
  long id, n;
  if (sscanf(args, "%ld %ld", &id, &n) != 2) die("bad statement record");
  statement *s = &stmts[index_in(id, MAX_STMTS, "bad statement")];
  value values[MAX_ARGS] = {0};
  if (n > MAX_ARGS || !s->stmt) die("statement not prepared, or too many arguments");
  for (long i = 0; i < n; i++) read_value(&values[i]);
  double start = seconds();
  bind_values(s->stmt, values, n);
  int rc;
  while ((rc = sqlite3_step(s->stmt)) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(s->stmt); c++) (void)sqlite3_column_text(s->stmt, c);
    if (mode == 'F') break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fprintf(stderr, "step: %s\n", sqlite3_sql(s->stmt));
  sqlite3_reset(s->stmt);
  double took = seconds() - start;
  s->seconds += took, s->calls++;
  in_sqlite += took, calls++;
  for (long i = 0; i < n; i++) free(values[i].text);
}

static void print_statements(void) {
  for (int i = 0; i < MAX_STMTS; i++) {
    if (stmts[i].calls == 0) continue;
    printf("%8.3f s  %8ld x  %.70s\n", stmts[i].seconds, stmts[i].calls, sqlite3_sql(stmts[i].stmt));
  }
}

int main(int argc, char **argv) {
  if (argc != 3) die("usage: sql_replay TRACE DB");
  if (!(trace = fopen(argv[1], "rb"))) die("cannot open the trace");
  sqlite3_config(SQLITE_CONFIG_MULTITHREAD); /* as drip configures it (runtime/store.c) */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  char line[256];
  while (fgets(line, sizeof line, trace)) {
    switch (line[0]) {
    case 'O': open_db(line + 2, argv[2]); break;
    case 'E': exec_sql(line + 2); break;
    case 'P': prepare(line + 2); break;
    case 'R': case 'F': case 'A': run(line[0], line + 2); break;
    default: die("unknown record");
    }
  }
  print_statements();
  double start = seconds();
  for (int i = 0; i < MAX_STMTS; i++) sqlite3_finalize(stmts[i].stmt);
  for (int i = 0; i < MAX_DBS; i++) sqlite3_close_v2(dbs[i]);
  in_sqlite += seconds() - start;
  printf("%ld statement calls; in SQLite %.2f s\n", calls, in_sqlite);
  return 0;
}
