/* keys.c — see keys.h. */
#include "keys.h"
#include "hq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coupon.h"
#include "crypto.h"
#include "hqdb_keys.h"
#include "log.h"
#include "proto.h"

#define DAY_MS (24LL * 3600 * 1000)
/* Members still on the old index are dropped by the kiosk this long after
 * HQ first gave its store key versions (docs/PROTOCOL.md). */
#define LEGACY_INDEX_DAYS 180

/* HKDF(master, "storeqr/v2/<what>/STORE/NUMBER/VERSION"), or from the store
 * key for a legacy row (what it derived before key versions). */
static sqr_rc kiosk_key(const hq *h, const char *what, const char *legacy_info, const char *sid,
                        int number, int version, int legacy, uint8_t out[32]) {
  if(legacy) {
    uint8_t sk[32];
    sqr_rc rc = hq_store_key(h, sid, version, sk);
    if(!rc) rc = crypto_hkdf_sha256(NULL, 0, sk, 32, legacy_info, out, 32);
    crypto_wipe(sk, sizeof sk);
    return rc;
  }
  char info[128];
  snprintf(info, sizeof info, "storeqr/v2/%s/%s/%d/%d", what, sid, number, version);
  return crypto_hkdf_sha256(NULL, 0, h->master, 32, info, out, 32);
}

static sqr_rc token_key(const hq *h, const char *sid, const hq_kiosk_key *k, uint8_t out[32]) {
  return kiosk_key(h, "kiosk-token", CRYPTO_INFO_TOKEN, sid, k->number, k->version, k->legacy, out);
}
static sqr_rc coupon_key(const hq *h, const char *sid, const hq_kiosk_key *k, uint8_t out[32]) {
  return kiosk_key(h, "kiosk-coupon", CRYPTO_INFO_COUPON, sid, k->number, k->version, k->legacy,
                   out);
}

sqr_rc hq_token_keys(hq *h, const char *sid, hq_token_key **out, size_t *n) {
  hq_kiosk_key *rows = NULL;
  size_t nrows = 0;
  *out = NULL;
  *n = 0;
  sqr_rc rc = hqdb_keys_of_store(h->db, sid, &rows, &nrows);
  hq_token_key *k = !rc && nrows ? calloc(nrows, sizeof *k) : NULL;
  if(!rc && nrows && !k) rc = SQR_ENOMEM;
  for(size_t i = 0; !rc && i < nrows; i++) {
    k[i].number = rows[i].number;
    k[i].version = rows[i].version;
    k[i].retire_ms = rows[i].retire_ms;
    snprintf(k[i].kiosk_id, sizeof k[i].kiosk_id, "%s", rows[i].kiosk_id);
    rc = token_key(h, sid, &rows[i], k[i].mac_key);
  }
  free(rows);
  if(rc) {
    hq_token_keys_free(k, nrows);
    return rc;
  }
  *out = k;
  *n = nrows;
  return SQR_OK;
}

void hq_token_keys_free(hq_token_key *k, size_t n) {
  if(k) crypto_wipe(k, n * sizeof *k);
  free(k);
}

void hq_set_key_rotation(hq *h, int days) {
  h->key_rotate_days = days;
}

