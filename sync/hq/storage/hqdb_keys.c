/* hqdb_keys.c — see hqdb_keys.h. Statements written once for both
 * backends, as in hqdb.c. */
#include "hqdb_keys.h"

#include "hqdb_int.h"

const char *const hqdb_keys_schema[] = {
    "CREATE TABLE IF NOT EXISTS kiosk_keys(store TEXT NOT NULL, number BIGINT NOT NULL,"
    " version BIGINT NOT NULL, kiosk_id TEXT NOT NULL, legacy BIGINT NOT NULL,"
    " created_ms BIGINT NOT NULL, retire_ms BIGINT, PRIMARY KEY(store, number, version))",
    /* Incarnations that reported a key version (a release that reads its
     * own keys): only those get documents without the store key. */
    "CREATE TABLE IF NOT EXISTS kiosk_caps(kiosk_id TEXT PRIMARY KEY, since_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS coupons(store TEXT NOT NULL, number BIGINT NOT NULL,"
    " version BIGINT NOT NULL, serial BIGINT NOT NULL, kiosk_id TEXT NOT NULL,"
    " campaign BIGINT NOT NULL, issued_ms BIGINT NOT NULL, redeemed_ms BIGINT,"
    " PRIMARY KEY(store, number, version, serial))",
    /* Member ids became 32 hex digits (the first 32 of the old 64), on the
     * kiosk and here alike; idempotent, so it runs at every open. */
    "UPDATE member_links SET member = substr(member, 1, 32) WHERE length(member) = 64",
    "UPDATE erasures SET member = substr(member, 1, 32) WHERE length(member) = 64",
    /* TLS session-ticket keys shared by every HQ process, one per epoch,
     * stored masked (hqdb_ticket_key). */
    "CREATE TABLE IF NOT EXISTS tls_ticket_keys(epoch BIGINT PRIMARY KEY, masked BYTEA NOT NULL)",
    NULL,
};

static sqr_rc run(hqdb *db, const char *sql, const hqv *p, int n, hqres *res, int64_t *changes) {
  return hqdb_exec(db, sql, p, n, res, changes);
}

/* ---- enrolment and revocation ------------------------------------------------ */

sqr_rc hqdb_code_claim(hqdb *db, const uint8_t code_hash[32], int64_t now_ms) {
  int64_t changes = 0;
  hqv c[] = {B(code_hash, 32), I(now_ms)};
  sqr_rc rc = run(db,
                  "UPDATE enroll_codes SET used_ms = $2 WHERE code_hash = $1 AND used_ms IS NULL"
                  " AND expires_ms > $2",
                  c, 2, NULL, &changes);
  if(rc || changes > 0) return rc;
  /* Used or expired meanwhile: say which. */
  char st[HQ_ID_MAX];
  int k, used;
  int64_t exp;
  rc = hqdb_code_peek(db, code_hash, st, &k, &exp, &used);
  return rc ? rc : used ? SQR_EEXISTS : SQR_EEXPIRED;
}

sqr_rc hqdb_kiosk_retire_number(hqdb *db, const char *store, int number, int64_t now_ms,
                                int *changed) {
  int64_t a = 0, b = 0;
  hqv p[] = {T(store), I(number), I(now_ms)};
  sqr_rc rc =
      run(db, "UPDATE kiosks SET revoked = 1 WHERE store = $1 AND number = $2 AND revoked = 0", p,
          2, NULL, &a);
  if(!rc)
    rc = run(db,
             "UPDATE kiosk_keys SET retire_ms = $3 WHERE store = $1 AND number = $2"
             " AND (retire_ms IS NULL OR retire_ms > $3)",
             p, 3, NULL, &b);
  *changed = a + b > 0;
  return rc;
}

sqr_rc hqdb_kiosk_insert(hqdb *db, const char *kiosk_id, const char *store, int number,
                         const uint8_t cert_sha256[32], int64_t now_ms) {
  uint8_t zero[32] = {0};
  hqv p[] = {T(kiosk_id), T(store), I(number), B(cert_sha256, 32), B(zero, 32), I(now_ms)};
  return run(db,
             "INSERT INTO kiosks(id, store, number, cert_sha256, revoked, acked_seq,"
             " last_hash, enrolled_ms) VALUES($1, $2, $3, $4, 0, 0, $5, $6)",
             p, 6, NULL, NULL);
}

