/* test_crypto.c — crypto_sha256 gives mbedtls' digest for every length
 * that matters to padding (0..1000 bytes, at every alignment), for long
 * inputs, and for the FIPS 180-2 examples, whichever implementation this
 * CPU runs (crypto_sha256_impl says which). */
#include "testutil.h"
#include "crypto.h"

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_matches_mbedtls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
