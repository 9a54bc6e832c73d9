/* test_base32.c — RFC 4648 §10 vectors (padding stripped), strict decoding
 * and round trips. */
#include "testutil.h"
#include "base32.h"

#include <string.h>

static const struct {
  const char *raw, *b32;
} rfc4648[] = {
    {"", ""},
    {"f", "MY"},
    {"fo", "MZXQ"},
    {"foo", "MZXW6"},
    {"foob", "MZXW6YQ"},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI"},
};

static void test_rfc4648_encode(void **state) {
  (void)state;
  for(size_t i = 0; i < SQR_ARRAY_LEN(rfc4648); i++) {
    char out[32];
    size_t n = strlen(rfc4648[i].raw);
    assert_int_equal(base32_encode(rfc4648[i].raw, n, out, sizeof out), SQR_OK);
    assert_string_equal(out, rfc4648[i].b32);
    assert_int_equal(strlen(out), BASE32_ENCODED_LEN(n));
  }
}

static void test_rfc4648_decode(void **state) {
  (void)state;
  for(size_t i = 0; i < SQR_ARRAY_LEN(rfc4648); i++) {
    uint8_t out[16];
    size_t len = 99;
    const char *b = rfc4648[i].b32;
    assert_int_equal(base32_decode(b, strlen(b), out, sizeof out, &len), SQR_OK);
    assert_int_equal(len, strlen(rfc4648[i].raw));
    if(len) assert_memory_equal(out, rfc4648[i].raw, len);
    assert_int_equal(BASE32_DECODED_LEN(strlen(b)), len);
  }
}

static void test_encode_small_buffer(void **state) {
  (void)state;
  char out[10] = "untouched";
  /* "foobar" needs 10 characters + NUL. */
  assert_int_equal(base32_encode("foobar", 6, out, 10), SQR_EINVAL);
  assert_string_equal(out, "untouched");
  char ok[11];
  assert_int_equal(base32_encode("foobar", 6, ok, sizeof ok), SQR_OK);
  assert_int_equal(base32_encode("foobar", 6, NULL, 11), SQR_EINVAL);
}

static sqr_rc dec(const char *s) {
  uint8_t out[64];
  size_t len;
  return base32_decode(s, strlen(s), out, sizeof out, &len);
}

static void test_decode_strict(void **state) {
  (void)state;
  assert_int_equal(dec("MZXW6YTBOI"), SQR_OK);
  assert_int_equal(dec("mzxw6ytboi"), SQR_EINVAL); /* lower case */
  assert_int_equal(dec("MZXW6YTBoI"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6YTBOI======"), SQR_EINVAL); /* padding */
  assert_int_equal(dec("MY======"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6YT1"), SQR_EINVAL); /* 1, 0, 8, 9 not in alphabet */
  assert_int_equal(dec("MZXW6YT0"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6YT8"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6YT9"), SQR_EINVAL);
  assert_int_equal(dec("MZXW 6YTB"), SQR_EINVAL);
  assert_int_equal(dec("MZXW-6YTB"), SQR_EINVAL);
  /* Lengths no whole number of bytes encodes to. */
  assert_int_equal(dec("M"), SQR_EINVAL);
  assert_int_equal(dec("MZX"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6Y"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6YTBO"), SQR_EINVAL);
  /* Non-zero bits after the last byte: "MZ" would also mean "f". */
  assert_int_equal(dec("MZ"), SQR_EINVAL);
  assert_int_equal(dec("MZXR"), SQR_EINVAL);
  assert_int_equal(dec("MZXW7"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6YR"), SQR_EINVAL);
  assert_int_equal(dec("MZXW6YTBOJ"), SQR_EINVAL);
  /* Embedded NUL inside the given length. */
  assert_int_equal(base32_decode("MZ\0W6", 5, (uint8_t[8]){0}, 8, &(size_t){0}), SQR_EINVAL);
}

static void test_decode_small_buffer(void **state) {
  (void)state;
  uint8_t out[5];
  size_t len = 42;
  assert_int_equal(base32_decode("MZXW6YTBOI", 10, out, 5, &len), SQR_EINVAL);
  assert_int_equal(len, 42);
  assert_int_equal(base32_decode("MZXW6YTBOI", 10, out, 5, NULL), SQR_EINVAL);
  assert_int_equal(base32_decode("MZXW6YTB", 8, out, 5, &len), SQR_OK);
  assert_int_equal(len, 5);
  assert_memory_equal(out, "fooba", 5);
}

static void test_round_trip_all_lengths(void **state) {
  (void)state;
  uint8_t in[64], back[64];
  char enc[BASE32_ENCODED_LEN(64) + 1];
  uint32_t x = 2463534242u; /* xorshift: deterministic bytes */
  for(size_t n = 0; n <= sizeof in; n++) {
    for(size_t i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      in[i] = (uint8_t)x;
    }
    size_t len = 0;
    assert_int_equal(base32_encode(in, n, enc, sizeof enc), SQR_OK);
    assert_int_equal(strlen(enc), BASE32_ENCODED_LEN(n));
    assert_int_equal(base32_decode(enc, strlen(enc), back, sizeof back, &len), SQR_OK);
    assert_int_equal(len, n);
    if(n) assert_memory_equal(back, in, n);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc4648_encode),      cmocka_unit_test(test_rfc4648_decode),
      cmocka_unit_test(test_encode_small_buffer), cmocka_unit_test(test_decode_strict),
      cmocka_unit_test(test_decode_small_buffer), cmocka_unit_test(test_round_trip_all_lengths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
