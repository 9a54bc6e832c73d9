/* test_seal.c — sealed boxes (round trip, tampering, truncation, layout),
 * key encodings and the blind index. */
#include "testutil.h"
#include "seal.h"
#include "crypto.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>

static const char phone[] = "13812345678";

/* Log lines are captured so tests can check that errors name the problem
 * and that nothing secret is ever written. */
static char log_all[16384];
static int error_lines;

static void capture(log_level level, const char *line, void *ud) {
  (void)ud;
  if(level <= LOG_ERROR) error_lines++;
  size_t used = strlen(log_all);
  snprintf(log_all + used, sizeof log_all - used, "%s\n", line);
}

static void log_reset(void) {
  log_all[0] = '\0';
  error_lines = 0;
}

static int setup(void **state) {
  (void)state;
  log_set_level(LOG_DEBUG);
  log_set_sink(capture, NULL);
  log_reset();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  /* No test may leave a phone number in a log line, even a scrubbed one. */
  assert_null(strstr(log_all, phone));
  assert_null(strstr(log_all, "###########"));
  log_set_sink(NULL, NULL);
  return 0;
}

/* 1 if needle occurs in hay (memmem is a GNU extension). */
static int contains(const void *hay, size_t hlen, const void *needle, size_t nlen) {
  const uint8_t *h = hay;
  for(size_t i = 0; i + nlen <= hlen; i++)
    if(memcmp(h + i, needle, nlen) == 0) return 1;
  return 0;
}

static void keypair(uint8_t pub[SEAL_PUB_LEN], uint8_t priv[SEAL_PRIV_LEN]) {
  assert_int_equal(seal_keypair_generate(pub, priv), SQR_OK);
}

static size_t box_phone(const uint8_t pub[SEAL_PUB_LEN], uint8_t box[SEAL_MAX_BOX]) {
  size_t n = 0;
  assert_int_equal(seal_box(pub, phone, strlen(phone), box, SEAL_MAX_BOX, &n), SQR_OK);
  assert_int_equal(n, strlen(phone) + SEAL_OVERHEAD);
  return n;
}

static void test_round_trip(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n, plen = 0;

  keypair(pub, priv);
  n = box_phone(pub, box);
  assert_int_equal(box[0], SEAL_VERSION);
  assert_int_equal(seal_open(priv, box, n, plain, sizeof plain, &plen), SQR_OK);
  assert_int_equal(plen, strlen(phone));
  assert_memory_equal(plain, phone, plen);

  /* Both ends of the plaintext range. */
  uint8_t big[SEAL_MAX_PLAIN], bigbox[SEAL_MAX_BOX], back[SEAL_MAX_PLAIN];
  for(size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 7 + 1);
  assert_int_equal(seal_box(pub, big, sizeof big, bigbox, sizeof bigbox, &n), SQR_OK);
  assert_int_equal(n, SEAL_MAX_BOX);
  assert_int_equal(seal_open(priv, bigbox, n, back, sizeof back, &plen), SQR_OK);
  assert_int_equal(plen, sizeof big);
  assert_memory_equal(back, big, sizeof big);

  assert_int_equal(seal_box(pub, NULL, 0, bigbox, sizeof bigbox, &n), SQR_OK);
  assert_int_equal(n, SEAL_OVERHEAD);
  assert_int_equal(seal_open(priv, bigbox, n, back, sizeof back, &plen), SQR_OK);
  assert_int_equal(plen, 0);

  uint8_t toobig[SEAL_MAX_PLAIN + 1] = {0};
  uint8_t hugebox[SEAL_MAX_BOX + 16];
  assert_int_equal(seal_box(pub, toobig, sizeof toobig, hugebox, sizeof hugebox, &n), SQR_EINVAL);
  crypto_wipe(priv, sizeof priv);
}

