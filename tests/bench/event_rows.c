/*
 * The floor under `drip simulate`'s throughput: only SQLite, no engine.
 * Inserts N rows shaped like the abandoned-cart workload's events (100,000
 * contacts in random order, a unique messageId each, a 200-byte body) into
 * drip's events table, with its two indexes, in transactions of BATCH rows,
 * and prints the microseconds per row.
 *
 *   cc -O2 tests/bench/event_rows.c -o /tmp/event_rows -lsqlite3
 *   /tmp/event_rows DB N BATCH INDEXES KEYS
 *     DB: a file (removed first) or :memory:
 *     INDEXES: 0 none, 1 messageId, 2 contact/name/ts, 3 both
 *     KEYS: text (drip's schema) or int (contact and name ids, a 64-bit
 *           hash of the messageId in a table of its own)
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (int64_t)h;
}

static void exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "event_rows: %s (in: %s)\n", err, sql);
    exit(1);
  }
}

static void schema(sqlite3 *db, int indexes, int int_keys) {
  exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536");
  if (int_keys) {
    exec(db, "CREATE TABLE events (seq INTEGER PRIMARY KEY, contact INTEGER NOT NULL, type TEXT NOT NULL, "
             "name INTEGER, ts INTEGER NOT NULL, message_id TEXT, internal INTEGER NOT NULL DEFAULT 0, "
             "body TEXT NOT NULL); CREATE TABLE seen (hash INTEGER PRIMARY KEY, seq INTEGER NOT NULL)");
  } else {
    exec(db, "CREATE TABLE events (seq INTEGER PRIMARY KEY, contact TEXT NOT NULL, type TEXT NOT NULL, "
             "name TEXT, ts INTEGER NOT NULL, message_id TEXT, internal INTEGER NOT NULL DEFAULT 0, "
             "body TEXT NOT NULL)");
    if (indexes & 1)
      exec(db, "CREATE UNIQUE INDEX events_message_id ON events(message_id) WHERE message_id IS NOT NULL");
  }
  if (indexes & 2) exec(db, "CREATE INDEX events_contact ON events(contact, name, ts)");
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: event_rows DB N BATCH INDEXES text|int\n");
    return 2;
  }
  const char *path = argv[1];
  long n = atol(argv[2]), batch = atol(argv[3]);
  int indexes = atoi(argv[4]), int_keys = strcmp(argv[5], "int") == 0;
  if (strcmp(path, ":memory:") != 0) {
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", path);
    remove(path);
    remove(wal);
  }
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK) return 1;
  schema(db, indexes, int_keys);
  sqlite3_stmt *ins, *seen;
  sqlite3_prepare_v2(db, "INSERT INTO events(contact, type, name, ts, message_id, body) VALUES (?, ?, ?, ?, ?, ?)",
                     -1, &ins, NULL);
  sqlite3_prepare_v2(db, "INSERT INTO seen(hash, seq) VALUES (?, ?)", -1, &seen, NULL);
  static const char *names[] = {"Cart Updated", "Product Viewed", "Order Completed"};
  unsigned seed = 42;
  char contact[32], mid[48], body[320];
  double start = seconds();
  for (long i = 0; i < n; i++) {
    if (i % batch == 0) exec(db, "BEGIN");
    seed = seed * 1103515245u + 12345u;
    int c = (int)(seed % 100000), k = (int)(i % 3);
    snprintf(contact, sizeof contact, "u%d", c);
    snprintf(mid, sizeof mid, "u%d-%ld", c, i);
    snprintf(body, sizeof body,
             "{\"type\":\"track\",\"userId\":\"%s\",\"event\":\"%s\",\"properties\":{\"cart_url\":"
             "\"https://shop.test/c/%s\",\"value\":%ld},\"timestamp\":\"2026-11-01T00:00:00Z\",\"messageId\":\"%s\"}",
             contact, names[k], contact, i % 300, mid);
    if (int_keys) {
      sqlite3_bind_int(ins, 1, c);
      sqlite3_bind_int(ins, 3, k);
    } else {
      sqlite3_bind_text(ins, 1, contact, -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 3, names[k], -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(ins, 2, "track", -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 4, 1793491200 + i);
    sqlite3_bind_text(ins, 5, mid, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 6, body, -1, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) return fprintf(stderr, "event_rows: %s\n", sqlite3_errmsg(db)), 1;
    sqlite3_reset(ins);
    if (int_keys && (indexes & 1)) {
      sqlite3_bind_int64(seen, 1, fnv1a(mid));
      sqlite3_bind_int64(seen, 2, sqlite3_last_insert_rowid(db));
      if (sqlite3_step(seen) != SQLITE_DONE) return fprintf(stderr, "event_rows: %s\n", sqlite3_errmsg(db)), 1;
      sqlite3_reset(seen);
    }
    if (i % batch == batch - 1 || i == n - 1) exec(db, "COMMIT");
  }
  double us = (seconds() - start) * 1e6 / (double)n;
  printf("%ld rows, %s keys, indexes %d, %ld per transaction, %s: %.2f us per row\n", n,
         int_keys ? "int" : "text", indexes, batch, path, us);
  sqlite3_finalize(ins);
  sqlite3_finalize(seen);
  sqlite3_close(db);
  return 0;
}
