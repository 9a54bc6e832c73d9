/* hqdb_sqlite.c — HQ storage on one SQLite file (the default backend).
 * WAL, synchronous=FULL, a busy timeout; write transactions are BEGIN
 * IMMEDIATE, so two HQ processes on one file serialise instead of failing
 * at commit. Statements are prepared once and cached by their text. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"

#define CACHE_SLOTS 512 /* far more than the storage layer has statements: no eviction */

typedef struct sq_conn {
  sqlite3 *db;
  struct {
    const char *sql; /* the caller's static text: the key */
    sqlite3_stmt *stmt;
  } cache[CACHE_SLOTS];
  int lazy; /* in a hqdb_begin_lazy transaction: synchronous=FULL after it */
} sq_conn;

static sqr_rc sq_fail(hqdb *db, int src, const char *what) {
  sq_conn *c = db->conn;
  snprintf(db->err, sizeof db->err, "sqlite: %s: %s", what, sqlite3_errmsg(c->db));
  if(src == SQLITE_CONSTRAINT) return SQR_EEXISTS;
  if(src == SQLITE_BUSY || src == SQLITE_LOCKED) return SQR_EBUSY;
  if(src == SQLITE_FULL) return SQR_ENOSPC;
  return SQR_EIO;
}

/* $N -> ?N: the one spelling difference from PostgreSQL we rely on. */
/* $N -> ?N: the one spelling difference from PostgreSQL we rely on.
 * Open addressing on the text's address; a collision probes on instead of
 * evicting, so two hot statements never re-prepare each other. */
static sqlite3_stmt *prepare(hqdb *db, const char *sql, int *src) {
  sq_conn *c = db->conn;
  size_t start = ((uintptr_t)sql >> 3) % CACHE_SLOTS, slot = start;
  for(size_t k = 0; k < CACHE_SLOTS; k++) {
    slot = (start + k) % CACHE_SLOTS;
    if(c->cache[slot].sql == sql) return c->cache[slot].stmt;
    if(!c->cache[slot].sql) break;
  }
  if(c->cache[slot].sql) slot = start; /* full: evict */
  char *text = strdup(sql);
  if(!text) {
    *src = SQLITE_NOMEM;
    return NULL;
  }
  for(char *p = text; *p; p++)
    if(*p == '$' && p[1] >= '0' && p[1] <= '9') *p = '?';
  sqlite3_stmt *s = NULL;
  *src = sqlite3_prepare_v2(c->db, text, -1, &s, NULL);
  free(text);
  if(*src != SQLITE_OK) return NULL;
  if(c->cache[slot].stmt) sqlite3_finalize(c->cache[slot].stmt);
  c->cache[slot].sql = sql;
  c->cache[slot].stmt = s;
  return s;
}

static sqr_rc sq_exec(hqdb *db, const char *sql, const hqv *params, int n, hqres *res,
                      int64_t *changes) {
  sq_conn *c = db->conn;
  int src;
  sqlite3_stmt *s = prepare(db, sql, &src);
  if(!s) return sq_fail(db, src, "prepare");
  for(int i = 0; i < n; i++) {
    const hqv *v = &params[i];
    switch(v->k) {
    case HQV_INT:
      sqlite3_bind_int64(s, i + 1, v->i);
      break;
    case HQV_REAL:
      sqlite3_bind_double(s, i + 1, v->d);
      break;
    case HQV_TEXT:
      sqlite3_bind_text(s, i + 1, v->p, (int)v->n, SQLITE_STATIC);
      break;
    case HQV_BLOB:
      sqlite3_bind_blob(s, i + 1, v->p, (int)v->n, SQLITE_STATIC);
      break;
    default:
      sqlite3_bind_null(s, i + 1);
      break;
    }
  }
  sqr_rc rc = SQR_OK;
  if(res) memset(res, 0, sizeof *res);
  while((src = sqlite3_step(s)) == SQLITE_ROW) {
    if(!res) continue;
    int ncols = sqlite3_column_count(s);
    hqv cells[HQRES_MAX_COLS];
    if(ncols > HQRES_MAX_COLS) {
      snprintf(db->err, sizeof db->err, "a statement returns %d columns, more than %d", ncols,
               HQRES_MAX_COLS);
      rc = SQR_EIO;
      break;
    }
    for(int i = 0; i < ncols; i++) {
      hqv *v = &cells[i];
      memset(v, 0, sizeof *v);
      switch(sqlite3_column_type(s, i)) {
      case SQLITE_INTEGER:
        v->k = HQV_INT;
        v->i = sqlite3_column_int64(s, i);
        break;
      case SQLITE_FLOAT:
        v->k = HQV_REAL;
        v->d = sqlite3_column_double(s, i);
        break;
      case SQLITE_TEXT:
        v->k = HQV_TEXT;
        v->p = sqlite3_column_text(s, i);
        v->n = (size_t)sqlite3_column_bytes(s, i);
        break;
      case SQLITE_BLOB:
        v->k = HQV_BLOB;
        v->p = sqlite3_column_blob(s, i);
        v->n = (size_t)sqlite3_column_bytes(s, i);
        break;
      default:
        v->k = HQV_NULL;
        break;
      }
    }
    if((rc = hqres_add_row(res, ncols, cells))) break;
  }
  if(!rc && src != SQLITE_DONE) rc = sq_fail(db, src, "step");
  if(!rc && changes) *changes = sqlite3_changes64(c->db);
  sqlite3_reset(s); /* every parameter is bound again on the next run */
  if(rc && res) hqres_free(res);
  return rc;
}