/* A prepared key seals one box that HQ opens like any other, and is spent. */
static void test_prepared_key_seals_once(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX], box2[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n = 0, n2 = 0, plen = 0;
  seal_prepared p, q;

  keypair(pub, priv);
  assert_int_equal(seal_prepare(pub, &p), SQR_OK);
  assert_true(p.ready);
  assert_int_equal(seal_box_prepared(&p, phone, strlen(phone), box, sizeof box, &n), SQR_OK);
  assert_int_equal(n, strlen(phone) + SEAL_OVERHEAD);
  assert_int_equal(seal_open(priv, box, n, plain, sizeof plain, &plen), SQR_OK);
  assert_memory_equal(plain, phone, plen);
  /* Spent: the same key can never seal a second message. */
  assert_false(p.ready);
  assert_int_equal(seal_box_prepared(&p, phone, strlen(phone), box2, sizeof box2, &n2), SQR_EINVAL);
  /* Two prepared keys share nothing. */
  assert_int_equal(seal_prepare(pub, &p), SQR_OK);
  assert_int_equal(seal_prepare(pub, &q), SQR_OK);
  assert_memory_not_equal(p.eph_pub, q.eph_pub, SEAL_PUB_LEN);
  seal_prepared_wipe(&p);
  seal_prepared_wipe(&q);
  /* An invalid HQ key cannot be prepared for. */
  uint8_t bad[SEAL_PUB_LEN] = {0x04};
  assert_int_equal(seal_prepare(bad, &p), SQR_EINVAL);
  assert_false(p.ready);
  crypto_wipe(priv, sizeof priv);
}

/* Checks the box against the documented layout with mbedtls directly, so a
 * mistake made identically in seal_box and seal_open cannot hide. */
static void test_layout_matches_spec(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX];
  size_t n;
  keypair(pub, priv);
  n = box_phone(pub, box);
  assert_int_equal(SEAL_OVERHEAD, 1 + 65 + 12 + 16);
  assert_int_equal(box[1], 0x04);

  mbedtls_ecp_group grp;
  mbedtls_ecp_point eph;
  mbedtls_mpi d, z;
  mbedtls_gcm_context gcm;
  uint8_t shared[32], salt[130], key[32], plain[SEAL_MAX_PLAIN];
  mbedtls_ecp_group_init(&grp);
  mbedtls_ecp_point_init(&eph);
  mbedtls_mpi_init(&d);
  mbedtls_mpi_init(&z);
  mbedtls_gcm_init(&gcm);
  assert_int_equal(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1), 0);
  assert_int_equal(mbedtls_ecp_point_read_binary(&grp, &eph, box + 1, 65), 0);
  assert_int_equal(mbedtls_mpi_read_binary(&d, priv, 32), 0);
  assert_int_equal(mbedtls_ecdh_compute_shared(&grp, &z, &eph, &d, crypto_rng, NULL), 0);
  assert_int_equal(mbedtls_mpi_write_binary(&z, shared, 32), 0);
  memcpy(salt, box + 1, 65);
  memcpy(salt + 65, pub, 65);
  assert_int_equal(crypto_hkdf_sha256(salt, sizeof salt, shared, 32, "storeqr/v1/seal", key, 32),
                   SQR_OK);
  assert_int_equal(mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256), 0);
  size_t plen = n - SEAL_OVERHEAD;
  assert_int_equal(mbedtls_gcm_auth_decrypt(&gcm, plen, box + 66, 12, box, 66, box + 78 + plen, 16,
                                            box + 78, plain),
                   0);
  assert_memory_equal(plain, phone, plen);
  mbedtls_gcm_free(&gcm);
  mbedtls_mpi_free(&z);
  mbedtls_mpi_free(&d);
  mbedtls_ecp_point_free(&eph);
  mbedtls_ecp_group_free(&grp);
}

static void test_boxes_differ_and_hide_plaintext(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], a[SEAL_MAX_BOX], b[SEAL_MAX_BOX];
  size_t na, nb;
  keypair(pub, priv);
  na = box_phone(pub, a);
  nb = box_phone(pub, b);
  assert_int_equal(na, nb);
  assert_memory_not_equal(a + 1, b + 1, SEAL_PUB_LEN);                /* ephemeral key */
  assert_memory_not_equal(a + 1 + SEAL_PUB_LEN, b + 1 + SEAL_PUB_LEN, /* nonce */
                          SEAL_NONCE_LEN);
  assert_memory_not_equal(a, b, na);
  assert_false(contains(a, na, phone, strlen(phone)));
  assert_false(contains(b, nb, phone, strlen(phone)));
  /* Nor any 4-byte run of it (a leak of part of the number). */
  for(size_t i = 0; i + 4 <= strlen(phone); i++) {
    assert_false(contains(a + 1 + SEAL_PUB_LEN + SEAL_NONCE_LEN, na - SEAL_OVERHEAD + SEAL_TAG_LEN,
                          phone + i, 4));
  }
  /* The ephemeral key is not HQ's key. */
  assert_memory_not_equal(a + 1, pub, SEAL_PUB_LEN);
}

