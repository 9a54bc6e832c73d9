/* hqdb.c — see hqdb.h. Every statement, written once for both backends
 * ($N parameters; types both SQLite and PostgreSQL accept). */
#include "hqdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hqdb_int.h"

static const char *const schema[] = {
    "CREATE TABLE IF NOT EXISTS stores(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " city TEXT NOT NULL, lat DOUBLE PRECISION NOT NULL, lon DOUBLE PRECISION NOT NULL,"
    " key_version BIGINT NOT NULL, config_version BIGINT NOT NULL,"
    " signups BIGINT NOT NULL DEFAULT 0, checkins BIGINT NOT NULL DEFAULT 0,"
    " events BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS store_groups(store TEXT NOT NULL, id TEXT NOT NULL,"
    " kind TEXT NOT NULL, name TEXT NOT NULL, tag TEXT NOT NULL, link TEXT NOT NULL,"
    " capacity BIGINT NOT NULL, expires_at BIGINT NOT NULL, retired BIGINT NOT NULL,"
    " PRIMARY KEY(store, id))",
    "CREATE TABLE IF NOT EXISTS enroll_codes(code_hash BYTEA PRIMARY KEY, store TEXT NOT NULL,"
    " kiosk BIGINT NOT NULL, expires_ms BIGINT NOT NULL, used_ms BIGINT)",
    "CREATE TABLE IF NOT EXISTS kiosks(id TEXT PRIMARY KEY, store TEXT NOT NULL,"
    " number BIGINT NOT NULL, cert_sha256 BYTEA NOT NULL UNIQUE, revoked BIGINT NOT NULL,"
    " acked_seq BIGINT NOT NULL, last_hash BYTEA NOT NULL, enrolled_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events(kiosk TEXT NOT NULL, seq BIGINT NOT NULL,"
    " store TEXT NOT NULL, type TEXT NOT NULL, ts_ms BIGINT NOT NULL, payload TEXT NOT NULL,"
    " body_hash BYTEA NOT NULL, hash BYTEA NOT NULL, redacted BIGINT NOT NULL,"
    " received_ms BIGINT NOT NULL, PRIMARY KEY(kiosk, seq))",
    "CREATE TABLE IF NOT EXISTS members(phone_index BYTEA PRIMARY KEY, phone_enc BYTEA NOT NULL,"
    " first_store TEXT NOT NULL, created_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS member_links(store TEXT NOT NULL, member TEXT NOT NULL,"
    " phone_index BYTEA NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY(store, member))",
    "CREATE TABLE IF NOT EXISTS erasures(store TEXT NOT NULL, member TEXT NOT NULL,"
    " requested_ms BIGINT NOT NULL, confirmed_ms BIGINT, PRIMARY KEY(store, member))",
    "CREATE TABLE IF NOT EXISTS alerts(kiosk TEXT NOT NULL, seq BIGINT NOT NULL,"
    " kind TEXT NOT NULL, message TEXT NOT NULL, at_ms BIGINT NOT NULL)",
    /* the dashboard lists the newest alerts */
    "CREATE INDEX IF NOT EXISTS alerts_at ON alerts(at_ms)",
    /* when an alert of a kind was last raised for a subject, for
     * hqdb_alert_once: one row per (subject, kind), claimed atomically */
    "CREATE TABLE IF NOT EXISTS alert_gate(subject TEXT NOT NULL, kind TEXT NOT NULL,"
    " at_ms BIGINT NOT NULL, PRIMARY KEY(subject, kind))",
};

static sqr_rc run(hqdb *db, const char *sql, const hqv *p, int n, hqres *res, int64_t *changes) {
  return db->ops->exec(db, sql, p, n, res, changes);
}

