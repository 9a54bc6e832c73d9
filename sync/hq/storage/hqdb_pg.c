/* hqdb_pg.c — HQ storage on PostgreSQL (libpq), for several HQ processes
 * sharing one database. Parameters travel as text except blobs (binary
 * bytea); results come back as text and are typed by column type. Unique
 * violations map to SQR_EEXISTS, serialisation failures and deadlocks to
 * SQR_EBUSY. The schema is created under an advisory lock so processes
 * starting together do not race on CREATE TABLE. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"

#define OID_BYTEA  17
#define OID_INT8   20
#define OID_INT2   21
#define OID_INT4   23
#define OID_FLOAT8 701
#define MAX_PARAMS (HQDB_EVENT_CHUNK * 10) /* a multi-row event INSERT */

typedef struct pg_conn {
  PGconn *pg;
  char nums[MAX_PARAMS][32];
  const char *values[MAX_PARAMS];
  int lengths[MAX_PARAMS], formats[MAX_PARAMS];
  Oid types[MAX_PARAMS];
} pg_conn;

static PGconn *pgc(const hqdb *db) {
  return ((pg_conn *)db->conn)->pg;
}

static sqr_rc pg_fail(hqdb *db, PGresult *r, const char *what) {
  PGconn *c = pgc(db);
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  snprintf(db->err, sizeof db->err, "postgresql: %s: %s", what, msg && *msg ? msg : "failed");
  size_t n = strlen(db->err);
  if(n && db->err[n - 1] == '\n') db->err[n - 1] = '\0';
  if(state && strcmp(state, "23505") == 0) return SQR_EEXISTS;
  if(state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) return SQR_EBUSY;
  if(state && strcmp(state, "53100") == 0) return SQR_ENOSPC;
  return PQstatus(c) == CONNECTION_OK ? SQR_EIO : SQR_ENET;
}

static sqr_rc pg_exec(hqdb *db, const char *sql, const hqv *params, int n, hqres *res,
                      int64_t *changes) {
  if(n > MAX_PARAMS) return SQR_EINVAL;
  /* Per connection, not on the stack: 640 parameters of 32 digits. */
  pg_conn *pc = db->conn;
  PGconn *c = pc->pg;
  char(*nums)[32] = pc->nums;
  const char **values = pc->values;
  int *lengths = pc->lengths, *formats = pc->formats;
  Oid *types = pc->types;
  for(int i = 0; i < n; i++) {
    const hqv *v = &params[i];
    formats[i] = 0;
    lengths[i] = 0;
    types[i] = 0;
    switch(v->k) {
    case HQV_INT:
      snprintf(nums[i], sizeof nums[i], "%lld", (long long)v->i);
      values[i] = nums[i];
      types[i] = OID_INT8;
      break;
    case HQV_REAL:
      snprintf(nums[i], sizeof nums[i], "%.17g", v->d);
      values[i] = nums[i];
      types[i] = OID_FLOAT8;
      break;
    case HQV_TEXT:
      values[i] = v->p;
      break;
    case HQV_BLOB:
      values[i] = v->p;
      lengths[i] = (int)v->n;
      formats[i] = 1;
      types[i] = OID_BYTEA;
      break;
    default:
      values[i] = NULL;
      break;
    }
  }
  PGresult *r = PQexecParams(c, sql, n, types, values, lengths, formats, 0);
  ExecStatusType st = PQresultStatus(r);
  if(st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    sqr_rc rc = pg_fail(db, r, "statement");
    PQclear(r);
    return rc;
  }
  sqr_rc rc = SQR_OK;
  if(res) {
    memset(res, 0, sizeof *res);
    int rows = PQntuples(r), ncols = PQnfields(r);
    if(ncols > 16) ncols = 16;
    for(int row = 0; !rc && row < rows; row++) {
      hqv cells[16];
      unsigned char *bufs[16] = {0};
      for(int i = 0; i < ncols; i++) {
        hqv *v = &cells[i];
        memset(v, 0, sizeof *v);
        if(PQgetisnull(r, row, i)) continue;
        const char *text = PQgetvalue(r, row, i);
        Oid t = PQftype(r, i);
        if(t == OID_INT8 || t == OID_INT4 || t == OID_INT2) {
          v->k = HQV_INT;
          v->i = strtoll(text, NULL, 10);
        } else if(t == OID_FLOAT8) {
          v->k = HQV_REAL;
          v->d = strtod(text, NULL);
        } else if(t == OID_BYTEA) {
          size_t len = 0;
          bufs[i] = PQunescapeBytea((const unsigned char *)text, &len);
          if(!bufs[i]) {
            rc = SQR_ENOMEM;
            break;
          }
          v->k = HQV_BLOB;
          v->p = bufs[i];
          v->n = len;
        } else {
          v->k = HQV_TEXT;
          v->p = text;
          v->n = (size_t)PQgetlength(r, row, i);
        }
      }
      if(!rc) rc = hqres_add_row(res, ncols, cells);
      for(int i = 0; i < ncols; i++)
        PQfreemem(bufs[i]);
    }
    if(rc) hqres_free(res);
  }
  if(!rc && changes) {
    const char *t = PQcmdTuples(r);
    *changes = t && *t ? strtoll(t, NULL, 10) : 0;
  }
  PQclear(r);
  return rc;
}

static sqr_rc pg_simple(hqdb *db, const char *sql) {
  PGresult *r = PQexec(pgc(db), sql);
  sqr_rc rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SQR_OK : pg_fail(db, r, sql);
  PQclear(r);
  return rc;
}

static sqr_rc pg_begin(hqdb *db) {
  return pg_simple(db, "BEGIN");
}
static sqr_rc pg_commit(hqdb *db) {
  return pg_simple(db, "COMMIT");
}
static void pg_rollback(hqdb *db) {
  if(PQtransactionStatus(pgc(db)) != PQTRANS_IDLE) PQclear(PQexec(pgc(db), "ROLLBACK"));
}
static void pg_close(hqdb *db) {
  pg_conn *pc = db->conn;
  if(pc) PQfinish(pc->pg);
  free(pc);
  db->conn = NULL;
}

static const hqdb_ops pg_ops = {
    .name = "postgresql",
    .for_update = " FOR UPDATE",
    .schema_lock = "SELECT pg_advisory_xact_lock(5391123)",
    .exec = pg_exec,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .close = pg_close,
};

sqr_rc hqdb_pg_open(const char *url, hqdb *db) {
  db->ops = &pg_ops;
  pg_conn *pc = calloc(1, sizeof *pc);
  if(!pc) return SQR_ENOMEM;
  db->conn = pc;
  pc->pg = PQconnectdb(url);
  if(!pc->pg) return SQR_ENOMEM;
  if(PQstatus(pc->pg) != CONNECTION_OK) {
    snprintf(db->err, sizeof db->err, "postgresql: cannot connect: %s", PQerrorMessage(pc->pg));
    size_t n = strlen(db->err);
    if(n && db->err[n - 1] == '\n') db->err[n - 1] = '\0';
    return SQR_ENET;
  }
  /* Keep NOTICEs ("relation already exists, skipping") off stderr. */
  PQclear(PQexec(pc->pg, "SET client_min_messages = warning"));
  return SQR_OK;
}