static void test_wrong_key_is_eauth(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], pub2[SEAL_PUB_LEN], priv2[SEAL_PRIV_LEN];
  uint8_t box[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n, plen = 99;
  keypair(pub, priv);
  keypair(pub2, priv2);
  n = box_phone(pub, box);
  memset(plain, 'x', sizeof plain);
  assert_int_equal(seal_open(priv2, box, n, plain, sizeof plain, &plen), SQR_EAUTH);
  assert_int_equal(plen, 99);
  /* Nothing of the plaintext is left behind on failure. */
  assert_false(contains(plain, sizeof plain, phone, strlen(phone)));

  /* A private key that is not a scalar of the curve. */
  uint8_t zero[SEAL_PRIV_LEN] = {0};
  assert_int_equal(seal_open(zero, box, n, plain, sizeof plain, &plen), SQR_EINVAL);
}

static void test_every_byte_flip_fails(void **state) {
  (void)state;
  static const uint8_t masks[] = {0x01, 0x80, 0xff};
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX], bad[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n, plen;
  keypair(pub, priv);
  n = box_phone(pub, box);
  for(size_t i = 0; i < n; i++) {
    for(size_t m = 0; m < SQR_ARRAY_LEN(masks); m++) {
      memcpy(bad, box, n);
      bad[i] ^= masks[m];
      sqr_rc rc = seal_open(priv, bad, n, plain, sizeof plain, &plen);
      if(rc == SQR_OK) fail_msg("flip of byte %zu with 0x%02x opened", i, masks[m]);
      /* Version byte: EINVAL; anything else is tampering: EAUTH. */
      assert_int_equal(rc, i == 0 ? SQR_EINVAL : SQR_EAUTH);
    }
  }
  /* Untouched, it still opens. */
  assert_int_equal(seal_open(priv, box, n, plain, sizeof plain, &plen), SQR_OK);
}

static void test_truncated_boxes_fail(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n, plen;
  keypair(pub, priv);
  n = box_phone(pub, box);
  for(size_t len = 0; len < n; len++) {
    /* Copy to an exact-size heap buffer so ASan sees any over-read. */
    uint8_t *t = test_malloc(len ? len : 1);
    memcpy(t, box, len);
    sqr_rc rc = seal_open(priv, t, len, plain, sizeof plain, &plen);
    test_free(t);
    if(rc == SQR_OK) fail_msg("box truncated to %zu bytes opened", len);
    assert_int_equal(rc, len < SEAL_OVERHEAD ? SQR_EINVAL : SQR_EAUTH);
  }
  /* Too long: trailing garbage is not ignored. */
  uint8_t longer[SEAL_MAX_BOX + 1];
  memcpy(longer, box, n);
  longer[n] = 0;
  assert_int_not_equal(seal_open(priv, longer, n + 1, plain, sizeof plain, &plen), SQR_OK);
  assert_int_equal(seal_open(priv, longer, sizeof longer, plain, sizeof plain, &plen), SQR_EINVAL);
  assert_int_equal(seal_open(priv, NULL, n, plain, sizeof plain, &plen), SQR_EINVAL);
}

static void test_bad_version(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n, plen;
  keypair(pub, priv);
  n = box_phone(pub, box);
  box[0] = 0x02;
  log_reset();
  assert_int_equal(seal_open(priv, box, n, plain, sizeof plain, &plen), SQR_EINVAL);
  assert_non_null(strstr(log_all, "version 2"));
  box[0] = 0x00;
  assert_int_equal(seal_open(priv, box, n, plain, sizeof plain, &plen), SQR_EINVAL);
}

static void test_outsize_too_small(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], box[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n, plen = 77;
  keypair(pub, priv);
  size_t need = strlen(phone) + SEAL_OVERHEAD;
  n = 77;
  assert_int_equal(seal_box(pub, phone, strlen(phone), box, need - 1, &n), SQR_EINVAL);
  assert_int_equal(n, 77);
  assert_int_equal(seal_box(pub, phone, strlen(phone), NULL, need, &n), SQR_EINVAL);
  assert_int_equal(seal_box(pub, phone, strlen(phone), box, need, &n), SQR_OK);
  assert_int_equal(n, need);
  assert_int_equal(seal_open(priv, box, n, plain, strlen(phone) - 1, &plen), SQR_EINVAL);
  assert_int_equal(plen, 77);
  assert_int_equal(seal_open(priv, box, n, plain, strlen(phone), &plen), SQR_OK);
  assert_int_equal(plen, strlen(phone));
}

