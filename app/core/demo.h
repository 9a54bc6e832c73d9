/* demo.h — turns the configuration template (assets/config/demo.json) into
 * a usable document: keys filled in and group expiries set relative
 * to now (a WeChat group QR lasts 7 days). Used by `storeqr init --demo`,
 * the demo script and the tests, so all three run on the same store. */
#ifndef SQR_DEMO_H
#define SQR_DEMO_H

#include <stdint.h>
#include "sqr.h"

/* The keys a demo document carries (docs/CONFIG.md "keys"). Holds
 * secrets: wipe it (crypto_wipe) when done. */
typedef struct demo_keys {
  /* 1: write the form from before key versions (keys.store_key only);
   * the kiosk then derives its keys and uses the old HMAC index. */
  int legacy;
  uint8_t store_key[32]; /* legacy only */
  uint8_t token_key[32], coupon_key[32], index_key[32];
  /* Argon2id cost; 0 keeps the template's value. Tests that sign many
   * people up pass small ones (m_kib 64, t 1). */
  uint32_t index_m_kib, index_t, index_p;
  int has_legacy_index; /* writes legacy_index_key and legacy_index_until */
  uint8_t legacy_index_key[32];
  int64_t legacy_index_until_ms;
  uint8_t hq_pub[65];
} demo_keys;

/* Fills every key of *k from the CSPRNG (store_key too, so either form
 * can be written); costs and hq_pub are left as they are. */
sqr_rc demo_keys_random(demo_keys *k) SQR_WARN_UNUSED;

/* template_json: the template text. version: the document version to set.
 * Groups whose expires_at is 0 get now + 6 days (+ 1 day per position) so
 * they do not expire during a demo week. *out is malloc'ed JSON text. */
sqr_rc demo_config_json(const char *template_json, int64_t version, const demo_keys *k, int64_t now,
                        char **out) SQR_WARN_UNUSED;

#endif
