/* test_seal_fast.c — HQ's nettle opener (sync/hq/ops/seal_fast.c) against
 * the kiosk's mbedtls construction (app/core/seal.c):
 *   - known answers made without our code (seal_vectors.py: python3
 *     cryptography, shared secrets checked with openssl) open in both;
 *   - boxes the kiosk seals (mbedtls) open in nettle, and boxes sealed here
 *     with nettle's own ECDH open in mbedtls' seal_open;
 *   - malformed boxes and keys are refused with the same sqr_rc by both,
 *     and a damaged ephemeral key is named as such in the log by both;
 *   - random boxes, valid and damaged, give the same answer in both.
 * No phone number may reach a log line. */
#include "testutil.h"

#include "crypto.h"
#include "log.h"
#include "seal.h"
#include "seal_fast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>
#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>

#include "seal_vectors.h"

static const char phone[] = "13812345678";

static char log_all[65536];

static void capture(log_level level, const char *line, void *ud) {
  (void)level;
  (void)ud;
  size_t used = strlen(log_all);
  if(used + strlen(line) + 2 < sizeof log_all)
    snprintf(log_all + used, sizeof log_all - used, "%s\n", line);
}

static int setup(void **state) {
  (void)state;
  log_set_level(LOG_DEBUG);
  log_set_sink(capture, NULL);
  log_all[0] = '\0';
  return 0;
}

static int teardown(void **state) {
  (void)state;
  assert_null(strstr(log_all, phone));
  assert_null(strstr(log_all, "15900001111"));
  log_set_sink(NULL, NULL);
  return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint32_t rnd(void) { /* xorshift: reproducible mutations */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 32);
}

/* Opens box with both openers; asserts they agree on the result and, when
 * it opens, on the plaintext. Returns the result. */
static sqr_rc open_both(const uint8_t priv[SEAL_PRIV_LEN], const seal_fast *o, const uint8_t *box,
                        size_t len, size_t outsize) {
  uint8_t a[SEAL_MAX_PLAIN + 8], b[SEAL_MAX_PLAIN + 8];
  size_t alen = 999, blen = 999;
  memset(a, 0xaa, sizeof a);
  memset(b, 0xaa, sizeof b);
  sqr_rc ra = seal_open(priv, box, len, a, outsize, &alen);
  sqr_rc rb = seal_fast_open(o, box, len, b, outsize, &blen);
  assert_int_equal(ra, rb);
  assert_int_equal(alen, blen);
  /* Same plaintext on success, the same wiping (or untouched buffer) on
   * refusal. */
  assert_memory_equal(a, b, sizeof a);
  return rb;
}

/* Boxes made by python3-cryptography open to their plaintext in both. */
static void test_known_answers(void **state) {
  (void)state;
  seal_fast *o = NULL;
  assert_int_equal(seal_fast_new(kat_hq_priv, &o), SQR_OK);
  assert_memory_equal(seal_fast_pub(o), kat_hq_pub, SEAL_PUB_LEN);
  for(size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
    uint8_t out[SEAL_MAX_PLAIN];
    size_t n = 999;
    print_message("vector: %s\n", kats[i].name);
    assert_int_equal(seal_fast_open(o, kats[i].box, kats[i].box_len, out, sizeof out, &n), SQR_OK);
    assert_int_equal(n, kats[i].plain_len);
    assert_memory_equal(out, kats[i].plain, n);
    n = 999;
    assert_int_equal(seal_open(kat_hq_priv, kats[i].box, kats[i].box_len, out, sizeof out, &n),
                     SQR_OK);
    assert_int_equal(n, kats[i].plain_len);
    assert_memory_equal(out, kats[i].plain, n);
  }
  /* The vectors cover the short shared X that must be left-padded. */
  assert_int_equal(kats[3].shared[0], 0);
  seal_fast_free(o);
}

/* The kiosk's seal_box (mbedtls) to nettle, every plaintext length. */
static void test_kiosk_boxes_open(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX], plain[SEAL_MAX_PLAIN];
  uint8_t out[SEAL_MAX_PLAIN];
  seal_fast *o = NULL;
  assert_int_equal(seal_keypair_generate(pub, priv), SQR_OK);
  assert_int_equal(seal_fast_new(priv, &o), SQR_OK);
  assert_memory_equal(seal_fast_pub(o), pub, SEAL_PUB_LEN);
  for(size_t len = 0; len <= SEAL_MAX_PLAIN; len++) {
    size_t n = 0, plen = 999;
    for(size_t i = 0; i < len; i++)
      plain[i] = (uint8_t)rnd();
    assert_int_equal(seal_box(pub, plain, len, box, sizeof box, &n), SQR_OK);
    assert_int_equal(seal_fast_open(o, box, n, out, sizeof out, &plen), SQR_OK);
    assert_int_equal(plen, len);
    if(len) assert_memory_equal(out, plain, len);
  }
  seal_fast_free(o);
  crypto_wipe(priv, sizeof priv);
}

