/* hqdb.h — HQ's storage: stores, groups, enrolment codes, kiosks, the
 * events they uploaded, members (de-duplicated across stores), erasure
 * requests, alerts and counts.
 *
 * One interface, two backends chosen at open: SQLite (a file; the
 * default) and PostgreSQL (a postgresql:// URL, shareable by several HQ
 * processes). Every statement is written once in hqdb.c; the backends
 * only run statements and transactions (hqdb_int.h). Writers that must not
 * interleave (two uploads for one kiosk, one code enrolling twice) are
 * serialised by the database itself: a row lock on the kiosk (PostgreSQL)
 * or the write transaction (SQLite), and conditional UPDATEs / ON CONFLICT.
 *
 * A handle is used by one thread at a time. Never stores a plaintext phone
 * number: members carry the phone encrypted by the caller (ingest.c).
 */
#ifndef SQR_HQDB_H
#define SQR_HQDB_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

typedef struct hqdb hqdb;

#define HQ_ID_MAX   33 /* identifiers, NUL included */
#define HQ_TEXT_MAX 256

/* target: a postgresql:// (or postgres://) URL, else a SQLite file path.
 * Creates the schema when missing. err gets a sentence on failure. */
sqr_rc hqdb_open(const char *target, hqdb **out, char *err, size_t errlen) SQR_WARN_UNUSED;
void hqdb_close(hqdb *db);
const char *hqdb_errmsg(const hqdb *db);
const char *hqdb_backend(const hqdb *db);

/* A trivial query answered within timeout_ms (readiness probes): SQR_OK,
 * SQR_ENET when the database cannot be reached or did not answer in time
 * (PostgreSQL: the connection is dropped and made again on the next use),
 * SQR_EBUSY when it stayed locked. */
sqr_rc hqdb_ping(hqdb *db, int timeout_ms) SQR_WARN_UNUSED;

/* Transactions for the ingest path (ingest.c). */
sqr_rc hqdb_begin(hqdb *db) SQR_WARN_UNUSED;
/* A transaction like hqdb_begin's whose commit other connections see at
 * once (it decides like any other) but which is not flushed to disk
 * before it returns: a process crash keeps it (the OS holds it), a power
 * loss may lose it unless a later durable commit came first (SQLite WAL
 * with synchronous=NORMAL for it; PostgreSQL synchronous_commit = off).
 * For the resolver's seat leases only: one per cold store would
 * otherwise wait for the disk (docs/ARCHITECTURE.md, scan resolver). */
sqr_rc hqdb_begin_lazy(hqdb *db) SQR_WARN_UNUSED;
sqr_rc hqdb_commit(hqdb *db) SQR_WARN_UNUSED;
void hqdb_rollback(hqdb *db);

/* ---- stores and groups --------------------------------------------------- */

typedef struct hq_store {
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  char city[64];
  double lat, lon;
  int key_version;
  int64_t config_version;
} hq_store;

/* SQR_EEXISTS if the id is taken. */
sqr_rc hqdb_store_add(hqdb *db, const hq_store *s, int64_t now_ms) SQR_WARN_UNUSED;
sqr_rc hqdb_store_get(hqdb *db, const char *id, hq_store *out) SQR_WARN_UNUSED;

typedef struct hq_group {
  char store[HQ_ID_MAX];
  char id[HQ_ID_MAX];
  char kind[16]; /* store, welfare, interest */
  char name[HQ_TEXT_MAX];
  char tag[HQ_ID_MAX];
  char link[512];
  int capacity;
  int64_t expires_at; /* unix seconds, 0 = never */
  int retired;
} hq_group;

/* Inserts or updates; bumps the store's config version. *created is 1 for
 * a new group. SQR_ENOTFOUND for an unknown store. */
sqr_rc hqdb_group_upsert(hqdb *db, const hq_group *g, int *created) SQR_WARN_UNUSED;
/* Up to max groups of a store, by id. */
sqr_rc hqdb_groups(hqdb *db, const char *store, hq_group *out, size_t max,
                   size_t *n) SQR_WARN_UNUSED;

/* ---- enrolment ------------------------------------------------------------ */

/* code_hash = SHA-256 of the code's 16 Base32 characters. */
sqr_rc hqdb_code_add(hqdb *db, const uint8_t code_hash[32], const char *store, int kiosk,
                     int64_t expires_ms) SQR_WARN_UNUSED;
/* What a code is for, without using it. SQR_ENOTFOUND if unknown. */
sqr_rc hqdb_code_peek(hqdb *db, const uint8_t code_hash[32], char store[HQ_ID_MAX], int *kiosk,
                      int64_t *expires_ms, int *used) SQR_WARN_UNUSED;
/* Enrolment itself (claiming the code, the new incarnation, its keys):
 * hqdb_keys.h, composed in one transaction by ops/enroll.c. */

/* The kiosk ("STORE/N" or "STORE/N@INC") holding the certificate with this DER hash.
 * SQR_ENOTFOUND if none; *revoked set. */
sqr_rc hqdb_kiosk_by_cert(hqdb *db, const uint8_t cert_sha256[32], char kiosk_id[HQ_ID_MAX],
                          int *revoked) SQR_WARN_UNUSED;

/* ---- the ingest path (inside hqdb_begin/commit) ---------------------------- */

