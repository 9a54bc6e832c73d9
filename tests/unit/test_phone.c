/* test_phone.c — mainland mobile validation and normalisation. */
#include "testutil.h"
#include "phone.h"

#include <string.h>

static void test_accepts_common_forms(void **state) {
  (void)state;
  const char *ok[] = {"13812345678",        "+86 138 1234 5678", "+8613812345678", "86 13812345678",
                      "0086-138-1234-5678", " 199 0000 1111",    "138-1234-5678"};
  for(size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    char out[PHONE_LEN + 1];
    assert_int_equal(phone_normalize(ok[i], out, NULL), SQR_OK);
    assert_int_equal(strlen(out), 11);
    assert_true(out[0] == '1');
  }
  char out[PHONE_LEN + 1];
  assert_int_equal(phone_normalize("+86 138 1234 5678", out, NULL), SQR_OK);
  assert_string_equal(out, "13812345678");
}

static void test_rejects_malformed(void **state) {
  (void)state;
  const char *bad[] = {"",
                       "1381234567",
                       "138123456789",
                       "23812345678",
                       "12812345678",
                       "+1 4155550100",
                       "1381234567a",
                       "138 1234 567８",
                       "+86",
                       "+8",
                       "00861381234567",
                       "１３８１２３４５６７８",
                       "12345678901234567890123456",
                       "13812345678; DROP TABLE members"};
  for(size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char out[PHONE_LEN + 1] = "x";
    const char *why = NULL;
    assert_int_equal(phone_normalize(bad[i], out, &why), SQR_EINVAL);
    assert_non_null(why);
    assert_string_equal(out, "");
    /* The reason never echoes the digits back. */
    assert_null(strstr(why, "1381234"));
  }
  char out[PHONE_LEN + 1];
  assert_int_equal(phone_normalize(NULL, out, NULL), SQR_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepts_common_forms),
      cmocka_unit_test(test_rejects_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
