/* test_member.c — sign-up, check-in and erasure rules, the sealed phone
 * (opened with HQ's private key as HQ would), and that no plaintext phone
 * number is ever written to the database files. */
#include "testutil.h"
#include "coupon.h"
#include "crypto.h"
#include "member.h"
#include "seal.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-30 08:00 Shanghai: breakfast campaign, which offers a coupon. */
#define T_BREAKFAST 1795996800000LL

static tu_keys keys;

typedef tu_store fixture;

static int setup(void **state) {
  *state = tu_store_new("member", T_BREAKFAST, &keys, 1);
  return 0;
}

static int teardown(void **state) {
  tu_store_free(*state);
  return 0;
}

static member_signup_req req_for(const char *phone) {
  return tu_signup_req(phone);
}

typedef struct last_event {
  char type[STORE_EVENT_TYPE_MAX];
  char payload[2048];
  int redacted;
  int64_t want;
} last_event;

static int grab(const store_event *ev, void *ud) {
  last_event *e = ud;
  if(ev->seq == e->want) {
    snprintf(e->type, sizeof e->type, "%s", ev->type);
    snprintf(e->payload, sizeof e->payload, "%s", ev->payload);
    e->redacted = ev->redacted;
    return 1;
  }
  return 0;
}

static last_event event_at(store *st, int64_t seq) {
  last_event e = {.want = seq};
  assert_int_equal(store_events_after(st, seq - 1, 1, grab, &e), SQR_OK);
  return e;
}

/* The "member" of the event at seq: a member id, 32 lower-case hex. */
static void member_of(store *st, int64_t seq, char mid[33]) {
  last_event e = event_at(st, seq);
  cJSON *p = cJSON_Parse(e.payload);
  const cJSON *m = cJSON_GetObjectItem(p, "member");
  assert_true(cJSON_IsString(m));
  assert_int_equal(strlen(m->valuestring), 32);
  for(const char *c = m->valuestring; *c; c++)
    assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));
  snprintf(mid, 33, "%s", m->valuestring);
  cJSON_Delete(p);
}

static void test_signup_records_sealed_phone_hq_can_open(void **state) {
  fixture *f = *state;
  member_signup_req req = req_for("+86 138 0013 8000");
  req.tags[0] = "tea";
  req.ntags = 1;
  req.staff_id = "s02";
  member_result r;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_false(r.returning);
  assert_int_equal(r.points, 50);
  assert_string_equal(r.group_id, "ja-store-1"); /* no tea group: the store group */
  assert_string_equal(r.coupon_campaign, "breakfast");
  assert_int_equal(strlen(r.coupon), COUPON_CODE_LEN);
  coupon_info ci;
  assert_int_equal(coupon_verify(keys.d.coupon_key, 1, "SH-JA01", r.coupon, &ci), SQR_OK);
  assert_int_equal(ci.campaign, 1);
  assert_int_equal(ci.kiosk, 1);

  last_event e = event_at(f->st, r.seq);
  assert_string_equal(e.type, "signup");
  cJSON *p = cJSON_Parse(e.payload);
  assert_non_null(p);
  assert_string_equal(cJSON_GetObjectItem(p, "staff")->valuestring, "s02");
  assert_string_equal(cJSON_GetObjectItem(p, "consent_version")->valuestring, "2026-11");
  /* HQ opens the sealed box with its private key and finds the number. */
  uint8_t box[SEAL_MAX_BOX];
  size_t boxlen = 0, plainlen = 0;
  assert_int_equal(
      crypto_unb64(cJSON_GetObjectItem(p, "sealed")->valuestring, box, sizeof box, &boxlen),
      SQR_OK);
  char plain[SEAL_MAX_PLAIN + 1];
  assert_int_equal(seal_open(keys.hq_priv, box, boxlen, plain, sizeof plain - 1, &plainlen),
                   SQR_OK);
  plain[plainlen] = '\0';
  assert_string_equal(plain, "13800138000");
  /* The member id is random, not derived from the phone: it is not the
   * blind index or any part of it. People see its first 12 digits. */
  char mid[33];
  member_of(f->st, r.seq, mid);
  assert_memory_equal(r.member_id, mid, MEMBER_ID_LEN);
  assert_int_equal(strlen(r.member_id), MEMBER_ID_LEN);
  uint8_t blind[32];
  char hex[65];
  assert_int_equal(member_blind_index(f->st, "13800138000", blind), SQR_OK);
  crypto_hex(blind, 32, hex);
  assert_null(strstr(hex, mid));
  assert_false(memcmp(hex, mid, 8) == 0);
  cJSON_Delete(p);
  /* The coupon was recorded as its own event in the same transaction,
   * naming the same member. */
  char coupon_mid[33];
  member_of(f->st, r.seq + 1, coupon_mid);
  assert_string_equal(coupon_mid, mid);
  e = event_at(f->st, r.seq + 1);
  assert_string_equal(e.type, "coupon_issued");
  /* HQ verifies and records the coupon under the kiosk's key version. */
  p = cJSON_Parse(e.payload);
  assert_int_equal(cJSON_GetObjectItem(p, "key_version")->valueint, 1);
  cJSON_Delete(p);
}