static void test_b64_round_trips(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], pub2[SEAL_PUB_LEN], priv2[SEAL_PRIV_LEN];
  char pub64[SEAL_PUB_B64_LEN], priv64[SEAL_PRIV_B64_LEN];
  keypair(pub, priv);
  assert_int_equal(seal_pub_to_b64(pub, pub64), SQR_OK);
  assert_int_equal(strlen(pub64), SEAL_PUB_B64_LEN - 1);
  assert_int_equal(seal_pub_from_b64(pub64, pub2), SQR_OK);
  assert_memory_equal(pub, pub2, SEAL_PUB_LEN);
  assert_int_equal(seal_priv_to_b64(priv, priv64), SQR_OK);
  assert_int_equal(strlen(priv64), SEAL_PRIV_B64_LEN - 1);
  assert_int_equal(seal_priv_from_b64(priv64, priv2), SQR_OK);
  assert_memory_equal(priv, priv2, SEAL_PRIV_LEN);

  /* Keys read back from text still work together. */
  uint8_t box[SEAL_MAX_BOX];
  char plain[SEAL_MAX_PLAIN];
  size_t n, plen;
  n = box_phone(pub2, box);
  assert_int_equal(seal_open(priv2, box, n, plain, sizeof plain, &plen), SQR_OK);
  assert_memory_equal(plain, phone, plen);
  /* The private key never reached a log line. */
  assert_null(strstr(log_all, priv64));
}

static void expect_bad_pub(const char *b64, const char *why) {
  uint8_t pub[SEAL_PUB_LEN];
  memset(pub, 0xaa, sizeof pub);
  log_reset();
  assert_int_equal(seal_pub_from_b64(b64, pub), SQR_EINVAL);
  assert_int_equal(error_lines, 1);
  if(!strstr(log_all, why)) fail_msg("log %s does not say '%s'", log_all, why);
  uint8_t zero[SEAL_PUB_LEN] = {0};
  assert_memory_equal(pub, zero, sizeof pub);
}