/* Locks the kiosk's row for the transaction; its acked seq and the hash of
 * that event (32 zero bytes when 0). SQR_ENOTFOUND if not enrolled. */
sqr_rc hqdb_kiosk_lock(hqdb *db, const char *kiosk_id, int64_t *acked_seq,
                       uint8_t last_hash[32]) SQR_WARN_UNUSED;
/* The hash HQ holds for (kiosk, seq). SQR_ENOTFOUND if none. */
sqr_rc hqdb_event_hash(hqdb *db, const char *kiosk_id, int64_t seq,
                       uint8_t hash[32]) SQR_WARN_UNUSED;

typedef struct hq_event_row {
  const char *kiosk_id, *store, *type, *payload;
  size_t payload_len; /* 0: strlen(payload) */
  int64_t seq, ts_ms, received_ms;
  const uint8_t *body_hash, *hash;
  int redacted;
} hq_event_row;
sqr_rc hqdb_event_insert(hqdb *db, const hq_event_row *ev) SQR_WARN_UNUSED;
/* n rows in as few statements as it takes: multi-row INSERTs of up to
 * HQDB_EVENT_CHUNK rows (one round trip each on PostgreSQL). */
#define HQDB_EVENT_CHUNK_LOG2 6
#define HQDB_EVENT_CHUNK      (1 << HQDB_EVENT_CHUNK_LOG2)
sqr_rc hqdb_event_insert_many(hqdb *db, const hq_event_row *rows, size_t n) SQR_WARN_UNUSED;
sqr_rc hqdb_kiosk_advance(hqdb *db, const char *kiosk_id, int64_t acked_seq,
                          const uint8_t last_hash[32]) SQR_WARN_UNUSED;
/* Adds to a store's counters. */
sqr_rc hqdb_store_count(hqdb *db, const char *store, int signups, int checkins,
                        int events) SQR_WARN_UNUSED;
/* A member by HQ's phone index (HMAC under a master-derived key): inserted
 * once across all stores; the store's member id (the kiosk's blind index,
 * hex) is linked to it. *new_member is 1 if the phone was new to HQ. */
sqr_rc hqdb_member_upsert(hqdb *db, const uint8_t phone_index[32], const uint8_t *phone_enc,
                          size_t enc_len, const char *store, const char *member_hex, int64_t now_ms,
                          int *new_member) SQR_WARN_UNUSED;
/* A kiosk confirmed an erasure: the request is settled (config version
 * bumped) and the store's link to the member removed. */
sqr_rc hqdb_erasure_confirm(hqdb *db, const char *store, const char *member_hex,
                            int64_t now_ms) SQR_WARN_UNUSED;

/* Outside any ingest transaction (its own). */
sqr_rc hqdb_alert(hqdb *db, const char *kiosk_id, int64_t seq, const char *kind,
                  const char *message, int64_t now_ms) SQR_WARN_UNUSED;
/* An alert of kind about subject (a kiosk id "STORE/N", or a store id)
 * unless one of that kind was raised for it less than window_ms ago: the
 * decision is one atomic statement on alert_gate, so several HQ processes
 * sharing PostgreSQL raise it once between them. Its own transaction.
 * *raised says whether a row was added. */
sqr_rc hqdb_alert_once(hqdb *db, const char *subject, int64_t seq, const char *kind,
                       const char *message, int64_t now_ms, int64_t window_ms,
                       int *raised) SQR_WARN_UNUSED;
/* Number of alerts of a kind for a kiosk (tests, counts). */
sqr_rc hqdb_alert_count(hqdb *db, const char *kiosk_id, const char *kind,
                        int64_t *n) SQR_WARN_UNUSED;

/* ---- erasures and counts --------------------------------------------------- */

/* Records a request (idempotent) and bumps the store's config version.
 * SQR_ENOTFOUND for an unknown store. */
sqr_rc hqdb_erasure_add(hqdb *db, const char *store, const char *member_hex,
                        int64_t now_ms) SQR_WARN_UNUSED;
/* Pending (unconfirmed) requests of a store, up to max. */
sqr_rc hqdb_erasures_pending(hqdb *db, const char *store, char (*out)[65], size_t max,
                             size_t *n) SQR_WARN_UNUSED;

typedef struct hq_kiosk_count {
  int number;
  char id[HQ_ID_MAX]; /* the incarnation: "STORE/N" or "STORE/N@INC" */
  int64_t acked_seq;
  int64_t events, max_seq; /* event rows HQ holds for the kiosk, highest seq */
} hq_kiosk_count;
typedef struct hq_counts {
  int64_t members, signups, checkins, events;
  int64_t members_pending; /* sign-ups whose sealed phone waits for the opener (hqdb_seal.h) */
  int64_t erasures_pending, erasures_confirmed;
  size_t nkiosks;
  hq_kiosk_count *kiosks; /* every incarnation of the store's kiosks, by number; hqdb_counts_free */
} hq_counts;
/* Fills *out (every kiosk, no limit); free with hqdb_counts_free, also
 * after an error. */
sqr_rc hqdb_counts(hqdb *db, const char *store, hq_counts *out) SQR_WARN_UNUSED;
void hqdb_counts_free(hq_counts *c);

#endif
