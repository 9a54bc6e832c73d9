/* seal.c — ECDH P-256 + HKDF-SHA256 + AES-256-GCM boxes and the blind
 * index, over mbedtls. mbedtls codes are logged here and become sqr_rc.
 * No log line may carry a phone number, a plaintext or key bytes: messages
 * name the problem and, at most, a length or a version byte. */
#include "seal.h"
#include "crypto.h"
#include "log.h"

#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>

#define COMP "seal"

/* Offsets into a box. */
#define OFF_EPH   1
#define OFF_NONCE (OFF_EPH + SEAL_PUB_LEN)
#define OFF_CT    (OFF_NONCE + SEAL_NONCE_LEN)
#define AAD_LEN   OFF_NONCE /* version byte + ephemeral point */

#define AES_KEY_LEN     32
#define BLIND_PHONE_LEN 11

static sqr_rc from_mbedtls(int rc, const char *what) {
  log_error(COMP, "%s failed: -0x%04x", what, (unsigned)-rc);
  if(rc == MBEDTLS_ERR_MPI_ALLOC_FAILED || rc == MBEDTLS_ERR_ECP_ALLOC_FAILED) return SQR_ENOMEM;
  return SQR_ECRYPTO;
}

static sqr_rc load_group(mbedtls_ecp_group *grp) {
  int rc = mbedtls_ecp_group_load(grp, MBEDTLS_ECP_DP_SECP256R1);
  return rc ? from_mbedtls(rc, "loading P-256") : SQR_OK;
}

/* Parses and validates a public point. Checking it is on the curve is what
 * stops invalid-curve attacks on the ECDH that follows, so it is never
 * skipped, even for keys we wrote ourselves. SQR_EINVAL (logged, naming
 * `what`) if pub is not an uncompressed P-256 point. */
static sqr_rc read_pub(const mbedtls_ecp_group *grp, const uint8_t pub[SEAL_PUB_LEN],
                       mbedtls_ecp_point *Q, const char *what) {
  if(pub[0] != 0x04) {
    log_error(COMP, "%s is not an uncompressed point (first byte 0x%02x, want 0x04)", what, pub[0]);
    return SQR_EINVAL;
  }
  int rc = mbedtls_ecp_point_read_binary(grp, Q, pub, SEAL_PUB_LEN);
  if(rc == MBEDTLS_ERR_MPI_ALLOC_FAILED) return from_mbedtls(rc, "reading a point");
  if(rc == 0) rc = mbedtls_ecp_check_pubkey(grp, Q);
  if(rc == MBEDTLS_ERR_MPI_ALLOC_FAILED) return from_mbedtls(rc, "checking a point");
  if(rc) {
    log_error(COMP, "%s is not a point on P-256", what);
    return SQR_EINVAL;
  }
  return SQR_OK;
}

/* Parses and validates a private scalar. SQR_EINVAL (logged) unless
 * 1 <= d < n. */
static sqr_rc read_priv(const mbedtls_ecp_group *grp, const uint8_t priv[SEAL_PRIV_LEN],
                        mbedtls_mpi *d) {
  int rc = mbedtls_mpi_read_binary(d, priv, SEAL_PRIV_LEN);
  if(rc) return from_mbedtls(rc, "reading a scalar");
  rc = mbedtls_ecp_check_privkey(grp, d);
  if(rc == MBEDTLS_ERR_MPI_ALLOC_FAILED) return from_mbedtls(rc, "checking a scalar");
  if(rc) {
    log_error(COMP, "private key is not a valid P-256 scalar (must be 1..n-1)");
    return SQR_EINVAL;
  }
  return SQR_OK;
}

static sqr_rc write_pub(const mbedtls_ecp_group *grp, const mbedtls_ecp_point *Q,
                        uint8_t pub[SEAL_PUB_LEN]) {
  size_t olen = 0;
  int rc =
      mbedtls_ecp_point_write_binary(grp, Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub, SEAL_PUB_LEN);
  if(rc) return from_mbedtls(rc, "writing a point");
  SQR_CHECK(olen == SEAL_PUB_LEN);
  return SQR_OK;
}

