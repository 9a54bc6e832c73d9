/* hqdb_seal.c — see hqdb_seal.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_seal.h"

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

sqr_rc hqdb_seal_done(hqdb *db, const char *kiosk_id, int64_t seq) {
  hqv p[] = {T(kiosk_id), I(seq)};
  return hqdb_exec(db, "DELETE FROM seal_queue WHERE kiosk = $1 AND seq = $2", p, 2, NULL, NULL);
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