/* The reverse direction: a box whose ECDH is nettle's (ephemeral e*G and
 * e*Q by ecc_point_mul_g / ecc_point_mul), finished with HKDF and GCM as
 * seal.h describes, opens in mbedtls' seal_open. */
static void nettle_seal(const uint8_t hq_pub[SEAL_PUB_LEN], const void *plain, size_t len,
                        uint8_t *box) {
  const struct ecc_curve *c = nettle_get_secp_256r1();
  struct ecc_scalar e;
  struct ecc_point q, eph, s;
  mpz_t x, y;
  uint8_t ed[32], shared[32], salt[2 * SEAL_PUB_LEN], key[32];

  ecc_scalar_init(&e, c);
  ecc_point_init(&q, c);
  ecc_point_init(&eph, c);
  ecc_point_init(&s, c);
  do {
    assert_int_equal(crypto_random(ed, sizeof ed), SQR_OK);
    nettle_mpz_init_set_str_256_u(x, sizeof ed, ed);
    int ok = ecc_scalar_set(&e, x);
    mpz_clear(x);
    if(ok) break;
  } while(1);
  nettle_mpz_init_set_str_256_u(x, 32, hq_pub + 1);
  nettle_mpz_init_set_str_256_u(y, 32, hq_pub + 33);
  assert_true(ecc_point_set(&q, x, y));
  ecc_point_mul_g(&eph, &e);
  ecc_point_get(&eph, x, y);
  box[0] = SEAL_VERSION;
  box[1] = 0x04;
  nettle_mpz_get_str_256(32, box + 2, x);
  nettle_mpz_get_str_256(32, box + 34, y);
  ecc_point_mul(&s, &e, &q);
  ecc_point_get(&s, x, NULL);
  nettle_mpz_get_str_256(32, shared, x);
  mpz_clear(x);
  mpz_clear(y);
  memcpy(salt, box + 1, SEAL_PUB_LEN);
  memcpy(salt + SEAL_PUB_LEN, hq_pub, SEAL_PUB_LEN);
  assert_int_equal(
      crypto_hkdf_sha256(salt, sizeof salt, shared, sizeof shared, SEAL_INFO, key, sizeof key),
      SQR_OK);
  assert_int_equal(crypto_random(box + 66, SEAL_NONCE_LEN), SQR_OK);
  mbedtls_gcm_context g;
  mbedtls_gcm_init(&g);
  assert_int_equal(mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256), 0);
  assert_int_equal(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, box + 66, 12, box, 66,
                                             plain, box + 78, 16, box + 78 + len),
                   0);
  mbedtls_gcm_free(&g);
  ecc_point_clear(&s);
  ecc_point_clear(&eph);
  ecc_point_clear(&q);
  ecc_scalar_clear(&e);
}

static void test_nettle_boxes_open_in_mbedtls(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX], out[SEAL_MAX_PLAIN];
  assert_int_equal(seal_keypair_generate(pub, priv), SQR_OK);
  for(int i = 0; i < 20; i++) {
    size_t plen = 999;
    nettle_seal(pub, phone, strlen(phone), box);
    assert_int_equal(seal_open(priv, box, strlen(phone) + SEAL_OVERHEAD, out, sizeof out, &plen),
                     SQR_OK);
    assert_int_equal(plen, strlen(phone));
    assert_memory_equal(out, phone, plen);
  }
  crypto_wipe(priv, sizeof priv);
}

/* A P-256 coordinate field of p itself (out of range) and the y of the
 * curve's point with x = 0: (p, y) satisfies the curve equation mod p, so
 * only the range check refuses it. */
static const uint8_t p256_p[32] =
    "\xff\xff\xff\xff\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
static const uint8_t y_at_x0[32] =
    "\x66\x48\x5c\x78\x0e\x2f\x83\xd7\x24\x33\xbd\x5d\x84\xa0\x6b\xb6"
    "\x54\x1c\x2a\xf3\x1d\xae\x87\x17\x28\xbf\x85\x6a\x17\x4f\x93\xf4";