/* The AES key of a box: HKDF over the ECDH shared X coordinate, salted with
 * both public points so a key is bound to exactly this pair. Both sides
 * call it: the kiosk with (ephemeral d, HQ point), HQ with (HQ d,
 * ephemeral point). */
static sqr_rc derive_key(mbedtls_ecp_group *grp, const mbedtls_mpi *d,
                         const mbedtls_ecp_point *peer, const uint8_t eph_pub[SEAL_PUB_LEN],
                         const uint8_t hq_pub[SEAL_PUB_LEN], uint8_t key[AES_KEY_LEN]) {
  mbedtls_mpi z;
  uint8_t shared[32];
  uint8_t salt[2 * SEAL_PUB_LEN];
  sqr_rc rc = SQR_OK;
  int mrc;

  mbedtls_mpi_init(&z);
  /* The RNG blinds the scalar multiplication against side channels. */
  mrc = mbedtls_ecdh_compute_shared(grp, &z, peer, d, crypto_rng, NULL);
  if(mrc) {
    rc = from_mbedtls(mrc, "ECDH");
    goto out;
  }
  /* Left-padded to 32 bytes: a short X must not shorten the IKM. */
  mrc = mbedtls_mpi_write_binary(&z, shared, sizeof shared);
  if(mrc) {
    rc = from_mbedtls(mrc, "writing the shared secret");
    goto out;
  }
  memcpy(salt, eph_pub, SEAL_PUB_LEN);
  memcpy(salt + SEAL_PUB_LEN, hq_pub, SEAL_PUB_LEN);
  rc = crypto_hkdf_sha256(salt, sizeof salt, shared, sizeof shared, SEAL_INFO, key, AES_KEY_LEN);
out:
  crypto_wipe(shared, sizeof shared);
  mbedtls_mpi_free(&z); /* zeroizes */
  return rc;
}

sqr_rc seal_keypair_generate(uint8_t pub[SEAL_PUB_LEN], uint8_t priv[SEAL_PRIV_LEN]) {
  mbedtls_ecp_group grp;
  mbedtls_mpi d;
  mbedtls_ecp_point Q;
  sqr_rc rc;
  int mrc;

  mbedtls_ecp_group_init(&grp);
  mbedtls_mpi_init(&d);
  mbedtls_ecp_point_init(&Q);
  rc = load_group(&grp);
  if(rc) goto out;
  mrc = mbedtls_ecp_gen_keypair(&grp, &d, &Q, crypto_rng, NULL);
  if(mrc) {
    rc = from_mbedtls(mrc, "generating a key pair");
    goto out;
  }
  mrc = mbedtls_mpi_write_binary(&d, priv, SEAL_PRIV_LEN);
  if(mrc) {
    rc = from_mbedtls(mrc, "writing a private key");
    goto out;
  }
  rc = write_pub(&grp, &Q, pub);
out:
  if(rc) {
    crypto_wipe(priv, SEAL_PRIV_LEN);
    crypto_wipe(pub, SEAL_PUB_LEN);
  }
  mbedtls_ecp_point_free(&Q);
  mbedtls_mpi_free(&d);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

/* Checks a public key without keeping anything. */
static sqr_rc check_pub(const uint8_t pub[SEAL_PUB_LEN], const char *what) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_point Q;
  sqr_rc rc;

  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&Q);
  rc = load_group(&grp);
  if(!rc) rc = read_pub(&grp, pub, &Q, what);
  mbedtls_ecp_point_free(&Q);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

