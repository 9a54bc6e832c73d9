/* test_crypto.c — crypto_sha256 gives mbedtls' digest for every length
 * that matters to padding (0..1000 bytes, at every alignment), for long
 * inputs, and for the FIPS 180-2 examples, whichever implementation this
 * CPU runs (crypto_sha256_impl says which); crypto_hmac_sha256 gives the
 * RFC 4231 answers and mbedtls' HMAC for keys and messages of every
 * length around the block size. */
#include "testutil.h"
#include "crypto.h"

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_hex(const char *msg, size_t len, const char *hex) {
  uint8_t h[32];
  char got[65];
  assert_int_equal(crypto_sha256(msg, len, h), SQR_OK);
  crypto_hex(h, 32, got);
  assert_string_equal(got, hex);
}

static void test_known_answers(void **state) {
  (void)state;
  printf("crypto_sha256 runs on: %s\n", crypto_sha256_impl());
  expect_hex("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  expect_hex("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *m56 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  expect_hex(m56, strlen(m56), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  char *million = malloc(1000000);
  assert_non_null(million);
  memset(million, 'a', 1000000);
  expect_hex(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(million);
}

/* Every length 0..1000, each at several offsets into the buffer (so the
 * loads are unaligned), random bytes, against mbedtls itself. */
static void test_matches_mbedtls(void **state) {
  (void)state;
  enum { MAXLEN = 1000, OFFSETS = 4, ROUNDS = 3 };
  uint8_t *buf = malloc(MAXLEN + 64);
  assert_non_null(buf);
  for(int round = 0; round < ROUNDS; round++) {
    assert_int_equal(crypto_random(buf, MAXLEN + 64), SQR_OK);
    for(size_t len = 0; len <= MAXLEN; len++) {
      for(size_t off = 0; off < OFFSETS; off++) {
        const uint8_t *p = buf + off * 13;
        uint8_t ours[32], ref[32];
        assert_int_equal(crypto_sha256(p, len, ours), SQR_OK);
        assert_int_equal(mbedtls_sha256_ret(p, len, ref, 0), 0);
        if(memcmp(ours, ref, 32) != 0)
          fail_msg("sha256 differs from mbedtls at length %zu, offset %zu", len, off * 13);
      }
    }
  }
  /* A few long inputs: many blocks in one call. */
  size_t big = 1 << 20;
  uint8_t *b = malloc(big);
  assert_non_null(b);
  assert_int_equal(crypto_random(b, big), SQR_OK);
  for(size_t len = big - 130; len <= big; len += 43) {
    uint8_t ours[32], ref[32];
    assert_int_equal(crypto_sha256(b, len, ours), SQR_OK);
    assert_int_equal(mbedtls_sha256_ret(b, len, ref, 0), 0);
    assert_memory_equal(ours, ref, 32);
  }
  free(b);
  free(buf);
}

static void expect_hmac(const char *key_hex, const char *msg, size_t mlen, const char *hex) {
  uint8_t key[200], mac[32];
  size_t klen = strlen(key_hex) / 2;
  assert_true(klen <= sizeof key);
  for(size_t i = 0; i < klen; i++) {
    unsigned v;
    assert_int_equal(sscanf(key_hex + 2 * i, "%2x", &v), 1);
    key[i] = (uint8_t)v;
  }
  char got[65];
  assert_int_equal(crypto_hmac_sha256(key, klen, msg, mlen, mac), SQR_OK);
  crypto_hex(mac, 32, got);
  assert_string_equal(got, hex);
}

/* RFC 4231 test cases 1, 2, 4, 6 and 7 (6 and 7: keys longer than a block). */
static void test_hmac_known_answers(void **state) {
  (void)state;
  expect_hmac("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", 8,
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  expect_hmac("4a656665", "what do ya want for nothing?", 28,
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  uint8_t cd[50];
  memset(cd, 0xcd, sizeof cd);
  expect_hmac("0102030405060708090a0b0c0d0e0f10111213141516171819", (const char *)cd, 50,
              "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  char big[131 * 2 + 1];
  for(int i = 0; i < 131; i++)
    memcpy(big + 2 * i, "aa", 2);
  big[262] = '\0';
  const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  expect_hmac(big, m6, strlen(m6),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  const char *m7 = "This is a test using a larger than block-size key and a larger than "
                   "block-size data. The key needs to be hashed before being used by the "
                   "HMAC algorithm.";
  expect_hmac(big, m7, strlen(m7),
              "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* Keys 0..130 bytes and messages 0..200 bytes (both sides of 64, of 55
 * and of 119, where the inner hash's padding takes one or two blocks)
 * against mbedtls' HMAC. */
static void test_hmac_matches_mbedtls(void **state) {
  (void)state;
  uint8_t key[131], msg[201];
  assert_int_equal(crypto_random(key, sizeof key), SQR_OK);
  assert_int_equal(crypto_random(msg, sizeof msg), SQR_OK);
  const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  for(size_t klen = 0; klen <= 130; klen++) {
    for(size_t mlen = 0; mlen <= 200; mlen++) {
      uint8_t ours[32], ref[32];
      assert_int_equal(crypto_hmac_sha256(key, klen, msg, mlen, ours), SQR_OK);
      assert_int_equal(mbedtls_md_hmac(md, key, klen, msg, mlen, ref), 0);
      if(memcmp(ours, ref, 32) != 0)
        fail_msg("hmac differs from mbedtls at key %zu bytes, message %zu bytes", klen, mlen);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_matches_mbedtls),
      cmocka_unit_test(test_hmac_known_answers),
      cmocka_unit_test(test_hmac_matches_mbedtls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
