/* coupon.c — see coupon.h for the format. */
#include "coupon.h"
#include "base32.h"
#include "crypto.h"
#include "livecode.h"

#include <string.h>

#define DOMAIN_TAG     "SQR-C1"
#define DOMAIN_TAG_LEN (sizeof(DOMAIN_TAG) - 1)
#define RAW_LEN        (COUPON_PAYLOAD_LEN + COUPON_MAC_LEN)
#define MSG_MAX        (DOMAIN_TAG_LEN + LIVECODE_STORE_ID_MAX + 1 + COUPON_PAYLOAD_LEN)

_Static_assert(BASE32_ENCODED_LEN(RAW_LEN) == COUPON_CHARS, "coupon length");
_Static_assert(COUPON_CHARS / COUPON_GROUP * (COUPON_GROUP + 1) - 1 == COUPON_CODE_LEN,
               "groups of five joined by dashes");

/* Full HMAC under the coupon key (already derived: keys.coupon_key). */
static sqr_rc coupon_mac(const uint8_t coupon_key[32], const char *store_id,
                         const uint8_t payload[COUPON_PAYLOAD_LEN],
                         uint8_t mac[CRYPTO_SHA256_LEN]) {
  uint8_t msg[MSG_MAX];
  size_t slen = strlen(store_id); /* <= 16: validated by the caller */
  size_t n = 0;
  memcpy(msg, DOMAIN_TAG, DOMAIN_TAG_LEN);
  n += DOMAIN_TAG_LEN;
  memcpy(msg + n, store_id, slen);
  n += slen;
  msg[n++] = 0; /* separates store "A" + payload from store "A<byte>" */
  memcpy(msg + n, payload, COUPON_PAYLOAD_LEN);
  n += COUPON_PAYLOAD_LEN;
  return crypto_hmac_sha256(coupon_key, CRYPTO_KEY_LEN, msg, n, mac);
}

sqr_rc coupon_key_derive(const uint8_t store_key[32], uint8_t out[32]) {
  if(!store_key || !out) return SQR_EINVAL;
  sqr_rc rc = crypto_hkdf_sha256(NULL, 0, store_key, 32, CRYPTO_INFO_COUPON, out, 32);
  if(rc) crypto_wipe(out, 32);
  return rc;
}

sqr_rc coupon_issue(const uint8_t coupon_key[32], uint8_t key_version, const char *store_id,
                    uint16_t kiosk, uint8_t campaign, uint32_t serial,
                    char out[COUPON_CODE_LEN + 1]) {
  uint8_t raw[RAW_LEN];
  uint8_t mac[CRYPTO_SHA256_LEN];
  char plain[COUPON_CHARS + 1];
  sqr_rc rc = SQR_EINVAL;
  if(!out) return SQR_EINVAL;
  out[0] = '\0';
  if(!coupon_key || !livecode_store_id_valid(store_id) || serial > COUPON_SERIAL_MAX)
    return SQR_EINVAL;
  raw[0] = key_version;
  raw[1] = (uint8_t)(kiosk >> 8);
  raw[2] = (uint8_t)kiosk;
  raw[3] = campaign;
  raw[4] = (uint8_t)(serial >> 16);
  raw[5] = (uint8_t)(serial >> 8);
  raw[6] = (uint8_t)serial;
  rc = coupon_mac(coupon_key, store_id, raw, mac);
  if(rc) goto out;
  memcpy(raw + COUPON_PAYLOAD_LEN, mac, COUPON_MAC_LEN);
  rc = base32_encode(raw, sizeof raw, plain, sizeof plain);
  if(rc) goto out;
  size_t o = 0;
  for(size_t i = 0; i < COUPON_CHARS; i++) {
    if(i > 0 && i % COUPON_GROUP == 0) out[o++] = '-';
    out[o++] = plain[i];
  }
  out[o] = '\0';
out:
  crypto_wipe(mac, sizeof mac);
  if(rc) out[0] = '\0';
  return rc;
}

/* Folds what people type into strict Base32: drops dashes and spaces,
 * upper-cases, maps the digits Base32 lacks to the letters they resemble.
 * Anything else is passed on for base32_decode to reject. Returns the
 * number of characters, or SIZE_MAX if there are more than COUPON_CHARS. */
static size_t normalise(const char *code, char dst[COUPON_CHARS]) {
  size_t n = 0;
  for(const char *p = code; *p; p++) {
    char c = *p;
    if(c == '-' || c == ' ') continue;
    if(c >= 'a' && c <= 'z')
      c = (char)(c - 'a' + 'A');
    else if(c == '0')
      c = 'O';
    else if(c == '1')
      c = 'I';
    else if(c == '8')
      c = 'B';
    if(n == COUPON_CHARS) return SIZE_MAX;
    dst[n++] = c;
  }
  return n;
}

/* Normalises and decodes code into raw; SQR_EINVAL when it is not a
 * coupon's shape. */
static sqr_rc decode(const char *code, uint8_t raw[RAW_LEN]) {
  char plain[COUPON_CHARS];
  size_t rawlen = 0;
  if(strnlen(code, COUPON_INPUT_MAX + 1) > COUPON_INPUT_MAX) return SQR_EINVAL;
  if(normalise(code, plain) != COUPON_CHARS) return SQR_EINVAL;
  if(base32_decode(plain, COUPON_CHARS, raw, RAW_LEN, &rawlen) != SQR_OK || rawlen != RAW_LEN)
    return SQR_EINVAL;
  return SQR_OK;
}

static void fill_info(const uint8_t raw[RAW_LEN], coupon_info *out) {
  out->key_version = raw[0];
  out->kiosk = (uint16_t)(raw[1] << 8 | raw[2]);
  out->campaign = raw[3];
  out->serial = (uint32_t)raw[4] << 16 | (uint32_t)raw[5] << 8 | (uint32_t)raw[6];
}

sqr_rc coupon_parse(const char *code, coupon_info *out) {
  uint8_t raw[RAW_LEN];
  if(!code || !out) return SQR_EINVAL;
  sqr_rc rc = decode(code, raw);
  if(rc) return rc;
  fill_info(raw, out);
  return SQR_OK;
}

sqr_rc coupon_verify(const uint8_t coupon_key[32], uint8_t key_version, const char *store_id,
                     const char *code, coupon_info *out) {
  uint8_t raw[RAW_LEN];
  uint8_t mac[CRYPTO_SHA256_LEN];
  sqr_rc rc;
  if(!coupon_key || !code || !out || !livecode_store_id_valid(store_id)) return SQR_EINVAL;
  rc = decode(code, raw);
  if(rc) return rc;
  if(raw[0] != key_version) return SQR_EAUTH; /* the version byte is public */
  rc = coupon_mac(coupon_key, store_id, raw, mac);
  if(rc) goto out;
  if(!crypto_ct_equal(mac, raw + COUPON_PAYLOAD_LEN, COUPON_MAC_LEN)) {
    rc = SQR_EAUTH;
    goto out;
  }
  fill_info(raw, out);
out:
  crypto_wipe(mac, sizeof mac);
  return rc;
}
