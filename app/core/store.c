/* store.c — the kiosk database. See store.h for the contract and the hash
 * chain; docs/ARCHITECTURE.md for the schema history.
 *
 * Invariants:
 *  - every write runs inside BEGIN IMMEDIATE ... COMMIT, and appends its
 *    event(s) in that same transaction;
 *  - the chain tail is read inside the transaction, never cached, because
 *    the sync client (another process) also appends events;
 *  - SQLite codes are translated here (store__fail) and nowhere else. */
#include "store_int.h"
#include "chain.h"
#include "crypto.h"
#include "log.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COMPONENT "store"

/* Numbered migrations: migrations[i] takes user_version i to i+1. Never
 * edit one that has shipped; add the next. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 1: the event log, members and applied configuration */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, type TEXT NOT NULL, ts_ms INTEGER NOT NULL,"
    "  payload TEXT NOT NULL, body_hash BLOB NOT NULL, hash BLOB NOT NULL,"
    "  redacted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX events_type_ts ON events(type, ts_ms);"
    "CREATE TABLE members(id INTEGER PRIMARY KEY, blind BLOB NOT NULL UNIQUE,"
    "  sealed BLOB NOT NULL, consent_version TEXT NOT NULL, consent_ms INTEGER NOT NULL,"
    "  tags TEXT NOT NULL DEFAULT '[]', staff TEXT, group_id TEXT,"
    "  created_ms INTEGER NOT NULL, points INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE config(version INTEGER PRIMARY KEY, json TEXT NOT NULL,"
    "  applied_ms INTEGER NOT NULL);",
    /* 2: check-in streaks and group fill */
    "ALTER TABLE members ADD COLUMN last_checkin_day INTEGER;"
    "ALTER TABLE members ADD COLUMN streak INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE groups(id TEXT PRIMARY KEY, joined INTEGER NOT NULL DEFAULT 0,"
    "  marked_full INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;",
    /* 3: sync bookkeeping and processed erasures */
    "CREATE TABLE sync_attempts(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
    "  ok INTEGER NOT NULL, error TEXT, pending INTEGER NOT NULL, hq_offset_ms INTEGER);"
    "CREATE TABLE erased(blind BLOB PRIMARY KEY, at_ms INTEGER NOT NULL) WITHOUT ROWID;",
    /* 4: stable member ids and the kind of blind index (docs/PROTOCOL.md
     * "Members"). SQLite cannot add a NOT NULL UNIQUE column, so members
     * and erased are rebuilt. A member from before keeps the first 32 hex
     * digits of its old id (the blind index's hex), as HQ does, so links
     * and pending erasures carry over; its index is the HMAC one (kind 0). */
    "CREATE TABLE members4(id INTEGER PRIMARY KEY, mid TEXT NOT NULL UNIQUE,"
    "  blind BLOB NOT NULL UNIQUE, index_kind INTEGER NOT NULL DEFAULT 0"
    "  CHECK(index_kind IN (0, 1)),"
    "  sealed BLOB NOT NULL, consent_version TEXT NOT NULL, consent_ms INTEGER NOT NULL,"
    "  tags TEXT NOT NULL DEFAULT '[]', staff TEXT, group_id TEXT,"
    "  created_ms INTEGER NOT NULL, points INTEGER NOT NULL DEFAULT 0,"
    "  last_checkin_day INTEGER, streak INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO members4(id, mid, blind, index_kind, sealed, consent_version, consent_ms, tags,"
    "  staff, group_id, created_ms, points, last_checkin_day, streak)"
    "  SELECT id, lower(substr(hex(blind), 1, 32)), blind, 0, sealed, consent_version,"
    "  consent_ms, tags, staff, group_id, created_ms, points, last_checkin_day, streak"
    "  FROM members;"
    "DROP TABLE members;"
    "ALTER TABLE members4 RENAME TO members;"
    "CREATE TABLE erased4(member TEXT PRIMARY KEY, at_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO erased4(member, at_ms)"
    "  SELECT lower(substr(hex(blind), 1, 32)), at_ms FROM erased;"
    "DROP TABLE erased;"
    "ALTER TABLE erased4 RENAME TO erased;",
    /* 5: members learned through HQ's feed (member_feed.c): no sealed box
     * here (the kiosk that signed them up sent it), and the last feed
     * entry each member's state includes */
    "CREATE TABLE members5(id INTEGER PRIMARY KEY, mid TEXT NOT NULL UNIQUE,"
    "  blind BLOB NOT NULL UNIQUE, index_kind INTEGER NOT NULL DEFAULT 0"
    "  CHECK(index_kind IN (0, 1)),"
    "  sealed BLOB, consent_version TEXT NOT NULL, consent_ms INTEGER NOT NULL,"
    "  tags TEXT NOT NULL DEFAULT '[]', staff TEXT, group_id TEXT,"
    "  created_ms INTEGER NOT NULL, points INTEGER NOT NULL DEFAULT 0,"
    "  last_checkin_day INTEGER, streak INTEGER NOT NULL DEFAULT 0,"
    "  feed_seq INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO members5(id, mid, blind, index_kind, sealed, consent_version, consent_ms, tags,"
    "  staff, group_id, created_ms, points, last_checkin_day, streak)"
    "  SELECT id, mid, blind, index_kind, sealed, consent_version, consent_ms, tags,"
    "  staff, group_id, created_ms, points, last_checkin_day, streak FROM members;"
    "DROP TABLE members;"
    "ALTER TABLE members5 RENAME TO members;",
    /* 6: marketing consent, apart from the service consent (issue 16):
     * the version the member agreed to, NULL when none or withdrawn */
    "ALTER TABLE members ADD COLUMN marketing TEXT;"
    "ALTER TABLE members ADD COLUMN marketing_ms INTEGER;",
};

sqr_rc store__fail(store *st, int src, const char *what) {
  sqr_rc rc;
  const char *hint = "";
  switch(src & 0xff) {
  case SQLITE_FULL:
    rc = SQR_ENOSPC;
    hint = " (disk full)";
    break;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    rc = SQR_EBUSY;
    break;
  case SQLITE_NOMEM:
    rc = SQR_ENOMEM;
    break;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT:
    rc = SQR_ECORRUPT;
    break;
  case SQLITE_CONSTRAINT:
    rc = SQR_EEXISTS;
    break;
  default:
    rc = SQR_EIO;
    break;
  }
  if(st) {
    snprintf(st->errmsg, sizeof st->errmsg, "%s: %s%s", what,
             st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(src), hint);
    log_error(COMPONENT, "%s (sqlite %d)", st->errmsg, src);
  }
  return rc;
}

static const char *const cached_sql[SQL__COUNT] = {
    [SQL_TAIL] = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
    [SQL_INSERT_EVENT] = "INSERT INTO events(seq, type, ts_ms, payload, body_hash, hash)"
                         " VALUES(?, ?, ?, ?, ?, ?)",
    [SQL_META_GET] = "SELECT value FROM meta WHERE key=?",
    [SQL_META_SET] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)",
    [SQL_GROUP_FILL] = "SELECT joined, marked_full FROM groups WHERE id=?",
    [SQL_COUNT_EVENTS] = "SELECT count(*) FROM events WHERE type=? AND ts_ms>=? AND ts_ms<?",
    [SQL_FIND_MEMBER] = "SELECT id, points, streak, coalesce(last_checkin_day, -1),"
                        " consent_version, coalesce(group_id, ''), mid, index_kind,"
                        " coalesce(marketing, '') FROM members WHERE blind=?",
    [SQL_INSERT_MEMBER] = "INSERT INTO members(blind, sealed, consent_version, consent_ms, tags,"
                          " staff, group_id, created_ms, points, mid, index_kind)"
                          " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    [SQL_BUMP_GROUP] = "INSERT INTO groups(id, joined) VALUES(?, 1)"
                       " ON CONFLICT(id) DO UPDATE SET joined=joined+1",
    [SQL_CHECKIN] = "UPDATE members SET points=points+?, streak=?, last_checkin_day=? WHERE id=?",
};