sqr_rc hqdb__schema(hqdb *db) {
  sqr_rc rc = db->ops->begin(db);
  if(!rc && db->ops->schema_lock) rc = run(db, db->ops->schema_lock, NULL, 0, NULL, NULL);
  for(size_t i = 0; !rc && i < SQR_ARRAY_LEN(schema); i++)
    rc = run(db, schema[i], NULL, 0, NULL, NULL);
  /* tables of the modules that keep their statements in their own files */
  static const char *const *const more[] = {
      hqdb_resolve_schema, hqdb_stats_schema, hqdb_auth_schema, hqdb_keys_schema,
      hqdb_jobs_schema,    hqdb_seal_schema,  hqdb_feed_schema, hqdb_erase_schema,
      hqdb_consent_schema, hqdb_retain_schema};
  for(size_t m = 0; !rc && m < SQR_ARRAY_LEN(more); m++)
    for(size_t i = 0; !rc && more[m][i]; i++)
      rc = run(db, more[m][i], NULL, 0, NULL, NULL);
  if(!rc) rc = db->ops->commit(db);
  return rc;
}

void hqdb_close(hqdb *db) {
  if(!db) return;
  db->ops->close(db);
  for(size_t i = 0; i < SQR_ARRAY_LEN(db->event_sql); i++)
    free(db->event_sql[i]);
  free(db);
}

const char *hqdb_errmsg(const hqdb *db) {
  return db->err;
}
const char *hqdb_backend(const hqdb *db) {
  return db->ops->name;
}
sqr_rc hqdb_ping(hqdb *db, int timeout_ms) {
  if(db->ops->ping) return db->ops->ping(db, timeout_ms);
  hqres r = {0};
  sqr_rc rc = run(db, "SELECT 1", NULL, 0, &r, NULL);
  hqres_free(&r);
  return rc;
}
sqr_rc hqdb_begin(hqdb *db) {
  return db->ops->begin(db);
}
sqr_rc hqdb_begin_lazy(hqdb *db) {
  return db->ops->begin_lazy(db);
}
sqr_rc hqdb_commit(hqdb *db) {
  return db->ops->commit(db);
}
void hqdb_rollback(hqdb *db) {
  db->ops->rollback(db);
}

/* ---- stores and groups ----------------------------------------------------- */

sqr_rc hqdb_store_add(hqdb *db, const hq_store *s, int64_t now_ms) {
  hqv p[] = {T(s->id), T(s->name), T(s->city), R(s->lat), R(s->lon), I(s->key_version), I(now_ms)};
  int64_t changes = 0;
  sqr_rc rc =
      hqdb__run1(db,
                 "INSERT INTO stores(id, name, city, lat, lon, key_version, config_version,"
                 " created_ms) VALUES($1, $2, $3, $4, $5, $6, 1, $7) ON CONFLICT (id) DO NOTHING",
                 p, 7, &changes);
  if(!rc && changes == 0) return SQR_EEXISTS;
  return rc;
}

sqr_rc hqdb_store_get(hqdb *db, const char *id, hq_store *out) {
  hqres r = {0};
  hqv p[] = {T(id)};
  sqr_rc rc = run(db,
                  "SELECT id, name, city, lat, lon, key_version, config_version FROM stores"
                  " WHERE id = $1",
                  p, 1, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) {
    memset(out, 0, sizeof *out);
    cell_text(&r, 0, 0, out->id, sizeof out->id);
    cell_text(&r, 0, 1, out->name, sizeof out->name);
    cell_text(&r, 0, 2, out->city, sizeof out->city);
    out->lat = cell_real(&r, 0, 3);
    out->lon = cell_real(&r, 0, 4);
    out->key_version = (int)cell_int(&r, 0, 5);
    out->config_version = cell_int(&r, 0, 6);
  }
  hqres_free(&r);
  return rc;
}

static sqr_rc bump_version(hqdb *db, const char *store) {
  hqv p[] = {T(store)};
  int64_t changes = 0;
  sqr_rc rc = run(db, "UPDATE stores SET config_version = config_version + 1 WHERE id = $1", p, 1,
                  NULL, &changes);
  if(!rc && changes == 0) rc = SQR_ENOTFOUND;
  return rc;
}