static sqr_rc check_priv(const uint8_t priv[SEAL_PRIV_LEN]) {
  mbedtls_ecp_group grp;
  mbedtls_mpi d;
  sqr_rc rc;

  mbedtls_ecp_group_init(&grp);
  mbedtls_mpi_init(&d);
  rc = load_group(&grp);
  if(!rc) rc = read_priv(&grp, priv, &d);
  mbedtls_mpi_free(&d);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

/* Decodes base64 of exactly n bytes into out. The text length is checked
 * first so that a key of the wrong size gets its own message rather than
 * "not base64". Never logs the text: it may be a private key. */
static sqr_rc unb64_exact(const char *b64, uint8_t *out, size_t n, const char *what) {
  size_t want = 4 * ((n + 2) / 3), got, outlen = 0;
  uint8_t tmp[SEAL_PUB_LEN + 2];
  sqr_rc rc;

  if(!b64) {
    log_error(COMP, "%s is missing", what);
    return SQR_EINVAL;
  }
  got = strlen(b64);
  if(got != want) {
    log_error(COMP, "%s must be %zu base64 characters (%zu bytes), got %zu characters", what, want,
              n, got);
    return SQR_EINVAL;
  }
  /* want characters decode to at most 3*want/4 bytes (n rounded up to a
   * multiple of 3), so tmp holds any text of the right length and a key
   * one or two bytes too long is reported as such. */
  SQR_CHECK(3 * want / 4 <= sizeof tmp);
  rc = crypto_unb64(b64, tmp, sizeof tmp, &outlen);
  if(rc) {
    log_error(COMP, "%s is not valid base64", what);
    rc = SQR_EINVAL;
  } else if(outlen != n) {
    log_error(COMP, "%s decodes to %zu bytes, want %zu", what, outlen, n);
    rc = SQR_EINVAL;
  } else {
    memcpy(out, tmp, n);
  }
  crypto_wipe(tmp, sizeof tmp);
  return rc;
}

sqr_rc seal_pub_from_b64(const char *b64, uint8_t pub[SEAL_PUB_LEN]) {
  sqr_rc rc = unb64_exact(b64, pub, SEAL_PUB_LEN, "public key");
  if(!rc) rc = check_pub(pub, "public key");
  if(rc) memset(pub, 0, SEAL_PUB_LEN);
  return rc;
}

sqr_rc seal_pub_to_b64(const uint8_t pub[SEAL_PUB_LEN], char out[SEAL_PUB_B64_LEN]) {
  sqr_rc rc = check_pub(pub, "public key");
  if(rc) return rc;
  return crypto_b64(pub, SEAL_PUB_LEN, out, SEAL_PUB_B64_LEN);
}

sqr_rc seal_priv_from_b64(const char *b64, uint8_t priv[SEAL_PRIV_LEN]) {
  sqr_rc rc = unb64_exact(b64, priv, SEAL_PRIV_LEN, "private key");
  if(!rc) rc = check_priv(priv);
  if(rc) crypto_wipe(priv, SEAL_PRIV_LEN);
  return rc;
}

sqr_rc seal_priv_to_b64(const uint8_t priv[SEAL_PRIV_LEN], char out[SEAL_PRIV_B64_LEN]) {
  sqr_rc rc = check_priv(priv);
  if(!rc) rc = crypto_b64(priv, SEAL_PRIV_LEN, out, SEAL_PRIV_B64_LEN);
  if(rc) crypto_wipe(out, SEAL_PRIV_B64_LEN);
  return rc;
}

sqr_rc seal_prepare(const uint8_t hq_pub[SEAL_PUB_LEN], seal_prepared *p) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_point hq, eph;
  mbedtls_mpi d;
  sqr_rc rc;
  int mrc;

  memset(p, 0, sizeof *p);
  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&hq);
  mbedtls_ecp_point_init(&eph);
  mbedtls_mpi_init(&d);

  rc = load_group(&grp);
  if(rc) goto out;
  rc = read_pub(&grp, hq_pub, &hq, "HQ public key");
  if(rc) goto out;
  /* A fresh ephemeral key per box: the kiosk keeps no secret that could
   * open any box, and two boxes of one number share nothing. */
  mrc = mbedtls_ecp_gen_keypair(&grp, &d, &eph, crypto_rng, NULL);
  if(mrc) {
    rc = from_mbedtls(mrc, "generating the ephemeral key");
    goto out;
  }
  rc = write_pub(&grp, &eph, p->eph_pub);
  if(rc) goto out;
  rc = derive_key(&grp, &d, &hq, p->eph_pub, hq_pub, p->key);
  if(rc) goto out;
  memcpy(p->hq_pub, hq_pub, SEAL_PUB_LEN);
  p->ready = 1;
out:
  if(rc) seal_prepared_wipe(p);
  mbedtls_mpi_free(&d); /* zeroizes the ephemeral private key */
  mbedtls_ecp_point_free(&eph);
  mbedtls_ecp_point_free(&hq);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

void seal_prepared_wipe(seal_prepared *p) {
  if(p) crypto_wipe(p, sizeof *p);
}

