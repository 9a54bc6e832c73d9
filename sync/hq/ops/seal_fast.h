/* seal_fast.h — HQ's opener of sealed phones, on nettle's P-256.
 *
 * For: opening the boxes kiosks make with seal_box (app/core/seal.h) fast
 * enough for HQ. mbedtls' portable bignum ECDH costs about 1.5 ms a box
 * (seal_open also recomputes HQ's public point each time: two scalar
 * multiplications); nettle's P-256 (GMP-backed, side-channel silent
 * scalar multiplication) does one in well under 0.1 ms. The construction
 * is seal.h's, byte for byte: ECDH shared X (32 bytes, big-endian) ->
 * HKDF-SHA256(salt = ephemeral point || HQ point, info = SEAL_INFO) ->
 * AES-256-GCM with AAD = version byte || ephemeral point.
 *
 * Owns: an opener holding HQ's private scalar and the public point derived
 * from it (computed once, not per box). Opening is read-only on it, so one
 * opener serves every thread at once.
 * Must never: be linked by the kiosk (it has no private key; it stays on
 * mbedtls' seal.c); log a phone number, a plaintext, a shared secret or
 * key bytes; refuse a box differently from seal_open: the same lengths,
 * versions and damaged keys give the same sqr_rc (tests/sync/test_seal_fast.c
 * checks both openers agree, on vectors and on random boxes).
 *
 * Memory: nettle frees its scratch (which holds the shared point) without
 * wiping it, so the first seal_fast_new installs GMP memory functions that
 * wipe every block GMP and nettle free, process-wide. Create the opener
 * before starting threads that use GMP (HQ does it in hq_open, before the
 * server starts).
 */
#ifndef SQR_SEAL_FAST_H
#define SQR_SEAL_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "seal.h"
#include "sqr.h"

typedef struct seal_fast seal_fast;

/* Makes an opener for HQ's private key hq_priv (32 bytes, big-endian; the
 * caller keeps and wipes its copy). *out is the caller's, freed with
 * seal_fast_free. SQR_EINVAL (logged, never the key) unless
 * 1 <= hq_priv < n; SQR_ENOMEM. */
sqr_rc seal_fast_new(const uint8_t hq_priv[SEAL_PRIV_LEN], seal_fast **out) SQR_WARN_UNUSED;

/* Sets p (initialised on nettle's P-256 by the caller) to the point of
 * big-endian coordinates x and y: 1, or 0 if that is not a point of the
 * curve (p unchanged). For the boxes' ephemeral keys and pki.c's CA key. */
struct ecc_point;
int seal_fast_point_set(struct ecc_point *p, const uint8_t x[32], const uint8_t y[32]);

/* Wipes and frees an opener. Accepts NULL. */
void seal_fast_free(seal_fast *o);

/* HQ's public point (uncompressed, 65 bytes), derived from the private key. */
const uint8_t *seal_fast_pub(const seal_fast *o);

/* Opens a box made by seal_box, exactly as seal_open does: writes the
 * plaintext (len - SEAL_OVERHEAD bytes) to out, which must not overlap box,
 * and sets *outlen; the caller wipes out when done.
 * SQR_EINVAL if len is outside SEAL_OVERHEAD..SEAL_MAX_BOX, the version byte
 * is not SEAL_VERSION or outsize is too small; SQR_EAUTH if the box does not
 * verify (sealed to another key, tampered with, or an ephemeral key that is
 * not an uncompressed P-256 point); SQR_ECRYPTO if AES-GCM fails. On any
 * error out is wiped. Thread-safe. */
sqr_rc seal_fast_open(const seal_fast *o, const uint8_t *box, size_t len, void *out, size_t outsize,
                      size_t *outlen) SQR_WARN_UNUSED;

#endif /* SQR_SEAL_FAST_H */