sqr_rc store__stmt(store *st, store_sql id, sqlite3_stmt **out) {
  sqlite3_stmt *s = st->stmts[id];
  if(!s) {
    int src = sqlite3_prepare_v3(st->db, cached_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if(src != SQLITE_OK) return store__fail(st, src, "prepare statement");
    st->stmts[id] = s;
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  *out = s;
  return SQR_OK;
}

static sqr_rc exec(store *st, const char *sql, const char *what) {
  int src = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
  return src == SQLITE_OK ? SQR_OK : store__fail(st, src, what);
}

sqr_rc store__begin(store *st) {
  return exec(st, "BEGIN IMMEDIATE", "begin transaction");
}

sqr_rc store__commit(store *st) {
  return exec(st, "COMMIT", "commit");
}

void store__rollback(store *st) {
  if(!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The first column of sql's first row into *out; dflt when there is no row
 * or the value is NULL (max() of an empty table). A failed read is an
 * error, never dflt: these figures feed seqs and serials. */
static sqr_rc query_int(store *st, const char *what, const char *sql, int64_t dflt, int64_t *out) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = SQR_OK;
  int src = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
  if(src == SQLITE_OK) src = sqlite3_step(s);
  if(src == SQLITE_ROW)
    *out = sqlite3_column_type(s, 0) == SQLITE_NULL ? dflt : sqlite3_column_int64(s, 0);
  else if(src == SQLITE_DONE)
    *out = dflt;
  else
    rc = store__fail(st, src, what);
  sqlite3_finalize(s);
  return rc;
}

sqr_rc store__meta_int(store *st, const char *key, int64_t dflt, int64_t *out) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_META_GET, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  int src = sqlite3_step(s);
  if(src == SQLITE_DONE) {
    *out = dflt;
  } else if(src != SQLITE_ROW) {
    rc = store__fail(st, src, "read meta");
  } else if(sqlite3_column_type(s, 0) != SQLITE_INTEGER) {
    /* Only store__meta_set_int writes these; anything else is damage, and
     * reading it as 0 would reissue coupon serials or resend the log. */
    snprintf(st->errmsg, sizeof st->errmsg, "meta %s is damaged (not an integer)", key);
    log_error(COMPONENT, "%s", st->errmsg);
    rc = SQR_ECORRUPT;
  } else {
    *out = sqlite3_column_int64(s, 0);
  }
  sqlite3_reset(s);
  return rc;
}

static sqr_rc meta_set(store *st, const char *key, int64_t iv, const char *sv) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_META_SET, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  if(sv)
    sqlite3_bind_text(s, 2, sv, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int64(s, 2, iv);
  int src = sqlite3_step(s);
  sqlite3_reset(s);
  return src == SQLITE_DONE ? SQR_OK : store__fail(st, src, "write meta");
}

sqr_rc store__meta_set_int(store *st, const char *key, int64_t v) {
  return meta_set(st, key, v, NULL);
}

sqr_rc store__append(store *st, const char *type, cJSON *payload, int64_t *seq_out) {
  sqr_rc rc = SQR_OK;
  sqlite3_stmt *s = NULL;
  char *body = NULL;
  uint8_t prev[32] = {0}, body_hash[32], hash[32];
  int64_t seq = 1;
  int src;

  if(!payload) return SQR_ENOMEM;
  body = cJSON_PrintUnformatted(payload);
  cJSON_Delete(payload);
  if(!body) return SQR_ENOMEM;

  rc = store__stmt(st, SQL_TAIL, &s);
  if(rc) goto out;
  src = sqlite3_step(s);
  if(src == SQLITE_ROW) {
    seq = sqlite3_column_int64(s, 0) + 1;
    if(sqlite3_column_bytes(s, 1) != 32) {
      rc = SQR_ECORRUPT;
      snprintf(st->errmsg, sizeof st->errmsg, "event log tail has a damaged hash");
      goto out;
    }
    memcpy(prev, sqlite3_column_blob(s, 1), 32);
  } else if(src != SQLITE_DONE) {
    goto sqlfail;
  }
  sqlite3_reset(s);
  s = NULL;

  int64_t ts = clock_now_ms(st->clock);
  rc = crypto_sha256(body, strlen(body), body_hash);
  if(!rc) rc = chain_hash(prev, seq, type, ts, body_hash, hash);
  if(rc) goto out;

  rc = store__stmt(st, SQL_INSERT_EVENT, &s);
  if(rc) goto out;
  sqlite3_bind_int64(s, 1, seq);
  sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, ts);
  sqlite3_bind_text(s, 4, body, -1, SQLITE_STATIC);
  sqlite3_bind_blob(s, 5, body_hash, 32, SQLITE_STATIC);
  sqlite3_bind_blob(s, 6, hash, 32, SQLITE_STATIC);
  src = sqlite3_step(s);
  if(src != SQLITE_DONE) goto sqlfail;
  if(seq_out) *seq_out = seq;
  goto out;

sqlfail:
  rc = store__fail(st, src, "append event");
out:
  if(s) sqlite3_reset(s);
  cJSON_free(body);
  return rc;
}

sqr_rc store_append(store *st, const char *type, const char *payload_json, int64_t *seq) {
  cJSON *p = cJSON_Parse(payload_json);
  if(!p || !cJSON_IsObject(p)) {
    cJSON_Delete(p);
    snprintf(st->errmsg, sizeof st->errmsg, "event payload must be a JSON object");
    return SQR_EINVAL;
  }
  sqr_rc rc = store__begin(st);
  if(rc) {
    cJSON_Delete(p);
    return rc;
  }
  rc = store__append(st, type, p, seq);
  if(!rc) rc = store__commit(st);
  if(rc) store__rollback(st);
  return rc;
}

static sqr_rc migrate(store *st, int from, int to) {
  if(from == to) return SQR_OK;
  sqr_rc rc = store__begin(st);
  if(rc) return rc;
  for(int v = from; v < to; v++) {
    char what[64];
    snprintf(what, sizeof what, "migration %d", v + 1);
    rc = exec(st, migrations[v], what);
    if(rc) goto out;
  }
  char sql[96];
  snprintf(sql, sizeof sql, "PRAGMA user_version=%d; PRAGMA application_id=%d", to,
           STORE_APPLICATION_ID);
  rc = exec(st, sql, "set schema version");
  if(!rc) rc = store__commit(st);
  if(!rc && from != to) log_info(COMPONENT, "database migrated from version %d to %d", from, to);
out:
  if(rc) store__rollback(st);
  return rc;
}

static sqr_rc load_config(store *st) {
  /* Cheap when nothing changed: the UI calls this at every rotation, and
   * only the version is read unless another process applied a new one. */
  int64_t v = 0;
  sqr_rc rc = query_int(st, "read config version", "SELECT max(version) FROM config", 0, &v);
  if(rc) return rc;
  if(v == 0 || (st->cfg && v == st->cfg_version)) return SQR_OK;
  sqlite3_stmt *s = NULL;
  int src = sqlite3_prepare_v2(st->db, "SELECT json FROM config WHERE version=?", -1, &s, NULL);
  if(src != SQLITE_OK) return store__fail(st, src, "read config");
  sqlite3_bind_int64(s, 1, v);
  src = sqlite3_step(s);
  if(src == SQLITE_ROW) {
    sqr_config *cfg = NULL;
    char err[256];
    rc = config_parse((const char *)sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0),
                      &cfg, err, sizeof err);
    if(rc) {
      snprintf(st->errmsg, sizeof st->errmsg, "stored config version %lld is damaged: %s",
               (long long)v, err);
      rc = SQR_ECORRUPT;
    } else {
      config_free(st->cfg);
      st->cfg = cfg;
      st->cfg_version = v;
    }
  } else if(src != SQLITE_DONE) {
    rc = store__fail(st, src, "read config");
  }
  sqlite3_finalize(s);
  return rc;
}

