/* test_clock.c — fixed clock, HQ offset, jump detection, local days. */
#include "testutil.h"
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  sqr_clock *c, *same_boot, *other_boot;
  clock_ref ref, now;
  int64_t drift = 0;
  assert_int_equal(clock_new_fixed(1700000000000, &c), SQR_OK);
  clock_read_ref(c, &ref);
  clock_advance_ms(c, 3600000); /* an hour passes normally */
  clock_read_ref(c, &now);
  assert_int_equal(clock_ref_compare(&ref, &now, &drift), 1);
  assert_int_equal(drift, 0);
  clock_set_wall_ms(c, clock_now_ms(c) - 86400000); /* someone sets it a day back */
  clock_read_ref(c, &now);
  assert_int_equal(clock_ref_compare(&ref, &now, &drift), 1);
  assert_int_equal(drift, -86400000);
  /* Another process of the same boot reads the same clocks: comparable. */
  assert_int_equal(clock_new_fixed(1700000000000, &same_boot), SQR_OK);
  clock_advance_ms(same_boot, 3600000);
  clock_read_ref(same_boot, &now);
  assert_int_equal(clock_ref_compare(&ref, &now, &drift), 1);
  assert_int_equal(drift, 0);
  /* Another boot, or monotonic time gone back: nothing can be said. */
  assert_int_equal(clock_new_fixed(1700000000000 + 5000, &other_boot), SQR_OK);
  clock_read_ref(other_boot, &now);
  assert_int_equal(clock_ref_compare(&ref, &now, &drift), 0);
  clock_read_ref(c, &now);
  snprintf(now.boot, sizeof now.boot, "%s", ref.boot);
  now.mono_ms = ref.mono_ms - 1;
  assert_int_equal(clock_ref_compare(&ref, &now, &drift), 0);
  clock_free(c);
  clock_free(same_boot);
  clock_free(other_boot);

  /* The real clock: a boot id (32 hex digits) and no drift between reads. */
  assert_int_equal(clock_new_real(&c), SQR_OK);
  assert_false(clock_is_fixed(c));
  clock_read_ref(c, &ref);
  clock_read_ref(c, &now);
  assert_int_equal(strlen(ref.boot), 32);
  assert_int_equal(clock_ref_compare(&ref, &now, &drift), 1);
  assert_true(drift > -1000 && drift < 1000);
  clock_free(c);
  /* Without /proc's boot id (the units' sandbox hides it) the one systemd
   * gives in the environment; either way 32 lower-case hex digits. */
  setenv("STOREQR_BOOT_ID", "9BDB2BE2CB054D1696AD-FD1AFD6C2A11", 1);
  assert_int_equal(clock_new_real(&c), SQR_OK);
  clock_read_ref(c, &now);
  assert_int_equal(strlen(now.boot), 32);
  assert_int_equal(strspn(now.boot, "0123456789abcdef"), 32);
  assert_string_equal(now.boot, ref.boot[0] ? ref.boot : "9bdb2be2cb054d1696adfd1afd6c2a11");
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

/* Day numbers as dates, against Python's datetime.date (1970-01-01 +
 * timedelta(days=N)), leap days and century years included. */
static void test_day_date(void **state) {
  (void)state;
  static const struct {
    int64_t day;
    const char *date;
  } cases[] = {{0, "1970-01-01"},     {1, "1970-01-02"},     {59, "1970-03-01"},
               {365, "1971-01-01"},   {11016, "2000-02-29"}, {11017, "2000-03-01"},
               {20794, "2026-12-07"}, {47482, "2100-01-01"}, {-1, "1969-12-31"}};
  char out[11];
  for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clock_day_date(cases[i].day, out);
    assert_string_equal(out, cases[i].date);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixed_and_offset),
      cmocka_unit_test(test_jump_detection),
      cmocka_unit_test(test_local_day_and_minute),
      cmocka_unit_test(test_day_date),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
