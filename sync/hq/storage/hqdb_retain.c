/* hqdb_retain.c — see hqdb_retain.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_retain.h"

#include "hqdb_int.h"

const char *const hqdb_retain_schema[] = {
    "CREATE TABLE IF NOT EXISTS retention_runs(started_ms BIGINT NOT NULL,"
    " finished_ms BIGINT NOT NULL, erased BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS retention_runs_at ON retention_runs(finished_ms)",
    /* a phone's links: erasures look them up for every member they erase */
    "CREATE INDEX IF NOT EXISTS member_links_phone ON member_links(phone_index)",
    NULL,
};

sqr_rc hqdb_retain_stores(hqdb *db, const char *after, size_t max, char (*out)[HQ_ID_MAX],
                          size_t *n) {
  hqres r = {0};
  hqv p[] = {T(after), I((int64_t)max)};
  *n = 0;
  sqr_rc rc =
      hqdb_exec(db, "SELECT id FROM stores WHERE id > $1 ORDER BY id LIMIT $2", p, 2, &r, NULL);
  for(int k = 0; !rc && k < r.nrows; k++)
    cell_text(&r, k, 0, out[k], HQ_ID_MAX);
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_retain_inactive(hqdb *db, const char *store, int64_t cutoff_ms, int64_t cutoff_day,
                            const char *after, size_t max, char (*out)[HQ_ID_MAX], size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store), I(cutoff_ms), I(cutoff_day), T(after), I((int64_t)max)};
  *n = 0;
  /* The recent check-ins are a range of checkin_days' key (store, day):
   * one read of the store's last period, taken off the old sign-ups in
   * one set difference, not a look-up per member. A member known by its
   * link only is rare (kiosks from before the feed): its own events are
   * looked at, the kiosk's print of a check-in. */
  sqr_rc rc = hqdb_exec(
      db,
      "SELECT u.member FROM ("
      "SELECT member FROM store_members WHERE store = $1 AND created_ms < $2 AND member > $4"
      " UNION"
      " SELECT l.member FROM member_links l WHERE l.store = $1 AND l.created_ms < $2"
      " AND l.member > $4"
      " AND NOT EXISTS (SELECT 1 FROM store_members s WHERE s.store = l.store"
      " AND s.member = l.member)"
      " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.store = l.store AND e.type = 'checkin'"
      " AND e.ts_ms >= $2 AND e.payload LIKE ('{\"member\":\"' || l.member || '\"%'))"
      " EXCEPT"
      " SELECT member FROM checkin_days WHERE store = $1 AND day >= $3"
      ") u ORDER BY u.member LIMIT $5",
      p, 5, &r, NULL);
  for(int k = 0; !rc && k < r.nrows; k++)
    cell_text(&r, k, 0, out[k], HQ_ID_MAX);
  if(!rc) *n = (size_t)r.nrows;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_retain_record(hqdb *db, int64_t started_ms, int64_t finished_ms, int64_t erased) {
  hqv p[] = {I(started_ms), I(finished_ms), I(erased)};
  return hqdb__run1(db,
                    "INSERT INTO retention_runs(started_ms, finished_ms, erased)"
                    " VALUES($1, $2, $3)",
                    p, 3, NULL);
}

sqr_rc hqdb_retain_last(hqdb *db, int *found, int64_t *finished_ms, int64_t *erased) {
  hqres r = {0};
  *found = 0;
  *finished_ms = *erased = 0;
  sqr_rc rc = hqdb_exec(db,
                        "SELECT finished_ms, erased FROM retention_runs"
                        " ORDER BY finished_ms DESC LIMIT 1",
                        NULL, 0, &r, NULL);
  if(!rc && r.nrows > 0) {
    *found = 1;
    *finished_ms = cell_int(&r, 0, 0);
    *erased = cell_int(&r, 0, 1);
  }
  hqres_free(&r);
  return rc;
}