/* Sign-ups with sealing prepared ahead (as the UI does while the shopper
 * types) record boxes HQ opens; a key prepared for an older HQ key is
 * dropped, not used. */
static void test_prepared_seals(void **state) {
  fixture *f = *state;
  member_result r;
  assert_int_equal(member_prepare_seals(f->st, 2), SQR_OK);
  member_signup_req a = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &a, &r), SQR_OK);
  last_event e = event_at(f->st, r.seq);
  cJSON *p = cJSON_Parse(e.payload);
  uint8_t box[SEAL_MAX_BOX];
  size_t boxlen = 0, plainlen = 0;
  char plain[SEAL_MAX_PLAIN + 1];
  assert_int_equal(
      crypto_unb64(cJSON_GetObjectItem(p, "sealed")->valuestring, box, sizeof box, &boxlen),
      SQR_OK);
  assert_int_equal(seal_open(keys.hq_priv, box, boxlen, plain, sizeof plain - 1, &plainlen),
                   SQR_OK);
  assert_memory_equal(plain, "13800138000", 11);
  cJSON_Delete(p);

  /* HQ rotates its key; the one prepared key left is for the old key. */
  tu_keys k2 = keys;
  assert_int_equal(seal_keypair_generate(k2.hq_pub, k2.hq_priv), SQR_OK);
  char *json = tu_demo_config(&k2, 2, T_BREAKFAST / 1000);
  char err[256];
  assert_int_equal(store_apply_config(f->st, json, strlen(json), err, sizeof err), SQR_OK);
  free(json);
  member_signup_req b = req_for("13900139000");
  assert_int_equal(member_signup(f->st, &b, &r), SQR_OK);
  e = event_at(f->st, r.seq);
  p = cJSON_Parse(e.payload);
  assert_int_equal(
      crypto_unb64(cJSON_GetObjectItem(p, "sealed")->valuestring, box, sizeof box, &boxlen),
      SQR_OK);
  assert_int_equal(seal_open(keys.hq_priv, box, boxlen, plain, sizeof plain - 1, &plainlen),
                   SQR_EAUTH);
  assert_int_equal(seal_open(k2.hq_priv, box, boxlen, plain, sizeof plain - 1, &plainlen), SQR_OK);
  assert_memory_equal(plain, "13900139000", 11);
  cJSON_Delete(p);
}

static void test_returning_member_not_duplicated(void **state) {
  fixture *f = *state;
  member_result r1, r2;
  member_signup_req a = req_for("13800138000"), b = req_for("0086 138-0013-8000");
  assert_int_equal(member_signup(f->st, &a, &r1), SQR_OK);
  int64_t last = store_last_seq(f->st);
  assert_int_equal(member_signup(f->st, &b, &r2), SQR_OK);
  assert_true(r2.returning);
  assert_string_equal(r1.member_id, r2.member_id);
  assert_string_equal(r2.coupon, "");            /* one welcome coupon per member */
  assert_int_equal(store_last_seq(f->st), last); /* nothing new recorded */
  store_status s;
  assert_int_equal(store_status_get(f->st, &s), SQR_OK);
  assert_int_equal(s.members, 1);
}

static void test_refusals_record_nothing(void **state) {
  fixture *f = *state;
  int64_t last = store_last_seq(f->st);
  member_result r;
  member_signup_req req = req_for("13800138000");
  req.consented = 0;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_ECONSENT);
  req = req_for("13800138000");
  req.consent_version = "2025-01";
  assert_int_equal(member_signup(f->st, &req, &r), SQR_EINVAL);
  req = req_for("1380013800");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_EINVAL);
  assert_non_null(strstr(store_errmsg(f->st), "phone"));
  req = req_for("13800138000");
  req.tags[0] = "wine";
  req.ntags = 1;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_EINVAL);
  req = req_for("13800138000");
  req.staff_id = "ghost";
  assert_int_equal(member_signup(f->st, &req, &r), SQR_EINVAL);
  req = req_for("13800138000");
  req.ntags = MEMBER_MAX_TAGS + 1;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_EINVAL);
  assert_int_equal(store_last_seq(f->st), last);
  store_status s;
  assert_int_equal(store_status_get(f->st, &s), SQR_OK);
  assert_int_equal(s.members, 0);
}

