/* hqdb_auth.c — the dashboard's login tables and statements (hqdb_auth.h;
 * see hqdb_int.h for how statements run).
 *
 *   admins          name, PBKDF2 hash;
 *   sessions        SHA-256 of the session id, admin, expiry;
 *   login_failures  attempts per key ("user:NAME", "ip:ADDR") in the
 *                   window since first_ms, and the lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_auth.h"
#include "hqdb_int.h"

const char *const hqdb_auth_schema[] = {
    "CREATE TABLE IF NOT EXISTS admins(name TEXT PRIMARY KEY, hash TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions(id_hash BYTEA PRIMARY KEY, admin TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS login_failures(k TEXT PRIMARY KEY, failures BIGINT NOT NULL,"
    " first_ms BIGINT NOT NULL, locked_until_ms BIGINT NOT NULL)",
    NULL,
};

sqr_rc hqdb_admin_add(hqdb *db, const char *name, const char *hash, int64_t now_ms) {
  hqv p[] = {T(name), T(hash), I(now_ms)};
  int64_t changes = 0;
  sqr_rc rc = hqdb__run1(db,
                         "INSERT INTO admins(name, hash, created_ms) VALUES($1, $2, $3)"
                         " ON CONFLICT (name) DO NOTHING",
                         p, 3, &changes);
  return !rc && !changes ? SQR_EEXISTS : rc;
}

sqr_rc hqdb_admin_passwd(hqdb *db, const char *name, const char *hash) {
  hqv p[] = {T(name), T(hash)};
  int64_t changes = 0;
  sqr_rc rc = hqdb__run1(db, "UPDATE admins SET hash = $2 WHERE name = $1", p, 2, &changes);
  return !rc && !changes ? SQR_ENOTFOUND : rc;
}

sqr_rc hqdb_admin_remove(hqdb *db, const char *name) {
  hqv p[] = {T(name)};
  int64_t changes = 0;
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  rc = hqdb_exec(db, "DELETE FROM admins WHERE name = $1", p, 1, NULL, &changes);
  if(!rc) rc = hqdb_exec(db, "DELETE FROM sessions WHERE admin = $1", p, 1, NULL, NULL);
  if(!rc && !changes) rc = SQR_ENOTFOUND;
  if(!rc) return hqdb_commit(db);
  hqdb_rollback(db);
  return rc;
}

sqr_rc hqdb_admin_hash(hqdb *db, const char *name, char *hash, size_t size) {
  hqres r = {0};
  hqv p[] = {T(name)};
  sqr_rc rc = hqdb_exec(db, "SELECT hash FROM admins WHERE name = $1", p, 1, &r, NULL);
  if(!rc && !r.nrows) rc = SQR_ENOTFOUND;
  if(!rc) cell_text(&r, 0, 0, hash, size);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_session_add(hqdb *db, const uint8_t id_hash[32], const char *admin, int64_t now_ms,
                        int64_t expires_ms) {
  hqv p[] = {B(id_hash, 32), T(admin), I(now_ms), I(expires_ms)};
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  /* expired sessions go when a new one comes (and at logout) */
  hqv now[] = {I(now_ms)};
  rc = hqdb_exec(db, "DELETE FROM sessions WHERE expires_ms <= $1", now, 1, NULL, NULL);
  if(!rc)
    rc = hqdb_exec(db,
                   "INSERT INTO sessions(id_hash, admin, created_ms, expires_ms)"
                   " VALUES($1, $2, $3, $4)",
                   p, 4, NULL, NULL);
  if(!rc) return hqdb_commit(db);
  hqdb_rollback(db);
  return rc;
}

sqr_rc hqdb_session_get(hqdb *db, const uint8_t id_hash[32], int64_t now_ms,
                        char admin[HQ_ID_MAX]) {
  hqres r = {0};
  hqv p[] = {B(id_hash, 32), I(now_ms)};
  /* the admin must still exist: removing one ends their sessions */
  sqr_rc rc = hqdb_exec(db,
                        "SELECT s.admin FROM sessions s JOIN admins a ON a.name = s.admin"
                        " WHERE s.id_hash = $1 AND s.expires_ms > $2",
                        p, 2, &r, NULL);
  if(!rc && !r.nrows) rc = SQR_ENOTFOUND;
  if(!rc) cell_text(&r, 0, 0, admin, HQ_ID_MAX);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_session_end(hqdb *db, const uint8_t id_hash[32], int64_t now_ms) {
  hqv p[] = {B(id_hash, 32), I(now_ms)};
  return hqdb__run1(db, "DELETE FROM sessions WHERE id_hash = $1 OR expires_ms <= $2", p, 2, NULL);
}

sqr_rc hqdb_login_attempt(hqdb *db, const char *key, int64_t now_ms, int max, int64_t window_ms,
                          int64_t lock_ms, int64_t *count, int64_t *locked_until_ms) {
  hqres r = {0};
  hqv p[] = {T(key), I(now_ms), I(window_ms), I(max), I(lock_ms)};
  *count = 0;
  *locked_until_ms = 0;
  /* The one statement that decides, so HQ processes sharing the database
   * cannot both read "4" and both check a password: the row lock of the
   * upsert serialises them (PostgreSQL; SQLite's writer lock anyway), and
   * each sees the count its own attempt made. The SET expressions all
   * read the old row: a live lock stays as it is; a window or lock that
   * is over starts again at 1; otherwise one more, and the attempt past
   * max starts the lock. */
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  rc = hqdb_exec(
      db,
      "INSERT INTO login_failures(k, failures, first_ms, locked_until_ms) VALUES($1, 1, $2, 0)"
      " ON CONFLICT (k) DO UPDATE SET"
      " failures = CASE WHEN login_failures.locked_until_ms > $2 THEN login_failures.failures"
      "  WHEN login_failures.locked_until_ms <> 0 OR login_failures.first_ms <= $2 - $3 THEN 1"
      "  ELSE login_failures.failures + 1 END,"
      " first_ms = CASE WHEN login_failures.locked_until_ms > $2 THEN login_failures.first_ms"
      "  WHEN login_failures.locked_until_ms <> 0 OR login_failures.first_ms <= $2 - $3 THEN $2"
      "  ELSE login_failures.first_ms END,"
      " locked_until_ms = CASE WHEN login_failures.locked_until_ms > $2"
      "  THEN login_failures.locked_until_ms"
      "  WHEN login_failures.locked_until_ms <> 0 OR login_failures.first_ms <= $2 - $3 THEN 0"
      "  WHEN login_failures.failures + 1 > $4 THEN $2 + $5 ELSE 0 END"
      " RETURNING failures, locked_until_ms",
      p, 5, &r, NULL);
  if(!rc)
    rc = hqdb_commit(db);
  else
    hqdb_rollback(db);
  if(!rc && r.nrows) {
    *count = cell_int(&r, 0, 0);
    *locked_until_ms = cell_int(&r, 0, 1);
  }
  hqres_free(&r);
  if(!rc && *count == 1 && *locked_until_ms == 0) {
    /* a new window: forget keys whose window and lock are over, so
     * addresses that tried once do not pile up (bounded by attempts) */
    hqv q[] = {I(now_ms), I(now_ms - window_ms)};
    rc = hqdb__run1(db, "DELETE FROM login_failures WHERE locked_until_ms < $1 AND first_ms < $2",
                    q, 2, NULL);
  }
  return rc;
}

sqr_rc hqdb_login_clear(hqdb *db, const char *key) {
  hqv p[] = {T(key)};
  return hqdb__run1(db, "DELETE FROM login_failures WHERE k = $1", p, 1, NULL);
}
