/* test_storefeed.c — HQ's reader of a check-in's payload without a JSON
 * parser (sync/hq/ops/storefeed.c hq__checkin_text), against cJSON on the
 * kiosk's own print (app/core/member.c) and on texts it must refuse, so
 * the fast path never takes what cJSON would read otherwise. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hq_int.h"

/* What the kiosk prints for a check-in (member.c): cJSON, unformatted. */
static char *kiosk_print(const char *mid, double day, double points, double streak) {
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "member", mid);
  cJSON_AddNumberToObject(p, "day", day);
  cJSON_AddNumberToObject(p, "points", points);
  cJSON_AddNumberToObject(p, "streak", streak);
  char *s = cJSON_PrintUnformatted(p);
  cJSON_Delete(p);
  return s;
}

static void test_reads_the_kiosks_print(void **state) {
  (void)state;
  static const double values[][3] = {
      {20794, 10, 1}, {1, 0, 1}, {200000, 1000000000, 200000}, {20800, 15, 7}, {9, 5, 30}};
  for(size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    char *s = kiosk_print("0123456789abcdef0123456789abcdef", values[i][0], values[i][1],
                          values[i][2]);
    hq__checkin_row c;
    memset(&c, 0, sizeof c);
    assert_int_equal(hq__checkin_text(s, &c), 1);
    assert_string_equal(c.member, "0123456789abcdef0123456789abcdef");
    assert_int_equal(c.day, (int64_t)values[i][0]);
    assert_int_equal(c.points, (int64_t)values[i][1]);
    assert_int_equal(c.streak, (int64_t)values[i][2]);
    cJSON_free(s);
  }
}

/* Texts the fast path leaves to cJSON (or to nothing): each is either not
 * the kiosk's print or not a check-in HQ could share as it reads. */
static void test_refuses_every_other_text(void **state) {
  (void)state;
  static const char *const others[] = {
      "",
      "{}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":1,\"points\":1}",
      "{\"member\":\"0123456789ABCDEF0123456789abcdef\",\"day\":1,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcde\",\"day\":1,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcdef0\",\"day\":1,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":01,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":-1,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":1.5,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":1e3,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":1,\"points\":1,\"streak\":1} ",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":1,\"points\":1,\"streak\":1,"
      "\"x\":2}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\", \"day\":1,\"points\":1,\"streak\":1}",
      "{\"member\":\"0123456789abcdef0123456789abcdef\",\"day\":1234567890123456,\"points\":1,"
      "\"streak\":1}",
      "{\"day\":1,\"member\":\"0123456789abcdef0123456789abcdef\",\"points\":1,\"streak\":1}",
  };
  for(size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    hq__checkin_row c;
    if(hq__checkin_text(others[i], &c)) fail_msg("took: %s", others[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_the_kiosks_print),
      cmocka_unit_test(test_refuses_every_other_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
