/* hqdb_seal.c — see hqdb_seal.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_seal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"

const char *const hqdb_seal_schema[] = {
    "CREATE TABLE IF NOT EXISTS seal_queue(kiosk TEXT NOT NULL, seq BIGINT NOT NULL,"
    " store TEXT NOT NULL, member TEXT NOT NULL, sealed TEXT NOT NULL,"
    " enqueued_ms BIGINT NOT NULL, PRIMARY KEY(kiosk, seq))",
    "CREATE INDEX IF NOT EXISTS seal_queue_age ON seal_queue(enqueued_ms)",
    NULL,
};

sqr_rc hqdb_seal_enqueue(hqdb *db, const char *kiosk_id, int64_t seq, const char *store,
                         const char *member, const char *sealed, int64_t now_ms) {
  if(strlen(sealed) >= HQ_SEALED_MAX || strlen(member) >= HQ_ID_MAX) return SQR_EINVAL;
  hqv p[] = {T(kiosk_id), I(seq), T(store), T(member), T(sealed), I(now_ms)};
  return hqdb_exec(db,
                   "INSERT INTO seal_queue(kiosk, seq, store, member, sealed, enqueued_ms)"
                   " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (kiosk, seq) DO NOTHING",
                   p, 6, NULL, NULL);
}

sqr_rc hqdb_seal_take(hqdb *db, size_t max, hq_sealed_row **rows, size_t *n) {
  hqres r = {0};
  *rows = NULL;
  *n = 0;
  if(max == 0) return SQR_OK;
  hqv p[] = {I((int64_t)max)};
  sqr_rc rc = hqdb_exec(db,
                        "SELECT kiosk, seq, store, member, sealed, enqueued_ms FROM seal_queue"
                        " ORDER BY enqueued_ms, kiosk, seq LIMIT $1",
                        p, 1, &r, NULL);
  if(!rc && r.nrows > 0) {
    *rows = calloc((size_t)r.nrows, sizeof **rows);
    if(!*rows) rc = SQR_ENOMEM;
  }
  for(int i = 0; !rc && i < r.nrows; i++) {
    hq_sealed_row *s = &(*rows)[i];
    cell_text(&r, i, 0, s->kiosk_id, sizeof s->kiosk_id);
    s->seq = cell_int(&r, i, 1);
    cell_text(&r, i, 2, s->store, sizeof s->store);
    cell_text(&r, i, 3, s->member, sizeof s->member);
    cell_text(&r, i, 4, s->sealed, sizeof s->sealed);
    s->enqueued_ms = cell_int(&r, i, 5);
  }
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

/* Statements of SEAL_BATCH, SEAL_BATCH / 2, ... 1 rows, made once (the
 * SQLite handle caches statements by the text's address). */
#define SEAL_BATCH 64
#define SEAL_SIZES 7 /* 64, 32, ..., 1 */
static char *claim_sql[SEAL_SIZES], *member_sql[SEAL_SIZES], *link_sql[SEAL_SIZES];
static pthread_once_t seal_once = PTHREAD_ONCE_INIT;

static void seal_init(void) {
  for(int i = 0; i < SEAL_SIZES; i++) {
    claim_sql[i] = hqdb__batch_text("DELETE FROM seal_queue WHERE (kiosk, seq) IN (VALUES",
                                    ") RETURNING kiosk, seq", SEAL_BATCH >> i, 2);
    member_sql[i] = hqdb__batch_text(
        "INSERT INTO members(phone_index, phone_enc, first_store, created_ms) VALUES",
        " ON CONFLICT (phone_index) DO NOTHING", SEAL_BATCH >> i, 4);
    link_sql[i] =
        hqdb__batch_text("INSERT INTO member_links(store, member, phone_index, created_ms) VALUES",
                         " ON CONFLICT (store, member) DO NOTHING", SEAL_BATCH >> i, 4);
  }
}

/* The biggest statement size index whose rows fit in n (n >= 1). */
static int seal_pick(size_t n) {
  int i = 0;
  while((size_t)(SEAL_BATCH >> i) > n)
    i++;
  return i;
}

