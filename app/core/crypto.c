/* crypto.c — mbedtls behind crypto.h. Translates mbedtls errors to sqr_rc
 * and logs the original code. */
#include "crypto.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/base64.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

sqr_rc crypto_random(void *buf, size_t n) {
  uint8_t *p = buf;
  while(n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if(got < 0) {
      if(errno == EINTR) continue;
      log_error("crypto", "getrandom failed: %s", strerror(errno));
      return SQR_ECRYPTO;
    }
    p += got;
    n -= (size_t)got;
  }
  return SQR_OK;
}

int crypto_rng(void *ctx, unsigned char *out, size_t len) {
  (void)ctx;
  return crypto_random(out, len) == SQR_OK ? 0 : -1;
}

sqr_rc crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]) {
  int rc = mbedtls_sha256_ret(data, len, out, 0);
  if(rc) {
    log_error("crypto", "sha256 failed: -0x%04x", (unsigned)-rc);
    return SQR_ECRYPTO;
  }
  return SQR_OK;
}

sqr_rc crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                          uint8_t out[CRYPTO_SHA256_LEN]) {
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  int rc = mbedtls_md_hmac(md, key, klen, msg, mlen, out);
  if(rc) {
    log_error("crypto", "hmac failed: -0x%04x", (unsigned)-rc);
    return SQR_ECRYPTO;
  }
  return SQR_OK;
}

sqr_rc crypto_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
                          const char *info, void *out, size_t outlen) {
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  int rc = mbedtls_hkdf(md, salt, saltlen, ikm, ikmlen, (const unsigned char *)info,
                        info ? strlen(info) : 0, out, outlen);
  if(rc) {
    log_error("crypto", "hkdf failed: -0x%04x", (unsigned)-rc);
    return SQR_ECRYPTO;
  }
  return SQR_OK;
}

int crypto_ct_equal(const void *a, const void *b, size_t n) {
  const volatile uint8_t *x = a, *y = b;
  uint8_t diff = 0;
  for(size_t i = 0; i < n; i++) diff |= (uint8_t)(x[i] ^ y[i]);
  return diff == 0;
}

void crypto_wipe(void *p, size_t n) {
  mbedtls_platform_zeroize(p, n);
}

void crypto_hex(const void *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  const uint8_t *p = in;
  for(size_t i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  out[2 * n] = '\0';
}

static int hexval(char c) {
  if(c >= '0' && c <= '9') return c - '0';
  if(c >= 'a' && c <= 'f') return c - 'a' + 10;
  if(c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

sqr_rc crypto_unhex(const char *hex, void *out, size_t n) {
  uint8_t *o = out;
  if(strlen(hex) != 2 * n) return SQR_EINVAL;
  for(size_t i = 0; i < n; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if(hi < 0 || lo < 0) return SQR_EINVAL;
    o[i] = (uint8_t)(hi << 4 | lo);
  }
  return SQR_OK;
}

sqr_rc crypto_b64(const void *in, size_t n, char *out, size_t outsize) {
  size_t olen = 0;
  if(mbedtls_base64_encode((unsigned char *)out, outsize, &olen, in, n)) return SQR_EINVAL;
  return SQR_OK;
}

sqr_rc crypto_unb64(const char *b64, void *out, size_t outsize, size_t *outlen) {
  if(mbedtls_base64_decode(out, outsize, outlen, (const unsigned char *)b64, strlen(b64)))
    return SQR_EINVAL;
  return SQR_OK;
}
