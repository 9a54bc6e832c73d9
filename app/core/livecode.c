/* livecode.c — see livecode.h for the format. Everything here runs on the
 * stack: the token key is derived once in livecode_key_init, so mint and
 * verify cost one HMAC over at most 30 bytes plus a Base32 pass. */
#include "livecode.h"
#include "base32.h"
#include "crypto.h"

#include <string.h>

#define DOMAIN_TAG     "SQR-T1"
#define DOMAIN_TAG_LEN (sizeof(DOMAIN_TAG) - 1)
#define RAW_LEN        (LIVECODE_PAYLOAD_LEN + LIVECODE_MAC_LEN)
#define MSG_MAX        (DOMAIN_TAG_LEN + LIVECODE_STORE_ID_MAX + 1 + LIVECODE_PAYLOAD_LEN)

_Static_assert(BASE32_ENCODED_LEN(RAW_LEN) == LIVECODE_TOKEN_LEN, "token length");
/* 120 bits is a whole number of Base32 characters: no padding bits, so the
 * strict decoder gives every token exactly one spelling. */
_Static_assert(RAW_LEN * 8 % 5 == 0, "token has no spare bits");

int livecode_store_id_valid(const char *id) {
  if(!id) return 0;
  size_t n = 0;
  for(; id[n]; n++) {
    char c = id[n];
    if(n >= LIVECODE_STORE_ID_MAX) return 0;
    if(!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return 0;
  }
  return n > 0;
}

sqr_rc livecode_key_init(livecode_key *k, const uint8_t store_key[32], uint8_t key_version) {
  if(!k || !store_key) return SQR_EINVAL;
  crypto_wipe(k, sizeof *k);
  sqr_rc rc =
      crypto_hkdf_sha256(NULL, 0, store_key, 32, CRYPTO_INFO_TOKEN, k->mac_key, sizeof k->mac_key);
  if(rc) {
    crypto_wipe(k, sizeof *k);
    return rc;
  }
  k->version = key_version;
  k->ready = 1;
  return SQR_OK;
}

sqr_rc livecode_key_set(livecode_key *k, const uint8_t token_key[32], uint8_t key_version) {
  if(!k || !token_key) return SQR_EINVAL;
  crypto_wipe(k, sizeof *k);
  memcpy(k->mac_key, token_key, sizeof k->mac_key);
  k->version = key_version;
  k->ready = 1;
  return SQR_OK;
}

void livecode_key_wipe(livecode_key *k) {
  if(k) crypto_wipe(k, sizeof *k);
}

static void put_payload(uint8_t p[LIVECODE_PAYLOAD_LEN], uint8_t version, uint16_t kiosk,
                        uint32_t window) {
  p[0] = version;
  p[1] = (uint8_t)(kiosk >> 8);
  p[2] = (uint8_t)kiosk;
  p[3] = (uint8_t)(window >> 24);
  p[4] = (uint8_t)(window >> 16);
  p[5] = (uint8_t)(window >> 8);
  p[6] = (uint8_t)window;
}

/* The full 32-byte HMAC over tag || store_id || 0x00 || payload. The NUL
 * separator keeps store "A" + payload from colliding with store "A<byte>". */
static sqr_rc token_mac(const livecode_key *k, const char *store_id,
                        const uint8_t payload[LIVECODE_PAYLOAD_LEN],
                        uint8_t mac[CRYPTO_SHA256_LEN]) {
  uint8_t msg[MSG_MAX];
  size_t slen = strlen(store_id); /* <= 16: validated by the caller */
  size_t n = 0;
  memcpy(msg, DOMAIN_TAG, DOMAIN_TAG_LEN);
  n += DOMAIN_TAG_LEN;
  memcpy(msg + n, store_id, slen);
  n += slen;
  msg[n++] = 0;
  memcpy(msg + n, payload, LIVECODE_PAYLOAD_LEN);
  n += LIVECODE_PAYLOAD_LEN;
  return crypto_hmac_sha256(k->mac_key, sizeof k->mac_key, msg, n, mac);
}

sqr_rc livecode_mint(const livecode_key *k, const char *store_id, uint16_t kiosk, int64_t unix_time,
                     uint32_t period, char out[LIVECODE_TOKEN_LEN + 1]) {
  uint8_t raw[RAW_LEN];
  uint8_t mac[CRYPTO_SHA256_LEN];
  sqr_rc rc = SQR_EINVAL;
  if(!out) return SQR_EINVAL;
  out[0] = '\0';
  if(!k || !k->ready || !livecode_store_id_valid(store_id) || period == 0 || unix_time < 0)
    goto out;
  int64_t window = unix_time / (int64_t)period; /* floor: unix_time >= 0 */
  if(window > (int64_t)UINT32_MAX) goto out;
  put_payload(raw, k->version, kiosk, (uint32_t)window);
  rc = token_mac(k, store_id, raw, mac);
  if(rc) goto out;
  memcpy(raw + LIVECODE_PAYLOAD_LEN, mac, LIVECODE_MAC_LEN);
  rc = base32_encode(raw, sizeof raw, out, LIVECODE_TOKEN_LEN + 1);
out:
  crypto_wipe(mac, sizeof mac);
  if(rc) out[0] = '\0';
  return rc;
}

sqr_rc livecode_verify(const livecode_key *keys, size_t nkeys, const char *store_id,
                       const char *token, int64_t now, uint32_t period, uint32_t skew,
                       uint32_t lead_s, livecode_claim *out) {
  uint8_t raw[RAW_LEN];
  uint8_t mac[CRYPTO_SHA256_LEN];
  size_t rawlen = 0;
  const livecode_key *k = NULL;
  sqr_rc rc = SQR_EINVAL;

  if((!keys && nkeys > 0) || !token || !out || period == 0 || now < 0 ||
     !livecode_store_id_valid(store_id))
    return SQR_EINVAL;
  /* strnlen: an over-long token is rejected without reading all of it. */
  if(strnlen(token, LIVECODE_TOKEN_LEN + 1) != LIVECODE_TOKEN_LEN) return SQR_EINVAL;
  if(base32_decode(token, LIVECODE_TOKEN_LEN, raw, sizeof raw, &rawlen) != SQR_OK ||
     rawlen != RAW_LEN)
    return SQR_EINVAL;

  /* The version byte is public, so choosing the key by it leaks nothing. */
  for(size_t i = 0; i < nkeys; i++) {
    if(keys[i].ready && keys[i].version == raw[0]) {
      k = &keys[i];
      break;
    }
  }
  if(!k) return SQR_EAUTH;

  rc = token_mac(k, store_id, raw, mac);
  if(rc) goto out;
  /* MAC before window: a forger must learn nothing about which windows
   * would have been accepted. */
  if(!crypto_ct_equal(mac, raw + LIVECODE_PAYLOAD_LEN, LIVECODE_MAC_LEN)) {
    rc = SQR_EAUTH;
    goto out;
  }

  livecode_claim c;
  c.key_version = raw[0];
  c.kiosk = (uint16_t)(raw[1] << 8 | raw[2]);
  c.window =
      (uint32_t)raw[3] << 24 | (uint32_t)raw[4] << 16 | (uint32_t)raw[5] << 8 | (uint32_t)raw[6];
  *out = c;

  /* In int64 so "now_window - skew" cannot wrap below zero. */
  int64_t now_window = now / (int64_t)period;
  int64_t w = (int64_t)c.window;
  /* the next window, when it starts within lead_s: a kiosk clock a little
   * fast (its offset is learnt only at each sync) */
  int64_t lead = lead_s < period ? (int64_t)lead_s : (int64_t)period - 1;
  int lead_ok = w == now_window + 1 && w * (int64_t)period - now <= lead;
  if((w > now_window && !lead_ok) || now_window - w > (int64_t)skew)
    rc = SQR_EEXPIRED;
  else
    rc = SQR_OK;
out:
  crypto_wipe(mac, sizeof mac);
  return rc;
}

/* Checks host (name[:port]) and copies it upper-cased to dst. Returns the
 * length written, or 0 if host is not acceptable. dst holds
 * LIVECODE_HOST_MAX + 6 bytes. */
static size_t copy_host(const char *host, char *dst) {
  size_t n = 0, name_len = 0;
  int in_port = 0;
  unsigned long port = 0;
  size_t port_digits = 0;
  for(; host[n]; n++) {
    char c = host[n];
    if(n >= LIVECODE_HOST_MAX + 6) return 0;
    if(in_port) {
      if(c < '0' || c > '9' || ++port_digits > 5) return 0;
      port = port * 10 + (unsigned long)(c - '0');
      dst[n] = c;
      continue;
    }
    if(c == ':') {
      in_port = 1;
      dst[n] = c;
      continue;
    }
    if(c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if(!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return 0;
    /* No empty labels: ".X", "X..Y" and "X." are not names a phone resolves
     * the way we mean. */
    if(c == '.' && (n == 0 || host[n - 1] == '.' || host[n + 1] == '\0' || host[n + 1] == ':'))
      return 0;
    if(++name_len > LIVECODE_HOST_MAX) return 0;
    dst[n] = c;
  }
  if(name_len == 0) return 0;
  if(in_port && (port_digits == 0 || port == 0 || port > 65535)) return 0;
  return n;
}

static int token_chars_valid(const char *token) {
  if(strnlen(token, LIVECODE_TOKEN_LEN + 1) != LIVECODE_TOKEN_LEN) return 0;
  for(size_t i = 0; i < LIVECODE_TOKEN_LEN; i++) {
    char c = token[i];
    if(!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return 0;
  }
  return 1;
}

sqr_rc livecode_peek(const char *token, livecode_claim *out) {
  uint8_t raw[RAW_LEN];
  size_t rawlen = 0;
  if(!token || !out || strnlen(token, LIVECODE_TOKEN_LEN + 1) != LIVECODE_TOKEN_LEN ||
     base32_decode(token, LIVECODE_TOKEN_LEN, raw, sizeof raw, &rawlen) != SQR_OK ||
     rawlen != RAW_LEN)
    return SQR_EINVAL;
  out->key_version = raw[0];
  out->kiosk = (uint16_t)(raw[1] << 8 | raw[2]);
  out->window =
      (uint32_t)raw[3] << 24 | (uint32_t)raw[4] << 16 | (uint32_t)raw[5] << 8 | (uint32_t)raw[6];
  return SQR_OK;
}

sqr_rc livecode_url(const char *host, const char *store_id, const char *token, char *out,
                    size_t outsize) {
  char h[LIVECODE_HOST_MAX + 6];
  if(out && outsize > 0) out[0] = '\0';
  if(!host || !token || !out || !livecode_store_id_valid(store_id) || !token_chars_valid(token))
    return SQR_EINVAL;
  size_t hlen = copy_host(host, h);
  if(hlen == 0) return SQR_EINVAL;
  size_t slen = strlen(store_id);
  size_t need = 8 + hlen + 3 + slen + 1 + LIVECODE_TOKEN_LEN + 1;
  if(outsize < need) return SQR_EINVAL;
  char *p = out;
  memcpy(p, "HTTPS://", 8);
  p += 8;
  memcpy(p, h, hlen);
  p += hlen;
  memcpy(p, "/J/", 3);
  p += 3;
  memcpy(p, store_id, slen);
  p += slen;
  *p++ = '/';
  memcpy(p, token, LIVECODE_TOKEN_LEN);
  p += LIVECODE_TOKEN_LEN;
  *p = '\0';
  return SQR_OK;
}
