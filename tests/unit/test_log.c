/* test_log.c — level filtering and the phone-number scrubber. */
#include "testutil.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

static char last[1100];
static int lines;

static void capture(log_level level, const char *line, void *ud) {
  (void)level;
  (void)ud;
  snprintf(last, sizeof last, "%s", line);
  lines++;
}

static void test_scrub_masks_phone_runs(void **state) {
  (void)state;
  char s[] = "member 13812345678 and +8613812345678 ok 2026 and 12345678901234";
  assert_int_equal(log_scrub(s), 3);
  assert_null(strstr(s, "13812345678"));
  assert_non_null(strstr(s, "2026"));
  assert_non_null(strstr(s, "ok"));
}

static void test_level_threshold_and_sink(void **state) {
  (void)state;
  log_set_sink(capture, NULL);
  log_set_level(LOG_WARN);
  lines = 0;
  log_info("test", "dropped %d", 1);
  assert_int_equal(lines, 0);
  log_warn("test", "phone %s kept out", "13912345678");
  assert_int_equal(lines, 1);
  assert_string_equal(last, "warn test: phone ########### kept out");
  log_set_sink(NULL, NULL);
}

static void test_level_parse(void **state) {
  (void)state;
  log_level l;
  assert_int_equal(log_level_parse("debug", &l), SQR_OK);
  assert_int_equal(l, LOG_DEBUG);
  assert_int_equal(log_level_parse("loud", &l), SQR_EINVAL);
}

/* SQR_LOG is read when the program loads, before any LOG_AT test. */
static void test_env_level_read_at_load(void **state) {
  (void)state;
  log_level l;
  const char *env = getenv("SQR_LOG");
  assert_non_null(env);
  assert_int_equal(log_level_parse(env, &l), SQR_OK);
  assert_int_equal(log__threshold, l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_env_level_read_at_load),
      cmocka_unit_test(test_scrub_masks_phone_runs),
      cmocka_unit_test(test_level_threshold_and_sink),
      cmocka_unit_test(test_level_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
