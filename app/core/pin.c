/* pin.c — see pin.h. PBKDF2 is mbedtls' own (pkcs5); this file only parses
 * and formats the "pbkdf2-sha256$iter$salt$hash" string. */
#include "pin.h"
#include "crypto.h"
#include "log.h"

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIN_PREFIX   "pbkdf2-sha256$"
#define PIN_SALT_LEN 16
#define PIN_KEY_LEN  32

static sqr_rc derive(const char *pin, const uint8_t *salt, size_t saltlen, uint32_t iter,
                     uint8_t out[PIN_KEY_LEN]) {
  mbedtls_md_context_t md;
  mbedtls_md_init(&md);
  int e = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
  if(!e)
    e = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)pin, strlen(pin), salt, saltlen, iter,
                                  PIN_KEY_LEN, out);
  mbedtls_md_free(&md);
  if(e) {
    log_error("pin", "pbkdf2 failed: mbedtls -0x%04x", (unsigned)-e);
    return SQR_ECRYPTO;
  }
  return SQR_OK;
}

sqr_rc pin_hash(const char *pin, uint32_t iterations, char out[PIN_HASH_MAX]) {
  uint8_t salt[PIN_SALT_LEN], key[PIN_KEY_LEN];
  char sb64[32], kb64[48];
  if(out) out[0] = '\0';
  if(!pin || !*pin || !out || iterations < PIN_MIN_ITERATIONS || iterations > PIN_MAX_ITERATIONS)
    return SQR_EINVAL;
  sqr_rc rc = crypto_random(salt, sizeof salt);
  if(!rc) rc = derive(pin, salt, sizeof salt, iterations, key);
  if(!rc) rc = crypto_b64(salt, sizeof salt, sb64, sizeof sb64);
  if(!rc) rc = crypto_b64(key, sizeof key, kb64, sizeof kb64);
  if(!rc) snprintf(out, PIN_HASH_MAX, PIN_PREFIX "%u$%s$%s", (unsigned)iterations, sb64, kb64);
  crypto_wipe(key, sizeof key);
  return rc;
}

sqr_rc pin_verify(const char *stored, const char *pin) {
  if(!stored || !pin || !*pin) return SQR_EINVAL;
  if(strncmp(stored, PIN_PREFIX, strlen(PIN_PREFIX)) != 0) return SQR_EINVAL;
  const char *p = stored + strlen(PIN_PREFIX);
  char *end;
  unsigned long iter = strtoul(p, &end, 10);
  if(end == p || *end != '$' || iter < PIN_MIN_ITERATIONS || iter > PIN_MAX_ITERATIONS)
    return SQR_EINVAL;
  const char *salt_b64 = end + 1;
  const char *dollar = strchr(salt_b64, '$');
  if(!dollar || dollar == salt_b64 || (size_t)(dollar - salt_b64) >= 64) return SQR_EINVAL;
  char sbuf[64];
  memcpy(sbuf, salt_b64, (size_t)(dollar - salt_b64));
  sbuf[dollar - salt_b64] = '\0';
  uint8_t salt[48], want[48], got[PIN_KEY_LEN];
  size_t saltlen = 0, wantlen = 0;
  if(crypto_unb64(sbuf, salt, sizeof salt, &saltlen) != SQR_OK || saltlen < 8) return SQR_EINVAL;
  if(crypto_unb64(dollar + 1, want, sizeof want, &wantlen) != SQR_OK || wantlen != PIN_KEY_LEN)
    return SQR_EINVAL;
  sqr_rc rc = derive(pin, salt, saltlen, (uint32_t)iter, got);
  if(!rc) rc = crypto_ct_equal(got, want, PIN_KEY_LEN) ? SQR_OK : SQR_EAUTH;
  crypto_wipe(got, sizeof got);
  return rc;
}