static sqr_rc open_db(const char *path, store *st, char *err, size_t errlen, int *version_out) {
  int src = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if(src != SQLITE_OK) {
    snprintf(err, errlen,
             "cannot open or create %s: %s (does the directory exist and is it writable?)", path,
             st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(src));
    return SQR_EIO;
  }
  sqlite3_busy_timeout(st->db, 5000);
  sqlite3_extended_result_codes(st->db, 1);

  /* Identify the file before changing anything in it. */
  sqlite3_stmt *s = NULL;
  int64_t appid = 0, version = 0, objects = 0;
  src = sqlite3_prepare_v2(st->db,
                           "SELECT (SELECT application_id FROM pragma_application_id),"
                           " (SELECT user_version FROM pragma_user_version),"
                           " (SELECT count(*) FROM sqlite_master)",
                           -1, &s, NULL);
  if(src == SQLITE_OK) src = sqlite3_step(s);
  if(src == SQLITE_ROW) {
    appid = sqlite3_column_int64(s, 0);
    version = sqlite3_column_int64(s, 1);
    objects = sqlite3_column_int64(s, 2);
    src = SQLITE_OK;
  }
  sqlite3_finalize(s);
  if(src != SQLITE_OK) {
    int code = src & 0xff;
    if(code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
      snprintf(err, errlen, "%s is not a StoreQR database (not an SQLite file, or damaged)", path);
      return SQR_ECORRUPT;
    }
    snprintf(err, errlen, "cannot read %s: %s", path, sqlite3_errmsg(st->db));
    return code == SQLITE_FULL ? SQR_ENOSPC : SQR_EIO;
  }
  if(appid != STORE_APPLICATION_ID && (appid != 0 || objects != 0)) {
    snprintf(err, errlen, "%s is an SQLite database but not a StoreQR one (application_id %lld)",
             path, (long long)appid);
    return SQR_ECORRUPT;
  }
  if(version > STORE_SCHEMA_VERSION) {
    snprintf(
        err, errlen,
        "%s was written by a newer StoreQR (schema %lld, this build knows %d): upgrade StoreQR",
        path, (long long)version, STORE_SCHEMA_VERSION);
    return SQR_EVERSION;
  }
  /* WAL lets the sync client read while the kiosk writes; FULL makes a
   * returned commit survive a power cut. */
  char *msg = NULL;
  /* A new file gets incremental auto-vacuum, so pruned events' pages can
   * go back to the file system (reclaim_space); SQLite can set it only
   * before the first table. */
  if(objects == 0) {
    src = sqlite3_exec(st->db, "PRAGMA auto_vacuum=INCREMENTAL", NULL, NULL, &msg);
    if(src != SQLITE_OK) {
      snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : sqlite3_errstr(src));
      sqlite3_free(msg);
      return (src & 0xff) == SQLITE_FULL ? SQR_ENOSPC : SQR_EIO;
    }
  }
  /* secure_delete: an erased member's sealed number, or an old blind
   * index, is overwritten on the page rather than left in free space
   * (Debian builds SQLite with it on; this does not depend on that). */
  src = sqlite3_exec(st->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;",
                     NULL, NULL, &msg);
  if(src != SQLITE_OK) {
    snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : sqlite3_errstr(src));
    sqlite3_free(msg);
    return (src & 0xff) == SQLITE_FULL ? SQR_ENOSPC : SQR_EIO;
  }
  *version_out = (int)version;
  return SQR_OK;
}

/* The HQ clock offset the last successful sync measured (0: none yet). */
static sqr_rc last_offset(store *st, int64_t *offset) {
  return query_int(st, "read the last HQ clock offset",
                   "SELECT hq_offset_ms FROM sync_attempts WHERE ok=1 ORDER BY id DESC LIMIT 1", 0,
                   offset);
}

sqr_rc store_open(const char *path, sqr_clock *clock, store **out, char *err, size_t errlen) {
  store *st = calloc(1, sizeof *st);
  int version = 0;
  sqr_rc rc;
  if(!st) return SQR_ENOMEM;
  st->clock = clock;
  rc = open_db(path, st, err, errlen, &version);
  if(rc) goto fail;
  rc = migrate(st, version, STORE_SCHEMA_VERSION);
  if(rc) {
    snprintf(err, errlen, "cannot migrate %s: %s", path, st->errmsg);
    goto fail;
  }
  rc = load_config(st);
  if(rc) {
    snprintf(err, errlen, "%s", st->errmsg);
    goto fail;
  }
  /* Tokens are minted in HQ's time: start from the offset the last
   * successful sync measured, until the next sync refreshes it. */
  int64_t offset = 0;
  rc = last_offset(st, &offset);
  if(rc) {
    snprintf(err, errlen, "%s", st->errmsg);
    goto fail;
  }
  clock_set_offset_ms(clock, offset);
  *out = st;
  return SQR_OK;
fail:
  log_error(COMPONENT, "%s", err);
  store_close(st);
  return rc;
}

sqr_rc store_create_at_version(const char *path, int version) {
  store st = {0};
  char err[256];
  int have = 0;
  sqr_rc rc = open_db(path, &st, err, sizeof err, &have);
  if(!rc) rc = migrate(&st, have, version);
  sqlite3_close(st.db);
  return rc;
}

void store_close(store *st) {
  if(!st) return;
  for(int i = 0; i < SQL__COUNT; i++)
    sqlite3_finalize(st->stmts[i]);
  for(int i = 0; i < st->seal_pool_n; i++)
    seal_prepared_wipe(&st->seal_pool[i]);
  if(st->db) sqlite3_close_v2(st->db);
  config_free(st->cfg);
  free(st);
}

const char *store_errmsg(const store *st) {
  return st->errmsg;
}

sqr_clock *store_clock(store *st) {
  return st->clock;
}

sqr_rc store_schema_version(store *st, int *version) {
  int64_t v = 0;
  sqr_rc rc = query_int(st, "read schema version", "PRAGMA user_version", 0, &v);
  if(!rc) *version = (int)v;
  return rc;
}

const sqr_config *store_config(store *st) {
  return st->cfg;
}

sqr_rc store_reload_config(store *st) {
  return load_config(st);
}

sqr_rc store_last_seq_get(store *st, int64_t *seq) {
  return query_int(st, "read the last event's seq", "SELECT max(seq) FROM events", 0, seq);
}

sqr_rc store_acked_seq_get(store *st, int64_t *seq) {
  return store__meta_int(st, "acked_seq", 0, seq);
}

int64_t store_last_seq(store *st) {
  int64_t seq = -1;
  return store_last_seq_get(st, &seq) ? -1 : seq;
}

int64_t store_acked_seq(store *st) {
  int64_t seq = -1;
  return store_acked_seq_get(st, &seq) ? -1 : seq;
}

sqr_rc store_set_acked_seq(store *st, int64_t seq) {
  int64_t last = 0, acked = 0;
  sqr_rc rc = store__begin(st);
  if(rc) return rc;
  rc = store_last_seq_get(st, &last);
  if(rc) goto out;
  if(seq > last) {
    snprintf(st->errmsg, sizeof st->errmsg, "HQ acknowledged seq %lld beyond the last event %lld",
             (long long)seq, (long long)last);
    rc = SQR_EPROTO;
    goto out;
  }
  rc = store__meta_int(st, "acked_seq", 0, &acked);
  if(rc) goto out;
  if(seq > acked) {
    rc = store__meta_set_int(st, "acked_seq", seq);
    if(rc) goto out;
  }
  rc = store__commit(st);
out:
  if(rc) store__rollback(st);
  return rc;
}