sqr_rc seal_box_prepared(seal_prepared *p, const void *plain, size_t len, uint8_t *out,
                         size_t outsize, size_t *outlen) {
  mbedtls_gcm_context gcm;
  sqr_rc rc;
  int mrc;

  if(!p || !p->ready) {
    log_error(COMP, "no prepared key to seal with");
    return SQR_EINVAL;
  }
  if(len > SEAL_MAX_PLAIN || (len > 0 && !plain)) {
    log_error(COMP, "cannot seal %zu bytes (at most %d)", len, SEAL_MAX_PLAIN);
    return SQR_EINVAL;
  }
  if(!out || outsize < len + SEAL_OVERHEAD) {
    log_error(COMP, "box buffer is %zu bytes, need %zu", out ? outsize : 0, len + SEAL_OVERHEAD);
    return SQR_EINVAL;
  }
  mbedtls_gcm_init(&gcm);
  out[0] = SEAL_VERSION;
  memcpy(out + OFF_EPH, p->eph_pub, SEAL_PUB_LEN);
  /* Random nonces are safe here: each key encrypts exactly one message. */
  rc = crypto_random(out + OFF_NONCE, SEAL_NONCE_LEN);
  if(rc) goto out;
  mrc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, p->key, 8 * AES_KEY_LEN);
  if(mrc) {
    rc = from_mbedtls(mrc, "setting the AES key");
    goto out;
  }
  mrc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, out + OFF_NONCE, SEAL_NONCE_LEN,
                                  out, AAD_LEN, plain, out + OFF_CT, SEAL_TAG_LEN,
                                  out + OFF_CT + len);
  if(mrc) {
    rc = from_mbedtls(mrc, "AES-GCM encryption");
    goto out;
  }
  *outlen = len + SEAL_OVERHEAD;
out:
  if(rc) crypto_wipe(out, len + SEAL_OVERHEAD);
  /* One key, one message: the prepared key is spent whatever happened. */
  seal_prepared_wipe(p);
  mbedtls_gcm_free(&gcm);
  return rc;
}

sqr_rc seal_box(const uint8_t hq_pub[SEAL_PUB_LEN], const void *plain, size_t len, uint8_t *out,
                size_t outsize, size_t *outlen) {
  seal_prepared p;
  if(len > SEAL_MAX_PLAIN || (len > 0 && !plain) || !out || outsize < len + SEAL_OVERHEAD) {
    log_error(COMP, "cannot seal %zu bytes into %zu (at most %d bytes, need %zu of room)", len,
              out ? outsize : 0, SEAL_MAX_PLAIN, len + SEAL_OVERHEAD);
    return SQR_EINVAL;
  }
  sqr_rc rc = seal_prepare(hq_pub, &p);
  if(!rc) rc = seal_box_prepared(&p, plain, len, out, outsize, outlen);
  seal_prepared_wipe(&p);
  return rc;
}

sqr_rc seal_box_check(const uint8_t *box, size_t len, const void *out, size_t outsize,
                      size_t *plen) {
  if(!box || len < SEAL_OVERHEAD || len > SEAL_MAX_BOX) {
    log_error(COMP, "box is %zu bytes, want %d to %d", box ? len : 0, SEAL_OVERHEAD, SEAL_MAX_BOX);
    return SQR_EINVAL;
  }
  if(box[0] != SEAL_VERSION) {
    log_error(COMP, "box version %u is not supported (want %u)", (unsigned)box[0],
              (unsigned)SEAL_VERSION);
    return SQR_EINVAL;
  }
  *plen = len - SEAL_OVERHEAD;
  if(!out || outsize < *plen) {
    log_error(COMP, "plaintext buffer is %zu bytes, need %zu", out ? outsize : 0, *plen);
    return SQR_EINVAL;
  }
  return SQR_OK;
}