static void test_interest_group_and_group_counts(void **state) {
  fixture *f = *state;
  member_signup_req req = req_for("13800138000");
  req.tags[0] = "bakery";
  req.tags[1] = "coffee";
  req.ntags = 2;
  member_result r;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_string_equal(r.group_id, "ja-coffee");
  assert_string_equal(r.group_link, "https://weixin.qq.com/g/demo-ja-coffee");
  group_fill fill[CONFIG_MAX_GROUPS];
  assert_int_equal(store_group_fill(f->st, fill, CONFIG_MAX_GROUPS), SQR_OK);
  assert_int_equal(fill[2].joined, 1);
  assert_int_equal(fill[0].joined, 0);
}

static void test_checkin_once_a_day_with_streak(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  int points = r.points;
  for(int day = 1; day <= 7; day++) {
    assert_int_equal(member_checkin(f->st, "138 0013 8000", &r), SQR_OK);
    assert_int_equal(r.streak, day);
    int add = day == 7 ? 30 : 10; /* streak bonus on the 7th day */
    assert_int_equal(r.points_added, add);
    points += add;
    assert_int_equal(r.points, points);
    /* Later the same day: refused, nothing added. */
    clock_advance_ms(f->clock, 3 * 3600 * 1000);
    assert_int_equal(member_checkin(f->st, "13800138000", &r), SQR_EEXISTS);
    assert_int_equal(r.points, points);
    clock_advance_ms(f->clock, 21 * 3600 * 1000);
  }
  /* Skipping a day resets the streak. */
  clock_advance_ms(f->clock, 86400 * 1000);
  assert_int_equal(member_checkin(f->st, "13800138000", &r), SQR_OK);
  assert_int_equal(r.streak, 1);
  assert_int_equal(member_checkin(f->st, "13900000000", &r), SQR_ENOTFOUND);
  assert_int_equal(member_checkin(f->st, "12345", &r), SQR_EINVAL);
  assert_int_equal(member_lookup(f->st, "13800138000", &r), SQR_OK);
  assert_int_equal(r.points, points + 10);
}

static void test_local_midnight_is_the_day_boundary(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  /* 23:59 Shanghai, then 00:01: two different local days. */
  clock_advance_ms(f->clock, (15 * 3600 + 59 * 60) * 1000LL);
  assert_int_equal(member_checkin(f->st, "13800138000", &r), SQR_OK);
  clock_advance_ms(f->clock, 2 * 60 * 1000);
  assert_int_equal(member_checkin(f->st, "13800138000", &r), SQR_OK);
  assert_int_equal(r.streak, 2);
}

static void test_erase_strips_sealed_phone_and_keeps_chain(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  int64_t signup_seq = r.seq;
  assert_int_equal(member_erase_phone(f->st, "13800138000"), SQR_OK);
  assert_int_equal(member_lookup(f->st, "13800138000", &r), SQR_ENOTFOUND);
  last_event e = event_at(f->st, signup_seq);
  assert_true(e.redacted);
  assert_null(strstr(e.payload, "sealed"));
  e = event_at(f->st, store_last_seq(f->st));
  assert_string_equal(e.type, "erase");
  int64_t checked, bad;
  char why[160];
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);
  assert_int_equal(member_erase_phone(f->st, "13800138000"), SQR_ENOTFOUND);
}

/* HQ asks for erasures by member id (docs/PROTOCOL.md "Members"): 32 hex
 * digits, any case; 64 (an id from before stable ids) erase the member
 * who kept its first 32. */