sqr_rc store_events_after(store *st, int64_t after, int limit, store_event_fn fn, void *ud) {
  sqlite3_stmt *s = NULL;
  int src = sqlite3_prepare_v2(st->db,
                               "SELECT seq, type, ts_ms, payload, body_hash, hash, redacted"
                               " FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                               -1, &s, NULL);
  if(src != SQLITE_OK) return store__fail(st, src, "read events");
  sqlite3_bind_int64(s, 1, after);
  sqlite3_bind_int(s, 2, limit);
  sqr_rc rc = SQR_OK;
  while((src = sqlite3_step(s)) == SQLITE_ROW) {
    store_event ev = {0};
    ev.seq = sqlite3_column_int64(s, 0);
    snprintf(ev.type, sizeof ev.type, "%s", (const char *)sqlite3_column_text(s, 1));
    ev.ts_ms = sqlite3_column_int64(s, 2);
    ev.payload = (const char *)sqlite3_column_text(s, 3);
    if(sqlite3_column_bytes(s, 4) != 32 || sqlite3_column_bytes(s, 5) != 32) {
      snprintf(st->errmsg, sizeof st->errmsg, "event %lld has a damaged hash", (long long)ev.seq);
      rc = SQR_ECORRUPT;
      break;
    }
    memcpy(ev.body_hash, sqlite3_column_blob(s, 4), 32);
    memcpy(ev.hash, sqlite3_column_blob(s, 5), 32);
    ev.redacted = sqlite3_column_int(s, 6);
    if(fn(&ev, ud)) break;
  }
  if(!rc && src != SQLITE_ROW && src != SQLITE_DONE) rc = store__fail(st, src, "read events");
  sqlite3_finalize(s);
  return rc;
}

/* The anchor (store.h) lives in meta: the seq as an integer, the hash as
 * 64 lower-case hex digits (readable with the sqlite3 shell). */
#define ANCHOR_SEQ  "prune_anchor_seq"
#define ANCHOR_HASH "prune_anchor_hash"

static sqr_rc meta_text(store *st, const char *key, char *out, size_t n, int *found);

sqr_rc store_anchor_get(store *st, store_anchor *out) {
  char hex[80];
  int found = 0;
  int64_t seq = -1;
  memset(out, 0, sizeof *out);
  sqr_rc rc = store__meta_int(st, ANCHOR_SEQ, -1, &seq);
  if(!rc) rc = meta_text(st, ANCHOR_HASH, hex, sizeof hex, &found);
  if(rc) return rc;
  if(seq == -1 && !found) return SQR_OK; /* nothing pruned yet */
  if(seq < 1 || !found || strlen(hex) != 64 || crypto_unhex(hex, out->hash, 32)) {
    memset(out, 0, sizeof *out);
    snprintf(st->errmsg, sizeof st->errmsg,
             "the prune anchor in meta is damaged (%s and %s must be a seq and 64 hex digits)",
             ANCHOR_SEQ, ANCHOR_HASH);
    log_error(COMPONENT, "%s", st->errmsg);
    return SQR_ECORRUPT;
  }
  out->seq = seq;
  return SQR_OK;
}

typedef struct verify_state {
  int64_t expect_seq;
  uint8_t prev[32];
  int64_t bad_seq;
  char why[160];
} verify_state;

static int verify_one(const store_event *ev, void *ud) {
  verify_state *v = ud;
  uint8_t body[32], h[32];
  if(ev->seq != v->expect_seq) {
    v->bad_seq = ev->seq > v->expect_seq ? v->expect_seq : ev->seq;
    if(ev->seq > v->expect_seq)
      snprintf(v->why, sizeof v->why, "event %lld is missing (next present is %lld)",
               (long long)v->expect_seq, (long long)ev->seq);
    else /* only the first can be: the anchor claims more was pruned */
      snprintf(v->why, sizeof v->why,
               "event %lld is kept but the prune anchor says events up to %lld were pruned",
               (long long)ev->seq, (long long)v->expect_seq - 1);
    return 1;
  }
  if(!ev->redacted) {
    if(crypto_sha256(ev->payload, strlen(ev->payload), body) != SQR_OK ||
       !crypto_ct_equal(body, ev->body_hash, 32)) {
      v->bad_seq = ev->seq;
      snprintf(v->why, sizeof v->why, "event %lld: payload does not match its hash",
               (long long)ev->seq);
      return 1;
    }
  }
  if(chain_hash(v->prev, ev->seq, ev->type, ev->ts_ms, ev->body_hash, h) != SQR_OK ||
     !crypto_ct_equal(h, ev->hash, 32)) {
    v->bad_seq = ev->seq;
    snprintf(v->why, sizeof v->why,
             "event %lld: chain hash does not match (altered, reordered, an event before it"
             " deleted, or the prune anchor changed)",
             (long long)ev->seq);
    return 1;
  }
  memcpy(v->prev, ev->hash, 32);
  v->expect_seq++;
  return 0;
}

sqr_rc store_verify_log_from(store *st, store_anchor *from, int64_t *checked, int64_t *bad_seq,
                             char *why, size_t whylen) {
  verify_state v = {0};
  store_anchor a;
  if(checked) *checked = 0;
  /* One read snapshot: the sync daemon may prune between reading the
   * anchor and walking the events otherwise. */
  int own = sqlite3_get_autocommit(st->db);
  sqr_rc rc = own ? exec(st, "BEGIN", "begin read") : SQR_OK;
  if(rc) return rc;
  rc = store_anchor_get(st, &a);
  if(rc) goto out;
  if(from) *from = a;
  v.expect_seq = a.seq + 1;
  memcpy(v.prev, a.hash, 32);
  /* From the first kept event, whatever the anchor says: one kept below
   * it is a break too. */
  rc = store_events_after(st, 0, -1, verify_one, &v);
  if(checked) *checked = v.expect_seq - 1 - a.seq;
  if(rc) goto out;
  if(!v.bad_seq && a.seq && v.expect_seq == a.seq + 1) {
    /* Pruning never takes the newest event. */
    v.bad_seq = a.seq + 1;
    snprintf(v.why, sizeof v.why, "event %lld is missing (no event after the prune anchor)",
             (long long)v.bad_seq);
  }
out:
  if(own) store__rollback(st);
  if(rc) return rc;
  if(v.bad_seq) {
    if(bad_seq) *bad_seq = v.bad_seq;
    if(why) snprintf(why, whylen, "%s", v.why);
    return SQR_ECORRUPT;
  }
  return SQR_OK;
}

sqr_rc store_verify_log(store *st, int64_t *checked, int64_t *bad_seq, char *why, size_t whylen) {
  return store_verify_log_from(st, NULL, checked, bad_seq, why, whylen);
}

/* Best effort after deleting personal or old rows: moves the WAL's pages
 * into the database and empties it, so their old images do not wait there
 * for the next automatic checkpoint, and the file shrinks to what an
 * incremental vacuum left. Busy readers (the other process) just leave it
 * for later: any later checkpoint that copies the whole WAL truncates the
 * file too. */
static void checkpoint_truncate(store *st) {
  int src = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  if(src != SQLITE_OK)
    log_info(COMPONENT, "checkpoint after deleting rows deferred: %s", sqlite3_errstr(src));
}

/* One transaction of store_prune_events: at most STORE_PRUNE_BATCH events
 * after the anchor. *n = how many went. */
static sqr_rc prune_batch(store *st, int64_t cutoff_ms, int64_t *n) {
  char sql[160];
  int64_t acked = 0, last = 0, first = 0, young = 0;
  store_anchor a;
  sqlite3_stmt *s = NULL;
  *n = 0;
  sqr_rc rc = store__begin(st);
  if(rc) return rc;
  rc = store__meta_int(st, "acked_seq", 0, &acked);
  if(!rc) rc = store_last_seq_get(st, &last);
  if(!rc) rc = store_anchor_get(st, &a);
  if(!rc)
    rc = query_int(st, "read the first event's seq", "SELECT min(seq) FROM events", 0, &first);
  if(rc || last == 0) goto out;
  if(first != a.seq + 1) {
    /* Deleting on top of a hole would hide it from verify-log. */
    snprintf(st->errmsg, sizeof st->errmsg,
             "the event log starts at seq %lld, not right after the prune anchor %lld:"
             " nothing pruned (run storeqr verify-log)",
             (long long)first, (long long)a.seq);
    log_error(COMPONENT, "%s", st->errmsg);
    rc = SQR_ECORRUPT;
    goto out;
  }
  /* Never what HQ has not acknowledged, never the newest event. */
  int64_t upto = acked < last - 1 ? acked : last - 1;
  if(upto > a.seq + STORE_PRUNE_BATCH) upto = a.seq + STORE_PRUNE_BATCH;
  if(upto <= a.seq) goto out;
  /* A prefix only: the first event young enough to keep stops it, even if
   * older ones follow (ts_ms is not monotonic across clock jumps). */
  snprintf(sql, sizeof sql,
           "SELECT seq FROM events WHERE seq>%lld AND seq<=%lld AND ts_ms>=%lld"
           " ORDER BY seq LIMIT 1",
           (long long)a.seq, (long long)upto, (long long)cutoff_ms);
  rc = query_int(st, "find the oldest event to keep", sql, 0, &young);
  if(rc) goto out;
  if(young) upto = young - 1;
  if(upto <= a.seq) goto out;

  store_anchor to = {.seq = upto};
  int src = sqlite3_prepare_v2(st->db, "SELECT hash FROM events WHERE seq=?", -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, upto);
    src = sqlite3_step(s);
  }
  if(src == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
    memcpy(to.hash, sqlite3_column_blob(s, 0), 32);
  } else if(src == SQLITE_ROW || src == SQLITE_DONE) {
    snprintf(st->errmsg, sizeof st->errmsg, "event %lld has a damaged hash", (long long)upto);
    rc = SQR_ECORRUPT;
  } else {
    rc = store__fail(st, src, "read the new prune anchor");
  }
  sqlite3_finalize(s);
  if(rc) goto out;
  snprintf(sql, sizeof sql, "DELETE FROM events WHERE seq<=%lld", (long long)upto);
  rc = exec(st, sql, "prune events");
  if(rc) goto out;
  if(sqlite3_changes64(st->db) != upto - a.seq) {
    snprintf(st->errmsg, sizeof st->errmsg,
             "events %lld..%lld have a hole: nothing pruned (run storeqr verify-log)",
             (long long)a.seq + 1, (long long)upto);
    log_error(COMPONENT, "%s", st->errmsg);
    rc = SQR_ECORRUPT;
    goto out;
  }
  char hex[65];
  crypto_hex(to.hash, 32, hex);
  rc = store__meta_set_int(st, ANCHOR_SEQ, to.seq);
  if(!rc) rc = meta_set(st, ANCHOR_HASH, 0, hex);
  if(!rc) rc = store__commit(st);
  if(!rc) *n = upto - a.seq;
out:
  if(rc || !*n) store__rollback(st);
  return rc;
}

