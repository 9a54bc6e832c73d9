/* test_member.c — sign-up, check-in and erasure rules, the sealed phone
 * (opened with HQ's private key as HQ would), and that no plaintext phone
 * number is ever written to the database files. */
#include "testutil.h"
#include "coupon.h"
#include "crypto.h"
#include "member.h"
#include "seal.h"
#include "store.h"

#include <argon2.h>
#include <cjson/cJSON.h>
#include <pthread.h>
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
  assert_int_equal(member_index_derive(store_config(f->st), "13800138000", blind), SQR_OK);
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

/* Issue 16: no record without the age confirmation; the marketing
 * consent is its own event, optional, and can be withdrawn. */
static void test_age_and_marketing(void **state) {
  fixture *f = *state;
  int64_t last = store_last_seq(f->st);
  member_result r;
  member_signup_req req = req_for("13800138000");
  req.age_confirmed = 0;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_ECONSENT);
  assert_non_null(strstr(store_errmsg(f->st), "14 or older"));
  assert_int_equal(store_last_seq(f->st), last);

  /* without the box: a member, no marketing consent */
  req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_false(r.marketing);
  last_event e = event_at(f->st, r.seq);
  assert_string_equal(e.type, "signup");
  assert_non_null(strstr(e.payload, "\"age_confirmed\":true"));
  assert_string_not_equal(event_at(f->st, r.seq + 1).type, "marketing_consent");

  /* with it: its own event after the sign-up */
  req = req_for("13900139000");
  req.marketing = 1;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_true(r.marketing);
  char mid[33];
  member_of(f->st, r.seq, mid);
  e = event_at(f->st, r.seq + 1);
  assert_string_equal(e.type, "marketing_consent");
  assert_non_null(strstr(e.payload, "\"given\":true"));
  assert_non_null(strstr(e.payload, "\"version\":\"2026-12-m\""));
  assert_non_null(strstr(e.payload, mid));

  /* withdrawn: membership and points stay */
  last = store_last_seq(f->st);
  assert_int_equal(member_withdraw_marketing(f->st, "13900139000", NULL, &r), SQR_OK);
  assert_int_equal(r.seq, last + 1);
  e = event_at(f->st, r.seq);
  assert_string_equal(e.type, "marketing_consent");
  assert_non_null(strstr(e.payload, "\"given\":false"));
  assert_int_equal(member_lookup(f->st, "13900139000", NULL, &r), SQR_OK);
  assert_true(r.points > 0);
  /* ticking it again as a returning member is a new consent */
  req = req_for("13900139000");
  req.marketing = 1;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_true(r.returning && r.marketing);
  assert_string_equal(event_at(f->st, r.seq).type, "marketing_consent");
  /* and unticked, a returning member's consent stays as it is */
  last = store_last_seq(f->st);
  req.marketing = 0;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_true(r.marketing);
  assert_int_equal(store_last_seq(f->st), last);

  /* refusals record nothing */
  assert_int_equal(member_withdraw_marketing(f->st, "13700137000", NULL, &r), SQR_ENOTFOUND);
  assert_int_equal(member_withdraw_marketing(f->st, "1370013700", NULL, &r), SQR_EINVAL);
  assert_int_equal(store_last_seq(f->st), last);

  /* A configuration without consent.marketing (an HQ that may not know
   * the event): neither a consent nor a withdrawal is recorded. */
  char *json = tu_demo_config(&keys, 2, T_BREAKFAST / 1000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON_DeleteItemFromObject(cJSON_GetObjectItem(root, "consent"), "marketing");
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  char err[256];
  assert_int_equal(store_apply_config(f->st, json, strlen(json), err, sizeof err), SQR_OK);
  free(json);
  /* ...but a member who holds a consent (given under the earlier
   * configuration, so to an HQ that knew the event) can still withdraw */
  last = store_last_seq(f->st);
  assert_int_equal(member_withdraw_marketing(f->st, "13900139000", NULL, &r), SQR_OK);
  assert_string_equal(event_at(f->st, last + 1).type, "marketing_consent");
  last = store_last_seq(f->st);
  assert_int_equal(member_withdraw_marketing(f->st, "13900139000", NULL, &r), SQR_EINVAL);
  assert_non_null(strstr(store_errmsg(f->st), "no marketing consent"));
  req = req_for("13900139000");
  req.marketing = 1;
  assert_int_equal(member_signup(f->st, &req, &r), SQR_EINVAL);
  assert_int_equal(store_last_seq(f->st), last);
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
    assert_int_equal(member_checkin(f->st, "138 0013 8000", NULL, &r), SQR_OK);
    assert_int_equal(r.streak, day);
    int add = day == 7 ? 30 : 10; /* streak bonus on the 7th day */
    assert_int_equal(r.points_added, add);
    points += add;
    assert_int_equal(r.points, points);
    /* Later the same day: refused, nothing added. */
    clock_advance_ms(f->clock, 3 * 3600 * 1000);
    assert_int_equal(member_checkin(f->st, "13800138000", NULL, &r), SQR_EEXISTS);
    assert_int_equal(r.points, points);
    clock_advance_ms(f->clock, 21 * 3600 * 1000);
  }
  /* Skipping a day resets the streak. */
  clock_advance_ms(f->clock, 86400 * 1000);
  assert_int_equal(member_checkin(f->st, "13800138000", NULL, &r), SQR_OK);
  assert_int_equal(r.streak, 1);
  assert_int_equal(member_checkin(f->st, "13900000000", NULL, &r), SQR_ENOTFOUND);
  assert_int_equal(member_checkin(f->st, "12345", NULL, &r), SQR_EINVAL);
  assert_int_equal(member_lookup(f->st, "13800138000", NULL, &r), SQR_OK);
  assert_int_equal(r.points, points + 10);
}