static void test_erasure_from_hq_config(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  char mid[33], mid2[33], upper[33], old_id[65];
  member_of(f->st, r.seq, mid);
  req = req_for("13900139000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  member_of(f->st, r.seq, mid2);
  for(int i = 0; i < 32; i++)
    upper[i] = (char)(mid[i] >= 'a' ? mid[i] - 'a' + 'A' : mid[i]);
  upper[32] = '\0';
  snprintf(old_id, sizeof old_id, "%s%s", mid2, "0123456789abcdef0123456789abcdef");
  char *json = tu_demo_config(&keys, 2, T_BREAKFAST / 1000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON *er = cJSON_AddArrayToObject(root, "erasures");
  cJSON_AddItemToArray(er, cJSON_CreateString(upper));
  cJSON_AddItemToArray(er, cJSON_CreateString(old_id));
  json = cJSON_PrintUnformatted(root);
  char err[256];
  assert_int_equal(store_apply_config(f->st, json, strlen(json), err, sizeof err), SQR_OK);
  free(json);
  assert_int_equal(member_lookup(f->st, "13800138000", &r), SQR_ENOTFOUND);
  assert_int_equal(member_lookup(f->st, "13900139000", &r), SQR_ENOTFOUND);
  char erased_mid[33];
  member_of(f->st, store_last_seq(f->st) - 1, erased_mid);
  assert_string_equal(erased_mid, mid); /* in lower case, the one spelling */
  member_of(f->st, store_last_seq(f->st), erased_mid);
  assert_string_equal(erased_mid, mid2);
  last_event e = event_at(f->st, store_last_seq(f->st));
  assert_string_equal(e.type, "erase");
  assert_non_null(strstr(e.payload, "\"source\":\"hq\""));
  assert_non_null(strstr(e.payload, "\"found\":true"));
  /* The same request in the next version is confirmed only once. */
  int64_t last = store_last_seq(f->st);
  cJSON_ReplaceItemInObject(root, "version", cJSON_CreateNumber(3));
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  assert_int_equal(store_apply_config(f->st, json, strlen(json), err, sizeof err), SQR_OK);
  free(json);
  e = event_at(f->st, last + 1);
  assert_string_equal(e.type, "config_applied");
  /* It tells HQ which key version the kiosk now mints with. */
  assert_non_null(strstr(e.payload, "\"key_version\":1"));
  assert_int_equal(store_last_seq(f->st), last + 1);
}

static void test_no_plaintext_phone_in_files_or_export(void **state) {
  fixture *f = *state;
  const char *phones[] = {"13800138000", "13912345678", "15000001111"};
  member_result r;
  for(size_t i = 0; i < 3; i++) {
    member_signup_req req = req_for(phones[i]);
    req.staff_id = "s01";
    assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
    assert_int_equal(member_checkin(f->st, phones[i], &r), SQR_OK);
  }
  const char *csv = tu_path(f->dir, "members.csv");
  FILE *out = fopen(csv, "w");
  assert_int_equal(member_export_csv(f->st, out), SQR_OK);
  fclose(out);
  /* Checked while the WAL still holds the recent pages, and after. */
  const char *files[] = {"kiosk.db", "kiosk.db-wal", "members.csv"};
  for(size_t i = 0; i < 3; i++) {
    for(size_t j = 0; j < 3; j++) {
      assert_false(tu_file_contains(tu_path(f->dir, files[j]), phones[i], 11));
      assert_false(tu_file_contains(tu_path(f->dir, files[j]), phones[i] + 3, 8));
    }
  }
  assert_true(tu_file_contains(csv, "member_id", 9));
}

/* A damaged coupon serial stops the sign-up: read as 0 it would restart
 * the serials and issue a coupon code that was already given out. */
static void test_damaged_coupon_serial_fails_signup(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req a = req_for("13900000001"), b = req_for("13900000002");
  assert_int_equal(member_signup(f->st, &a, &r), SQR_OK);
  assert_string_equal(r.coupon_campaign, "breakfast");
  int64_t last = store_last_seq(f->st);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db, "UPDATE meta SET value='1x' WHERE key='coupon_serial'", NULL, NULL, NULL),
      SQLITE_OK);
  assert_int_equal(member_signup(f->st, &b, &r), SQR_ECORRUPT);
  assert_non_null(strstr(store_errmsg(f->st), "coupon_serial"));
  assert_string_equal(r.coupon, "");
  assert_int_equal(store_last_seq(f->st), last); /* the sign-up rolled back whole */
  /* Repaired, the next serial follows the last one issued. */
  assert_int_equal(
      sqlite3_exec(db, "UPDATE meta SET value=1 WHERE key='coupon_serial'", NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(member_signup(f->st, &b, &r), SQR_OK);
  coupon_info ci;
  assert_int_equal(coupon_verify(keys.d.coupon_key, 1, "SH-JA01", r.coupon, &ci), SQR_OK);
  assert_int_equal(ci.serial, 2);
}

int main(void) {
  tu_make_keys(&keys);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_signup_records_sealed_phone_hq_can_open, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_prepared_seals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_returning_member_not_duplicated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals_record_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interest_group_and_group_counts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_checkin_once_a_day_with_streak, setup, teardown),
      cmocka_unit_test_setup_teardown(test_local_midnight_is_the_day_boundary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_erase_strips_sealed_phone_and_keeps_chain, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_erasure_from_hq_config, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_plaintext_phone_in_files_or_export, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_coupon_serial_fails_signup, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