/* Gives pages freed by pruning back to the file system.
 *
 * Why incremental vacuum and not VACUUM: VACUUM rewrites the whole file
 * under the write lock (sign-ups in the app would wait longer than their
 * 5 s busy timeout on a large file), needs free space for a second copy,
 * and in WAL mode passes the whole database through the WAL once more. An
 * incremental vacuum moves only pages from the end of the file into the
 * free ones, in short write transactions like any other; readers (the
 * sync daemon, the app) keep their WAL snapshots, and the file is cut at
 * the next checkpoint that copies the whole WAL. It needs
 * auto_vacuum=INCREMENTAL, which SQLite can only set on an empty file
 * (open_db does, for new databases) or with one VACUUM: a database made
 * before keeps auto_vacuum off, and there the freed pages are simply
 * reused by new events, so the file stops growing instead of shrinking. */
#define VACUUM_STEP_PAGES 1024
static void reclaim_space(store *st) {
  int64_t mode = 0, free_pages = 0, before = -1;
  if(query_int(st, "read auto_vacuum", "PRAGMA auto_vacuum", 0, &mode) || mode != 2) {
    log_info(COMPONENT, "auto_vacuum is off in this database: freed pages will be reused");
    return;
  }
  for(;;) {
    if(query_int(st, "count free pages", "PRAGMA freelist_count", 0, &free_pages)) return;
    if(free_pages == 0 || free_pages == before) break; /* done, or no progress */
    before = free_pages;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%d)", VACUUM_STEP_PAGES);
    if(exec(st, sql, "incremental vacuum")) return; /* logged; the next prune goes on */
  }
  checkpoint_truncate(st);
}

sqr_rc store_prune_events(store *st, int64_t now_ms, int64_t *pruned) {
  int64_t total = 0, n = 0;
  sqr_rc rc = SQR_OK;
  if(pruned) *pruned = 0;
  /* The configuration this store has loaded (the sync pass has just
   * applied HQ's); not reloaded here, which would free what callers of
   * store_config hold. */
  if(!st->cfg) return SQR_OK;
  int days = st->cfg->retention_event_days;
  /* >= 7 days (config.c): the manager's 7-day figures (store_status_get)
   * count only events younger than that. */
  int64_t cutoff = now_ms - (int64_t)days * 86400000;
  do {
    rc = prune_batch(st, cutoff, &n);
    total += n;
  } while(!rc && n == STORE_PRUNE_BATCH);
  if(total) {
    log_info(COMPONENT, "pruned %lld event(s) acknowledged by HQ and older than %d days",
             (long long)total, days);
    reclaim_space(st);
  }
  if(pruned) *pruned = total;
  return rc;
}

/* The old index's deadline passes while no new configuration comes: the
 * periodic refresh enforces it, once per configuration. */
static sqr_rc enforce_old_index_deadline(store *st) {
  if(!member__old_index_closed(st) || st->old_index_checked == st->cfg->version) return SQR_OK;
  int64_t dropped = 0;
  sqr_rc rc = store__begin(st);
  if(rc) return rc;
  rc = member__drop_old_index(st, &dropped);
  if(!rc) rc = store__commit(st);
  if(rc) {
    store__rollback(st);
    return rc;
  }
  st->old_index_checked = st->cfg->version;
  if(dropped) checkpoint_truncate(st);
  return SQR_OK;
}

sqr_rc store_clock_refresh(store *st, int *offset_changed, int *jumped) {
  int64_t offset = 0;
  int dummy;
  if(offset_changed) *offset_changed = 0;
  sqr_rc rc = last_offset(st, &offset);
  if(rc) return rc;
  if(offset != clock_offset_ms(st->clock)) {
    log_info(COMPONENT, "HQ clock offset now %lld ms (was %lld)", (long long)offset,
             (long long)clock_offset_ms(st->clock));
    clock_set_offset_ms(st->clock, offset);
    if(offset_changed) *offset_changed = 1;
  }
  rc = enforce_old_index_deadline(st);
  if(rc) return rc;
  return store_check_clock(st, jumped ? jumped : &dummy);
}

/* The jump-detection reference (clock.h) lives in meta, not in the
 * process: the app checks every 5 s and the sync daemon at every pass,
 * and whichever looks first after a jump records it and moves the shared
 * reference past it, so the other sees nothing. */
#define REF_BOOT "clock_ref_boot"
#define REF_WALL "clock_ref_wall_ms"
#define REF_MONO "clock_ref_mono_ms"
/* Wall-clock jumps recorded since the last successful sync, which the next
 * HQ offset will reflect (store_sync_record). */
