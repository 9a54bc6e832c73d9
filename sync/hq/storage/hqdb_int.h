/* hqdb_int.h — what hqdb.c needs from a storage backend (hqdb_sqlite.c,
 * hqdb_pg.c). Not for use outside sync/hq's hqdb*.c files.
 *
 * hqdb.c writes every statement once, with $1..$N parameters; a backend
 * runs it (the SQLite one rewrites $N to ?N), materialises the rows it
 * returns as hqv cells, and brackets work in transactions. */
#ifndef SQR_HQDB_INT_H
#define SQR_HQDB_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hqdb.h"
#include "hqres.h"

typedef struct hqdb_ops {
  const char *name;        /* "sqlite", "postgresql" */
  const char *for_update;  /* row lock suffix for SELECT, "" where the
                              transaction already serialises writers */
  const char *schema_lock; /* run first in the schema transaction, or NULL */
  /* Runs sql with params; rows go to *res when res is not NULL (the
   * caller frees them with hqres_free). *changes: rows affected. Sets
   * db->err. SQR_EEXISTS on a unique violation, SQR_EBUSY when the
   * database stayed locked, SQR_EIO otherwise. */
  sqr_rc (*exec)(hqdb *db, const char *sql, const hqv *params, int n, hqres *res, int64_t *changes);
  sqr_rc (*begin)(hqdb *db);
  /* begin for hqdb_begin_lazy: its commit is visible at once but need
   * not be on disk before the next durable commit. */
  sqr_rc (*begin_lazy)(hqdb *db);
  sqr_rc (*commit)(hqdb *db);
  void (*rollback)(hqdb *db);
  /* hqdb_ping with a real deadline, or NULL (hqdb.c runs SELECT 1). */
  sqr_rc (*ping)(hqdb *db, int timeout_ms);
  void (*close)(hqdb *db);
} hqdb_ops;

#define HQDB_OWNER_LEN 32 /* hex digits */

struct hqdb {
  const hqdb_ops *ops;
  void *conn;
  char err[512];
  char *event_sql[HQDB_EVENT_CHUNK_LOG2 + 1]; /* multi-row INSERTs, 2^k rows */
  /* This handle's name in seat_leases (hqdb_resolve.c): random per open,
   * so a process restarted with the same pid never inherits the seats
   * its dead predecessor held. */
  char owner[HQDB_OWNER_LEN + 1];
};

/* NULL-terminated CREATE ... IF NOT EXISTS statements of the modules that
 * keep their statements in their own files (hqdb_resolve.c: scans,
 * brands, resolver alerts; hqdb_stats.c: daily stats, admin users and
 * sessions), run in the schema transaction after hqdb.c's own. */
extern const char *const hqdb_resolve_schema[];
extern const char *const hqdb_stats_schema[];
extern const char *const hqdb_auth_schema[];
extern const char *const hqdb_keys_schema[];    /* hqdb_keys.c: kiosk keys, incarnations, coupons */
extern const char *const hqdb_jobs_schema[];    /* hqdb_jobs.c: leased background jobs */
extern const char *const hqdb_seal_schema[];    /* hqdb_seal.c: sealed phones to open */
extern const char *const hqdb_feed_schema[];    /* hqdb_feed.c: each store's feed */
extern const char *const hqdb_erase_schema[];   /* hqdb_erase.c: the erasure log */
extern const char *const hqdb_consent_schema[]; /* hqdb_consent.c: marketing consents */
extern const char *const hqdb_retain_schema[];  /* hqdb_retain.c: retention runs */
/* Run at open after the schema, in a transaction of its own under the
 * schema lock (hqdb_keys.c): kiosks enrolled before key versions get their
 * legacy and first rows. */
sqr_rc hqdb__keys_migrate(hqdb *db, int64_t now_ms) SQR_WARN_UNUSED;

/* Runs one statement (see hqdb_ops.exec); for hqdb_*.c files. */
sqr_rc hqdb_exec(hqdb *db, const char *sql, const hqv *params, int n, hqres *res,
                 int64_t *changes) SQR_WARN_UNUSED;
/* Runs one statement in its own transaction (begin, exec, commit; rolls
 * back on failure). */
sqr_rc hqdb__run1(hqdb *db, const char *sql, const hqv *p, int n, int64_t *changes) SQR_WARN_UNUSED;

/* The text of a multi-row statement: head, then rows groups of cols
 * parameters "($1,...),($k,...)" numbered from $1, then tail; malloc'd
 * (NULL without memory). Callers make their texts once (pthread_once)
 * and keep them: the SQLite handle caches statements by the text's
 * address. */
char *hqdb__batch_text(const char *head, const char *tail, int rows, int cols);

/* Parameters, written once for every hqdb*.c file. */
#define I(x)      ((hqv){.k = HQV_INT, .i = (x)})
#define R(x)      ((hqv){.k = HQV_REAL, .d = (x)})
#define T(s)      ((hqv){.k = HQV_TEXT, .p = (s), .n = strlen(s)})
#define B(b, len) ((hqv){.k = HQV_BLOB, .p = (b), .n = (len)})

/* Result cells, read leniently: PostgreSQL may hand back a count as text
 * or a real where SQLite gives an integer. */
static inline const hqv *cell(const hqres *r, int row, int col) {
  return &r->cells[row * r->ncols + col];
}

static inline void cell_text(const hqres *r, int row, int col, char *out, size_t size) {
  const hqv *v = cell(r, row, col);
  snprintf(out, size, "%s", v->k == HQV_TEXT && v->p ? (const char *)v->p : "");
}

static inline int64_t cell_int(const hqres *r, int row, int col) {
  const hqv *v = cell(r, row, col);
  if(v->k == HQV_INT) return v->i;
  if(v->k == HQV_REAL) return (int64_t)v->d;
  if(v->k == HQV_TEXT && v->p) return strtoll(v->p, NULL, 10);
  return 0;
}

static inline double cell_real(const hqres *r, int row, int col) {
  const hqv *v = cell(r, row, col);
  if(v->k == HQV_REAL) return v->d;
  if(v->k == HQV_INT) return (double)v->i;
  if(v->k == HQV_TEXT && v->p) return strtod(v->p, NULL);
  return 0;
}

/* 1 and the 32 bytes when the cell is a 32-byte blob, else 0. */
static inline int cell_blob32(const hqres *r, int row, int col, uint8_t out[32]) {
  const hqv *v = cell(r, row, col);
  if(v->k != HQV_BLOB || v->n != 32) return 0;
  memcpy(out, v->p, 32);
  return 1;
}

/* Creates every table and index that is missing, in one transaction. */
sqr_rc hqdb__schema(hqdb *db) SQR_WARN_UNUSED;

sqr_rc hqdb_sqlite_open(const char *path, hqdb *db);
sqr_rc hqdb_pg_open(const char *url, hqdb *db);

#endif
