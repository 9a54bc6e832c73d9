/* keys.h — kiosk keys at HQ: which token keys the resolver accepts, the
 * keys a kiosk's configuration carries, rotation, and coupon checks
 * (docs/PROTOCOL.md "Identity and keys").
 *
 * Every key is derived here from master.key when needed (HKDF-SHA256, no
 * salt); storage holds only which (store, number, version) exists and
 * when it retires. Callers wipe the keys they are given. Never logs a key,
 * a token or a coupon code.
 */
#ifndef SQR_HQ_KEYS_H
#define SQR_HQ_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"
#include "sqr.h"

/* A rotated kiosk's older versions retire this long after HQ learns the
 * kiosk applied the new one: a code on screen at the switch still scans. */
#define HQ_KEY_OVERLAP_MS          (10 * 60 * 1000)
#define HQ_KEY_ROTATE_DAYS_DEFAULT 90

/* One token key the resolver may meet in a token of a store. */
typedef struct hq_token_key {
  int number, version;
  int64_t retire_ms;        /* 0: active; else refused from then on */
  char kiosk_id[HQ_ID_MAX]; /* the incarnation, for alerts */
  uint8_t mac_key[32];      /* the token MAC key (livecode_key_set) */
} hq_token_key;

/* Every key version of a store, active or retired, with its token key
 * (malloc'ed; wipe and free with hq_token_keys_free). */
sqr_rc hq_token_keys(hq *h, const char *sid, hq_token_key **out, size_t *n) SQR_WARN_UNUSED;
void hq_token_keys_free(hq_token_key *k, size_t n);
/* 1 if k retired at now_ms. */
static inline int hq_token_key_retired(const hq_token_key *k, int64_t now_ms) {
  return k->retire_ms != 0 && k->retire_ms <= now_ms;
}

/* Days after which a kiosk's newest version is replaced (0: never). */
void hq_set_key_rotation(hq *h, int days);

/* What a kiosk's configuration carries. Normally the newest version of
 * its incarnation: its own token and coupon keys and the store's index
 * key (and, while the store may hold old-index members, the old index's
 * derived key). A kiosk enrolled before key versions that has not yet
 * reported one may run a release that reads only the store key: it gets
 * the store key and its version instead (legacy 1), as before, until its
 * first config_applied event names a key version. */
typedef struct hq_kiosk_keys {
  int legacy; /* 1: version and store_key only */
  int version;
  uint8_t store_key[32]; /* legacy only */
  uint8_t token_key[32], coupon_key[32], index_key[32];
  int has_legacy_index;
  uint8_t legacy_index_key[32]; /* HKDF(store key, the old index info) */
  int64_t legacy_index_until_ms;
} hq_kiosk_keys;
/* SQR_ENOTFOUND when the incarnation has no key (revoked before keys). */
sqr_rc hq_kiosk_keys_get(hq *h, const char *kiosk_id, hq_kiosk_keys *out) SQR_WARN_UNUSED;
void hq_kiosk_keys_wipe(hq_kiosk_keys *k);
/* Issues the next version when the incarnation's newest is older than the
 * rotation period (and raises the store's configuration version).
 * *rotated says whether it did. */
sqr_rc hq_keys_rotate_due(hq *h, const char *kiosk_id, int *rotated) SQR_WARN_UNUSED;

/* What HQ says of a coupon code. */
typedef struct hq_coupon_check {
  int valid;    /* 1: genuine and honoured */
  char why[96]; /* when not valid: malformed, forged, unknown key, retired and not issued */
  int kiosk, key_version, campaign;
  int64_t serial;
  int issued_known;         /* HQ holds its coupon_issued event */
  char kiosk_id[HQ_ID_MAX]; /* the incarnation that issued it, when known */
  int64_t issued_ms;
} hq_coupon_check;
/* Checks code for store sid: its key version must exist for its kiosk
 * number; a retired version's coupon is honoured only when HQ holds the
 * kiosk's coupon_issued event for it. A refused code is SQR_OK with
 * valid 0 and why; errors are storage and unknown stores. */
sqr_rc hq_coupon_verify(hq *h, const char *sid, const char *code, hq_coupon_check *out,
                        hq_err *e) SQR_WARN_UNUSED;

/* TLS session-ticket keys, shared by every HQ process so that a ticket
 * one process issued resumes on another behind the load balancer. One
 * random 64-byte key per epoch (a UTC day): the first process to need it
 * makes it, every other reads it; GnuTLS rotates what it encrypts with
 * from it within the epoch. Stored XOR a mask derived from master.key
 * ("storeqr/v2/tls-ticket-mask/EPOCH"), so neither the database nor
 * master.key alone gives it, and deleted after the next epoch, so
 * tickets older than that cannot be opened even with both. */
#define HQ_TICKET_EPOCH_MS  (24LL * 3600 * 1000)
#define HQ_TICKET_KEY_BYTES 64
/* The key of the epoch now_ms is in; *epoch says which. Wipe `out`. */
sqr_rc hq_ticket_key(hq *h, int64_t now_ms, uint8_t out[HQ_TICKET_KEY_BYTES],
                     int64_t *epoch) SQR_WARN_UNUSED;

#endif