sqr_rc hq_kiosk_keys_get(hq *h, const char *kiosk_id, hq_kiosk_keys *out) {
  memset(out, 0, sizeof *out);
  char sid[PROTO_STORE_ID_MAX + 1];
  int number, capable = 0;
  if(proto_kiosk_parse(kiosk_id, sid, &number, NULL)) return SQR_EINVAL;
  hq_kiosk_key k, legacy;
  int64_t legacy_since = 0;
  sqr_rc rc = hqdb_key_newest(h->db, kiosk_id, &k, &legacy, &capable);
  if(!rc) rc = hqdb_keys_legacy_since(h->db, sid, &legacy_since);
  if(rc) return rc;
  if(legacy.version && !legacy.retire_ms && !capable) {
    /* A release from before key versions reads nothing else; the kiosk
     * already holds this key, so sending it again reveals nothing new. */
    out->legacy = 1;
    out->version = legacy.version;
    rc = hq_store_key(h, sid, legacy.version, out->store_key);
    if(rc) hq_kiosk_keys_wipe(out);
    return rc;
  }
  out->version = k.version;
  char info[96];
  snprintf(info, sizeof info, "storeqr/v2/index-key/%s", sid);
  if((rc = token_key(h, sid, &k, out->token_key)) ||
     (rc = coupon_key(h, sid, &k, out->coupon_key)) ||
     (rc = crypto_hkdf_sha256(NULL, 0, h->master, 32, info, out->index_key, 32)))
    goto fail;
  hq_store s;
  if(legacy_since && !(rc = hqdb_store_get(h->db, sid, &s))) {
    /* The store's kiosks may hold members on the old index: send its
     * derived key (never the store key itself) until the deadline. */
    uint8_t sk[32];
    rc = hq_store_key(h, sid, s.key_version, sk);
    if(!rc) rc = crypto_hkdf_sha256(NULL, 0, sk, 32, CRYPTO_INFO_BLIND, out->legacy_index_key, 32);
    crypto_wipe(sk, sizeof sk);
    out->has_legacy_index = 1;
    out->legacy_index_until_ms = legacy_since + LEGACY_INDEX_DAYS * DAY_MS;
  }
  if(!rc) return SQR_OK;
fail:
  hq_kiosk_keys_wipe(out);
  return rc;
}

void hq_kiosk_keys_wipe(hq_kiosk_keys *k) {
  crypto_wipe(k, sizeof *k);
}

sqr_rc hq_keys_rotate_due(hq *h, const char *kiosk_id, int *rotated) {
  *rotated = 0;
  if(h->key_rotate_days <= 0) return SQR_OK;
  char sid[PROTO_STORE_ID_MAX + 1];
  int number;
  if(proto_kiosk_parse(kiosk_id, sid, &number, NULL)) return SQR_EINVAL;
  hq_kiosk_key k, legacy;
  int capable = 0;
  int64_t now = hq_now_ms();
  sqr_rc rc = hqdb_key_newest(h->db, kiosk_id, &k, &legacy, &capable);
  if(rc == SQR_ENOTFOUND) return SQR_OK;
  if(rc || k.created_ms + h->key_rotate_days * DAY_MS > now || k.retire_ms) return rc;
  if((rc = hqdb_begin(h->db))) return rc;
  hq_kiosk_key next = {.number = number, .created_ms = now};
  snprintf(next.kiosk_id, sizeof next.kiosk_id, "%s", kiosk_id);
  rc = hqdb_key_next_version(h->db, sid, number, &next.version);
  if(rc == SQR_ETOOBIG) {
    hqdb_rollback(h->db);
    log_warn("hq", "%s: no key version left to rotate to (re-enrol the kiosk)", kiosk_id);
    return SQR_OK;
  }
  /* Another process may have rotated between our read and the insert:
   * then its version stands and ours is not needed. */
  if(!rc && next.version != k.version + 1) {
    hqdb_rollback(h->db);
    return SQR_OK;
  }
  if(!rc) rc = hqdb_key_insert(h->db, sid, &next);
  if(!rc) rc = hqdb_keys_changed(h->db, sid);
  if(!rc)
    rc = hqdb_commit(h->db);
  else
    hqdb_rollback(h->db);
  if(rc == SQR_EEXISTS) return SQR_OK;
  if(!rc) {
    *rotated = 1;
    log_info("hq", "%s: key version %d issued (rotation)", kiosk_id, next.version);
    hq__notify(h, HQ_CHANGE_KEYS, sid);
  }
  return rc;
}

