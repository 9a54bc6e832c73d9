/* test_clock.c — fixed clock, HQ offset, jump detection, local days. */
#include "testutil.h"
#include "clock.h"

static void test_fixed_and_offset(void **state) {
  (void)state;
  sqr_clock *c;
  assert_int_equal(clock_new_fixed(1700000000000, &c), SQR_OK);
  assert_true(clock_is_fixed(c));
  assert_int_equal(clock_now_ms(c), 1700000000000);
  clock_set_offset_ms(c, 2500);
  assert_int_equal(clock_now_ms(c), 1700000002500);
  assert_int_equal(clock_now(c), 1700000002);
  clock_advance_ms(c, 1000);
  assert_int_equal(clock_now_ms(c), 1700000003500);
  assert_int_equal(clock_mono_ms(c), 1000);
  clock_free(c);
}

static void test_jump_detection(void **state) {
  (void)state;
  sqr_clock *c;
  int64_t jump = 0;
  assert_int_equal(clock_new_fixed(1700000000000, &c), SQR_OK);
  assert_int_equal(clock_check_jump(c, 120000, &jump), 0); /* reference only */
  clock_advance_ms(c, 3600000);                            /* an hour passes normally */
  assert_int_equal(clock_check_jump(c, 120000, &jump), 0);
  clock_set_wall_ms(c, clock_now_ms(c) - 86400000); /* someone sets it a day back */
  assert_int_equal(clock_check_jump(c, 120000, &jump), 1);
  assert_int_equal(jump, -86400000);
  assert_int_equal(clock_check_jump(c, 120000, &jump), 0); /* once only */
  clock_free(c);

  assert_int_equal(clock_new_real(&c), SQR_OK);
  assert_false(clock_is_fixed(c));
  assert_int_equal(clock_check_jump(c, 120000, &jump), 0);
  assert_int_equal(clock_check_jump(c, 120000, &jump), 0);
  clock_free(c);
}

static void test_local_day_and_minute(void **state) {
  (void)state;
  /* 2026-11-24 15:59:59 UTC is 23:59:59 in Shanghai; one second later is
   * the next local day. */
  int64_t t = 1795535999000;
  assert_int_equal(clock_local_minute(t, 480), 23 * 60 + 59);
  assert_int_equal(clock_local_day(t + 1000, 480), clock_local_day(t, 480) + 1);
  assert_int_equal(clock_local_day(t, 0), clock_local_day(t + 1000, 0));
  assert_int_equal(clock_local_day(-1, 0), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixed_and_offset),
      cmocka_unit_test(test_jump_detection),
      cmocka_unit_test(test_local_day_and_minute),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