sqr_rc hqdb_kiosk_revoke_id(hqdb *db, const char *kiosk_id, int64_t now_ms) {
  int64_t changes = 0;
  hqv p[] = {T(kiosk_id), I(now_ms)};
  sqr_rc rc = run(db, "UPDATE kiosks SET revoked = 1 WHERE id = $1", p, 1, NULL, &changes);
  if(!rc && changes == 0) return SQR_ENOTFOUND;
  if(!rc)
    rc = run(db,
             "UPDATE kiosk_keys SET retire_ms = $2 WHERE kiosk_id = $1"
             " AND (retire_ms IS NULL OR retire_ms > $2)",
             p, 2, NULL, NULL);
  return rc;
}

sqr_rc hqdb_kiosk_newest(hqdb *db, const char *store, int number, char kiosk_id[HQ_ID_MAX]) {
  hqres r = {0};
  hqv p[] = {T(store), I(number)};
  /* Incarnations are enrolled one after another; the id breaks a tie
   * ("N@10" is longer than "N@9"). */
  sqr_rc rc = run(db,
                  "SELECT id FROM kiosks WHERE store = $1 AND number = $2"
                  " ORDER BY enrolled_ms DESC, length(id) DESC, id DESC LIMIT 1",
                  p, 2, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) cell_text(&r, 0, 0, kiosk_id, HQ_ID_MAX);
  hqres_free(&r);
  return rc;
}

/* ---- key versions ---------------------------------------------------------- */

sqr_rc hqdb_key_next_version(hqdb *db, const char *store, int number, int *version) {
  hqres r = {0};
  hqv p[] = {T(store), I(number)};
  sqr_rc rc = run(db,
                  "SELECT COALESCE(MAX(version), 0) FROM kiosk_keys WHERE store = $1"
                  " AND number = $2",
                  p, 2, &r, NULL);
  int64_t v = !rc && r.nrows ? cell_int(&r, 0, 0) + 1 : 0;
  hqres_free(&r);
  if(!rc && v > HQ_KEY_VERSION_MAX) rc = SQR_ETOOBIG;
  *version = rc ? 0 : (int)v;
  return rc;
}

sqr_rc hqdb_key_insert(hqdb *db, const char *store, const hq_kiosk_key *k) {
  hqv p[] = {T(store),
             I(k->number),
             I(k->version),
             T(k->kiosk_id),
             I(k->legacy),
             I(k->created_ms),
             k->retire_ms ? I(k->retire_ms) : (hqv){.k = HQV_NULL}};
  return run(db,
             "INSERT INTO kiosk_keys(store, number, version, kiosk_id, legacy, created_ms,"
             " retire_ms) VALUES($1, $2, $3, $4, $5, $6, $7)",
             p, 7, NULL, NULL);
}

sqr_rc hqdb_keys_changed(hqdb *db, const char *store) {
  hqv p[] = {T(store)};
  return run(db, "UPDATE stores SET config_version = config_version + 1 WHERE id = $1", p, 1, NULL,
             NULL);
}

sqr_rc hqdb_key_applied(hqdb *db, const char *store, int number, int version, int64_t retire_ms,
                        int *changed) {
  int64_t n = 0;
  hqv p[] = {T(store), I(number), I(version), I(retire_ms)};
  sqr_rc rc = run(db,
                  "UPDATE kiosk_keys SET retire_ms = $4 WHERE store = $1 AND number = $2"
                  " AND version < $3 AND retire_ms IS NULL",
                  p, 4, NULL, &n);
  *changed = n > 0;
  return rc;
}

static void key_row(const hqres *r, int i, hq_kiosk_key *k) {
  memset(k, 0, sizeof *k);
  k->number = (int)cell_int(r, i, 0);
  k->version = (int)cell_int(r, i, 1);
  cell_text(r, i, 2, k->kiosk_id, sizeof k->kiosk_id);
  k->legacy = cell_int(r, i, 3) != 0;
  k->created_ms = cell_int(r, i, 4);
  k->retire_ms = cell(r, i, 5)->k == HQV_NULL ? 0 : cell_int(r, i, 5);
}
#define KEY_COLS "number, version, kiosk_id, legacy, created_ms, retire_ms"

