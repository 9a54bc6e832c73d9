/* crypto.h — the few primitives StoreQR uses, as thin wrappers over mbedtls.
 *
 * Owns nothing. Exists so that every module calls one spelling of HMAC,
 * HKDF and the random source, and so mbedtls error codes are translated to
 * sqr_rc in one place. Keys derived for different purposes are separated
 * by the HKDF info string (see CRYPTO_INFO_*): one store key never MACs two
 * kinds of thing. Kiosks now receive their keys already derived by HQ
 * (docs/PROTOCOL.md "Identity and keys"); these strings derive them from a
 * legacy keys.store_key, and HQ uses them for stores from before.
 */
#ifndef SQR_CRYPTO_H
#define SQR_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_KEY_LEN    32

/* HKDF info strings: one per purpose a (legacy) store key is used for. */
#define CRYPTO_INFO_TOKEN  "storeqr/v1/livecode-token"
#define CRYPTO_INFO_COUPON "storeqr/v1/coupon"
#define CRYPTO_INFO_BLIND  "storeqr/v1/phone-blind-index"

/* Fills buf with n bytes from the kernel's CSPRNG (getrandom). */
sqr_rc crypto_random(void *buf, size_t n) SQR_WARN_UNUSED;

/* An mbedtls f_rng callback over crypto_random; ctx is unused. */
int crypto_rng(void *ctx, unsigned char *out, size_t len);

/* SHA-256 of len bytes. On x86-64 CPUs with the SHA extensions (checked
 * once at run time) our own few lines with those instructions, otherwise
 * mbedtls; the same digest either way (tests/unit/test_crypto.c). */
sqr_rc crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);
/* Which of the two crypto_sha256 uses here: "x86 SHA extensions" or
 * "mbedtls". For logs and benchmarks. */
const char *crypto_sha256_impl(void);

sqr_rc crypto_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                          uint8_t out[CRYPTO_SHA256_LEN]);

/* RFC 5869 HKDF with SHA-256 (salt may be NULL). */
sqr_rc crypto_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
                          const char *info, void *out, size_t outlen);

/* Compares in time independent of where a and b differ. 1 if equal. */
int crypto_ct_equal(const void *a, const void *b, size_t n);

/* Overwrites secrets in a way the compiler may not elide. */
void crypto_wipe(void *p, size_t n);

/* Lower-case hex. out must hold 2*n+1 bytes. */
void crypto_hex(const void *in, size_t n, char *out);
/* Decodes exactly n bytes from 2*n hex digits. SQR_EINVAL otherwise. */
sqr_rc crypto_unhex(const char *hex, void *out, size_t n) SQR_WARN_UNUSED;

/* Standard base64 with padding. out must hold 4*ceil(n/3)+1 bytes. */
sqr_rc crypto_b64(const void *in, size_t n, char *out, size_t outsize) SQR_WARN_UNUSED;
/* Decodes base64 into at most outsize bytes; *outlen gets the length. */
sqr_rc crypto_unb64(const char *b64, void *out, size_t outsize, size_t *outlen) SQR_WARN_UNUSED;

#endif /* SQR_CRYPTO_H */