#define JUMPS_UNSYNCED "clock_jumps_unsynced_ms"

static sqr_rc meta_text(store *st, const char *key, char *out, size_t n, int *found) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_META_GET, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  int src = sqlite3_step(s);
  *found = 0;
  out[0] = '\0';
  if(src == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT) {
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(s, 0));
    *found = 1;
  } else if(src != SQLITE_ROW && src != SQLITE_DONE) {
    rc = store__fail(st, src, "read meta");
  }
  sqlite3_reset(s);
  return rc;
}

/* The stored reference; *have is 0 when there is none (a new database, or
 * one from before the reference was kept). */
static sqr_rc ref_get(store *st, clock_ref *ref, int *have) {
  int found = 0;
  sqr_rc rc = meta_text(st, REF_BOOT, ref->boot, sizeof ref->boot, &found);
  if(!rc) rc = store__meta_int(st, REF_WALL, INT64_MIN, &ref->wall_ms);
  if(!rc) rc = store__meta_int(st, REF_MONO, INT64_MIN, &ref->mono_ms);
  *have = !rc && found && ref->wall_ms != INT64_MIN && ref->mono_ms != INT64_MIN;
  return rc;
}

static sqr_rc ref_set(store *st, const clock_ref *ref) {
  sqr_rc rc = meta_set(st, REF_BOOT, 0, ref->boot);
  if(!rc) rc = store__meta_set_int(st, REF_WALL, ref->wall_ms);
  if(!rc) rc = store__meta_set_int(st, REF_MONO, ref->mono_ms);
  return rc;
}

sqr_rc store_check_clock(store *st, int *jumped) {
  clock_ref ref, now;
  int have = 0;
  int64_t drift = 0;
  *jumped = 0;
  /* Most calls read three meta rows and write nothing. */
  sqr_rc rc = ref_get(st, &ref, &have);
  if(rc) return rc;
  clock_read_ref(st->clock, &now);
  if(have && clock_ref_compare(&ref, &now, &drift) && llabs(drift) <= STORE_CLOCK_JUMP_MS &&
     now.mono_ms - ref.mono_ms < STORE_CLOCK_REF_REFRESH_MS)
    return SQR_OK;
  /* A jump, another boot, no reference, or one due for renewal (so slow
   * NTP corrections never add up to a jump). Decide again under the write
   * lock: the other process may have recorded this jump meanwhile. */
  rc = store__begin(st);
  if(rc) return rc;
  rc = ref_get(st, &ref, &have);
  if(rc) goto out;
  clock_read_ref(st->clock, &now);
  if(have && clock_ref_compare(&ref, &now, &drift) && llabs(drift) > STORE_CLOCK_JUMP_MS) {
    int64_t unsynced = 0;
    log_warn(COMPONENT, "wall clock jumped by %lld ms", (long long)drift);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "jump_ms", (double)drift);
    cJSON_AddStringToObject(p, "source", "wall");
    rc = store__append(st, "clock_jump", p, NULL);
    if(!rc) rc = store__meta_int(st, JUMPS_UNSYNCED, 0, &unsynced);
    if(!rc) rc = store__meta_set_int(st, JUMPS_UNSYNCED, unsynced + drift);
    if(rc) goto out;
    *jumped = 1;
  }
  rc = ref_set(st, &now);
  if(!rc) rc = store__commit(st);
out:
  if(rc) {
    store__rollback(st);
    *jumped = 0;
  }
  return rc;
}

sqr_rc store_group_fill(store *st, group_fill *fill, size_t n) {
  const sqr_config *cfg = st->cfg;
  if(!cfg) return SQR_ENOTFOUND;
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_GROUP_FILL, &s);
  if(rc) return rc;
  for(size_t i = 0; i < cfg->ngroups && i < n && !rc; i++) {
    fill[i].joined = 0;
    fill[i].marked_full = 0;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, cfg->groups[i].id, -1, SQLITE_STATIC);
    /* A group never joined has no row yet; a failed read is not "empty":
     * it would send shoppers to a group that is full. */
    int src = sqlite3_step(s);
    if(src == SQLITE_ROW) {
      fill[i].joined = sqlite3_column_int(s, 0);
      fill[i].marked_full = sqlite3_column_int(s, 1);
    } else if(src != SQLITE_DONE) {
      rc = store__fail(st, src, "read group fill");
    }
  }
  sqlite3_reset(s);
  return rc;
}

static sqr_rc live_choice(store *st, store_live *out) {
  group_fill fill[CONFIG_MAX_GROUPS];
  const sqr_config *cfg = st->cfg;
  sqr_rc rc = store_group_fill(st, fill, CONFIG_MAX_GROUPS);
  if(rc) return rc;
  memset(out, 0, sizeof *out);
  out->group = group_choose(cfg, fill, clock_now(st->clock));
  if(out->group >= 0) {
    out->g = &cfg->groups[out->group];
    out->joined = fill[out->group].joined;
    out->link = out->g->link;
  } else {
    out->exhausted = 1;
    out->link = cfg->fallback_link;
  }
  return SQR_OK;
}

/* The live group recorded last into was ("" for none); *have is 0 if none
 * was ever recorded. */
static sqr_rc live_recorded(store *st, char was[CONFIG_ID_MAX + 1], int *have) {
  sqlite3_stmt *s = NULL;
  was[0] = '\0';
  *have = 0;
  sqr_rc rc = store__stmt(st, SQL_META_GET, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, "live_group", -1, SQLITE_STATIC);
  int src = sqlite3_step(s);
  if(src == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(s, 0);
    snprintf(was, CONFIG_ID_MAX + 1, "%s", v ? v : "");
    *have = 1;
  } else if(src != SQLITE_DONE) {
    rc = store__fail(st, src, "read the recorded live group");
  }
  sqlite3_reset(s);
  return rc;
}

/* *changed: whether live differs from the recorded live group (was gets
 * the recorded one). */
static sqr_rc live_changed(store *st, const store_live *live, char was[CONFIG_ID_MAX + 1],
                           int *changed) {
  int have = 0;
  sqr_rc rc = live_recorded(st, was, &have);
  if(rc) return rc;
  *changed = !have || strcmp(was, live->g ? live->g->id : "") != 0;
  return SQR_OK;
}

sqr_rc store__update_live(store *st, store_live *out) {
  store_live live;
  char was[CONFIG_ID_MAX + 1] = "";
  int changed = 0;
  sqr_rc rc = live_choice(st, &live);
  if(!rc) rc = live_changed(st, &live, was, &changed);
  if(rc || !changed) goto out;
  cJSON *p = cJSON_CreateObject();
  if(was[0])
    cJSON_AddStringToObject(p, "from", was);
  else
    cJSON_AddNullToObject(p, "from");
  if(live.g) {
    cJSON_AddStringToObject(p, "to", live.g->id);
    rc = store__append(st, "group_switched", p, NULL);
    log_info(COMPONENT, "live code now leads to group %s", live.g->id);
  } else {
    rc = store__append(st, "groups_exhausted", p, NULL);
    log_warn(COMPONENT, "no group has room: showing the staff contact code");
  }
  if(!rc) rc = meta_set(st, "live_group", 0, live.g ? live.g->id : "");
out:
  if(!rc && out) *out = live;
  return rc;
}