sqr_rc hqdb_group_upsert(hqdb *db, const hq_group *g, int *created) {
  hqres r = {0};
  sqr_rc rc = db->ops->begin(db);
  if(rc) return rc;
  if((rc = bump_version(db, g->store))) goto out;
  hqv k[] = {T(g->store), T(g->id)};
  if((rc = run(db, "SELECT 1 FROM store_groups WHERE store = $1 AND id = $2", k, 2, &r, NULL)))
    goto out;
  *created = r.nrows == 0;
  hqv p[] = {T(g->store), T(g->id),       T(g->kind),       T(g->name),           T(g->tag),
             T(g->link),  I(g->capacity), I(g->expires_at), I(g->retired ? 1 : 0)};
  rc = run(
      db,
      "INSERT INTO store_groups(store, id, kind, name, tag, link, capacity, expires_at, retired)"
      " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (store, id) DO UPDATE SET"
      " kind = excluded.kind, name = excluded.name, tag = excluded.tag, link = excluded.link,"
      " capacity = excluded.capacity, expires_at = excluded.expires_at,"
      " retired = excluded.retired",
      p, 9, NULL, NULL);
out:
  hqres_free(&r);
  if(!rc) return db->ops->commit(db);
  db->ops->rollback(db);
  return rc;
}

sqr_rc hqdb_groups(hqdb *db, const char *store, hq_group *out, size_t max, size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store)};
  *n = 0;
  sqr_rc rc = run(db,
                  "SELECT id, kind, name, tag, link, capacity, expires_at, retired"
                  " FROM store_groups WHERE store = $1 ORDER BY id",
                  p, 1, &r, NULL);
  for(int i = 0; !rc && i < r.nrows && *n < max; i++) {
    hq_group *g = &out[(*n)++];
    memset(g, 0, sizeof *g);
    snprintf(g->store, sizeof g->store, "%s", store);
    cell_text(&r, i, 0, g->id, sizeof g->id);
    cell_text(&r, i, 1, g->kind, sizeof g->kind);
    cell_text(&r, i, 2, g->name, sizeof g->name);
    cell_text(&r, i, 3, g->tag, sizeof g->tag);
    cell_text(&r, i, 4, g->link, sizeof g->link);
    g->capacity = (int)cell_int(&r, i, 5);
    g->expires_at = cell_int(&r, i, 6);
    g->retired = (int)cell_int(&r, i, 7);
  }
  hqres_free(&r);
  return rc;
}

/* ---- enrolment ------------------------------------------------------------- */

sqr_rc hqdb_code_add(hqdb *db, const uint8_t code_hash[32], const char *store, int kiosk,
                     int64_t expires_ms) {
  hq_store s;
  sqr_rc rc = hqdb_store_get(db, store, &s);
  if(rc) return rc;
  hqv p[] = {B(code_hash, 32), T(store), I(kiosk), I(expires_ms)};
  return hqdb__run1(db,
                    "INSERT INTO enroll_codes(code_hash, store, kiosk, expires_ms)"
                    " VALUES($1, $2, $3, $4)",
                    p, 4, NULL);
}