static void test_local_midnight_is_the_day_boundary(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  /* 23:59 Shanghai, then 00:01: two different local days. */
  clock_advance_ms(f->clock, (15 * 3600 + 59 * 60) * 1000LL);
  assert_int_equal(member_checkin(f->st, "13800138000", NULL, &r), SQR_OK);
  clock_advance_ms(f->clock, 2 * 60 * 1000);
  assert_int_equal(member_checkin(f->st, "13800138000", NULL, &r), SQR_OK);
  assert_int_equal(r.streak, 2);
}

static void test_erase_strips_sealed_phone_and_keeps_chain(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  int64_t signup_seq = r.seq;
  assert_int_equal(member_erase_phone(f->st, "13800138000", NULL), SQR_OK);
  assert_int_equal(member_lookup(f->st, "13800138000", NULL, &r), SQR_ENOTFOUND);
  last_event e = event_at(f->st, signup_seq);
  assert_true(e.redacted);
  assert_null(strstr(e.payload, "sealed"));
  e = event_at(f->st, store_last_seq(f->st));
  assert_string_equal(e.type, "erase");
  int64_t checked, bad;
  char why[160];
  assert_int_equal(store_verify_log(f->st, &checked, &bad, why, sizeof why), SQR_OK);
  assert_int_equal(member_erase_phone(f->st, "13800138000", NULL), SQR_ENOTFOUND);
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
  assert_int_equal(member_lookup(f->st, "13800138000", NULL, &r), SQR_ENOTFOUND);
  assert_int_equal(member_lookup(f->st, "13900139000", NULL, &r), SQR_ENOTFOUND);
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
    assert_int_equal(member_checkin(f->st, phones[i], NULL, &r), SQR_OK);
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

/* ---- the blind index (member_index_derive) ------------------------------ */

/* libargon2 is the real Argon2id v1.3: RFC 9106 section 5.3's test vector
 * (it has a secret, as ours does). */
static void test_argon2id_rfc9106_vector(void **state) {
  (void)state;
  uint8_t pwd[32], salt[16], secret[8], ad[12], out[32];
  memset(pwd, 1, sizeof pwd);
  memset(salt, 2, sizeof salt);
  memset(secret, 3, sizeof secret);
  memset(ad, 4, sizeof ad);
  argon2_context ctx = {.out = out,
                        .outlen = 32,
                        .pwd = pwd,
                        .pwdlen = 32,
                        .salt = salt,
                        .saltlen = 16,
                        .secret = secret,
                        .secretlen = 8,
                        .ad = ad,
                        .adlen = 12,
                        .t_cost = 3,
                        .m_cost = 32,
                        .lanes = 4,
                        .threads = 1,
                        .version = ARGON2_VERSION_13};
  assert_int_equal(argon2_ctx(&ctx, Argon2_id), ARGON2_OK);
  static const uint8_t want[32] = {0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c, 0x08, 0xc0, 0x37,
                                   0xa3, 0x4a, 0x8b, 0x53, 0xc9, 0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75,
                                   0xb6, 0x5e, 0xb5, 0x25, 0x20, 0xe9, 0x6b, 0x01, 0xe6, 0x59};
  assert_memory_equal(out, want, 32);
}

/* The index is exactly the construction docs/PROTOCOL.md names, so HQ or
 * anyone holding the key computes the same: Argon2id(password = the 11
 * digits, salt = "storeqr-index/" STORE, secret = index key, m, t, p, 32
 * bytes, v1.3). Each input matters. */
static void test_index_construction(void **state) {
  fixture *f = *state;
  const sqr_config *cfg = store_config(f->st);
  assert_int_equal(cfg->index_alg, CONFIG_INDEX_ARGON2ID);
  uint8_t got[32], want[32], pwd[11], secret[32];
  memcpy(pwd, "13800138000", 11);
  memcpy(secret, keys.d.index_key, 32);
  const char *salt = "storeqr-index/SH-JA01";
  argon2_context ctx = {.out = want,
                        .outlen = 32,
                        .pwd = pwd,
                        .pwdlen = 11,
                        .salt = (uint8_t *)salt,
                        .saltlen = (uint32_t)strlen(salt),
                        .secret = secret,
                        .secretlen = 32,
                        .t_cost = 1,
                        .m_cost = 64,
                        .lanes = 1,
                        .threads = 1,
                        .version = ARGON2_VERSION_13};
  assert_int_equal(argon2_ctx(&ctx, Argon2_id), ARGON2_OK);
  assert_int_equal(member_index_derive(cfg, "13800138000", got), SQR_OK);
  assert_memory_equal(got, want, 32);

  sqr_config *c = malloc(sizeof *c);
  uint8_t other[32];
#define DIFFERS(edit)                                                                              \
  do {                                                                                             \
    memcpy(c, cfg, sizeof *c);                                                                     \
    edit;                                                                                          \
    assert_int_equal(member_index_derive(c, "13800138000", other), SQR_OK);                        \
    assert_memory_not_equal(other, want, 32);                                                      \
  } while(0)
  DIFFERS(c->index_key[0] ^= 1);
  DIFFERS(snprintf(c->store_id, sizeof c->store_id, "SH-JA02"));
  DIFFERS(c->index_t = 2);
  DIFFERS(c->index_m_kib = 128);
  DIFFERS(c->index_p = 2);
#undef DIFFERS
  assert_int_equal(member_index_derive(cfg, "13800138001", other), SQR_OK);
  assert_memory_not_equal(other, want, 32);
  /* The old index, for a configuration from before key versions. */
  memcpy(c, cfg, sizeof *c);
  c->index_alg = CONFIG_INDEX_HMAC;
  assert_int_equal(member_index_derive(c, "13800138000", got), SQR_OK);
  assert_int_equal(seal_blind_index_hmac(cfg->index_key, "13800138000", want), SQR_OK);
  assert_memory_equal(got, want, 32);
  /* Bad input: refused, and out holds nothing. */
  const char *bad[] = {"1380013800", "138001380001", "1380013800a", "+8613800138000", ""};
  for(size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    memset(got, 0xaa, sizeof got);
    assert_int_equal(member_index_derive(cfg, bad[i], got), SQR_EINVAL);
    for(int j = 0; j < 32; j++)
      assert_int_equal(got[j], 0);
  }
  assert_int_equal(member_index_derive(cfg, NULL, got), SQR_EINVAL);
  assert_int_equal(member_index_derive(NULL, "13800138000", got), SQR_EINVAL);
  assert_int_equal(member_index_derive(cfg, "13800138000", NULL), SQR_EINVAL);
  c->index_alg = 7;
  assert_int_equal(member_index_derive(c, "13800138000", got), SQR_EINVAL);
  crypto_wipe(c, sizeof *c);
  free(c);
}

typedef struct derive_job {
  const sqr_config *cfg;
  char phone[12];
  uint8_t out[32];
  sqr_rc rc;
} derive_job;

static void *derive_thread(void *arg) {
  derive_job *j = arg;
  for(int i = 0; i < 20 && !j->rc; i++)
    j->rc = member_index_derive(j->cfg, j->phone, j->out);
  return NULL;
}

/* Pure and thread-safe: derivations running at once on other threads
 * (the UI starts one as the 11th digit is typed) agree with one here. */
static void test_index_threads(void **state) {
  fixture *f = *state;
  derive_job jobs[4];
  pthread_t th[4];
  for(int i = 0; i < 4; i++) {
    jobs[i] = (derive_job){.cfg = store_config(f->st)};
    snprintf(jobs[i].phone, sizeof jobs[i].phone, "1390000000%d", i);
    assert_int_equal(pthread_create(&th[i], NULL, derive_thread, &jobs[i]), 0);
  }
  for(int i = 0; i < 4; i++) {
    uint8_t want[32];
    assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(jobs[i].rc, SQR_OK);
    assert_int_equal(member_index_derive(store_config(f->st), jobs[i].phone, want), SQR_OK);
    assert_memory_equal(jobs[i].out, want, 32);
  }
}

/* A precomputed index is used while its configuration is the applied one
 * (so it must be right: a wrong one finds nobody), and ignored once the
 * configuration moved on. */
static void test_precomputed_index(void **state) {
  fixture *f = *state;
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  member_index idx = {.config_version = store_config(f->st)->version};
  assert_int_equal(member_index_derive(store_config(f->st), "13800138000", idx.bytes), SQR_OK);
  assert_int_equal(member_checkin(f->st, "13800138000", &idx, &r), SQR_OK);
  member_index wrong = idx;
  wrong.bytes[0] ^= 1;
  assert_int_equal(member_lookup(f->st, "13800138000", &wrong, &r), SQR_ENOTFOUND);
  req.index = &wrong; /* believed: a new member, since nobody has that index */
  assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
  assert_false(r.returning);
  /* Another configuration: the stale index is not used. */
  tu_apply_demo(f->st, &keys, 2, T_BREAKFAST / 1000);
  member_index stale = idx; /* of version 1, and held by nobody */
  stale.bytes[5] ^= 0x40;
  assert_int_equal(member_lookup(f->st, "13800138000", &stale, &r), SQR_OK);
  stale.config_version = 2; /* believed again under the current version */
  assert_int_equal(member_lookup(f->st, "13800138000", &stale, &r), SQR_ENOTFOUND);
}

/* Every 32-byte value the kiosk database holds in its configuration or
 * meta tables, from base64 or hex strings anywhere in the JSON. */
typedef struct held_keys {
  uint8_t k[64][32];
  int n;
} held_keys;

static void add_key(held_keys *h, const uint8_t *k) {
  if(h->n < 64) memcpy(h->k[h->n++], k, 32);
}

static void collect_keys(const cJSON *j, held_keys *h) {
  const cJSON *e;
  if(cJSON_IsString(j)) {
    uint8_t buf[64];
    size_t n = 0;
    if(crypto_unb64(j->valuestring, buf, sizeof buf, &n) == SQR_OK && n == 32) add_key(h, buf);
    if(strlen(j->valuestring) == 64 && crypto_unhex(j->valuestring, buf, 32) == SQR_OK)
      add_key(h, buf);
  }
  cJSON_ArrayForEach(e, j) collect_keys(e, h);
}

static void held_keys_of(const char *path, held_keys *h) {
  sqlite3 *db;
  sqlite3_stmt *s;
  h->n = 0;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT json FROM config", -1, &s, NULL), SQLITE_OK);
  while(sqlite3_step(s) == SQLITE_ROW) {
    cJSON *j = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
    collect_keys(j, h);
    cJSON_Delete(j);
  }
  sqlite3_finalize(s);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta", -1, &s, NULL), SQLITE_OK);
  while(sqlite3_step(s) == SQLITE_ROW) {
    if(sqlite3_column_bytes(s, 0) == 32 && sqlite3_column_type(s, 0) == SQLITE_BLOB)
      add_key(h, sqlite3_column_blob(s, 0));
    else if(sqlite3_column_type(s, 0) == SQLITE_TEXT) {
      cJSON *str = cJSON_CreateString((const char *)sqlite3_column_text(s, 0));
      collect_keys(str, h);
      cJSON_Delete(str);
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
}

/* The blind index of phone as stored (index_kind 1 expected). */
static void stored_index(const char *path, const char *mid, uint8_t out[32], int *kind) {
  sqlite3 *db;
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_prepare_v2(db, "SELECT blind, index_kind FROM members WHERE mid=?", -1, &s, NULL),
      SQLITE_OK);
  sqlite3_bind_text(s, 1, mid, -1, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_int_equal(sqlite3_column_bytes(s, 0), 32);
  memcpy(out, sqlite3_column_blob(s, 0), 32);
  *kind = sqlite3_column_int(s, 1);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

/* A stolen database gives no fast test of a number: no key it holds,
 * raw or through any HKDF purpose we use, makes HMAC-SHA256 of the number
 * equal to its stored index (the old, minutes-to-break index). */
static void test_stored_index_not_hmac_of_any_held_key(void **state) {
  fixture *f = *state;
  const char *phones[] = {"13800138000", "15912345678"};
  static const char *const infos[] = {CRYPTO_INFO_TOKEN, CRYPTO_INFO_COUPON, CRYPTO_INFO_BLIND};
  held_keys h;
  member_result r;
  for(size_t i = 0; i < 2; i++) {
    member_signup_req req = req_for(phones[i]);
    assert_int_equal(member_signup(f->st, &req, &r), SQR_OK);
    char mid[33];
    member_of(f->st, r.seq, mid);
    uint8_t stored[32], want[32];
    int kind = -1;
    stored_index(f->path, mid, stored, &kind);
    assert_int_equal(kind, 1);
    assert_int_equal(member_index_derive(store_config(f->st), phones[i], want), SQR_OK);
    assert_memory_equal(stored, want, 32); /* the index is what we think it is */
    held_keys_of(f->path, &h);
    assert_true(h.n >= 3); /* token, coupon and index keys at least */
    for(int k = 0; k < h.n; k++) {
      uint8_t cand[32], mac[32];
      assert_int_equal(crypto_hmac_sha256(h.k[k], 32, phones[i], 11, mac), SQR_OK);
      assert_memory_not_equal(mac, stored, 32);
      for(size_t j = 0; j < sizeof infos / sizeof *infos; j++) {
        assert_int_equal(crypto_hkdf_sha256(NULL, 0, h.k[k], 32, infos[j], cand, 32), SQR_OK);
        assert_int_equal(crypto_hmac_sha256(cand, 32, phones[i], 11, mac), SQR_OK);
        assert_memory_not_equal(mac, stored, 32);
      }
    }
  }
}

/* An old kiosk database: members on the HMAC index under a store key. */
static tu_store *legacy_store(const char *name, tu_keys *k) {
  *k = keys;
  k->d.legacy = 1;
  tu_store *s = tu_store_new(name, T_BREAKFAST, k, 1);
  assert_int_equal(store_config(s->st)->index_alg, CONFIG_INDEX_HMAC);
  return s;
}

/* The Argon2id configuration HQ sends that kiosk next: the old index's key
 * (derived from the store key, never the store key) and its deadline. */
static void apply_argon2(tu_store *s, tu_keys *k, int64_t version, int64_t until_ms) {
  k->d.legacy = 0;
  k->d.has_legacy_index = until_ms > 0;
  k->d.legacy_index_until_ms = until_ms;
  assert_int_equal(
      crypto_hkdf_sha256(NULL, 0, k->d.store_key, 32, CRYPTO_INFO_BLIND, k->d.legacy_index_key, 32),
      SQR_OK);
  tu_apply_demo(s->st, k, version, T_BREAKFAST / 1000);
  assert_int_equal(store_config(s->st)->index_alg, CONFIG_INDEX_ARGON2ID);
}

static int64_t count_where(const char *path, const char *where) {
  char sql[200], got[32];
  sqlite3 *db;
  sqlite3_stmt *s;
  snprintf(sql, sizeof sql, "SELECT count(*) FROM members WHERE %s", where);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  snprintf(got, sizeof got, "%s", sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return atoll(got);
}

/* Lazy migration: after the switch to Argon2id, a check-in or sign-up of
 * a member still on the old index finds them by it and moves the row onto
 * the new index in the same transaction; a lookup finds without moving.
 * Past keys.legacy_index_until the old index finds nobody, and the rows
 * still on it are dropped (the periodic refresh), and gone from the file. */
static void test_lazy_migration(void **state) {
  (void)state;
  tu_keys k;
  tu_store *s = legacy_store("member-lazy", &k);
  const char *a = "13800138000", *b = "13900139000", *c = "15000001111";
  char ida[MEMBER_ID_LEN + 1], idb[MEMBER_ID_LEN + 1];
  uint8_t old_a[32], old_c[32], now_a[32];
  member_result r;
  member_signup_req req = req_for(a);
  assert_int_equal(member_signup(s->st, &req, &r), SQR_OK);
  snprintf(ida, sizeof ida, "%s", r.member_id);
  req = req_for(b);
  assert_int_equal(member_signup(s->st, &req, &r), SQR_OK);
  snprintf(idb, sizeof idb, "%s", r.member_id);
  req = req_for(c);
  assert_int_equal(member_signup(s->st, &req, &r), SQR_OK);
  assert_int_equal(count_where(s->path, "index_kind=0"), 3);
  assert_int_equal(seal_blind_index(k.d.store_key, a, old_a), SQR_OK);
  assert_int_equal(seal_blind_index(k.d.store_key, c, old_c), SQR_OK);
  assert_true(tu_file_contains(s->path, old_a, 32) ||
              tu_file_contains(tu_path(s->dir, "kiosk.db-wal"), old_a, 32));

  int64_t until = T_BREAKFAST + 86400000LL;
  apply_argon2(s, &k, 2, until);
  assert_int_equal(count_where(s->path, "index_kind=0"), 3); /* nothing dropped yet */
  /* Check-in: found by the old index, moved onto the new one. */
  assert_int_equal(member_checkin(s->st, a, NULL, &r), SQR_OK);
  assert_string_equal(r.member_id, ida);
  assert_int_equal(member_index_derive(store_config(s->st), a, now_a), SQR_OK);
  assert_int_equal(count_where(s->path, "index_kind=1"), 1);
  {
    char where[120], hex[65];
    crypto_hex(now_a, 32, hex);
    snprintf(where, sizeof where, "index_kind=1 AND hex(blind)=upper('%s')", hex);
    assert_int_equal(count_where(s->path, where), 1);
  }
  /* And now by the new index alone (a second check-in the same day). */
  assert_int_equal(member_checkin(s->st, a, NULL, &r), SQR_EEXISTS);
  /* A returning sign-up: welcomed back, not duplicated, moved. */
  req = req_for(b);
  assert_int_equal(member_signup(s->st, &req, &r), SQR_OK);
  assert_true(r.returning);
  assert_string_equal(r.member_id, idb);
  assert_int_equal(count_where(s->path, "index_kind=1"), 2);
  /* A lookup finds c by the old index but changes nothing. */
  assert_int_equal(member_lookup(s->st, c, NULL, &r), SQR_OK);
  assert_int_equal(count_where(s->path, "index_kind=0"), 1);

  /* Past the deadline: c is not found, then dropped by the refresh. */
  clock_advance_ms(s->clock, 86400000LL + 1000);
  assert_int_equal(member_lookup(s->st, c, NULL, &r), SQR_ENOTFOUND);
  assert_int_equal(count_where(s->path, "1"), 3);
  int changed = 0, jumped = 0;
  assert_int_equal(store_clock_refresh(s->st, &changed, &jumped), SQR_OK);
  assert_int_equal(count_where(s->path, "1"), 2);
  assert_int_equal(count_where(s->path, "index_kind=0"), 0);
  assert_int_equal(member_checkin(s->st, a, NULL, &r), SQR_OK); /* a stays */
  /* The old indexes left the database file and its WAL. */
  assert_false(tu_file_contains(s->path, old_c, 32));
  assert_false(tu_file_contains(tu_path(s->dir, "kiosk.db-wal"), old_c, 32));
  assert_false(tu_file_contains(s->path, old_a, 32));
  assert_false(tu_file_contains(tu_path(s->dir, "kiosk.db-wal"), old_a, 32));
  /* c comes back as a new member. */
  req = req_for(c);
  assert_int_equal(member_signup(s->st, &req, &r), SQR_OK);
  assert_false(r.returning);
  int64_t checked, bad;
  char why[160];
  assert_int_equal(store_verify_log(s->st, &checked, &bad, why, sizeof why), SQR_OK);
  tu_store_free(s);
}

/* A configuration without the old index's key: rows on the old index can
 * never be found, so applying it drops them at once. */
static void test_old_rows_dropped_without_legacy_key(void **state) {
  (void)state;
  tu_keys k;
  tu_store *s = legacy_store("member-drop", &k);
  member_result r;
  member_signup_req req = req_for("13800138000");
  assert_int_equal(member_signup(s->st, &req, &r), SQR_OK);
  req = req_for("13900139000");
  assert_int_equal(member_signup(s->st, &req, &r), SQR_OK);
  /* While the configuration is still the legacy one, nothing is dropped. */
  int changed, jumped;
  assert_int_equal(store_clock_refresh(s->st, &changed, &jumped), SQR_OK);
  assert_int_equal(count_where(s->path, "1"), 2);
  apply_argon2(s, &k, 2, 0);
  assert_int_equal(count_where(s->path, "1"), 0);
  assert_int_equal(member_lookup(s->st, "13800138000", NULL, &r), SQR_ENOTFOUND);
  tu_store_free(s);
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
      cmocka_unit_test(test_argon2id_rfc9106_vector),
      cmocka_unit_test_setup_teardown(test_index_construction, setup, teardown),
      cmocka_unit_test_setup_teardown(test_index_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_age_and_marketing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_precomputed_index, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stored_index_not_hmac_of_any_held_key, setup, teardown),
      cmocka_unit_test(test_lazy_migration),
      cmocka_unit_test(test_old_rows_dropped_without_legacy_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