sqr_rc store_live_group(store *st, store_live *out) {
  if(!st->cfg) return SQR_ENOTFOUND;
  /* Fast path without a write lock: the UI asks on every rotation. */
  char was[CONFIG_ID_MAX + 1];
  int changed = 0;
  sqr_rc rc = live_choice(st, out);
  if(!rc) rc = live_changed(st, out, was, &changed);
  if(rc || !changed) return rc;
  store_live chosen = *out;
  rc = store__begin(st);
  if(!rc) {
    rc = store__update_live(st, out);
    if(!rc) rc = store__commit(st);
    if(rc) store__rollback(st);
  }
  if(rc == SQR_ENOSPC) {
    /* Disk full: shoppers must still be led to a group with room. The
     * switch is recorded on a later call, once there is room (the recorded
     * group still differs from the choice until then). */
    log_warn(COMPONENT, "disk full: live code switched but not yet recorded");
    *out = chosen;
    return SQR_OK;
  }
  return rc;
}

sqr_rc store_group_mark_full(store *st, const char *group_id) {
  if(!st->cfg) return SQR_ENOTFOUND;
  if(!config_group_find(st->cfg, group_id)) {
    snprintf(st->errmsg, sizeof st->errmsg, "no group \"%s\" in the configuration", group_id);
    return SQR_ENOTFOUND;
  }
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__begin(st);
  if(rc) return rc;
  int src = sqlite3_prepare_v2(st->db,
                               "INSERT INTO groups(id, marked_full) VALUES(?, 1)"
                               " ON CONFLICT(id) DO UPDATE SET marked_full=1",
                               -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_text(s, 1, group_id, -1, SQLITE_STATIC);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if(src != SQLITE_DONE) {
    rc = store__fail(st, src, "mark group full");
    goto out;
  }
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "group", group_id);
  rc = store__append(st, "group_marked_full", p, NULL);
  if(!rc) rc = store__update_live(st, NULL);
  if(!rc) rc = store__commit(st);
out:
  if(rc) store__rollback(st);
  return rc;
}

sqr_rc store_apply_config(store *st, const char *json, size_t len, char *err, size_t errlen) {
  sqr_config *cfg = NULL;
  sqlite3_stmt *s = NULL;
  sqr_rc rc = config_parse(json, len, &cfg, err, errlen);
  if(rc) return rc;
  if(st->cfg && cfg->version < st->cfg->version) {
    snprintf(err, errlen, "version: %lld is older than the applied %lld", (long long)cfg->version,
             (long long)st->cfg->version);
    config_free(cfg);
    return SQR_EINVAL;
  }
  if(st->cfg && cfg->version == st->cfg->version) {
    config_free(cfg);
    return SQR_OK;
  }
  rc = store__begin(st);
  if(rc) goto fail;
  int src = sqlite3_prepare_v2(
      st->db, "INSERT INTO config(version, json, applied_ms) VALUES(?,?,?)", -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, cfg->version);
    sqlite3_bind_text(s, 2, json, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, clock_now_ms(st->clock));
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  s = NULL;
  if(src != SQLITE_DONE) {
    rc = store__fail(st, src, "store config");
    goto fail;
  }
  /* Keep a short history for diagnosis; older documents are dead weight. */
  rc = exec(st, "DELETE FROM config WHERE version < (SELECT max(version) FROM config) - 20",
            "prune config");
  if(rc) goto fail;
  src = sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO groups(id) VALUES(?)", -1, &s, NULL);
  for(size_t i = 0; src == SQLITE_OK && i < cfg->ngroups; i++) {
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, cfg->groups[i].id, -1, SQLITE_STATIC);
    if(sqlite3_step(s) != SQLITE_DONE) src = sqlite3_errcode(st->db);
  }
  sqlite3_finalize(s);
  if(src != SQLITE_OK) {
    rc = store__fail(st, src, "store groups");
    goto fail;
  }
  cJSON *p = cJSON_CreateObject();
  cJSON_AddNumberToObject(p, "version", (double)cfg->version);
  if(st->cfg) cJSON_AddNumberToObject(p, "previous", (double)st->cfg->version);
  /* HQ retires this kiosk's older key versions once it reads that the
   * kiosk mints with this one (docs/PROTOCOL.md "Rotation"). */
  cJSON_AddNumberToObject(p, "key_version", cfg->key_version);
  rc = store__append(st, "config_applied", p, NULL);
  if(rc) goto fail;

  /* The new document must be in place before erasures and the live group
   * are evaluated against it. */
  sqr_config *old = st->cfg;
  int64_t old_version = st->cfg_version;
  st->cfg = cfg;
  st->cfg_version = cfg->version;
  for(size_t i = 0; i < cfg->nerasures && !rc; i++) {
    int found;
    rc = member__erase(st, cfg->erasures[i], "hq", &found);
  }
  /* Without the old index's key, or past its deadline, rows still on it
   * can never be found again: they go now (docs/PROTOCOL.md "Members"). */
  int64_t dropped = 0;
  int closed = member__old_index_closed(st);
  if(!rc && closed) rc = member__drop_old_index(st, &dropped);
  if(!rc) rc = store__update_live(st, NULL);
  if(!rc) rc = store__commit(st);
  if(rc) {
    st->cfg = old;
    st->cfg_version = old_version;
    goto fail;
  }
  if(closed) st->old_index_checked = cfg->version;
  if(dropped) checkpoint_truncate(st);
  config_free(old);
  log_info(COMPONENT, "configuration version %lld applied", (long long)cfg->version);
  return SQR_OK;
fail:
  store__rollback(st);
  config_free(cfg);
  /* The document parsed, so what failed is the database: say so. */
  if(errlen) snprintf(err, errlen, "%s", st->errmsg);
  return rc;
}

/* A good sync measured HQ's offset: compared with the previous good one,
 * a change that the wall-clock jumps recorded since do not explain means
 * the box's clock moved unseen (set while it was off: no monotonic clock
 * spans a reboot) or HQ's clock moved. Either is recorded as a clock_jump
 * with source "hq_offset": how far the kiosk's time moved against HQ's.
 * Inside store_sync_record's transaction, with the clock already at the
 * new offset (the event's time is HQ's). */
static sqr_rc check_offset(store *st, int64_t offset) {
  int64_t prev = 0, unsynced = 0;
  sqr_rc rc =
      query_int(st, "read the last HQ clock offset",
                "SELECT hq_offset_ms FROM sync_attempts WHERE ok=1 ORDER BY id DESC LIMIT 1",
                INT64_MIN, &prev);
  if(!rc) rc = store__meta_int(st, JUMPS_UNSYNCED, 0, &unsynced);
  if(rc) return rc;
  /* The box jumping +J moves the offset by -J. */
  int64_t unexplained = prev == INT64_MIN ? 0 : (offset - prev) + unsynced;
  if(llabs(unexplained) > STORE_CLOCK_JUMP_MS) {
    log_warn(COMPONENT, "HQ clock offset moved by %lld ms more than the box's clock jumps explain",
             (long long)(offset - prev));
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "jump_ms", (double)-unexplained);
    cJSON_AddStringToObject(p, "source", "hq_offset");
    cJSON_AddNumberToObject(p, "offset_ms", (double)offset);
    cJSON_AddNumberToObject(p, "previous_offset_ms", (double)prev);
    rc = store__append(st, "clock_jump", p, NULL);
  }
  if(!rc && unsynced) rc = store__meta_set_int(st, JUMPS_UNSYNCED, 0);
  return rc;
}

