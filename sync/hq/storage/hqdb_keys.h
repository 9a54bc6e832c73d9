/* hqdb_keys.h — storage of kiosk identities and keys: incarnations,
 * per-kiosk key versions (kiosk_keys) and the coupons kiosks reported (docs/PROTOCOL.md "Identity
 * and keys").
 *
 * Holds no key: a row says which (store, number, version) exists, which
 * incarnation it belongs to and when it retires; the operations layer
 * derives the key itself from master.key. Typed calls only.
 *
 * The calls marked "in the caller's transaction" run inside hqdb_begin /
 * hqdb_commit so enrolment, revocation and rotation change the kiosk, its
 * keys and the store's configuration version together: every HQ process
 * polls the versions every second and reloads a store whose version
 * moved, which is how a revocation reaches them all.
 */
#ifndef SQR_HQDB_KEYS_H
#define SQR_HQDB_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "hqdb.h"
#include "sqr.h"

#define HQ_KEY_VERSION_MAX 255 /* one byte in tokens and coupons */

typedef struct hq_kiosk_key {
  int number;               /* kiosk number */
  int version;              /* 1..255, unique per (store, number) */
  int legacy;               /* 1: the store key of a kiosk from before key versions */
  char kiosk_id[HQ_ID_MAX]; /* the incarnation it belongs to */
  int64_t created_ms;
  int64_t retire_ms; /* 0: active until retired */
} hq_kiosk_key;

/* 1 if k is retired at now_ms. */
static inline int hq_key_retired(const hq_kiosk_key *k, int64_t now_ms) {
  return k->retire_ms != 0 && k->retire_ms <= now_ms;
}

/* ---- enrolment and revocation (in the caller's transaction) ------------------ */

/* Marks an unused, unexpired code used. SQR_EEXISTS if it was used,
 * SQR_EEXPIRED if it expired, SQR_ENOTFOUND if unknown. */
sqr_rc hqdb_code_claim(hqdb *db, const uint8_t code_hash[32], int64_t now_ms) SQR_WARN_UNUSED;
/* Revokes every incarnation of (store, number) and retires their keys at
 * now_ms. *changed: kiosks revoked or keys retired. */
sqr_rc hqdb_kiosk_retire_number(hqdb *db, const char *store, int number, int64_t now_ms,
                                int *changed) SQR_WARN_UNUSED;
/* A new incarnation's row: its id, certificate hash, chain from seq 1.
 * SQR_EEXISTS if the id is taken (two enrolments raced). */
sqr_rc hqdb_kiosk_insert(hqdb *db, const char *kiosk_id, const char *store, int number,
                         const uint8_t cert_sha256[32], int64_t now_ms) SQR_WARN_UNUSED;
/* Revokes one incarnation and retires its keys at now_ms. SQR_ENOTFOUND if
 * HQ never enrolled it. */
sqr_rc hqdb_kiosk_revoke_id(hqdb *db, const char *kiosk_id, int64_t now_ms) SQR_WARN_UNUSED;
/* The newest incarnation's id of (store, number) (its incarnation is in
 * the id: proto_kiosk_parse). SQR_ENOTFOUND if none. */
sqr_rc hqdb_kiosk_newest(hqdb *db, const char *store, int number,
                         char kiosk_id[HQ_ID_MAX]) SQR_WARN_UNUSED;

/* ---- key versions ---------------------------------------------------------- */

/* The next version of (store, number): one past the highest it ever had
 * (legacy included); SQR_ETOOBIG past HQ_KEY_VERSION_MAX. */
sqr_rc hqdb_key_next_version(hqdb *db, const char *store, int number, int *version) SQR_WARN_UNUSED;
/* In the caller's transaction: a new version row (active). SQR_EEXISTS if
 * another process inserted it first. */
sqr_rc hqdb_key_insert(hqdb *db, const char *store, const hq_kiosk_key *k) SQR_WARN_UNUSED;
/* In the caller's transaction: raises the store's configuration version,
 * so every HQ process reloads the store's keys and the store's kiosks
 * fetch their documents. */
sqr_rc hqdb_keys_changed(hqdb *db, const char *store) SQR_WARN_UNUSED;
/* In the caller's transaction: the kiosk applied keys of `version`: every
 * older version of (store, number) without a retire time (legacy
 * included) retires at retire_ms. *changed: rows updated. */
sqr_rc hqdb_key_applied(hqdb *db, const char *store, int number, int version, int64_t retire_ms,
                        int *changed) SQR_WARN_UNUSED;

/* Every key row of a store (the resolver's cache), by number and version;
 * malloc'ed, caller frees. */
sqr_rc hqdb_keys_of_store(hqdb *db, const char *store, hq_kiosk_key **out,
                          size_t *n) SQR_WARN_UNUSED;
/* One row. SQR_ENOTFOUND if (store, number, version) was never issued. */
sqr_rc hqdb_key_get(hqdb *db, const char *store, int number, int version,
                    hq_kiosk_key *out) SQR_WARN_UNUSED;
/* The newest non-legacy version of one incarnation; its legacy row in
 * *legacy (version 0 when it has none); *capable: it reported a key
 * version, so it runs a release that reads its own keys. SQR_ENOTFOUND if
 * it has no version of its own. */
sqr_rc hqdb_key_newest(hqdb *db, const char *kiosk_id, hq_kiosk_key *out, hq_kiosk_key *legacy,
                       int *capable) SQR_WARN_UNUSED;
/* In the ingest transaction: the incarnation reported a key version.
 * *changed: the first time, for a kiosk whose documents carried the store
 * key (they carry its own keys from now on). */
sqr_rc hqdb_kiosk_keys_capable(hqdb *db, const char *kiosk_id, int64_t now_ms,
                               int *changed) SQR_WARN_UNUSED;
/* The earliest creation of a legacy row of the store (when its kiosks may
 * still hold old-index members), 0 when it never had one. */
sqr_rc hqdb_keys_legacy_since(hqdb *db, const char *store, int64_t *since_ms) SQR_WARN_UNUSED;

/* ---- coupons ---------------------------------------------------------------- */

typedef struct hq_coupon_row {
  int number, version, campaign;
  int64_t serial;
  char kiosk_id[HQ_ID_MAX];
  int64_t issued_ms;
} hq_coupon_row;
/* In the ingest transaction: a kiosk's coupon_issued event (idempotent). */
sqr_rc hqdb_coupon_issued(hqdb *db, const char *store, const hq_coupon_row *c) SQR_WARN_UNUSED;
/* SQR_ENOTFOUND if HQ holds no coupon_issued event for it. */
sqr_rc hqdb_coupon_get(hqdb *db, const char *store, int number, int version, int64_t serial,
                       hq_coupon_row *out) SQR_WARN_UNUSED;

/* ---- TLS session-ticket keys -------------------------------------------------- */

#define HQ_TICKET_KEY_LEN 64 /* GnuTLS's session-ticket master key */
/* The masked ticket key of `epoch`, shared by every HQ process: the row
 * already stored, or `candidate` stored now if none is. Drops rows older
 * than the previous epoch. Its own transaction. The row is masked by the
 * operations layer (ops/keys.c): storage alone does not give the key. */
sqr_rc hqdb_ticket_key(hqdb *db, int64_t epoch, const uint8_t candidate[HQ_TICKET_KEY_LEN],
                       uint8_t out[HQ_TICKET_KEY_LEN]) SQR_WARN_UNUSED;

#endif