sqr_rc hqdb_code_peek(hqdb *db, const uint8_t code_hash[32], char store[HQ_ID_MAX], int *kiosk,
                      int64_t *expires_ms, int *used) {
  hqres r = {0};
  hqv p[] = {B(code_hash, 32)};
  sqr_rc rc = run(db,
                  "SELECT store, kiosk, expires_ms, used_ms FROM enroll_codes"
                  " WHERE code_hash = $1",
                  p, 1, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) {
    cell_text(&r, 0, 0, store, HQ_ID_MAX);
    *kiosk = (int)cell_int(&r, 0, 1);
    *expires_ms = cell_int(&r, 0, 2);
    *used = cell(&r, 0, 3)->k != HQV_NULL;
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_kiosk_by_cert(hqdb *db, const uint8_t cert_sha256[32], char kiosk_id[HQ_ID_MAX],
                          int *revoked) {
  hqres r = {0};
  hqv p[] = {B(cert_sha256, 32)};
  sqr_rc rc = run(db, "SELECT id, revoked FROM kiosks WHERE cert_sha256 = $1", p, 1, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) {
    cell_text(&r, 0, 0, kiosk_id, HQ_ID_MAX);
    *revoked = cell_int(&r, 0, 1) != 0;
  }
  hqres_free(&r);
  return rc;
}

/* ---- ingest ---------------------------------------------------------------- */

sqr_rc hqdb_kiosk_lock(hqdb *db, const char *kiosk_id, int64_t *acked_seq, uint8_t last_hash[32]) {
  /* Static texts: the SQLite backend caches statements by address. */
  const char *sql = db->ops->for_update[0]
                        ? "SELECT acked_seq, last_hash FROM kiosks WHERE id = $1 FOR UPDATE"
                        : "SELECT acked_seq, last_hash FROM kiosks WHERE id = $1";
  hqres r = {0};
  hqv p[] = {T(kiosk_id)};
  sqr_rc rc = run(db, sql, p, 1, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) {
    *acked_seq = cell_int(&r, 0, 0);
    if(!cell_blob32(&r, 0, 1, last_hash)) rc = SQR_ECORRUPT;
  }
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_event_hash(hqdb *db, const char *kiosk_id, int64_t seq, uint8_t hash[32]) {
  hqres r = {0};
  hqv p[] = {T(kiosk_id), I(seq)};
  sqr_rc rc = run(db, "SELECT hash FROM events WHERE kiosk = $1 AND seq = $2", p, 2, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc && !cell_blob32(&r, 0, 0, hash)) rc = SQR_ECORRUPT;
  hqres_free(&r);
  return rc;
}

#define EVENT_COLS 10
static const char event_insert_head[] =
    "INSERT INTO events(kiosk, seq, store, type, ts_ms, payload, body_hash, hash, redacted,"
    " received_ms) VALUES";

/* The multi-row INSERT for 2^k rows, built once per handle: a backend may
 * cache statements by the text's address (SQLite does), and PostgreSQL
 * then pays one round trip per 2^k rows instead of one per row. */
static sqr_rc event_insert_sql(hqdb *db, int k, const char **out) {
  if(!db->event_sql[k]) {
    size_t rows = (size_t)1 << k, size = sizeof event_insert_head + rows * (EVENT_COLS * 7 + 4);
    char *sql = malloc(size), *p = sql;
    if(!sql) return SQR_ENOMEM;
    p += snprintf(p, size, "%s", event_insert_head);
    for(size_t r = 0; r < rows; r++) {
      p += snprintf(p, size - (size_t)(p - sql), "%s(", r ? "," : "");
      for(int c = 1; c <= EVENT_COLS; c++)
        p += snprintf(p, size - (size_t)(p - sql), "$%zu%s", r * EVENT_COLS + (size_t)c,
                      c < EVENT_COLS ? "," : ")");
    }
    db->event_sql[k] = sql;
  }
  *out = db->event_sql[k];
  return SQR_OK;
}

sqr_rc hqdb_event_insert(hqdb *db, const hq_event_row *ev) {
  return hqdb_event_insert_many(db, ev, 1);
}

sqr_rc hqdb_event_insert_many(hqdb *db, const hq_event_row *rows, size_t n) {
  hqv p[HQDB_EVENT_CHUNK * EVENT_COLS];
  while(n > 0) {
    int k = HQDB_EVENT_CHUNK_LOG2;
    while(((size_t)1 << k) > n)
      k--;
    size_t m = (size_t)1 << k;
    const char *sql;
    sqr_rc rc = event_insert_sql(db, k, &sql);
    if(rc) return rc;
    for(size_t i = 0; i < m; i++) {
      const hq_event_row *ev = &rows[i];
      hqv *v = &p[i * EVENT_COLS];
      v[0] = T(ev->kiosk_id);
      v[1] = I(ev->seq);
      v[2] = T(ev->store);
      v[3] = T(ev->type);
      v[4] = I(ev->ts_ms);
      v[5] = ev->payload_len ? (hqv){.k = HQV_TEXT, .p = ev->payload, .n = ev->payload_len}
                             : T(ev->payload);
      v[6] = B(ev->body_hash, 32);
      v[7] = B(ev->hash, 32);
      v[8] = I(ev->redacted);
      v[9] = I(ev->received_ms);
    }
    if((rc = run(db, sql, p, (int)(m * EVENT_COLS), NULL, NULL))) return rc;
    rows += m;
    n -= m;
  }
  return SQR_OK;
}

sqr_rc hqdb_kiosk_advance(hqdb *db, const char *kiosk_id, int64_t acked_seq,
                          const uint8_t last_hash[32]) {
  hqv p[] = {T(kiosk_id), I(acked_seq), B(last_hash, 32)};
  return run(db,
             "UPDATE kiosks SET acked_seq = $2, last_hash = $3 WHERE id = $1 AND acked_seq < $2", p,
             3, NULL, NULL);
}

sqr_rc hqdb_store_count(hqdb *db, const char *store, int signups, int checkins, int events) {
  hqv p[] = {T(store), I(signups), I(checkins), I(events)};
  return run(db,
             "UPDATE stores SET signups = signups + $2, checkins = checkins + $3,"
             " events = events + $4 WHERE id = $1",
             p, 4, NULL, NULL);
}

sqr_rc hqdb_member_upsert(hqdb *db, const uint8_t phone_index[32], const uint8_t *phone_enc,
                          size_t enc_len, const char *store, const char *member_hex, int64_t now_ms,
                          int *new_member) {
  int64_t changes = 0;
  hqv m[] = {B(phone_index, 32), B(phone_enc, enc_len), T(store), I(now_ms)};
  sqr_rc rc = run(db,
                  "INSERT INTO members(phone_index, phone_enc, first_store, created_ms)"
                  " VALUES($1, $2, $3, $4) ON CONFLICT (phone_index) DO NOTHING",
                  m, 4, NULL, &changes);
  if(rc) return rc;
  *new_member = changes > 0;
  hqv l[] = {T(store), T(member_hex), B(phone_index, 32), I(now_ms)};
  return run(db,
             "INSERT INTO member_links(store, member, phone_index, created_ms)"
             " VALUES($1, $2, $3, $4) ON CONFLICT (store, member) DO NOTHING",
             l, 4, NULL, NULL);
}

sqr_rc hqdb_erasure_confirm(hqdb *db, const char *store, const char *member_hex, int64_t now_ms) {
  hqv p[] = {T(store), T(member_hex), I(now_ms)};
  int64_t changes = 0;
  sqr_rc rc = run(db,
                  "UPDATE erasures SET confirmed_ms = $3 WHERE store = $1 AND member = $2"
                  " AND confirmed_ms IS NULL",
                  p, 3, NULL, &changes);
  if(!rc && changes > 0) rc = bump_version(db, store);
  /* A box still waiting for the opener would link the member again.
   * The queue first: on PostgreSQL an opener that took the box and has
   * not committed holds its row, so this waits for it, and the links
   * DELETE after it (a new snapshot under READ COMMITTED) sees the link
   * that opener made; links first would miss it and leave it. */
  if(!rc) rc = run(db, "DELETE FROM seal_queue WHERE store = $1 AND member = $2", p, 2, NULL, NULL);
  if(!rc)
    rc = run(db, "DELETE FROM member_links WHERE store = $1 AND member = $2", p, 2, NULL, NULL);
  return rc;
}

sqr_rc hqdb_alert(hqdb *db, const char *kiosk_id, int64_t seq, const char *kind,
                  const char *message, int64_t now_ms) {
  hqv p[] = {T(kiosk_id), I(seq), T(kind), T(message), I(now_ms)};
  return hqdb__run1(
      db, "INSERT INTO alerts(kiosk, seq, kind, message, at_ms) VALUES($1, $2, $3, $4, $5)", p, 5,
      NULL);
}

sqr_rc hqdb_alert_once(hqdb *db, const char *subject, int64_t seq, const char *kind,
                       const char *message, int64_t now_ms, int64_t window_ms, int *raised) {
  *raised = 0;
  sqr_rc rc = db->ops->begin(db);
  if(rc) return rc;
  /* The one statement that decides: it inserts the gate row, or moves it
   * to now only if the last alert is older than the window. Two HQ
   * processes racing on PostgreSQL serialise on the row (the second's
   * ON CONFLICT waits for the first to commit and then finds it recent);
   * SQLite's write transaction serialises them anyway. */
  hqv g[] = {T(subject), T(kind), I(now_ms), I(now_ms - window_ms)};
  int64_t claimed = 0;
  rc = run(db,
           "INSERT INTO alert_gate(subject, kind, at_ms) VALUES($1, $2, $3)"
           " ON CONFLICT (subject, kind) DO UPDATE SET at_ms = excluded.at_ms"
           " WHERE alert_gate.at_ms <= $4",
           g, 4, NULL, &claimed);
  if(!rc && claimed > 0) {
    hqv p[] = {T(subject), I(seq), T(kind), T(message), I(now_ms)};
    rc = run(db, "INSERT INTO alerts(kiosk, seq, kind, message, at_ms) VALUES($1, $2, $3, $4, $5)",
             p, 5, NULL, NULL);
  }
  if(!rc) rc = db->ops->commit(db);
  if(rc) {
    db->ops->rollback(db);
    return rc;
  }
  *raised = claimed > 0;
  return SQR_OK;
}

sqr_rc hqdb_alert_count(hqdb *db, const char *kiosk_id, const char *kind, int64_t *n) {
  hqres r = {0};
  hqv p[] = {T(kiosk_id), T(kind)};
  sqr_rc rc = run(db, "SELECT COUNT(*) FROM alerts WHERE kiosk = $1 AND kind = $2", p, 2, &r, NULL);
  *n = !rc && r.nrows ? cell_int(&r, 0, 0) : 0;
  hqres_free(&r);
  return rc;
}

/* ---- erasures and counts ---------------------------------------------------- */

sqr_rc hqdb_erasure_add(hqdb *db, const char *store, const char *member_hex, int64_t now_ms) {
  int64_t changes = 0;
  hqv p[] = {T(store), T(member_hex), I(now_ms)};
  sqr_rc rc = run(db,
                  "INSERT INTO erasures(store, member, requested_ms) VALUES($1, $2, $3)"
                  " ON CONFLICT (store, member) DO NOTHING",
                  p, 3, NULL, &changes);
  if(!rc && changes > 0) rc = bump_version(db, store);
  return rc;
}

sqr_rc hqdb_erasures_pending(hqdb *db, const char *store, char (*out)[65], size_t max, size_t *n) {
  hqres r = {0};
  hqv p[] = {T(store)};
  *n = 0;
  sqr_rc rc = run(db,
                  "SELECT member FROM erasures WHERE store = $1 AND confirmed_ms IS NULL"
                  " ORDER BY requested_ms, member",
                  p, 1, &r, NULL);
  for(int i = 0; !rc && i < r.nrows && *n < max; i++)
    cell_text(&r, i, 0, out[(*n)++], 65);
  hqres_free(&r);
  return rc;
}

sqr_rc hqdb_counts(hqdb *db, const char *store, hq_counts *out) {
  memset(out, 0, sizeof *out);
  hqres r = {0};
  hqv p[] = {T(store)};
  sqr_rc rc = run(db,
                  /* members and the boxes still queued in one statement, one
                   * snapshot: the opener links a member in the transaction that
                   * takes its box off the queue, so pending 0 means members is
                   * final */
                  "SELECT signups, checkins, events,"
                  " (SELECT COUNT(DISTINCT phone_index) FROM member_links WHERE store = $1),"
                  " (SELECT COUNT(*) FROM seal_queue WHERE store = $1) FROM stores WHERE id = $1",
                  p, 1, &r, NULL);
  if(!rc && r.nrows == 0) rc = SQR_ENOTFOUND;
  if(!rc) {
    out->signups = cell_int(&r, 0, 0);
    out->checkins = cell_int(&r, 0, 1);
    out->events = cell_int(&r, 0, 2);
    out->members = cell_int(&r, 0, 3);
    out->members_pending = cell_int(&r, 0, 4);
  }
  hqres_free(&r);
  if(!rc)
    rc = run(db,
             "SELECT (SELECT COUNT(*) FROM erasures WHERE store = $1 AND"
             " confirmed_ms IS NULL), (SELECT COUNT(*) FROM erasures WHERE store = $1"
             " AND confirmed_ms IS NOT NULL)",
             p, 1, &r, NULL);
  if(!rc && r.nrows == 1) {
    out->erasures_pending = cell_int(&r, 0, 0);
    out->erasures_confirmed = cell_int(&r, 0, 1);
  }
  hqres_free(&r);
  /* Per kiosk, what HQ actually holds (rows and highest seq) next to what
   * it acknowledged: the exactly-once checks compare these with the
   * kiosk's own log. */
  if(!rc)
    rc = run(db,
             "SELECT k.number, k.acked_seq, COUNT(e.seq), COALESCE(MAX(e.seq), 0), k.id"
             " FROM kiosks k LEFT JOIN events e ON e.kiosk = k.id WHERE k.store = $1"
             " GROUP BY k.id, k.number, k.acked_seq ORDER BY k.number, k.enrolled_ms",
             p, 1, &r, NULL);
  if(!rc && r.nrows > 0 && !(out->kiosks = calloc((size_t)r.nrows, sizeof *out->kiosks)))
    rc = SQR_ENOMEM;
  for(int i = 0; !rc && i < r.nrows; i++) {
    out->kiosks[out->nkiosks].number = (int)cell_int(&r, i, 0);
    out->kiosks[out->nkiosks].acked_seq = cell_int(&r, i, 1);
    out->kiosks[out->nkiosks].events = cell_int(&r, i, 2);
    out->kiosks[out->nkiosks].max_seq = cell_int(&r, i, 3);
    cell_text(&r, i, 4, out->kiosks[out->nkiosks].id, HQ_ID_MAX);
    out->nkiosks++;
  }
  hqres_free(&r);
  return rc;
}

void hqdb_counts_free(hq_counts *c) {
  if(!c) return;
  free(c->kiosks);
  c->kiosks = NULL;
  c->nkiosks = 0;
}

sqr_rc hqdb_exec(hqdb *db, const char *sql, const hqv *params, int n, hqres *res,
                 int64_t *changes) {
  return run(db, sql, params, n, res, changes);
}

char *hqdb__batch_text(const char *head, const char *tail, int rows, int cols) {
  size_t cap = strlen(head) + strlen(tail) + (size_t)rows * (size_t)cols * 8 + 16;
  char *s = malloc(cap);
  if(!s) return NULL;
  size_t n = (size_t)snprintf(s, cap, "%s", head);
  for(int r = 0; r < rows; r++)
    for(int c = 0; c < cols; c++)
      n += (size_t)snprintf(s + n, cap - n, "%s$%d%s",
                            c   ? ","
                            : r ? ",("
                                : "(",
                            r * cols + c + 1, c == cols - 1 ? ")" : "");
  snprintf(s + n, cap - n, "%s", tail);
  return s;
}

sqr_rc hqdb__run1(hqdb *db, const char *sql, const hqv *p, int n, int64_t *changes) {
  sqr_rc rc = db->ops->begin(db);
  if(rc) return rc;
  rc = run(db, sql, p, n, NULL, changes);
  if(!rc) return db->ops->commit(db);
  db->ops->rollback(db);
  return rc;
}
