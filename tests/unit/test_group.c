/* test_group.c — the one group rule (group.h): WeChat's 200-by-QR cap,
 * the reserve, the expiry margin, marked-full and retired groups,
 * interest groups, and the kiosk's configuration path through it. */
#include "testutil.h"
#include "group.h"

#include <string.h>

static const group_rule RULE = {.reserve = 10, .expiry_margin_s = 3600};

static void test_scan_cap(void **state) {
  (void)state;
  /* A group of capacity 500 takes 190 (200 - reserve), not 490: WeChat
   * admits only 200 by scanning a group QR. */
  group_state g = {.capacity = 500};
  assert_int_equal(group_limit(&g, &RULE), 190);
  g.count = 189;
  assert_true(group_is_usable(&g, &RULE, 0));
  g.count = 190;
  assert_false(group_is_usable(&g, &RULE, 0));
  assert_true(group_is_full(&g, &RULE));
  /* Below the cap the capacity rules. */
  g = (group_state){.capacity = 50, .count = 39};
  assert_int_equal(group_limit(&g, &RULE), 40);
  assert_true(group_is_usable(&g, &RULE, 0));
  g.count = 40;
  assert_false(group_is_usable(&g, &RULE, 0));
  /* A reserve larger than a tiny group still lets one in. */
  g = (group_state){.capacity = 5};
  assert_int_equal(group_limit(&g, &RULE), 1);
}

static void test_expiry_marked_retired(void **state) {
  (void)state;
  group_state g = {.capacity = 200, .expires_at = 100000};
  assert_true(group_is_usable(&g, &RULE, 100000 - 3601));
  assert_false(group_is_usable(&g, &RULE, 100000 - 3600)); /* within the margin */
  assert_false(group_is_usable(&g, &RULE, 200000));        /* expired */
  g = (group_state){.capacity = 200, .marked_full = 1};
  assert_false(group_is_usable(&g, &RULE, 0));
  assert_true(group_is_full(&g, &RULE));
  g = (group_state){.capacity = 200, .retired = 1};
  assert_false(group_is_usable(&g, &RULE, 0));
}

static void test_pick(void **state) {
  (void)state;
  group_state g[4] = {
      {.capacity = 200, .count = 190},                   /* full */
      {.capacity = 200, .expires_at = 1000},             /* expires soon */
      {.capacity = 200, .interest = 1, .tag = "coffee"}, /* not in the rotation */
      {.capacity = 200, .count = 3},
  };
  assert_int_equal(group_pick(g, 4, &RULE, 0), 3);
  const char *coffee[] = {"tea", "coffee"}, *tea[] = {"tea"};
  assert_int_equal(group_pick_for_member(g, 4, &RULE, 0, coffee, 2), 2);
  assert_int_equal(group_pick_for_member(g, 4, &RULE, 0, tea, 1), 3);
  g[3].count = 500;
  assert_int_equal(group_pick(g, 4, &RULE, 0), -1); /* staff contact */
  /* Fill counts, whatever is marked. */
  group_state f = {.capacity = 500, .count = 100, .marked_full = 1};
  assert_true(group_fill_ratio(&f) > 0.499 && group_fill_ratio(&f) < 0.501);
  f.count = 900;
  assert_true(group_fill_ratio(&f) == 1);
}

static void test_kiosk_config(void **state) {
  (void)state;
  /* The kiosk asks the same rule through its configuration: a direct-mode
   * group of capacity 500 closes at 190 joins (it took 260 before). */
  static sqr_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.group_reserve = 10;
  cfg.expiry_margin_s = 43200;
  cfg.ngroups = 2;
  cfg.groups[0].capacity = 500;
  cfg.groups[0].kind = GROUP_KIND_STORE;
  cfg.groups[1].capacity = 200;
  cfg.groups[1].kind = GROUP_KIND_WELFARE;
  group_fill fill[2] = {{.joined = 189}, {0}};
  assert_int_equal(group_choose(&cfg, fill, 0), 0);
  fill[0].joined = 190;
  assert_false(group_usable(&cfg, 0, fill, 0));
  assert_int_equal(group_choose(&cfg, fill, 0), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scan_cap),
      cmocka_unit_test(test_expiry_marked_retired),
      cmocka_unit_test(test_pick),
      cmocka_unit_test(test_kiosk_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