sqr_rc seal_box_decrypt(const uint8_t key[32], const uint8_t *box, size_t plen, void *out) {
  mbedtls_gcm_context gcm;
  sqr_rc rc = SQR_OK;
  mbedtls_gcm_init(&gcm);
  int mrc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 8 * AES_KEY_LEN);
  if(mrc) {
    rc = from_mbedtls(mrc, "setting the AES key");
  } else {
    mrc = mbedtls_gcm_auth_decrypt(&gcm, plen, box + OFF_NONCE, SEAL_NONCE_LEN, box, AAD_LEN,
                                   box + OFF_CT + plen, SEAL_TAG_LEN, box + OFF_CT, out);
    if(mrc == MBEDTLS_ERR_GCM_AUTH_FAILED) {
      log_warn(COMP, "box does not verify: sealed to another key, or tampered with");
      rc = SQR_EAUTH;
    } else if(mrc) {
      rc = from_mbedtls(mrc, "AES-GCM decryption");
    }
  }
  mbedtls_gcm_free(&gcm); /* zeroizes the AES key schedule */
  return rc;
}

sqr_rc seal_open(const uint8_t hq_priv[SEAL_PRIV_LEN], const uint8_t *box, size_t len, void *out,
                 size_t outsize, size_t *outlen) {
  mbedtls_ecp_group grp;
  mbedtls_ecp_point hq, eph;
  mbedtls_mpi d;
  uint8_t key[AES_KEY_LEN];
  uint8_t hq_pub[SEAL_PUB_LEN];
  size_t plen;
  sqr_rc rc;
  int mrc;

  if((rc = seal_box_check(box, len, out, outsize, &plen))) return rc;

  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&hq);
  mbedtls_ecp_point_init(&eph);
  mbedtls_mpi_init(&d);

  rc = load_group(&grp);
  if(rc) goto out;
  rc = read_priv(&grp, hq_priv, &d);
  if(rc) goto out;
  /* HQ's public point is part of the HKDF salt; recompute it from d rather
   * than take it as a second argument that could disagree with d. */
  mrc = mbedtls_ecp_mul(&grp, &hq, &d, &grp.G, crypto_rng, NULL);
  if(mrc) {
    rc = from_mbedtls(mrc, "deriving the HQ public key");
    goto out;
  }
  rc = write_pub(&grp, &hq, hq_pub);
  if(rc) goto out;
  /* A damaged ephemeral key is tampering like any other: SQR_EAUTH. */
  rc = read_pub(&grp, box + OFF_EPH, &eph, "box ephemeral key");
  if(rc == SQR_EINVAL) rc = SQR_EAUTH;
  if(rc) goto out;
  rc = derive_key(&grp, &d, &eph, box + OFF_EPH, hq_pub, key);
  if(rc) goto out;

  if((rc = seal_box_decrypt(key, box, plen, out))) goto out;
  *outlen = plen;

out:
  if(rc) crypto_wipe(out, plen);
  crypto_wipe(key, sizeof key);
  mbedtls_mpi_free(&d);
  mbedtls_ecp_point_free(&eph);
  mbedtls_ecp_point_free(&hq);
  mbedtls_ecp_group_free(&grp);
  return rc;
}

sqr_rc seal_blind_index_hmac(const uint8_t index_key[32], const char *phone,
                             uint8_t out[SEAL_BLIND_LEN]) {
  /* Bounded scan: never walk far into a string that is not a phone. */
  size_t n = phone ? strnlen(phone, BLIND_PHONE_LEN + 1) : 0;
  int ok = n == BLIND_PHONE_LEN && index_key;
  for(size_t i = 0; ok && i < n; i++)
    ok = phone[i] >= '0' && phone[i] <= '9';
  if(!ok) {
    log_error(COMP, "blind index needs a normalised phone number of %d digits", BLIND_PHONE_LEN);
    return SQR_EINVAL;
  }
  return crypto_hmac_sha256(index_key, CRYPTO_KEY_LEN, phone, BLIND_PHONE_LEN, out);
}

sqr_rc seal_blind_index(const uint8_t store_key[32], const char *phone,
                        uint8_t out[SEAL_BLIND_LEN]) {
  uint8_t key[CRYPTO_KEY_LEN];
  if(!store_key) return SQR_EINVAL;
  /* A key of its own, so the store key never MACs two kinds of thing. */
  sqr_rc rc =
      crypto_hkdf_sha256(NULL, 0, store_key, CRYPTO_KEY_LEN, CRYPTO_INFO_BLIND, key, sizeof key);
  if(!rc) rc = seal_blind_index_hmac(key, phone, out);
  crypto_wipe(key, sizeof key);
  return rc;
}