/* Each kind of malformed box, refused the same way by both openers, and a
 * damaged ephemeral key named in the log by both. */
static void test_malformed_refused_alike(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], good[SEAL_MAX_BOX + 8], box[SEAL_MAX_BOX + 8];
  uint8_t other_pub[SEAL_PUB_LEN], other_priv[SEAL_PRIV_LEN];
  size_t n = 0;
  seal_fast *o = NULL;
  assert_int_equal(seal_keypair_generate(pub, priv), SQR_OK);
  assert_int_equal(seal_keypair_generate(other_pub, other_priv), SQR_OK);
  assert_int_equal(seal_fast_new(priv, &o), SQR_OK);
  assert_int_equal(seal_box(pub, phone, strlen(phone), good, SEAL_MAX_BOX, &n), SQR_OK);
  uint8_t *eph = box + 1, *x = box + 2, *y = box + 34;
  size_t tag = n - SEAL_TAG_LEN, ct = 78;

  enum { SAME, BAD_EPH_PREFIX, BAD_EPH_POINT };
  struct {
    const char *name;
    int how;
    size_t len;
    sqr_rc want;
    int log_kind;
  } cases[] = {
      {"intact", 0, n, SQR_OK, SAME},
      {"truncated to nothing", 0, 0, SQR_EINVAL, SAME},
      {"truncated below the overhead", 0, SEAL_OVERHEAD - 1, SQR_EINVAL, SAME},
      {"truncated by one byte (tag short)", 0, n - 1, SQR_EAUTH, SAME},
      {"longer than any box", 0, SEAL_MAX_BOX + 1, SQR_EINVAL, SAME},
      {"version 2", 1, n, SQR_EINVAL, SAME},
      {"compressed ephemeral point", 2, n, SQR_EAUTH, BAD_EPH_PREFIX},
      {"point at infinity (0x00)", 3, n, SQR_EAUTH, BAD_EPH_PREFIX},
      {"all-zero coordinates", 4, n, SQR_EAUTH, BAD_EPH_POINT},
      {"y + 1: not on the curve", 5, n, SQR_EAUTH, BAD_EPH_POINT},
      {"x = p: on the curve mod p, out of range", 6, n, SQR_EAUTH, BAD_EPH_POINT},
      {"-P: a valid point, not the one sealed with", 7, n, SQR_EAUTH, SAME},
      {"wrong tag", 8, n, SQR_EAUTH, SAME},
      {"damaged ciphertext", 9, n, SQR_EAUTH, SAME},
      {"damaged nonce", 10, n, SQR_EAUTH, SAME},
      {"sealed to another key", 11, n, SQR_EAUTH, SAME},
  };
  for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    print_message("case: %s\n", cases[i].name);
    memcpy(box, good, sizeof good);
    switch(cases[i].how) {
    case 1:
      box[0] = 2;
      break;
    case 2:
      eph[0] = 0x02;
      break;
    case 3:
      memset(eph, 0, SEAL_PUB_LEN);
      break;
    case 4:
      memset(x, 0, 64);
      break;
    case 5:
      y[31] ^= 1;
      break; /* y and y^1 cannot both fit x */
    case 6:
      memcpy(x, p256_p, 32);
      memcpy(y, y_at_x0, 32);
      break;
    case 7: { /* -y = p - y, big-endian subtraction */
      int borrow = 0;
      for(int k = 31; k >= 0; k--) {
        int d = p256_p[k] - y[k] - borrow;
        borrow = d < 0;
        y[k] = (uint8_t)(d + (borrow ? 256 : 0));
      }
      break;
    }
    case 8:
      box[tag] ^= 0x80;
      break;
    case 9:
      box[ct] ^= 0x01;
      break;
    case 10:
      box[66] ^= 0x01;
      break;
    case 11: {
      size_t m = 0;
      assert_int_equal(seal_box(other_pub, phone, strlen(phone), box, SEAL_MAX_BOX, &m), SQR_OK);
      break;
    }
    default:
      break;
    }
    log_all[0] = '\0';
    assert_int_equal(open_both(priv, o, box, cases[i].len, SEAL_MAX_PLAIN), cases[i].want);
    /* Both openers said why: the reason appears twice. */
    const char *why = cases[i].log_kind == BAD_EPH_PREFIX  ? "is not an uncompressed point"
                      : cases[i].log_kind == BAD_EPH_POINT ? "is not a point on P-256"
                                                           : NULL;
    if(why) {
      const char *first = strstr(log_all, why);
      assert_non_null(first);
      assert_non_null(strstr(first + 1, why));
    }
  }
  /* NULL box, and an output buffer one byte short. */
  assert_int_equal(open_both(priv, o, NULL, n, SEAL_MAX_PLAIN), SQR_EINVAL);
  assert_int_equal(open_both(priv, o, good, n, strlen(phone) - 1), SQR_EINVAL);
  assert_int_equal(open_both(priv, o, good, n, strlen(phone)), SQR_OK);

  /* Private keys outside 1..n-1 make no opener, as seal_open refuses them. */
  static const uint8_t n_order[32] =
      "\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"
      "\xbc\xe6\xfa\xad\xa7\x17\x9e\x84\xf3\xb9\xca\xc2\xfc\x63\x25\x51";
  uint8_t bad[3][32], out[SEAL_MAX_PLAIN];
  memset(bad[0], 0, 32);
  memcpy(bad[1], n_order, 32);
  memset(bad[2], 0xff, 32);
  for(int i = 0; i < 3; i++) {
    seal_fast *none = (seal_fast *)bad[i]; /* must be reset to NULL */
    size_t plen = 0;
    assert_int_equal(seal_fast_new(bad[i], &none), SQR_EINVAL);
    assert_null(none);
    assert_int_equal(seal_open(bad[i], good, n, out, sizeof out, &plen), SQR_EINVAL);
  }
  /* n - 1 is the largest valid key. */
  uint8_t top[32];
  memcpy(top, n_order, 32);
  top[31]--;
  seal_fast *t = NULL;
  assert_int_equal(seal_fast_new(top, &t), SQR_OK);
  seal_fast_free(t);
  seal_fast_free(NULL);

  seal_fast_free(o);
  crypto_wipe(priv, sizeof priv);
  crypto_wipe(other_priv, sizeof other_priv);
}

