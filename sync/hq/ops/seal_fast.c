/* seal_fast.c — see seal_fast.h. The ECDH is nettle's; HKDF and AES-GCM
 * are the same calls seal.c makes, so only the scalar multiplication
 * differs between the two openers. Log lines name the problem, never a
 * byte of a key, a secret or a plaintext. */
#include "seal_fast.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>
#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>

#include "crypto.h"
#include "log.h"

#define COMP "seal"

/* Offsets into a box (seal.h "Box layout"). */
#define OFF_EPH     1
#define AES_KEY_LEN 32
#define COORD_LEN   32

struct seal_fast {
  struct ecc_scalar d;
  uint8_t pub[SEAL_PUB_LEN];
};

/* GMP's memory functions, wiping what they give back. nettle allocates the
 * scratch of a scalar multiplication through GMP and frees it as is; it
 * holds the shared point, from which any box's key follows. GMP requires
 * allocation never to fail (its own default aborts too). */
static void *wipe_alloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if(!p) {
    log_error(COMP, "out of memory in GMP (%zu bytes)", n);
    abort();
  }
  return p;
}

static void wipe_free(void *p, size_t n) {
  if(!p) return;
  crypto_wipe(p, n);
  free(p);
}

static void *wipe_realloc(void *old, size_t oldn, size_t n) {
  void *p = wipe_alloc(n);
  if(old) memcpy(p, old, oldn < n ? oldn : n);
  wipe_free(old, oldn);
  return p;
}

static pthread_once_t wipe_once = PTHREAD_ONCE_INIT;

static void install_wiping_gmp(void) {
  mp_set_memory_functions(wipe_alloc, wipe_realloc, wipe_free);
}

/* pub = 0x04 | X | Y of an affine point. */
static void write_point(const struct ecc_point *p, uint8_t pub[SEAL_PUB_LEN]) {
  mpz_t x, y;
  mpz_init(x);
  mpz_init(y);
  ecc_point_get(p, x, y);
  pub[0] = 0x04;
  nettle_mpz_get_str_256(COORD_LEN, pub + 1, x);
  nettle_mpz_get_str_256(COORD_LEN, pub + 1 + COORD_LEN, y);
  mpz_clear(x);
  mpz_clear(y);
}

sqr_rc seal_fast_new(const uint8_t hq_priv[SEAL_PRIV_LEN], seal_fast **out) {
  const struct ecc_curve *curve = nettle_get_secp_256r1();
  struct ecc_point q;
  mpz_t z;
  int ok;

  *out = NULL;
  pthread_once(&wipe_once, install_wiping_gmp);
  seal_fast *o = calloc(1, sizeof *o);
  if(!o) return SQR_ENOMEM;
  ecc_scalar_init(&o->d, curve);
  nettle_mpz_init_set_str_256_u(z, SEAL_PRIV_LEN, hq_priv);
  ok = ecc_scalar_set(&o->d, z); /* 0 unless 1 <= z < n */
  mpz_clear(z);                  /* wiped by wipe_free */
  if(!ok) {
    log_error(COMP, "private key is not a valid P-256 scalar (must be 1..n-1)");
    seal_fast_free(o);
    return SQR_EINVAL;
  }
  /* HQ's point is part of every box's HKDF salt: derived once here from d,
   * as seal_open derives it per box, so it cannot disagree with d. */
  ecc_point_init(&q, curve);
  ecc_point_mul_g(&q, &o->d);
  write_point(&q, o->pub);
  ecc_point_clear(&q);
  *out = o;
  return SQR_OK;
}

void seal_fast_free(seal_fast *o) {
  if(!o) return;
  if(o->d.p) {
    /* The scalar's limbs go back through wipe_free; wipe them here too so
     * the opener is clean even if another allocator was installed later. */
    crypto_wipe(o->d.p, (size_t)ecc_size(o->d.ecc) * sizeof(mp_limb_t));
    ecc_scalar_clear(&o->d);
  }
  crypto_wipe(o, sizeof *o);
  free(o);
}