static void test_invalid_public_keys(void **state) {
  (void)state;
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN], bad[SEAL_PUB_LEN];
  char b64[2 * SEAL_PUB_B64_LEN];
  keypair(pub, priv);

  /* Not on the curve: one bit of Y changed. */
  memcpy(bad, pub, sizeof bad);
  bad[SEAL_PUB_LEN - 1] ^= 1;
  assert_int_equal(crypto_b64(bad, sizeof bad, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "not a point on P-256");
  /* Coordinates out of range. */
  memset(bad + 1, 0xff, SEAL_PUB_LEN - 1);
  assert_int_equal(crypto_b64(bad, sizeof bad, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "not a point on P-256");
  /* Compressed-point prefix with an uncompressed length. */
  memcpy(bad, pub, sizeof bad);
  bad[0] = 0x02;
  assert_int_equal(crypto_b64(bad, sizeof bad, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "not an uncompressed point");
  /* All zero (what an unset config field decodes to). */
  memset(bad, 0, sizeof bad);
  assert_int_equal(crypto_b64(bad, sizeof bad, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "not an uncompressed point");

  /* Wrong lengths: 64, 66 and 67 bytes, and the 32-byte private key. */
  assert_int_equal(crypto_b64(pub, 64, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "decodes to 64 bytes");
  uint8_t longer[SEAL_PUB_LEN + 1];
  memcpy(longer, pub, SEAL_PUB_LEN);
  longer[SEAL_PUB_LEN] = 0;
  assert_int_equal(crypto_b64(longer, sizeof longer, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "decodes to 66 bytes");
  uint8_t longest[SEAL_PUB_LEN + 2] = {0};
  memcpy(longest, pub, SEAL_PUB_LEN);
  assert_int_equal(crypto_b64(longest, sizeof longest, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "must be 88 base64 characters");
  assert_int_equal(crypto_b64(priv, sizeof priv, b64, sizeof b64), SQR_OK);
  expect_bad_pub(b64, "must be 88 base64 characters");
  expect_bad_pub("", "must be 88 base64 characters");
  expect_bad_pub(NULL, "missing");

  /* Garbage of the right length. */
  memset(b64, '!', 88);
  b64[88] = '\0';
  expect_bad_pub(b64, "not valid base64");

  /* seal_box and seal_pub_to_b64 refuse an invalid point too. */
  memcpy(bad, pub, sizeof bad);
  bad[SEAL_PUB_LEN - 1] ^= 1;
  uint8_t box[SEAL_MAX_BOX];
  size_t n;
  log_reset();
  assert_int_equal(seal_box(bad, phone, strlen(phone), box, sizeof box, &n), SQR_EINVAL);
  assert_non_null(strstr(log_all, "HQ public key is not a point on P-256"));
  assert_int_equal(seal_pub_to_b64(bad, b64), SQR_EINVAL);
}

static void test_invalid_private_keys(void **state) {
  (void)state;
  uint8_t priv[SEAL_PRIV_LEN], bad[SEAL_PRIV_LEN];
  char b64[64];
  /* Zero, and the group order n itself, are not valid scalars. */
  static const uint8_t order[SEAL_PRIV_LEN] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                               0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
                                               0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
  memset(bad, 0, sizeof bad);
  assert_int_equal(crypto_b64(bad, sizeof bad, b64, sizeof b64), SQR_OK);
  log_reset();
  assert_int_equal(seal_priv_from_b64(b64, priv), SQR_EINVAL);
  assert_non_null(strstr(log_all, "not a valid P-256 scalar"));
  assert_int_equal(crypto_b64(order, sizeof order, b64, sizeof b64), SQR_OK);
  assert_int_equal(seal_priv_from_b64(b64, priv), SQR_EINVAL);
  /* n - 1 is the largest valid one. */
  memcpy(bad, order, sizeof bad);
  bad[SEAL_PRIV_LEN - 1]--;
  assert_int_equal(crypto_b64(bad, sizeof bad, b64, sizeof b64), SQR_OK);
  assert_int_equal(seal_priv_from_b64(b64, priv), SQR_OK);
  assert_memory_equal(priv, bad, sizeof bad);

  assert_int_equal(seal_priv_from_b64("c2hvcnQ=", priv), SQR_EINVAL);
  assert_int_equal(seal_priv_from_b64(NULL, priv), SQR_EINVAL);
  memset(b64, '*', 44);
  b64[44] = '\0';
  assert_int_equal(seal_priv_from_b64(b64, priv), SQR_EINVAL);
  assert_int_equal(seal_priv_to_b64(order, b64), SQR_EINVAL);
}

static void test_blind_index(void **state) {
  (void)state;
  uint8_t k1[32], k2[32], a[SEAL_BLIND_LEN], b[SEAL_BLIND_LEN], c[SEAL_BLIND_LEN];
  for(int i = 0; i < 32; i++) {
    k1[i] = (uint8_t)i;
    k2[i] = (uint8_t)(i + 1);
  }
  assert_int_equal(seal_blind_index(k1, phone, a), SQR_OK);
  assert_int_equal(seal_blind_index(k1, phone, b), SQR_OK);
  assert_memory_equal(a, b, sizeof a); /* deterministic */
  assert_int_equal(seal_blind_index(k2, phone, c), SQR_OK);
  assert_memory_not_equal(a, c, sizeof a); /* differs by key */
  assert_int_equal(seal_blind_index(k1, "13812345679", c), SQR_OK);
  assert_memory_not_equal(a, c, sizeof a); /* differs by phone */

  /* Exactly the documented construction, with the purpose-bound key. */
  uint8_t sub[32], want[32];
  assert_int_equal(crypto_hkdf_sha256(NULL, 0, k1, 32, CRYPTO_INFO_BLIND, sub, 32), SQR_OK);
  assert_int_equal(crypto_hmac_sha256(sub, 32, phone, 11, want), SQR_OK);
  assert_memory_equal(a, want, sizeof a);
  assert_int_equal(crypto_hmac_sha256(k1, 32, phone, 11, want), SQR_OK);
  assert_memory_not_equal(a, want, sizeof a);

  /* Only normalised 11-digit numbers. */
  static const char *const bad[] = {"",
                                    "1381234567",
                                    "138123456789",
                                    "+8613812345678",
                                    "138 1234 5678",
                                    "1381234567a",
                                    "138-1234-567"};
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++) {
    log_reset();
    assert_int_equal(seal_blind_index(k1, bad[i], c), SQR_EINVAL);
    assert_int_equal(error_lines, 1);
  }
  assert_int_equal(seal_blind_index(k1, NULL, c), SQR_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prepared_key_seals_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_layout_matches_spec, setup, teardown),
      cmocka_unit_test_setup_teardown(test_boxes_differ_and_hide_plaintext, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_key_is_eauth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_byte_flip_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_boxes_fail, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_version, setup, teardown),
      cmocka_unit_test_setup_teardown(test_outsize_too_small, setup, teardown),
      cmocka_unit_test_setup_teardown(test_b64_round_trips, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid_public_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid_private_keys, setup, teardown),
      cmocka_unit_test_setup_teardown(test_blind_index, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