sqr_rc hq_coupon_verify(hq *h, const char *sid, const char *code, hq_coupon_check *out, hq_err *e) {
  memset(out, 0, sizeof *out);
  hq_store s;
  sqr_rc rc = hqdb_store_get(h->db, sid ? sid : "", &s);
  if(rc == SQR_ENOTFOUND) return hq_fail(e, rc, "unknown_store", "store: not known to HQ");
  if(rc) return hq_fail_storage(h, e, rc);
  coupon_info ci;
  if(!code || coupon_parse(code, &ci)) {
    snprintf(out->why, sizeof out->why, "not a coupon code (20 Base32 characters)");
    return SQR_OK;
  }
  out->kiosk = ci.kiosk;
  out->key_version = ci.key_version;
  out->campaign = ci.campaign;
  out->serial = ci.serial;
  hq_kiosk_key k;
  rc = hqdb_key_get(h->db, s.id, ci.kiosk, ci.key_version, &k);
  if(rc == SQR_ENOTFOUND) {
    snprintf(out->why, sizeof out->why, "no such kiosk key: forged, or another store's");
    return SQR_OK;
  }
  if(rc) return hq_fail_storage(h, e, rc);
  uint8_t key[32];
  coupon_info checked;
  if(coupon_key(h, s.id, &k, key)) return hq_fail(e, SQR_ECRYPTO, "internal", "key derivation");
  rc = coupon_verify(key, (uint8_t)k.version, s.id, code, &checked);
  crypto_wipe(key, sizeof key);
  if(rc == SQR_EAUTH || rc == SQR_EINVAL) {
    snprintf(out->why, sizeof out->why, "the code does not verify: a typo, or forged");
    return SQR_OK;
  }
  if(rc) return hq_fail(e, rc, "internal", "coupon check failed");
  hq_coupon_row row;
  rc = hqdb_coupon_get(h->db, s.id, ci.kiosk, ci.key_version, ci.serial, &row);
  if(rc && rc != SQR_ENOTFOUND) return hq_fail_storage(h, e, rc);
  if(!rc) {
    out->issued_known = 1;
    out->issued_ms = row.issued_ms;
    snprintf(out->kiosk_id, sizeof out->kiosk_id, "%s", row.kiosk_id);
  } else {
    snprintf(out->kiosk_id, sizeof out->kiosk_id, "%s", k.kiosk_id);
  }
  /* A retired key (a revoked or replaced kiosk) may be in a thief's
   * hands: only coupons the kiosk reported before are honoured. */
  if(hq_key_retired(&k, hq_now_ms()) && !out->issued_known) {
    snprintf(out->why, sizeof out->why,
             "issued with a retired key and never reported by the kiosk: refused");
    return SQR_OK;
  }
  out->valid = 1;
  return SQR_OK;
}

/* ---- TLS session-ticket keys -------------------------------------------------- */

_Static_assert(HQ_TICKET_KEY_BYTES == HQ_TICKET_KEY_LEN, "one size for the ticket key");

sqr_rc hq_ticket_key(hq *h, int64_t now_ms, uint8_t out[HQ_TICKET_KEY_BYTES], int64_t *epoch) {
  uint8_t mask[HQ_TICKET_KEY_BYTES], mine[HQ_TICKET_KEY_BYTES];
  char info[64];
  int64_t e = now_ms / HQ_TICKET_EPOCH_MS;
  snprintf(info, sizeof info, "storeqr/v2/tls-ticket-mask/%lld", (long long)e);
  sqr_rc rc = crypto_hkdf_sha256(NULL, 0, h->master, 32, info, mask, sizeof mask);
  if(!rc) rc = crypto_random(mine, sizeof mine);
  if(!rc) {
    for(size_t i = 0; i < sizeof mine; i++)
      mine[i] ^= mask[i];
    rc = hqdb_ticket_key(h->db, e, mine, out);
  }
  if(!rc) {
    for(size_t i = 0; i < HQ_TICKET_KEY_BYTES; i++)
      out[i] ^= mask[i];
    *epoch = e;
  }
  crypto_wipe(mask, sizeof mask);
  crypto_wipe(mine, sizeof mine);
  return rc;
}