const uint8_t *seal_fast_pub(const seal_fast *o) {
  return o->pub;
}

/* Reads the box's ephemeral key into p. Checking it is on the curve is
 * what stops invalid-curve attacks on the ECDH that follows; nettle's
 * ecc_point_set checks 0 <= x, y < p and the curve equation. As in
 * seal_open, a damaged key is tampering: SQR_EAUTH. */
int seal_fast_point_set(struct ecc_point *p, const uint8_t x[32], const uint8_t y[32]) {
  mpz_t mx, my;
  nettle_mpz_init_set_str_256_u(mx, COORD_LEN, x);
  nettle_mpz_init_set_str_256_u(my, COORD_LEN, y);
  int ok = ecc_point_set(p, mx, my);
  mpz_clear(mx);
  mpz_clear(my);
  return ok;
}

static sqr_rc read_eph(const uint8_t eph[SEAL_PUB_LEN], struct ecc_point *p) {
  if(eph[0] != 0x04) {
    log_error(COMP, "box ephemeral key is not an uncompressed point (first byte 0x%02x, want 0x04)",
              eph[0]);
    return SQR_EAUTH;
  }
  if(!seal_fast_point_set(p, eph + 1, eph + 1 + COORD_LEN)) {
    log_error(COMP, "box ephemeral key is not a point on P-256");
    return SQR_EAUTH;
  }
  return SQR_OK;
}

/* The box key: HKDF over the shared X, as seal.c's derive_key. d is in
 * 1..n-1 and P a valid point of prime order n, so d*P is never the point
 * at infinity. */
static sqr_rc derive_key(const seal_fast *o, const struct ecc_point *eph_point,
                         const uint8_t eph_pub[SEAL_PUB_LEN], uint8_t key[AES_KEY_LEN]) {
  struct ecc_point r;
  uint8_t shared[COORD_LEN], salt[2 * SEAL_PUB_LEN];
  mpz_t x;
  sqr_rc rc;

  ecc_point_init(&r, o->d.ecc);
  ecc_point_mul(&r, &o->d, eph_point);
  mpz_init(x);
  ecc_point_get(&r, x, NULL);
  /* Left-padded to 32 bytes: a short X must not shorten the IKM. */
  nettle_mpz_get_str_256(sizeof shared, shared, x);
  mpz_clear(x);
  crypto_wipe(r.p, 2 * (size_t)ecc_size(o->d.ecc) * sizeof(mp_limb_t));
  ecc_point_clear(&r);
  memcpy(salt, eph_pub, SEAL_PUB_LEN);
  memcpy(salt + SEAL_PUB_LEN, o->pub, SEAL_PUB_LEN);
  rc = crypto_hkdf_sha256(salt, sizeof salt, shared, sizeof shared, SEAL_INFO, key, AES_KEY_LEN);
  crypto_wipe(shared, sizeof shared);
  return rc;
}

sqr_rc seal_fast_open(const seal_fast *o, const uint8_t *box, size_t len, void *out, size_t outsize,
                      size_t *outlen) {
  struct ecc_point eph;
  uint8_t key[AES_KEY_LEN];
  size_t plen;
  sqr_rc rc;

  /* The same checks, in the same order, as seal_open. */
  if((rc = seal_box_check(box, len, out, outsize, &plen))) return rc;

  ecc_point_init(&eph, o->d.ecc);
  rc = read_eph(box + OFF_EPH, &eph);
  if(rc) goto out;
  rc = derive_key(o, &eph, box + OFF_EPH, key);
  if(rc) goto out;
  rc = seal_box_decrypt(key, box, plen, out);
  if(rc) goto out;
  *outlen = plen;
out:
  if(rc) crypto_wipe(out, plen);
  crypto_wipe(key, sizeof key);
  ecc_point_clear(&eph);
  return rc;
}
