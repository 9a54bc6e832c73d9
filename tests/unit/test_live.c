/* test_live.c — what the QR says: the signed URL in hq mode (changing at
 * each window boundary, verifiable with the store key), the group link in
 * direct mode, the staff contact code when no group has room. */
#include "testutil.h"
#include "live.h"
#include "livecode.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1795500000000LL /* a multiple of 30 s */

static tu_keys keys;

typedef tu_store fixture;

static void apply(store *st, int64_t version, const char *mode) {
  char *json = tu_demo_config(&keys, version, T0 / 1000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON_ReplaceItemInObject(root, "mode", cJSON_CreateString(mode));
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  char err[256];
  if(store_apply_config(st, json, strlen(json), err, sizeof err) != SQR_OK) fail_msg("%s", err);
  free(json);
}

static int setup(void **state) {
  *state = tu_store_new("live", T0, &keys, 0);
  return 0;
}

static int teardown(void **state) {
  tu_store_free(*state);
  return 0;
}

static void test_no_config(void **state) {
  fixture *f = *state;
  live_view v;
  assert_int_equal(live_current(f->st, &v), SQR_ENOTFOUND);
}

static void test_hq_mode_rotates_and_verifies(void **state) {
  fixture *f = *state;
  apply(f->st, 1, "hq");
  live_view v;
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  const char *prefix = "HTTPS://127.0.0.1:8443/J/SH-JA01/";
  assert_int_equal(strncmp(v.text, prefix, strlen(prefix)), 0);
  assert_int_equal(v.next_change_ms, T0 + 30000);
  livecode_key k;
  livecode_claim claim;
  assert_int_equal(livecode_key_set(&k, keys.d.token_key, 1), SQR_OK);
  assert_int_equal(
      livecode_verify(&k, 1, "SH-JA01", v.text + strlen(prefix), T0 / 1000, 30, 1, 0, &claim),
      SQR_OK);
  assert_int_equal(claim.kiosk, 1);
  char first[CONFIG_LINK_MAX];
  snprintf(first, sizeof first, "%s", v.text);
  /* Same window: same code. Next window: a new one. */
  clock_advance_ms(f->clock, 29999);
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_string_equal(v.text, first);
  clock_advance_ms(f->clock, 1);
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_string_not_equal(v.text, first);
  /* Two rotations later, the first photo of the screen is refused. */
  assert_int_equal(
      livecode_verify(&k, 1, "SH-JA01", first + strlen(prefix), T0 / 1000 + 60, 30, 1, 0, &claim),
      SQR_EEXPIRED);
  /* The HQ offset moves the code with HQ's clock. */
  clock_set_offset_ms(f->clock, 30000);
  live_view w;
  assert_int_equal(live_current(f->st, &w), SQR_OK);
  assert_int_equal(w.window, v.window + 1);
  livecode_key_wipe(&k);
  /* No store group left: the staff contact code, not a token. */
  assert_int_equal(store_group_mark_full(f->st, "ja-store-1"), SQR_OK);
  assert_int_equal(store_group_mark_full(f->st, "ja-store-2"), SQR_OK);
  assert_int_equal(live_current(f->st, &w), SQR_OK);
  assert_true(w.group.exhausted);
  assert_string_equal(w.text, "https://work.weixin.qq.com/ca/demo-staff-contact");
}

static void test_direct_mode_shows_group_link_then_fallback(void **state) {
  fixture *f = *state;
  apply(f->st, 1, "direct");
  live_view v;
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_string_equal(v.text, "https://weixin.qq.com/g/demo-ja-store-1");
  assert_int_equal(store_group_mark_full(f->st, "ja-store-1"), SQR_OK);
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_string_equal(v.text, "https://weixin.qq.com/g/demo-ja-store-2");
  assert_int_equal(store_group_mark_full(f->st, "ja-store-2"), SQR_OK);
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_true(v.group.exhausted);
  assert_string_equal(v.text, "https://work.weixin.qq.com/ca/demo-staff-contact");
}

/* A group that expires while the disk is full: the live code still moves
 * on to the next group, and the switch is recorded once there is room. */
static void test_switch_while_disk_full(void **state) {
  fixture *f = *state;
  char *json = tu_demo_config(&keys, 1, T0 / 1000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON_ReplaceItemInObject(root, "mode", cJSON_CreateString("direct"));
  cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "groups"), 0);
  assert_string_equal(cJSON_GetObjectItem(g, "id")->valuestring, "ja-store-1");
  int64_t margin =
      (int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(root, "group_policy"), "expiry_margin_s")
          ->valuedouble;
  cJSON_ReplaceItemInObject(g, "expires_at", cJSON_CreateNumber((double)(T0 / 1000 + margin + 60)));
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  char err[256];
  if(store_apply_config(f->st, json, strlen(json), err, sizeof err) != SQR_OK) fail_msg("%s", err);
  free(json);
  live_view v;
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_string_equal(v.text, "https://weixin.qq.com/g/demo-ja-store-1");
  /* Fill the database up to a page limit: the next write fails. */
  assert_int_equal(store_set_max_pages(f->st, 1), SQR_OK);
  int64_t seq = 0;
  sqr_rc rc = SQR_OK;
  for(int i = 0; i < 100000 && !rc; i++)
    rc = store_append(f->st, "impressions", "{\"hour\": 12, \"n\": 40}", &seq);
  assert_int_equal(rc, SQR_ENOSPC);
  int64_t before = store_last_seq(f->st);
  clock_advance_ms(f->clock, 120 * 1000);
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_string_equal(v.text, "https://weixin.qq.com/g/demo-ja-store-2");
  assert_int_equal(store_last_seq(f->st), before);
  assert_int_equal(store_set_max_pages(f->st, 1 << 30), SQR_OK);
  assert_int_equal(live_current(f->st, &v), SQR_OK);
  assert_string_equal(v.text, "https://weixin.qq.com/g/demo-ja-store-2");
  assert_int_equal(store_last_seq(f->st), before + 1);
}

/* A configuration asking for more Argon2 memory than a kiosk can give
 * (HQ's template at 4 GiB) is refused, naming the field, and the kiosk
 * keeps the one it runs. */
static void test_refuses_index_cost_past_bounds(void **state) {
  fixture *f = *state;
  apply(f->st, 1, "hq");
  tu_keys k = keys;
  k.d.index_m_kib = 4194304;
  char *json = tu_demo_config(&k, 2, T0 / 1000);
  char err[256] = "";
  assert_int_equal(store_apply_config(f->st, json, strlen(json), err, sizeof err), SQR_EINVAL);
  assert_non_null(strstr(err, "keys.index.m_kib"));
  free(json);
  const sqr_config *cfg = store_config(f->st);
  assert_non_null(cfg);
  assert_int_equal(cfg->version, 1);
  assert_int_equal(cfg->index_m_kib, keys.d.index_m_kib);
}

int main(void) {
  tu_make_keys(&keys);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_no_config, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refuses_index_cost_past_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hq_mode_rotates_and_verifies, setup, teardown),
      cmocka_unit_test_setup_teardown(test_direct_mode_shows_group_link_then_fallback, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_switch_while_disk_full, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
