/* seal.h — sealing phone numbers to HQ's public key, and the old blind index.
 *
 * For: keeping a stolen kiosk from revealing any phone number. The kiosk
 * seals each number to HQ's P-256 public key (ECDH with a fresh ephemeral
 * key per box, HKDF-SHA256, AES-256-GCM) and keeps only the box, plus a
 * keyed blind index so a returning member can be found without the number
 * itself being stored. That index is now Argon2id (member_index_derive in
 * member.h); the HMAC-SHA256 one here finds only rows not yet moved off it,
 * and kiosks configured before key versions.
 *
 * Box layout (all lengths in bytes):
 *   version 0x01 (1) | ephemeral public key, uncompressed (65) |
 *   nonce (12) | ciphertext (same length as the plaintext) | GCM tag (16)
 * AES key = HKDF-SHA256(salt = ephemeral point || HQ point,
 *                       ikm  = ECDH shared X coordinate, 32 bytes big-endian,
 *                       info = SEAL_INFO), 32 bytes.
 * AAD = the version byte and the ephemeral point (the first 66 bytes).
 *
 * Key encodings (as in the JSON configs): a public key is the 65-byte
 * uncompressed point (0x04 | X | Y), a private key the 32-byte big-endian
 * scalar; in text both are standard base64 with padding.
 *
 * Owns nothing: every function works on the caller's buffers, and wipes its
 * own copies of secrets (crypto_wipe) before returning.
 * Must never: log a phone number, a plaintext or any key material; hold
 * HQ's private key on a kiosk (only HQ and tests call seal_open and read
 * private keys).
 */
#ifndef SQR_SEAL_H
#define SQR_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define SEAL_VERSION   0x01
#define SEAL_PUB_LEN   65 /* uncompressed P-256 point */
#define SEAL_PRIV_LEN  32 /* big-endian scalar */
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_OVERHEAD  (1 + SEAL_PUB_LEN + SEAL_NONCE_LEN + SEAL_TAG_LEN) /* 94 */
#define SEAL_MAX_PLAIN 64 /* a phone number is 11 bytes; room to spare */
#define SEAL_MAX_BOX   (SEAL_OVERHEAD + SEAL_MAX_PLAIN)
#define SEAL_BLIND_LEN 32

/* Base64 buffer sizes, including the terminating NUL. */
#define SEAL_PUB_B64_LEN  (4 * ((SEAL_PUB_LEN + 2) / 3) + 1)  /* 88 + 1 */
#define SEAL_PRIV_B64_LEN (4 * ((SEAL_PRIV_LEN + 2) / 3) + 1) /* 44 + 1 */

/* HKDF info string of the box key; bound into every box. */
#define SEAL_INFO "storeqr/v1/seal"

/* Generates a fresh P-256 key pair from the kernel's CSPRNG. Used by HQ
 * tooling and tests, not by the kiosk. The caller owns both buffers and
 * must crypto_wipe priv when done.
 * SQR_ECRYPTO if the random source or mbedtls fails (both buffers are
 * wiped then); SQR_ENOMEM if mbedtls runs out of memory. */
sqr_rc seal_keypair_generate(uint8_t pub[SEAL_PUB_LEN],
                             uint8_t priv[SEAL_PRIV_LEN]) SQR_WARN_UNUSED;

/* Decodes a base64 public key into pub and checks that it is an
 * uncompressed point on P-256. SQR_EINVAL, with a log line naming the
 * problem (not base64, wrong length, not uncompressed, not on the curve),
 * otherwise; pub is then zeroed. */
sqr_rc seal_pub_from_b64(const char *b64, uint8_t pub[SEAL_PUB_LEN]) SQR_WARN_UNUSED;

/* Encodes a public key as base64 into out (SEAL_PUB_B64_LEN bytes,
 * NUL-terminated). SQR_EINVAL if pub is not a valid point. */
sqr_rc seal_pub_to_b64(const uint8_t pub[SEAL_PUB_LEN], char out[SEAL_PUB_B64_LEN]) SQR_WARN_UNUSED;

/* Decodes a base64 private key into priv and checks that it is a valid
 * P-256 scalar (1 <= d < n). SQR_EINVAL, with a log line naming the
 * problem but never the key, otherwise; priv is then wiped. The caller
 * must crypto_wipe priv when done. HQ and tests only. */
sqr_rc seal_priv_from_b64(const char *b64, uint8_t priv[SEAL_PRIV_LEN]) SQR_WARN_UNUSED;

/* Encodes a private key as base64 into out (SEAL_PRIV_B64_LEN bytes,
 * NUL-terminated); the caller must crypto_wipe out when done.
 * SQR_EINVAL if priv is not a valid scalar. HQ and tests only. */
sqr_rc seal_priv_to_b64(const uint8_t priv[SEAL_PRIV_LEN],
                        char out[SEAL_PRIV_B64_LEN]) SQR_WARN_UNUSED;