/* Random boxes through both openers: valid ones of random lengths, and
 * ones damaged at random (a flipped bit anywhere, a random length, a random
 * or another valid ephemeral point, random bytes). */
static void test_differential(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX + 8], plain[SEAL_MAX_PLAIN];
  uint8_t pub2[SEAL_PUB_LEN], priv2[SEAL_PRIV_LEN];
  seal_fast *o = NULL;
  int counts[4] = {0}; /* OK, EINVAL, EAUTH, other */
  const char *env = getenv("SQR_SEAL_DIFF_N");
  int rounds = env ? atoi(env) : 400;
  assert_int_equal(seal_keypair_generate(pub, priv), SQR_OK);
  assert_int_equal(seal_fast_new(priv, &o), SQR_OK);
  for(int r = 0; r < rounds; r++) {
    size_t len = rnd() % (SEAL_MAX_PLAIN + 1), n = 0;
    for(size_t i = 0; i < len; i++)
      plain[i] = (uint8_t)rnd();
    assert_int_equal(seal_box(pub, plain, len, box, SEAL_MAX_BOX, &n), SQR_OK);
    switch(rnd() % 7) {
    case 0:
      break; /* intact */
    case 1:
      box[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
      break;
    case 2:
      n = rnd() % (SEAL_MAX_BOX + 8);
      break;
    case 3: /* random coordinates behind a valid prefix */
      for(size_t i = 2; i < 2 + 64; i++)
        box[i] = (uint8_t)rnd();
      break;
    case 4: /* another valid point */
      assert_int_equal(seal_keypair_generate(pub2, priv2), SQR_OK);
      memcpy(box + 1, pub2, SEAL_PUB_LEN);
      break;
    case 5:
      for(size_t i = 0; i < n; i++)
        box[i] = (uint8_t)rnd();
      if(rnd() % 2) box[0] = SEAL_VERSION;
      break;
    case 6:
      box[1] = (uint8_t)rnd();
      break;
    }
    sqr_rc rc = open_both(priv, o, box, n, SEAL_MAX_PLAIN);
    counts[rc == SQR_OK ? 0 : rc == SQR_EINVAL ? 1 : rc == SQR_EAUTH ? 2 : 3]++;
  }
  print_message("%d rounds: %d opened, %d EINVAL, %d EAUTH, %d other\n", rounds, counts[0],
                counts[1], counts[2], counts[3]);
  /* The mix reached every outcome, and nothing else. */
  assert_true(counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
  assert_int_equal(counts[3], 0);
  seal_fast_free(o);
  crypto_wipe(priv, sizeof priv);
  crypto_wipe(priv2, sizeof priv2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_known_answers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kiosk_boxes_open, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nettle_boxes_open_in_mbedtls, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_refused_alike, setup, teardown),
      cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