enum { PASS_CLAIM, PASS_MEMBER, PASS_LINK };

/* Whether row i joins the pass: every row is claimed; only the claimed
 * and opened ones are inserted. A phone brought twice in one slice is
 * inserted once: ON CONFLICT DO NOTHING keeps the first of repeated keys
 * in one statement on both backends (test_hqdb_jobs). */
static int in_pass(const hq_seal_opened *rows, size_t i, int pass) {
  return pass == PASS_CLAIM || (rows[i].claimed && rows[i].ok);
}

static void fill(const hq_seal_opened *o, int pass, int64_t now_ms, hqv *p) {
  const hq_sealed_row *s = o->row;
  if(pass == PASS_CLAIM) {
    p[0] = T(s->kiosk_id);
    p[1] = I(s->seq);
  } else if(pass == PASS_MEMBER) {
    p[0] = B(o->index, 32);
    p[1] = B(o->enc, o->enclen);
    p[2] = T(s->store);
    p[3] = I(now_ms);
  } else {
    p[0] = T(s->store);
    p[1] = T(s->member);
    p[2] = B(o->index, 32);
    p[3] = I(now_ms);
  }
}

/* Marks the rows a claim statement's RETURNING named. */
static void mark_claimed(hq_seal_opened *rows, size_t n, const hqres *r) {
  for(int k = 0; k < r->nrows; k++) {
    char kiosk[HQ_ID_MAX];
    cell_text(r, k, 0, kiosk, sizeof kiosk);
    int64_t seq = cell_int(r, k, 1);
    for(size_t i = 0; i < n; i++)
      if(rows[i].row->seq == seq && !strcmp(rows[i].row->kiosk_id, kiosk)) rows[i].claimed = 1;
  }
}

sqr_rc hqdb_seal_settle(hqdb *db, hq_seal_opened *rows, size_t n, int64_t now_ms) {
  pthread_once(&seal_once, seal_init);
  for(size_t i = 0; i < n; i++)
    rows[i].claimed = 0;
  size_t *pick = malloc((n ? n : 1) * sizeof *pick);
  hqv *p = malloc(SEAL_BATCH * 4 * sizeof *p);
  sqr_rc rc = pick && p ? SQR_OK : SQR_ENOMEM;
  for(int pass = PASS_CLAIM; !rc && pass <= PASS_LINK; pass++) {
    char **sql = pass == PASS_CLAIM ? claim_sql : pass == PASS_MEMBER ? member_sql : link_sql;
    int cols = pass == PASS_CLAIM ? 2 : 4;
    size_t m = 0;
    for(size_t i = 0; i < n; i++)
      if(in_pass(rows, i, pass)) pick[m++] = i;
    for(size_t j = 0; !rc && j < m;) {
      int b = seal_pick(m - j), nr = SEAL_BATCH >> b;
      if(!sql[b]) {
        rc = SQR_ENOMEM;
        break;
      }
      for(int r = 0; r < nr; r++)
        fill(&rows[pick[j + (size_t)r]], pass, now_ms, p + r * cols);
      hqres res = {0};
      rc = hqdb_exec(db, sql[b], p, nr * cols, pass == PASS_CLAIM ? &res : NULL, NULL);
      if(!rc && pass == PASS_CLAIM) mark_claimed(rows, n, &res);
      hqres_free(&res);
      j += (size_t)nr;
    }
  }
  free(pick);
  free(p);
  if(rc)
    for(size_t i = 0; i < n; i++)
      rows[i].claimed = 0;
  return rc;
}

sqr_rc hqdb_seal_backlog(hqdb *db, int64_t *count, int64_t *oldest_ms) {
  hqres r = {0};
  *count = 0;
  *oldest_ms = 0;
  sqr_rc rc = hqdb_exec(db, "SELECT COUNT(*), COALESCE(MIN(enqueued_ms), 0) FROM seal_queue", NULL,
                        0, &r, NULL);
  if(!rc && r.nrows == 1) {
    *count = cell_int(&r, 0, 0);
    *oldest_ms = cell_int(&r, 0, 1);
  }
  hqres_free(&r);
  return rc;
}
