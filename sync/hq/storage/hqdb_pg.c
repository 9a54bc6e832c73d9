/* hqdb_pg.c — HQ storage on PostgreSQL (libpq), for several HQ processes
 * sharing one database. Parameters travel as text except blobs (binary
 * bytea); results come back as text and are typed by column type. Unique
 * violations map to SQR_EEXISTS, serialisation failures and deadlocks to
 * SQR_EBUSY. The schema is created under an advisory lock so processes
 * starting together do not race on CREATE TABLE.
 *
 * A lost connection (PostgreSQL restarted, a failover, a network cut) is
 * made again on the next use, no sooner than a backoff that doubles from
 * RECONNECT_MIN_MS to RECONNECT_MAX_MS while attempts fail: until then
 * every statement fails at once with SQR_ENET (HQ answers 503), so no
 * caller waits on a dead database and nothing loops. A statement is
 * retried once on a new connection only where its outcome is known not
 * to have happened: BEGIN (a transaction's first statement: nothing of
 * it ran) and a SELECT outside a transaction (reads nothing twice). A
 * statement inside a transaction, or a COMMIT whose answer was lost,
 * fails with SQR_ENET and is never replayed here: the caller's whole
 * operation is retried by its client (ingest answers the acked seq, so a
 * batch sent again is idempotent). */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#include "hqdb_int.h"

#define OID_BYTEA        17
#define OID_INT8         20
#define OID_INT2         21
#define OID_INT4         23
#define OID_FLOAT8       701
#define MAX_PARAMS       (HQDB_EVENT_CHUNK * 10) /* a multi-row event INSERT */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 5000
/* Seconds libpq waits for a connection unless the URL says otherwise: a
 * database that does not answer must not hold HQ's storage lock for long. */
#define CONNECT_TIMEOUT_S "3"

typedef struct pg_conn {
  PGconn *pg;
  char *url;
  int in_tx;           /* between our BEGIN and COMMIT/ROLLBACK */
  int64_t retry_at_ms; /* no reconnection attempt before (monotonic) */
  int64_t backoff_ms;  /* the next wait after a failed attempt; 0 when connected */
  char nums[MAX_PARAMS][32];
  const char *values[MAX_PARAMS];
  int lengths[MAX_PARAMS], formats[MAX_PARAMS];
  Oid types[MAX_PARAMS];
} pg_conn;

static PGconn *pgc(const hqdb *db) {
  return ((pg_conn *)db->conn)->pg;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void strip_newline(char *s) {
  size_t n = strlen(s);
  if(n && s[n - 1] == '\n') s[n - 1] = '\0';
}

/* A new connection to url (connect_timeout from the URL, else ours), or
 * NULL when out of memory; check PQstatus. */
static PGconn *connect_url(const char *url) {
  /* expand_dbname: the URL is expanded in place of "dbname", so its own
   * parameters override the default placed before it. */
  const char *const keys[] = {"connect_timeout", "dbname", NULL};
  const char *const values[] = {CONNECT_TIMEOUT_S, url, NULL};
  PGconn *c = PQconnectdbParams(keys, values, 1);
  /* Keep NOTICEs ("relation already exists, skipping") off stderr. */
  if(c && PQstatus(c) == CONNECTION_OK) PQclear(PQexec(c, "SET client_min_messages = warning"));
  return c;
}

/* Makes sure the connection is up: SQR_OK, or SQR_ENET (db->err says why)
 * while the database cannot be reached or the backoff has not passed. */
static sqr_rc pg_ensure(hqdb *db) {
  pg_conn *pc = db->conn;
  if(pc->pg && PQstatus(pc->pg) == CONNECTION_OK) return SQR_OK;
  int64_t now = mono_ms();
  if(now < pc->retry_at_ms) {
    snprintf(db->err, sizeof db->err,
             "postgresql: unavailable (connection lost; next attempt in %lld ms)",
             (long long)(pc->retry_at_ms - now));
    return SQR_ENET;
  }
  PGconn *c = connect_url(pc->url);
  if(!c) return SQR_ENOMEM;
  if(PQstatus(c) != CONNECTION_OK) {
    snprintf(db->err, sizeof db->err, "postgresql: unavailable: %s", PQerrorMessage(c));
    strip_newline(db->err);
    PQfinish(c);
    pc->backoff_ms = pc->backoff_ms ? pc->backoff_ms * 2 : RECONNECT_MIN_MS;
    if(pc->backoff_ms > RECONNECT_MAX_MS) pc->backoff_ms = RECONNECT_MAX_MS;
    pc->retry_at_ms = mono_ms() + pc->backoff_ms;
    return SQR_ENET;
  }
  PQfinish(pc->pg);
  pc->pg = c;
  pc->in_tx = 0;
  if(pc->backoff_ms) log_info("hqdb", "postgresql: connected again");
  pc->backoff_ms = 0;
  pc->retry_at_ms = 0;
  return SQR_OK;
}

/* After a failure: 1 when the connection is gone (the next use reconnects). */
static int conn_lost(const hqdb *db) {
  const pg_conn *pc = db->conn;
  return !pc || !pc->pg || PQstatus(pc->pg) != CONNECTION_OK;
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
  /* 08: connection exception; 57P01..03: the server shutting down,
   * crashed, or not yet accepting connections. */
  if(state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0)) return SQR_ENET;
  return PQstatus(c) == CONNECTION_OK ? SQR_EIO : SQR_ENET;
}

