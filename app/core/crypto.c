/* crypto.c — mbedtls behind crypto.h. Translates mbedtls errors to sqr_rc
 * and logs the original code. One exception: crypto_sha256 runs on the x86
 * SHA extensions when the CPU has them (HQ hashes every event twice, and
 * mbedtls 2.28 only has a portable C SHA-256), with mbedtls otherwise; so
 * does crypto_hmac_sha256 (HQ's resolver checks a token's HMAC per scan). */
#include "crypto.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#define SHA_X86 1
#endif

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

#ifdef SHA_X86
/* clang-format off */
static const uint32_t sha256_k[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
/* clang-format on */

/* FIPS 180-4 compression of n 64-byte blocks with SHA256RNDS2 (two rounds
 * per instruction) and SHA256MSG1/MSG2 for the message schedule. The
 * instructions keep the state as ABEF and CDGH, hence the shuffles on the
 * way in and out. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
sha256_x86_blocks(uint32_t st[8], const uint8_t *p, size_t n) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i dcba = _mm_loadu_si128((const __m128i *)&st[0]);
  __m128i hgfe = _mm_loadu_si128((const __m128i *)&st[4]);
  __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
  for(; n; n--, p += 64) {
    __m128i abef0 = abef, cdgh0 = cdgh, w[4];
    /* Unrolled, w[] lives in registers; as a loop it is twice as slow. */
#pragma GCC unroll 16
    for(int i = 0; i < 16; i++) {
      __m128i x;
      if(i < 4) {
        x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
      } else {
        /* W[t] for four t at once, from W[t-16..t-1]. */
        x = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
        x = _mm_sha256msg2_epu32(x, w[(i + 3) & 3]);
      }
      w[i & 3] = x;
      __m128i m = _mm_add_epi32(x, _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* 1 if the CPU has the SHA extensions and the SSSE3/SSE4.1 they come
 * with; asked once. */
static int sha256_x86_usable(void) {
  static atomic_int usable = -1;
  int u = atomic_load_explicit(&usable, memory_order_relaxed);
  if(u < 0) {
    unsigned a, b, c, d;
    u = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
        __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
    atomic_store_explicit(&usable, u, memory_order_relaxed);
  }
  return u;
}

static const uint32_t sha256_iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/* The last len bytes of a message whose first done bytes (a multiple of
 * 64) are already compressed into st; writes the digest. */
static void sha256_x86_finish(uint32_t st[8], const uint8_t *data, size_t len, uint64_t done,
                              uint8_t out[32]) {
  size_t full = len / 64, rest = len % 64;
  if(full) sha256_x86_blocks(st, data, full);
  /* The tail, 0x80, zeros and the length in bits: one block or two. */
  uint8_t tail[128] = {0};
  if(rest) memcpy(tail, data + full * 64, rest); /* data may be NULL when len is 0 */
  tail[rest] = 0x80;
  size_t tn = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = (done + len) * 8;
  for(size_t i = 0; i < 8; i++)
    tail[tn - 1 - i] = (uint8_t)(bits >> (8 * i));
  sha256_x86_blocks(st, tail, tn / 64);
  crypto_wipe(tail, sizeof tail); /* tokens and codes are hashed too; mbedtls wipes as well */
  for(int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(st[i] >> 24);
    out[4 * i + 1] = (uint8_t)(st[i] >> 16);
    out[4 * i + 2] = (uint8_t)(st[i] >> 8);
    out[4 * i + 3] = (uint8_t)st[i];
  }
}

static void sha256_x86(const uint8_t *data, size_t len, uint8_t out[32]) {
  uint32_t st[8];
  memcpy(st, sha256_iv, sizeof st);
  sha256_x86_finish(st, data, len, 0, out);
}

/* RFC 2104 over the compression above. The resolver verifies a token's
 * HMAC on every scan; mbedtls_md_hmac also allocates a context per call. */
static void hmac_sha256_x86(const uint8_t *key, size_t klen, const uint8_t *msg, size_t mlen,
                            uint8_t out[32]) {
  uint8_t k[64] = {0}, pad[64], inner[32];
  uint32_t st[8];
  if(klen > 64)
    sha256_x86(key, klen, k);
  else if(klen)
    memcpy(k, key, klen);
  for(int i = 0; i < 64; i++)
    pad[i] = k[i] ^ 0x36;
  memcpy(st, sha256_iv, sizeof st);
  sha256_x86_blocks(st, pad, 1);
  sha256_x86_finish(st, msg, mlen, 64, inner);
  for(int i = 0; i < 64; i++)
    pad[i] = k[i] ^ 0x5c;
  memcpy(st, sha256_iv, sizeof st);
  sha256_x86_blocks(st, pad, 1);
  sha256_x86_finish(st, inner, sizeof inner, 64, out);
  crypto_wipe(k, sizeof k);
  crypto_wipe(pad, sizeof pad);
  crypto_wipe(inner, sizeof inner);
  crypto_wipe(st, sizeof st);
}
#endif

const char *crypto_sha256_impl(void) {
#ifdef SHA_X86
  if(sha256_x86_usable()) return "x86 SHA extensions";
#endif
  return "mbedtls";
}

sqr_rc crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]) {
#ifdef SHA_X86
  if(sha256_x86_usable()) {
    sha256_x86(data, len, out);
    return SQR_OK;
  }
#endif
  int rc = mbedtls_sha256_ret(data, len, out, 0);
  if(rc) {
    log_error("crypto", "sha256 failed: -0x%04x", (unsigned)-rc);
    return SQR_ECRYPTO;
  }
  return SQR_OK;
}

sqr_rc crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                          uint8_t out[CRYPTO_SHA256_LEN]) {
#ifdef SHA_X86
  if(sha256_x86_usable()) {
    hmac_sha256_x86(key, klen, msg, mlen, out);
    return SQR_OK;
  }
#endif
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
  for(size_t i = 0; i < n; i++)
    diff |= (uint8_t)(x[i] ^ y[i]);
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