sqr_rc store_sync_record(store *st, int ok, const char *error, int64_t hq_offset_ms) {
  sqlite3_stmt *s = NULL;
  int64_t last = 0, acked = 0, old_offset = clock_offset_ms(st->clock);
  sqr_rc rc = store__begin(st);
  if(rc) return rc;
  if(ok) {
    clock_set_offset_ms(st->clock, hq_offset_ms);
    rc = check_offset(st, hq_offset_ms);
  }
  if(!rc) rc = store_last_seq_get(st, &last);
  if(!rc) rc = store__meta_int(st, "acked_seq", 0, &acked);
  if(rc) {
    store__rollback(st);
    clock_set_offset_ms(st->clock, old_offset);
    return rc;
  }
  int64_t pending = last - acked;
  int src = sqlite3_prepare_v2(st->db,
                               "INSERT INTO sync_attempts(at_ms, ok, error, pending, hq_offset_ms)"
                               " VALUES(?,?,?,?,?)",
                               -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, clock_now_ms(st->clock));
    sqlite3_bind_int(s, 2, ok);
    if(error) sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, pending);
    sqlite3_bind_int64(s, 5, hq_offset_ms);
    src = sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if(src == SQLITE_DONE)
    src = sqlite3_exec(
        st->db, "DELETE FROM sync_attempts WHERE id < (SELECT max(id) FROM sync_attempts) - 1000",
        NULL, NULL, NULL);
  if(src != SQLITE_DONE && src != SQLITE_OK) {
    rc = store__fail(st, src, "record sync attempt");
    store__rollback(st);
    clock_set_offset_ms(st->clock, old_offset);
    return rc;
  }
  rc = store__commit(st);
  if(rc) {
    store__rollback(st);
    clock_set_offset_ms(st->clock, old_offset);
  }
  return rc;
}

static int64_t day_start_ms(int64_t day, int off_min) {
  return day * 86400000 - (int64_t)off_min * 60000;
}

static sqr_rc count_events(store *st, const char *type, int64_t from, int64_t to, int *n) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc = store__stmt(st, SQL_COUNT_EVENTS, &s);
  if(rc) return rc;
  sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, from);
  sqlite3_bind_int64(s, 3, to);
  int src = sqlite3_step(s);
  if(src == SQLITE_ROW)
    *n = sqlite3_column_int(s, 0);
  else
    rc = store__fail(st, src, "count events");
  sqlite3_reset(s);
  return rc;
}

/* Today's sign-ups by staff id, busiest first. */
static sqr_rc staff_today(store *st, int64_t from, int64_t to, store_status *out) {
  sqlite3_stmt *s = NULL;
  int src = sqlite3_prepare_v2(
      st->db,
      "SELECT coalesce(json_extract(payload, '$.staff'), ''), count(*) FROM events"
      " WHERE type='signup' AND ts_ms>=? AND ts_ms<? GROUP BY 1 ORDER BY 2 DESC",
      -1, &s, NULL);
  if(src == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    while(out->nstaff < SQR_ARRAY_LEN(out->staff_today) && (src = sqlite3_step(s)) == SQLITE_ROW) {
      store_staff_count *c = &out->staff_today[out->nstaff++];
      snprintf(c->staff, sizeof c->staff, "%s", (const char *)sqlite3_column_text(s, 0));
      c->signups = sqlite3_column_int(s, 1);
    }
    /* A full list stops early on a row: that is not an error. */
    if(src == SQLITE_ROW || src == SQLITE_DONE) src = SQLITE_OK;
  }
  sqr_rc rc = src == SQLITE_OK ? SQR_OK : store__fail(st, src, "count sign-ups by staff");
  sqlite3_finalize(s);
  return rc;
}

/* The newest sync attempt; all zero when there was none. */
static sqr_rc last_attempt(store *st, store_status *out) {
  sqlite3_stmt *s = NULL;
  int src = sqlite3_prepare_v2(st->db,
                               "SELECT at_ms, ok, error, hq_offset_ms FROM sync_attempts"
                               " ORDER BY id DESC LIMIT 1",
                               -1, &s, NULL);
  if(src == SQLITE_OK) src = sqlite3_step(s);
  if(src == SQLITE_ROW) {
    out->last_sync_attempt_ms = sqlite3_column_int64(s, 0);
    if(!sqlite3_column_int(s, 1) && sqlite3_column_text(s, 2))
      snprintf(out->last_sync_error, sizeof out->last_sync_error, "%s",
               (const char *)sqlite3_column_text(s, 2));
    out->hq_offset_ms = sqlite3_column_int64(s, 3);
    src = SQLITE_OK;
  } else if(src == SQLITE_DONE) {
    src = SQLITE_OK;
  }
  sqr_rc rc = src == SQLITE_OK ? SQR_OK : store__fail(st, src, "read the last sync attempt");
  sqlite3_finalize(s);
  return rc;
}

/* How many clock jumps were recorded, and the newest (never redacted). */
static sqr_rc last_clock_jump(store *st, store_status *out) {
  sqlite3_stmt *s = NULL;
  sqr_rc rc =
      query_int(st, "count clock jumps", "SELECT count(*) FROM events WHERE type='clock_jump'", 0,
                &out->clock_jumps);
  if(rc || !out->clock_jumps) return rc;
  int src = sqlite3_prepare_v2(st->db,
                               "SELECT ts_ms, coalesce(json_extract(payload, '$.jump_ms'), 0),"
                               " coalesce(json_extract(payload, '$.source'), 'wall') FROM events"
                               " WHERE type='clock_jump' ORDER BY seq DESC LIMIT 1",
                               -1, &s, NULL);
  if(src == SQLITE_OK) src = sqlite3_step(s);
  if(src == SQLITE_ROW) {
    out->last_clock_jump_ms = sqlite3_column_int64(s, 0);
    out->last_clock_jump_by_ms = sqlite3_column_int64(s, 1);
    snprintf(out->last_clock_jump_source, sizeof out->last_clock_jump_source, "%s",
             (const char *)sqlite3_column_text(s, 2));
    src = SQLITE_OK;
  } else if(src == SQLITE_DONE) {
    src = SQLITE_OK;
  }
  rc = src == SQLITE_OK ? SQR_OK : store__fail(st, src, "read the last clock jump");
  sqlite3_finalize(s);
  return rc;
}

sqr_rc store_status_get(store *st, store_status *out) {
  memset(out, 0, sizeof *out);
  int off = st->cfg ? st->cfg->utc_offset_min : 480;
  int64_t today = clock_local_day(clock_now_ms(st->clock), off);
  /* One read transaction so the figures agree with each other. */
  sqr_rc rc = exec(st, "BEGIN", "begin read");
  if(rc) return rc;
  rc = query_int(st, "count members", "SELECT count(*) FROM members", 0, &out->members);
  if(rc) goto out;
  for(int i = 0; i < STORE_DAYS; i++) {
    int64_t day = today - (STORE_DAYS - 1) + i;
    int64_t a = day_start_ms(day, off), b = day_start_ms(day + 1, off);
    rc = count_events(st, "signup", a, b, &out->signups_by_day[i]);
    if(rc) goto out;
    rc = count_events(st, "checkin", a, b, &out->checkins_by_day[i]);
    if(rc) goto out;
  }
  out->signups_today = out->signups_by_day[STORE_DAYS - 1];
  out->checkins_today = out->checkins_by_day[STORE_DAYS - 1];
  rc = staff_today(st, day_start_ms(today, off), day_start_ms(today + 1, off), out);
  if(rc) goto out;
  rc = store_last_seq_get(st, &out->last_seq);
  if(rc) goto out;
  rc = store__meta_int(st, "acked_seq", 0, &out->acked_seq);
  if(rc) goto out;
  out->pending_events = out->last_seq - out->acked_seq;
  rc = query_int(st, "read the last successful sync",
                 "SELECT max(at_ms) FROM sync_attempts WHERE ok=1", 0, &out->last_sync_ok_ms);
  if(rc) goto out;
  rc = last_attempt(st, out);
  if(rc) goto out;
  rc = last_clock_jump(st, out);
  if(rc) goto out;
  out->config_version = st->cfg ? st->cfg->version : 0;
  rc = store__commit(st);
out:
  if(rc) {
    store__rollback(st);
    /* No half-filled figures: a caller that ignores rc shows zeros. */
    memset(out, 0, sizeof *out);
  }
  return rc;
}

sqr_rc store_set_max_pages(store *st, int pages) {
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA max_page_count=%d", pages);
  return exec(st, sql, "set page limit");
}
