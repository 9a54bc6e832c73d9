/* hqdb_jobs.c — see hqdb_jobs.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_jobs.h"

#include <string.h>

#include "hqdb_int.h"

const char *const hqdb_jobs_schema[] = {
    /* One row per job: its cursor and who holds its lease until when. */
    "CREATE TABLE IF NOT EXISTS jobs(name TEXT PRIMARY KEY, done_upto BIGINT NOT NULL,"
    " owner TEXT NOT NULL, lease_until_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL)",
    NULL,
};

sqr_rc hqdb_job_lease(hqdb *db, const char *name, int64_t now_ms, int64_t ttl_ms, int *held,
                      int64_t *cursor) {
  hqres r = {0};
  *held = 0;
  if(!name || !name[0] || ttl_ms <= 0) return SQR_EINVAL;
  hqv p[] = {T(name), T(db->owner), I(now_ms + ttl_ms), I(now_ms)};
  /* The one statement that decides: the upsert's row lock (PostgreSQL) or
   * the write transaction (SQLite) serialises processes asking at once,
   * and the WHERE lets only an expired, released or own lease be taken.
   * RETURNING gives a row only when this handle got it. */
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  rc = hqdb_exec(db,
                 "INSERT INTO jobs(name, done_upto, owner, lease_until_ms, updated_ms)"
                 " VALUES($1, 0, $2, $3, $4)"
                 " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
                 " lease_until_ms = excluded.lease_until_ms"
                 " WHERE jobs.lease_until_ms <= $4 OR jobs.owner = excluded.owner"
                 " RETURNING done_upto",
                 p, 4, &r, NULL);
  if(!rc) rc = hqdb_commit(db);
  if(rc) {
    hqdb_rollback(db);
  } else if(r.nrows == 1) {
    *held = 1;
    *cursor = cell_int(&r, 0, 0);
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_job_advance(hqdb *db, const char *name, int64_t from, int64_t to, int64_t now_ms,
                        int64_t ttl_ms, int *advanced) {
  int64_t changed = 0;
  *advanced = 0;
  if(!name || !name[0] || ttl_ms <= 0) return SQR_EINVAL;
  hqv p[] = {T(name), T(db->owner), I(from), I(to), I(now_ms), I(now_ms + ttl_ms)};
  sqr_rc rc =
      hqdb_exec(db,
                "UPDATE jobs SET done_upto = $4, lease_until_ms = $6, updated_ms = $5"
                " WHERE name = $1 AND owner = $2 AND lease_until_ms > $5 AND done_upto = $3",
                p, 6, NULL, &changed);
  if(!rc) *advanced = changed == 1;
  return rc;
}

sqr_rc hqdb_job_release(hqdb *db, const char *name) {
  hqv p[] = {T(name), T(db->owner)};
  return hqdb__run1(db, "UPDATE jobs SET lease_until_ms = 0 WHERE name = $1 AND owner = $2", p, 2,
                    NULL);
}

sqr_rc hqdb_job_get(hqdb *db, const char *name, hq_job *out) {
  hqres r = {0};
  hqv p[] = {T(name)};
  memset(out, 0, sizeof *out);
  sqr_rc rc =
      hqdb_exec(db, "SELECT done_upto, owner, lease_until_ms, updated_ms FROM jobs WHERE name = $1",
                p, 1, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) {
    out->cursor = cell_int(&r, 0, 0);
    cell_text(&r, 0, 1, out->owner, sizeof out->owner);
    out->lease_until_ms = cell_int(&r, 0, 2);
    out->updated_ms = cell_int(&r, 0, 3);
  }
  hqres_free(&r);
  return rc;
}