/* Seals len bytes of plain (at most SEAL_MAX_PLAIN; plain may be NULL when
 * len is 0) to HQ's public key. Writes len + SEAL_OVERHEAD bytes to out,
 * which must not overlap plain, and sets *outlen. Every call uses a fresh
 * ephemeral key and nonce, so sealing the same number twice gives two
 * unrelated boxes: use seal_blind_index to find a member.
 * SQR_EINVAL if hq_pub is not a valid point (logged), len is too large or
 * outsize is too small; SQR_ECRYPTO / SQR_ENOMEM if mbedtls fails. On any
 * error out is wiped and *outlen is untouched. */
sqr_rc seal_box(const uint8_t hq_pub[SEAL_PUB_LEN], const void *plain, size_t len, uint8_t *out,
                size_t outsize, size_t *outlen) SQR_WARN_UNUSED;

/* The slow half of a box, done ahead of time: a fresh ephemeral key, the
 * ECDH with HQ's key and the derived AES key. A kiosk prepares a few while a
 * shopper types, so "done" does not wait for two scalar multiplications.
 * Secret: keep in memory only, use once (seal_box_prepared spends it). */
typedef struct seal_prepared {
  uint8_t eph_pub[SEAL_PUB_LEN];
  uint8_t key[32];
  uint8_t hq_pub[SEAL_PUB_LEN]; /* the key it was prepared for */
  int ready;
} seal_prepared;

/* Prepares *p for hq_pub. SQR_EINVAL for an invalid HQ key. */
sqr_rc seal_prepare(const uint8_t hq_pub[SEAL_PUB_LEN], seal_prepared *p) SQR_WARN_UNUSED;

/* Seals with a prepared key (same box format as seal_box) and wipes *p,
 * success or not. SQR_EINVAL if *p is not ready or sizes are wrong. */
sqr_rc seal_box_prepared(seal_prepared *p, const void *plain, size_t len, uint8_t *out,
                         size_t outsize, size_t *outlen) SQR_WARN_UNUSED;

/* Wipes a prepared key that will not be used. Accepts NULL. */
void seal_prepared_wipe(seal_prepared *p);

/* Opens a box made by seal_box with HQ's private key. Only HQ and tests
 * call this: the kiosk never holds the private key. Writes the plaintext
 * (len - SEAL_OVERHEAD bytes) to out, which must not overlap box, and sets
 * *outlen; the caller wipes out when done.
 * SQR_EINVAL if len is outside SEAL_OVERHEAD..SEAL_MAX_BOX, the version
 * byte is not SEAL_VERSION, outsize is too small or hq_priv is not a valid
 * scalar; SQR_EAUTH if the box does not verify (sealed to another key, or
 * tampered with, including a damaged ephemeral key); SQR_ECRYPTO /
 * SQR_ENOMEM if mbedtls fails. On any error out is wiped. */
/* The parts of opening a box that do not depend on how the shared point
 * is computed, for every opener (seal_open here, HQ's nettle opener):
 * seal_box_check refuses a box of the wrong size or version or a too
 * small out (SQR_EINVAL, logged) and gives the plaintext length;
 * seal_box_decrypt opens the box's AES-GCM part with the derived key
 * (SQR_EAUTH when it does not verify), writing plen bytes to out. */
sqr_rc seal_box_check(const uint8_t *box, size_t len, const void *out, size_t outsize,
                      size_t *plen) SQR_WARN_UNUSED;
sqr_rc seal_box_decrypt(const uint8_t key[32], const uint8_t *box, size_t plen,
                        void *out) SQR_WARN_UNUSED;
sqr_rc seal_open(const uint8_t hq_priv[SEAL_PRIV_LEN], const uint8_t *box, size_t len, void *out,
                 size_t outsize, size_t *outlen) SQR_WARN_UNUSED;

/* The old (HMAC) blind index of a phone number under a store key:
 *   HMAC-SHA256(HKDF-SHA256(ikm = store_key, no salt, CRYPTO_INFO_BLIND),
 *               phone)
 * Deterministic, so a returning member is found by it; without the key it
 * reveals nothing, but anyone holding the key tests every number in
 * minutes: kiosks now use member_index_derive (Argon2id), and this index
 * only finds rows not yet migrated. phone must already be normalised to
 * exactly 11 ASCII digits (no +86, spaces or dashes), so that one number
 * never gets two indexes: SQR_EINVAL otherwise (logged without the
 * number). SQR_ECRYPTO if mbedtls fails. */
sqr_rc seal_blind_index(const uint8_t store_key[32], const char *phone,
                        uint8_t out[SEAL_BLIND_LEN]) SQR_WARN_UNUSED;

/* The same HMAC under the already derived index key
 * (HKDF(store_key, CRYPTO_INFO_BLIND): keys.legacy_index_key). */
sqr_rc seal_blind_index_hmac(const uint8_t index_key[32], const char *phone,
                             uint8_t out[SEAL_BLIND_LEN]) SQR_WARN_UNUSED;

#endif /* SQR_SEAL_H */
