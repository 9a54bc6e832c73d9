/* hqdb_auth.c — the dashboard's login tables and statements (hqdb_auth.h;
 * see hqdb_int.h for how statements run).
 *
 *   admins          name, PBKDF2 hash;
 *   sessions        SHA-256 of the session id, admin, expiry;
 *   login_failures  failures per key ("user:NAME", "ip:ADDR") and lock.
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

sqr_rc hqdb_login_locked(hqdb *db, const char *key, int64_t *locked_until_ms) {
  hqres r = {0};
  hqv p[] = {T(key)};
  sqr_rc rc =
      hqdb_exec(db, "SELECT locked_until_ms FROM login_failures WHERE k = $1", p, 1, &r, NULL);
  *locked_until_ms = !rc && r.nrows ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_login_failed(hqdb *db, const char *key, int64_t now_ms, int max, int64_t window_ms,
                         int64_t lock_ms) {
  hqres r = {0};
  hqv k[] = {T(key)};
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  rc = hqdb_exec(db, "SELECT failures, first_ms FROM login_failures WHERE k = $1", k, 1, &r, NULL);
  int64_t failures = 1, first = now_ms, locked = 0;
  if(!rc && r.nrows && now_ms - cell_int(&r, 0, 1) < window_ms) {
    failures = cell_int(&r, 0, 0) + 1;
    first = cell_int(&r, 0, 1);
  }
  hqres_free(&r);
  if(failures >= max) {
    /* locked; the count starts again once the lock is over */
    locked = now_ms + lock_ms;
    failures = 0;
    first = now_ms;
  }
  if(!rc) {
    /* forget keys whose window and lock are over, so addresses that
     * failed once do not pile up */
    hqv q[] = {I(now_ms), I(now_ms - window_ms)};
    rc = hqdb_exec(db, "DELETE FROM login_failures WHERE locked_until_ms < $1 AND first_ms < $2", q,
                   2, NULL, NULL);
  }
  if(!rc) {
    hqv p[] = {T(key), I(failures), I(first), I(locked)};
    rc = hqdb_exec(db,
                   "INSERT INTO login_failures(k, failures, first_ms, locked_until_ms)"
                   " VALUES($1, $2, $3, $4) ON CONFLICT (k) DO UPDATE SET"
                   " failures = excluded.failures, first_ms = excluded.first_ms,"
                   " locked_until_ms = excluded.locked_until_ms",
                   p, 4, NULL, NULL);
  }
  if(!rc) return hqdb_commit(db);
  hqdb_rollback(db);
  return rc;
}

sqr_rc hqdb_login_clear(hqdb *db, const char *key) {
  hqv p[] = {T(key)};
  return hqdb__run1(db, "DELETE FROM login_failures WHERE k = $1", p, 1, NULL);
}