/* A statement without parameters (BEGIN, COMMIT, a pragma; rows it
 * returns are dropped), prepared once and cached like any other:
 * sqlite3_exec parsed it again on every call, four times per lease of
 * seats (resolve_counters.c). */
static sqr_rc sq_simple(hqdb *db, const char *sql) {
  return sq_exec(db, sql, NULL, 0, NULL, NULL);
}

static sqr_rc sq_begin(hqdb *db) {
  return sq_simple(db, "BEGIN IMMEDIATE");
}
/* WAL with synchronous=NORMAL for one transaction: committed (other
 * connections see it, a crash of this process keeps it) without an
 * fsync; the next commit at FULL syncs the WAL, this one's frames too.
 * The pragma cannot change inside a transaction, hence before BEGIN and
 * after COMMIT or ROLLBACK. */
static sqr_rc sq_begin_lazy(hqdb *db) {
  sq_conn *c = db->conn;
  sqr_rc rc = sq_simple(db, "PRAGMA synchronous=NORMAL");
  if(!rc) c->lazy = 1;
  if(!rc && (rc = sq_begin(db))) {
    c->lazy = 0;
    (void)sq_simple(db, "PRAGMA synchronous=FULL");
  }
  return rc;
}
static void sq_durable_again(hqdb *db) {
  sq_conn *c = db->conn;
  if(!c->lazy || !sqlite3_get_autocommit(c->db)) return;
  c->lazy = 0;
  if(sq_simple(db, "PRAGMA synchronous=FULL")) c->lazy = 1; /* tried again after the next */
}
static sqr_rc sq_commit(hqdb *db) {
  sqr_rc rc = sq_simple(db, "COMMIT");
  sq_durable_again(db);
  return rc;
}
static void sq_rollback(hqdb *db) {
  sq_conn *c = db->conn;
  if(!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  sq_durable_again(db);
}

static void sq_close(hqdb *db) {
  sq_conn *c = db->conn;
  if(!c) return;
  for(int i = 0; i < CACHE_SLOTS; i++)
    sqlite3_finalize(c->cache[i].stmt);
  sqlite3_close(c->db);
  free(c);
  db->conn = NULL;
}

static const hqdb_ops sqlite_ops = {
    .name = "sqlite",
    .for_update = "",
    .schema_lock = NULL,
    .exec = sq_exec,
    .begin = sq_begin,
    .begin_lazy = sq_begin_lazy,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .close = sq_close,
};

sqr_rc hqdb_sqlite_open(const char *path, hqdb *db) {
  sq_conn *c = calloc(1, sizeof *c);
  if(!c) return SQR_ENOMEM;
  db->conn = c;
  db->ops = &sqlite_ops;
  int src = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if(src != SQLITE_OK) {
    snprintf(db->err, sizeof db->err, "sqlite: cannot open %s: %s", path,
             c->db ? sqlite3_errmsg(c->db) : "out of memory");
    return SQR_EIO;
  }
  sqlite3_busy_timeout(c->db, 10000);
  sqr_rc rc = sq_simple(db, "PRAGMA journal_mode=WAL");
  if(!rc) rc = sq_simple(db, "PRAGMA synchronous=FULL");
  /* The multi-row UPDATE ... FROM (VALUES ...) statements (the feed's
   * points, the resolver's kept leases) join through a transient table;
   * in a temporary file each one opened and closed a pager, 1.2 ms a
   * statement (a third of ingest's time). They hold at most 64 rows. */
  if(!rc) rc = sq_simple(db, "PRAGMA temp_store=MEMORY");
  /* What an erasure deletes is overwritten, not left in free pages
   * (hqdb_scrub then takes the old pages out of the WAL). */
  if(!rc) rc = sq_simple(db, "PRAGMA secure_delete=ON");
  return rc;
}