sqr_rc hqdb_keys_of_store(hqdb *db, const char *store, hq_kiosk_key **out, size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store)};
  *out = NULL;
  *n = 0;
  sqr_rc rc =
      run(db, "SELECT " KEY_COLS " FROM kiosk_keys WHERE store = $1 ORDER BY number, version", p, 1,
          &r, NULL);
  if(!rc && r.nrows > 0 && !(*out = calloc((size_t)r.nrows, sizeof **out))) rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++)
    key_row(&r, i, &(*out)[(*n)++]);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_key_get(hqdb *db, const char *store, int number, int version, hq_kiosk_key *out) {
  hqres r = {0};
  hqv p[] = {T(store), I(number), I(version)};
  sqr_rc rc = run(db,
                  "SELECT " KEY_COLS " FROM kiosk_keys WHERE store = $1 AND number = $2"
                  " AND version = $3",
                  p, 3, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) key_row(&r, 0, out);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_kiosk_keys_capable(hqdb *db, const char *kiosk_id, int64_t now_ms, int *changed) {
  int64_t n = 0;
  hqv p[] = {T(kiosk_id), I(now_ms)};
  sqr_rc rc = run(db,
                  "INSERT INTO kiosk_caps(kiosk_id, since_ms) VALUES($1, $2)"
                  " ON CONFLICT (kiosk_id) DO NOTHING",
                  p, 2, NULL, &n);
  *changed = 0;
  if(rc || n == 0) return rc;
  /* Its documents change only if they carried the store key till now. */
  hqres r = {0};
  rc = run(db, "SELECT 1 FROM kiosk_keys WHERE kiosk_id = $1 AND legacy = 1 AND retire_ms IS NULL",
           p, 1, &r, NULL);
  *changed = !rc && r.nrows > 0;
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_key_newest(hqdb *db, const char *kiosk_id, hq_kiosk_key *out, hq_kiosk_key *legacy,
                       int *capable) {
  hqres r = {0};
  hqv p[] = {T(kiosk_id)};
  memset(legacy, 0, sizeof *legacy);
  sqr_rc rc =
      run(db, "SELECT " KEY_COLS " FROM kiosk_keys WHERE kiosk_id = $1 ORDER BY version DESC", p, 1,
          &r, NULL);
  int found = 0;
  for(int i = 0; !rc && i < r.nrows; i++) {
    hq_kiosk_key k;
    key_row(&r, i, &k);
    if(k.legacy)
      *legacy = k;
    else if(!found)
      *out = k, found = 1;
  }
  hqres_free(&r);
  if(!rc) rc = run(db, "SELECT 1 FROM kiosk_caps WHERE kiosk_id = $1", p, 1, &r, NULL);
  *capable = !rc && r.nrows > 0;
  hqres_free(&r);
  return rc ? rc : found ? SQR_OK : SQR_ENOTFOUND;
}

sqr_rc hqdb_keys_legacy_since(hqdb *db, const char *store, int64_t *since_ms) {
  hqres r = {0};
  hqv p[] = {T(store)};
  sqr_rc rc = run(db,
                  "SELECT COALESCE(MIN(created_ms), 0) FROM kiosk_keys WHERE store = $1"
                  " AND legacy = 1",
                  p, 1, &r, NULL);
  *since_ms = !rc && r.nrows ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  return rc;
}

/* Once per kiosk, at open (hqdb_int.h): a kiosk enrolled before key
 * versions gets a legacy row (the store key's version, retired at once
 * for a revoked kiosk) and its first own version. */
sqr_rc hqdb__keys_migrate(hqdb *db, int64_t now_ms) {
  hqres r = {0};
  /* Several HQ processes may open at once: the schema lock makes one of
   * them migrate and the others find nothing left to do. */
  sqr_rc rc = db->ops->begin(db);
  if(!rc && db->ops->schema_lock) rc = run(db, db->ops->schema_lock, NULL, 0, NULL, NULL);
  if(!rc)
    rc = run(db,
             "SELECT k.id, k.store, k.number, k.revoked, s.key_version FROM kiosks k"
             " JOIN stores s ON s.id = k.store WHERE NOT EXISTS (SELECT 1 FROM kiosk_keys"
             " kk WHERE kk.store = k.store AND kk.number = k.number)",
             NULL, 0, &r, NULL);
  for(int i = 0; !rc && i < r.nrows; i++) {
    char store[HQ_ID_MAX];
    hq_kiosk_key k = {.number = (int)cell_int(&r, i, 2), .legacy = 1, .created_ms = now_ms};
    cell_text(&r, i, 0, k.kiosk_id, sizeof k.kiosk_id);
    cell_text(&r, i, 1, store, sizeof store);
    int revoked = cell_int(&r, i, 3) != 0;
    k.version = (int)cell_int(&r, i, 4);
    if(revoked) k.retire_ms = now_ms;
    rc = hqdb_key_insert(db, store, &k);
    if(!rc && !revoked && k.version < HQ_KEY_VERSION_MAX) {
      k.version++, k.legacy = 0;
      rc = hqdb_key_insert(db, store, &k);
    }
    if(!rc) rc = hqdb_keys_changed(db, store);
  }
  hqres_free(&r);
  if(!rc) return db->ops->commit(db);
  db->ops->rollback(db);
  return rc;
}

/* ---- coupons ---------------------------------------------------------------- */

sqr_rc hqdb_coupon_issued(hqdb *db, const char *store, const hq_coupon_row *c) {
  hqv p[] = {T(store),       I(c->number),   I(c->version),  I(c->serial),
             T(c->kiosk_id), I(c->campaign), I(c->issued_ms)};
  return run(db,
             "INSERT INTO coupons(store, number, version, serial, kiosk_id, campaign, issued_ms)"
             " VALUES($1, $2, $3, $4, $5, $6, $7)"
             " ON CONFLICT (store, number, version, serial) DO NOTHING",
             p, 7, NULL, NULL);
}

sqr_rc hqdb_coupon_get(hqdb *db, const char *store, int number, int version, int64_t serial,
                       hq_coupon_row *out) {
  hqres r = {0};
  hqv p[] = {T(store), I(number), I(version), I(serial)};
  sqr_rc rc = run(db,
                  "SELECT kiosk_id, campaign, issued_ms FROM coupons WHERE store = $1"
                  " AND number = $2 AND version = $3 AND serial = $4",
                  p, 4, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) {
    memset(out, 0, sizeof *out);
    out->number = number;
    out->version = version;
    out->serial = serial;
    cell_text(&r, 0, 0, out->kiosk_id, sizeof out->kiosk_id);
    out->campaign = (int)cell_int(&r, 0, 1);
    out->issued_ms = cell_int(&r, 0, 2);
  }
  hqres_free(&r);
  return rc;
}

/* ---- TLS session-ticket keys -------------------------------------------------- */

sqr_rc hqdb_ticket_key(hqdb *db, int64_t epoch, const uint8_t candidate[HQ_TICKET_KEY_LEN],
                       uint8_t out[HQ_TICKET_KEY_LEN]) {
  hqv ins[] = {I(epoch), B(candidate, HQ_TICKET_KEY_LEN)};
  hqv old[] = {I(epoch - 1)};
  hqres r = {0};
  sqr_rc rc = hqdb_begin(db);
  if(rc) return rc;
  /* The first process to reach an epoch stores its candidate; every
   * other one reads that row back. Keys two epochs old go, so a stolen
   * database (with the master key) cannot open tickets recorded earlier
   * than yesterday. */
  rc = run(db,
           "INSERT INTO tls_ticket_keys(epoch, masked) VALUES($1, $2)"
           " ON CONFLICT (epoch) DO NOTHING",
           ins, 2, NULL, NULL);
  if(!rc) rc = run(db, "DELETE FROM tls_ticket_keys WHERE epoch < $1", old, 1, NULL, NULL);
  if(!rc) rc = run(db, "SELECT masked FROM tls_ticket_keys WHERE epoch = $1", ins, 1, &r, NULL);
  if(!rc && (r.nrows != 1 || cell(&r, 0, 0)->n != HQ_TICKET_KEY_LEN)) rc = SQR_ECORRUPT;
  if(!rc) memcpy(out, cell(&r, 0, 0)->p, HQ_TICKET_KEY_LEN);
  hqres_free(&r);
  if(!rc) return hqdb_commit(db);
  hqdb_rollback(db);
  return rc;
}