static sqr_rc pg_exec_once(hqdb *db, const char *sql, const hqv *params, int n, hqres *res,
                           int64_t *changes);

static int is_select(const char *sql) {
  return strncmp(sql, "SELECT", 6) == 0;
}

static sqr_rc pg_exec(hqdb *db, const char *sql, const hqv *params, int n, hqres *res,
                      int64_t *changes) {
  if(n > MAX_PARAMS) return SQR_EINVAL;
  pg_conn *pc = db->conn;
  /* Inside a transaction a new connection would run the rest of it
   * without its start: fail, the caller rolls back. */
  if(pc->in_tx && conn_lost(db)) return pg_fail(db, NULL, "statement");
  sqr_rc rc = pc->in_tx ? SQR_OK : pg_ensure(db);
  if(rc) return rc;
  rc = pg_exec_once(db, sql, params, n, res, changes);
  if(rc == SQR_ENET && !pc->in_tx && is_select(sql) && conn_lost(db) && !pg_ensure(db))
    rc = pg_exec_once(db, sql, params, n, res, changes);
  return rc;
}

static sqr_rc pg_exec_once(hqdb *db, const char *sql, const hqv *params, int n, hqres *res,
                           int64_t *changes) {
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
    if(ncols > HQRES_MAX_COLS) {
      snprintf(db->err, sizeof db->err, "a statement returns %d columns, more than %d", ncols,
               HQRES_MAX_COLS);
      rc = SQR_EIO;
    }
    for(int row = 0; !rc && row < rows; row++) {
      hqv cells[HQRES_MAX_COLS];
      unsigned char *bufs[HQRES_MAX_COLS] = {0};
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
  pg_conn *pc = db->conn;
  sqr_rc rc = pg_ensure(db);
  if(!rc) rc = pg_simple(db, "BEGIN");
  /* Nothing of the transaction ran: once more on a new connection (the
   * usual way to find that PostgreSQL restarted since the last use). */
  if(rc == SQR_ENET && conn_lost(db) && !(rc = pg_ensure(db))) rc = pg_simple(db, "BEGIN");
  pc->in_tx = !rc;
  return rc;
}
static sqr_rc pg_commit(hqdb *db) {
  pg_conn *pc = db->conn;
  /* A lost answer leaves the outcome unknown: never replayed here. */
  sqr_rc rc = conn_lost(db) ? pg_fail(db, NULL, "COMMIT") : pg_simple(db, "COMMIT");
  pc->in_tx = 0;
  return rc;
}
static void pg_rollback(hqdb *db) {
  pg_conn *pc = db->conn;
  if(pc) pc->in_tx = 0;
  if(!conn_lost(db) && PQtransactionStatus(pgc(db)) != PQTRANS_IDLE)
    PQclear(PQexec(pgc(db), "ROLLBACK"));
}
/* synchronous_commit = off for this transaction only (SET LOCAL):
 * visible at commit, on disk within PostgreSQL's WAL writer delay. */
static sqr_rc pg_begin_lazy(hqdb *db) {
  sqr_rc rc = pg_begin(db);
  if(!rc && (rc = pg_simple(db, "SET LOCAL synchronous_commit = off"))) pg_rollback(db);
  return rc;
}
static void pg_close(hqdb *db) {
  pg_conn *pc = db->conn;
  if(pc) {
    PQfinish(pc->pg);
    free(pc->url);
  }
  free(pc);
  db->conn = NULL;
}

/* Gives up a connection that stopped answering: the next use makes a new
 * one, after the backoff. */
static void pg_drop(hqdb *db, const char *why) {
  pg_conn *pc = db->conn;
  snprintf(db->err, sizeof db->err, "postgresql: unavailable: %s", why);
  PQfinish(pc->pg);
  pc->pg = NULL;
  pc->in_tx = 0;
  pc->backoff_ms = pc->backoff_ms ? pc->backoff_ms : RECONNECT_MIN_MS;
  pc->retry_at_ms = mono_ms() + pc->backoff_ms;
}

/* SELECT 1 sent without blocking and waited for with poll(), so a
 * database that accepts the query and never answers still meets the
 * deadline (a blocking PQexec would wait for TCP to give up). */
static sqr_rc ping_once(hqdb *db, int timeout_ms) {
  PGconn *c = pgc(db);
  if(!PQsendQuery(c, "SELECT 1")) return pg_fail(db, NULL, "ping");
  int64_t deadline = mono_ms() + timeout_ms;
  for(;;) {
    if(!PQconsumeInput(c)) return pg_fail(db, NULL, "ping");
    if(!PQisBusy(c)) break;
    int64_t left = deadline - mono_ms();
    struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
    int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
    if(n == 0) {
      pg_drop(db, "no answer to a ping within the deadline");
      return SQR_ENET;
    }
    if(n < 0 && errno != EINTR) {
      pg_drop(db, strerror(errno));
      return SQR_ENET;
    }
  }
  sqr_rc rc = SQR_OK;
  for(PGresult *r; (r = PQgetResult(c));) {
    if(!rc && PQresultStatus(r) != PGRES_TUPLES_OK) rc = pg_fail(db, r, "ping");
    PQclear(r);
  }
  return rc;
}

static sqr_rc pg_ping(hqdb *db, int timeout_ms) {
  sqr_rc rc = pg_ensure(db);
  if(!rc) rc = ping_once(db, timeout_ms);
  /* The first use after a restart finds the old connection dead. */
  if(rc == SQR_ENET && conn_lost(db) && !pg_ensure(db)) rc = ping_once(db, timeout_ms);
  return rc;
}

static const hqdb_ops pg_ops = {
    .name = "postgresql",
    .for_update = " FOR UPDATE",
    .schema_lock = "SELECT pg_advisory_xact_lock(5391123)",
    .exec = pg_exec,
    .begin = pg_begin,
    .begin_lazy = pg_begin_lazy,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .close = pg_close,
    .ping = pg_ping,
};

sqr_rc hqdb_pg_open(const char *url, hqdb *db) {
  db->ops = &pg_ops;
  pg_conn *pc = calloc(1, sizeof *pc);
  if(!pc) return SQR_ENOMEM;
  db->conn = pc;
  /* Kept for reconnecting; it may hold a password, so it is never logged. */
  if(!(pc->url = strdup(url))) return SQR_ENOMEM;
  pc->pg = connect_url(url);
  if(!pc->pg) return SQR_ENOMEM;
  if(PQstatus(pc->pg) != CONNECTION_OK) {
    snprintf(db->err, sizeof db->err, "postgresql: cannot connect: %s", PQerrorMessage(pc->pg));
    strip_newline(db->err);
    return SQR_ENET;
  }
  return SQR_OK;
}
