/* test_config.c — the configuration document: the demo parses, and every
 * kind of bad input is refused with the field named. */
#include "testutil.h"
#include "config.h"
#include "crypto.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tu_keys keys;

static sqr_rc parse(const char *json, sqr_config **cfg, char *err) {
  return config_parse(json, strlen(json), cfg, err, 256);
}

static void test_demo_parses(void **state) {
  (void)state;
  char *json = tu_demo_config(&keys, 7, 1795500000);
  sqr_config *cfg = NULL;
  char err[256];
  assert_int_equal(parse(json, &cfg, err), SQR_OK);
  assert_int_equal(cfg->version, 7);
  assert_string_equal(cfg->store_id, "SH-JA01");
  assert_string_equal(cfg->store_name, "静安寺店");
  assert_int_equal(cfg->kiosk_number, 1);
  assert_int_equal(cfg->mode, CONFIG_MODE_HQ);
  assert_int_equal(cfg->period_s, 30);
  assert_int_equal(cfg->kiosk_incarnation, 1);
  assert_int_equal(cfg->key_version, 1);
  assert_memory_equal(cfg->token_key, keys.d.token_key, 32);
  assert_memory_equal(cfg->coupon_key, keys.d.coupon_key, 32);
  assert_int_equal(cfg->index_alg, CONFIG_INDEX_ARGON2ID);
  assert_memory_equal(cfg->index_key, keys.d.index_key, 32);
  assert_int_equal(cfg->index_m_kib, 64); /* tu_make_keys: cheap for tests */
  assert_int_equal(cfg->index_t, 1);
  assert_int_equal(cfg->index_p, 1);
  assert_false(cfg->has_legacy_index);
  assert_true(cfg->has_hq_pub);
  assert_memory_equal(cfg->hq_pub, keys.hq_pub, 65);
  assert_int_equal(cfg->ngroups, 3);
  assert_int_equal(cfg->groups[2].kind, GROUP_KIND_INTEREST);
  assert_string_equal(cfg->groups[2].tag, "coffee");
  assert_int_equal(cfg->groups[0].expires_at, 1795500000 + 6 * 86400);
  assert_int_equal(cfg->ncampaigns, 4);
  assert_int_equal(cfg->campaigns[0].start_min, 7 * 60);
  assert_int_equal(cfg->campaigns[0].coupon_campaign, 1);
  assert_ptr_equal(config_campaign_at(cfg, 8 * 60), &cfg->campaigns[0]);
  assert_null(config_campaign_at(cfg, 23 * 60));
  assert_non_null(config_staff_find(cfg, "s02"));
  assert_null(config_staff_find(cfg, "nobody"));
  assert_string_equal(cfg->consent_version, "2026-11");
  config_free(cfg);
  free(json);
}

/* The demo document with one edit: field of section (its first element
 * when section is an array; "keys.index" reaches into keys) replaced by a
 * raw JSON value, or deleted (value NULL). malloc'ed. */
static char *edited_demo(const char *section, const char *field, const char *value) {
  char *json = tu_demo_config(&keys, 1, 1795500000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON *obj = root;
  if(section && strcmp(section, "keys.index") == 0)
    obj = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "keys"), "index");
  else if(section)
    obj = cJSON_GetObjectItem(root, section);
  if(section && cJSON_IsArray(obj)) obj = cJSON_GetArrayItem(obj, 0);
  cJSON_DeleteItemFromObject(obj, field);
  if(value) cJSON_AddItemToObject(obj, field, cJSON_Parse(value));
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return json;
}

/* Expects the edited demo document to be refused with an error naming
 * want_in_err. */
static void expect_error(const char *section, const char *field, const char *value,
                         const char *want_in_err) {
  char *json = edited_demo(section, field, value);
  sqr_config *cfg = NULL;
  char err[256] = "";
  assert_int_equal(parse(json, &cfg, err), SQR_EINVAL);
  assert_null(cfg);
  if(!strstr(err, want_in_err)) fail_msg("error \"%s\" does not mention \"%s\"", err, want_in_err);
  free(json);
}

/* The same edit, expected to be accepted. */
static void expect_ok(const char *section, const char *field, const char *value) {
  char *json = edited_demo(section, field, value);
  sqr_config *cfg = NULL;
  char err[256] = "";
  if(parse(json, &cfg, err) != SQR_OK) fail_msg("refused: %s", err);
  config_free(cfg);
  free(json);
}

/* Issue 16: the marketing consent is optional, the age question on by
 * default, retention bounded; each refusal names its field. */
static void test_privacy_sections(void **state) {
  (void)state;
  char *json = tu_demo_config(&keys, 1, 1795500000);
  sqr_config *cfg = NULL;
  char err[256] = "";
  assert_int_equal(parse(json, &cfg, err), SQR_OK);
  free(json);
  assert_string_equal(cfg->marketing_version, "2026-12-m");
  assert_non_null(strstr(cfg->marketing_zh, "优惠"));
  assert_true(cfg->age_required);
  assert_string_equal(cfg->age_zh, CONFIG_AGE_ZH_DEFAULT);
  assert_int_equal(cfg->retention_member_days, CONFIG_RETAIN_MEMBER_DEFAULT);
  assert_int_equal(cfg->retention_event_days, CONFIG_RETAIN_EVENT_DEFAULT);
  config_free(cfg);

  /* without consent.marketing no marketing consent is offered */
  json = tu_demo_config(&keys, 1, 1795500000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON *consent = cJSON_GetObjectItem(root, "consent");
  cJSON_DeleteItemFromObject(consent, "marketing");
  cJSON_AddItemToObject(consent, "age",
                        cJSON_Parse("{\"required\":false,\"text\":{\"zh\":\"满14岁\"}}"));
  json = cJSON_PrintUnformatted(root);
  assert_int_equal(parse(json, &cfg, err), SQR_OK);
  assert_string_equal(cfg->marketing_version, "");
  assert_false(cfg->age_required);
  assert_string_equal(cfg->age_zh, "满14岁");
  assert_string_equal(cfg->age_en, CONFIG_AGE_EN_DEFAULT);
  config_free(cfg);
  free(json);
  static const struct {
    const char *value, *want;
  } bad[] = {
      {"{\"required\":1}", "consent.age.required: must be true or false"},
      {"[]", "consent.age: must be an object"},
  };
  for(size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cJSON_DeleteItemFromObject(consent, "age");
    cJSON_AddItemToObject(consent, "age", cJSON_Parse(bad[i].value));
    json = cJSON_PrintUnformatted(root);
    assert_int_equal(parse(json, &cfg, err), SQR_EINVAL);
    if(!strstr(err, bad[i].want))
      fail_msg("error \"%s\" does not mention \"%s\"", err, bad[i].want);
    free(json);
  }
  cJSON_DeleteItemFromObject(consent, "age");
  cJSON_AddItemToObject(consent, "marketing",
                        cJSON_Parse("{\"version\":\"v 1\",\"text\":{\"zh\":\"x\"}}"));
  json = cJSON_PrintUnformatted(root);
  assert_int_equal(parse(json, &cfg, err), SQR_EINVAL);
  assert_non_null(strstr(err, "consent.marketing.version"));
  free(json);
  cJSON_DeleteItemFromObject(consent, "marketing");
  cJSON_AddItemToObject(consent, "marketing", cJSON_Parse("{\"version\":\"v1\"}"));
  json = cJSON_PrintUnformatted(root);
  assert_int_equal(parse(json, &cfg, err), SQR_EINVAL);
  assert_non_null(strstr(err, "consent.marketing.text: is required"));
  free(json);
  cJSON_Delete(root);

  expect_error(NULL, "retention", "{\"member_days\":29}",
               "retention.member_days: must be between 30 and 3650");
  expect_error(NULL, "retention", "{\"member_days\":3651}", "retention.member_days");
  expect_error(NULL, "retention", "{\"event_days\":6}",
               "retention.event_days: must be between 7 and 3650");
  expect_error(NULL, "retention", "{\"event_days\":\"90\"}",
               "retention.event_days: must be an integer");
  expect_error(NULL, "retention", "7", "retention: must be an object");
  expect_ok(NULL, "retention", "{\"member_days\":365,\"event_days\":30}");
}

static void test_field_errors(void **state) {
  (void)state;
  expect_error(NULL, "version", NULL, "version: is required");
  expect_error(NULL, "version", "\"7\"", "version: must be an integer");
  expect_error(NULL, "version", "1.5", "version: must be an integer");
  expect_error(NULL, "version", "1e30", "version: must be an integer"); /* fuzz find */
  expect_error("store", "id", "\"sh ja\"", "store.id");
  expect_error("store", "name", "42", "store.name: must be a string");
  expect_error("store", "lat", "91", "store.lat");
  expect_error("kiosk", "number", "0", "kiosk.number: must be between 1 and 65535");
  expect_error(NULL, "mode", "\"qr\"", "mode");
  expect_error("kiosk", "incarnation", "0", "kiosk.incarnation: must be between 1 and 9999");
  expect_error("kiosk", "incarnation", "10000", "kiosk.incarnation: must be between 1 and 9999");
  expect_ok("kiosk", "incarnation", NULL);
  expect_error("keys", "hq_public", "\"!!!\"", "keys.hq_public");
  expect_error("groups", "link", "\"http://insecure\"", "groups[0].link: must be an https://");
  /* A link ends up in an href and a QR: nothing that leaves an attribute. */
  expect_error("groups", "link", "\"https://weixin.qq.com/g/a b\"",
               "groups[0].link: must be an https:// join link without spaces, quotes");
  expect_error("groups", "link", "\"https://weixin.qq.com/g/x\\\"onclick=\\\"\"",
               "groups[0].link: must be an https://");
  expect_error("groups", "link", "\"https://weixin.qq.com/g/x'\"", "groups[0].link");
  expect_error("groups", "link", "\"https://weixin.qq.com/g/<script>\"", "groups[0].link");
  expect_error("groups", "link", "\"https://weixin.qq.com\\\\@evil/\"", "groups[0].link");
  expect_error("groups", "link", "\"https://weixin.qq.com/g/x\\n\"", "groups[0].link");
  expect_error("groups", "link", "\"https://\"", "groups[0].link");
  expect_error("group_policy", "fallback_link", "\"http://work.weixin.qq.com/ca/x\"",
               "group_policy.fallback_link: must be an https:// contact link");
  expect_error("group_policy", "fallback_link", "\"https://work.weixin.qq.com/ca/a b\"",
               "group_policy.fallback_link");
  expect_error("group_policy", "fallback_link", "\"https://work.weixin.qq.com/ca/<x>\"",
               "group_policy.fallback_link");
  /* The fallback stays optional. */
  expect_ok("group_policy", "fallback_link", NULL);
  expect_ok("group_policy", "fallback_link", "\"\"");
  expect_ok("groups", "link", "\"https://weixin.qq.com/g/x?a=1&b=%20\"");
  expect_error("groups", "capacity", "100000", "groups[0].capacity");
  expect_error("groups", "kind", "\"vip\"", "groups[0].kind");
  expect_error("groups", "expires_at", "\"next tuesday\"", "groups[0].expires_at");
  expect_error("groups", "tag", "\"wine\"", "groups[0].tag: names a tag \"wine\"");
  expect_error("campaigns", "start", "\"25:00\"", "campaigns[0].start");
  expect_error("campaigns", "end", "\"06:00\"", "campaigns[0].end: must be after start");
  expect_error("consent", "version", NULL, "consent.version: is required");
  expect_error("rotation", "period_s", "1", "rotation.period_s");
  expect_error(NULL, "groups", "{}", "groups: must be an array");
  expect_error(NULL, "erasures", "[\"abc\"]", "erasures[0]: must be a member id (32 hex digits)");
  expect_error(NULL, "erasures", "[\"0123456789abcdef0123456789abcde\"]", "erasures[0]"); /* 31 */
  expect_error(NULL, "erasures", "[\"0123456789abcdef0123456789abcdef0\"]", "erasures[0]");
  expect_error(NULL, "erasures", "[\"0123456789abcdef0123456789abcdeg\"]", "erasures[0]");
  expect_error(NULL, "erasures", "[\"0123456789abcdef0123456789abcdef0123456789abcdef\"]",
               "erasures[0]"); /* 48 */
  expect_error(NULL, "erasures", "[7]", "erasures[0]");
  expect_ok(NULL, "erasures", "[\"0123456789ABCDEF0123456789abcdef\"]");
  expect_ok(NULL, "erasures",
            "[\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]");
  expect_error(NULL, "store", NULL, "store: is required");
}

/* The kiosk's own keys (docs/CONFIG.md "keys"): each field is checked
 * and named; a document has the new form or the legacy one, never both,
 * never neither. */
static void test_key_errors(void **state) {
  (void)state;
  const char *k32 = "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"";
  expect_error("keys", "store_key", k32, "keys.store_key: must not appear with keys.token_key");
  expect_error("keys", "token_key", NULL, "keys.token_key: is required (or keys.store_key");
  expect_error("keys", "token_key", "\"c2hvcnQ=\"", "keys.token_key: must be 32 bytes");
  expect_error("keys", "coupon_key", NULL, "keys.coupon_key: is required");
  expect_error("keys", "coupon_key", "\"!!\"", "keys.coupon_key: must be 32 bytes");
  expect_error("keys", "version", "0", "keys.version: must be between 1 and 255");
  expect_error("keys", "version", "256", "keys.version");
  expect_error("keys", "index", NULL, "keys.index: is required");
  expect_error("keys", "index", "[]", "keys.index: must be an object");
  expect_error("keys.index", "alg", "\"scrypt\"", "keys.index.alg: must be \"argon2id\"");
  expect_error("keys.index", "alg", NULL, "keys.index.alg: is required");
  expect_error("keys.index", "key", NULL, "keys.index.key: is required");
  expect_error("keys.index", "key", "\"c2hvcnQ=\"", "keys.index.key: must be 32 bytes");
  expect_error("keys.index", "m_kib", "7", "keys.index.m_kib: must be between 8 and 262144");
  /* more memory than a kiosk can give one index computation (256 MiB) */
  expect_error("keys.index", "m_kib", "262145", "keys.index.m_kib");
  expect_error("keys.index", "m_kib", "4194304", "keys.index.m_kib");
  expect_error("keys.index", "t", "0", "keys.index.t: must be between 1 and 10");
  expect_error("keys.index", "t", "11", "keys.index.t");
  expect_error("keys.index", "p", "5", "keys.index.p: must be between 1 and 4");
  expect_ok("keys.index", "m_kib", "8");
  expect_ok("keys.index", "t", "10");
  expect_ok("keys.index", "m_kib", "262144");
  /* m >= 8 p is Argon2's own rule: 24 KiB is too little for 4 lanes. */
  {
    char *json = edited_demo("keys.index", "p", "4");
    cJSON *root = cJSON_Parse(json);
    free(json);
    cJSON *index = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "keys"), "index");
    cJSON_ReplaceItemInObject(index, "m_kib", cJSON_CreateNumber(24));
    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    sqr_config *cfg = NULL;
    char err[256] = "";
    assert_int_equal(parse(json, &cfg, err), SQR_EINVAL);
    assert_non_null(strstr(err, "keys.index.m_kib: must be at least 8 times keys.index.p"));
    free(json);
  }
  /* The old index's key and its deadline come together. */
  expect_error("keys", "legacy_index_key", k32,
               "keys.legacy_index_until: is required with keys.legacy_index_key");
  expect_error("keys", "legacy_index_until", "1811111111000",
               "keys.legacy_index_key: is required with keys.legacy_index_until");
}

/* Defaults of keys.index, and the old index's key and deadline. */
static void test_index_defaults_and_legacy_index(void **state) {
  (void)state;
  tu_keys k = keys;
  k.d.index_m_kib = k.d.index_t = k.d.index_p = 0; /* the template's: 32 MiB, t 2, p 1 */
  k.d.has_legacy_index = 1;
  k.d.legacy_index_until_ms = INT64_C(1811111111000);
  char *json = tu_demo_config(&k, 1, 1795500000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON *index = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "keys"), "index");
  cJSON_DeleteItemFromObject(index, "m_kib"); /* absent: the defaults */
  cJSON_DeleteItemFromObject(index, "t");
  cJSON_DeleteItemFromObject(index, "p");
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  sqr_config *cfg = NULL;
  char err[256] = "";
  assert_int_equal(parse(json, &cfg, err), SQR_OK);
  assert_int_equal(cfg->index_m_kib, 32768);
  assert_int_equal(cfg->index_t, 2);
  assert_int_equal(cfg->index_p, 1);
  assert_true(cfg->has_legacy_index);
  assert_memory_equal(cfg->legacy_index_key, k.d.legacy_index_key, 32);
  assert_int_equal(cfg->legacy_index_until_ms, INT64_C(1811111111000));
  config_free(cfg);
  free(json);
}

/* A document from an HQ before key versions (keys.store_key): the kiosk
 * derives its token, coupon and index keys as before, its index is the
 * HMAC one, and the store key itself is nowhere in what parsing built. */
static void test_legacy_store_key(void **state) {
  (void)state;
  tu_keys k = keys;
  k.d.legacy = 1;
  char *json = tu_demo_config(&k, 1, 1795500000);
  assert_null(strstr(json, "token_key"));
  sqr_config *cfg = NULL;
  char err[256] = "";
  assert_int_equal(parse(json, &cfg, err), SQR_OK);
  uint8_t want[32];
  assert_int_equal(
      crypto_hkdf_sha256(NULL, 0, k.d.store_key, 32, CRYPTO_INFO_TOKEN, want, sizeof want), SQR_OK);
  assert_memory_equal(cfg->token_key, want, 32);
  assert_int_equal(
      crypto_hkdf_sha256(NULL, 0, k.d.store_key, 32, CRYPTO_INFO_COUPON, want, sizeof want),
      SQR_OK);
  assert_memory_equal(cfg->coupon_key, want, 32);
  assert_int_equal(
      crypto_hkdf_sha256(NULL, 0, k.d.store_key, 32, CRYPTO_INFO_BLIND, want, sizeof want), SQR_OK);
  assert_memory_equal(cfg->index_key, want, 32);
  assert_memory_equal(cfg->legacy_index_key, want, 32);
  assert_int_equal(cfg->index_alg, CONFIG_INDEX_HMAC);
  assert_false(cfg->has_legacy_index);
  const uint8_t *bytes = (const uint8_t *)cfg;
  for(size_t i = 0; i + 32 <= sizeof *cfg; i++)
    if(memcmp(bytes + i, k.d.store_key, 32) == 0) fail_msg("the store key is at offset %zu", i);
  config_free(cfg);
  free(json);
}

static void test_not_json_and_truncated(void **state) {
  (void)state;
  char *json = tu_demo_config(&keys, 1, 1795500000);
  size_t len = strlen(json);
  /* Every truncation of a valid document is refused, never accepted as a
   * smaller document and never a crash. */
  for(size_t cut = 0; cut < len; cut += 7) {
    sqr_config *cfg = NULL;
    char err[256] = "";
    assert_int_equal(config_parse(json, cut, &cfg, err, sizeof err), SQR_EINVAL);
    assert_true(err[0] != '\0');
  }
  sqr_config *cfg = NULL;
  char err[256];
  assert_int_equal(parse("[1,2,3]", &cfg, err), SQR_EINVAL);
  assert_non_null(strstr(err, "must be a JSON object"));
  assert_int_equal(parse("\xff\xfe{", &cfg, err), SQR_EINVAL);
  assert_non_null(strstr(err, "not valid JSON"));
  free(json);
}

static void test_iso_expiry_and_load_file(void **state) {
  (void)state;
  char *json = tu_demo_config(&keys, 1, 1795500000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "groups"), 0);
  cJSON_ReplaceItemInObject(g, "expires_at", cJSON_CreateString("2026-12-01T08:00:00+08:00"));
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  const char *dir = tu_tmpdir("config");
  const char *path = tu_path(dir, "c.json");
  FILE *f = fopen(path, "w");
  fputs(json, f);
  fclose(f);
  sqr_config *cfg = NULL;
  char *text = NULL;
  char err[256];
  assert_int_equal(config_load_file(path, &cfg, &text, err, sizeof err), SQR_OK);
  assert_int_equal(cfg->groups[0].expires_at, 1796083200); /* 2026-12-01T00:00:00Z */
  assert_string_equal(text, json);
  config_free(cfg);
  free(text);
  assert_int_equal(config_load_file(tu_path(dir, "missing.json"), &cfg, NULL, err, sizeof err),
                   SQR_EIO);
  assert_non_null(strstr(err, "cannot open"));
  free(json);
}

/* The update object (docs/CONFIG.md): a good one parses (sha256 folded to
 * lower case), and each field that could send the sync client astray is
 * refused with its path. */
static sqr_rc parse_with_update(const char *update_json, sqr_config **cfg, char *err) {
  char *json = tu_demo_config(&keys, 1, 1795500000);
  cJSON *root = cJSON_Parse(json);
  free(json);
  cJSON_AddItemToObject(root, "update", cJSON_Parse(update_json));
  json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  sqr_rc rc = parse(json, cfg, err);
  free(json);
  return rc;
}

#define SHA    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
#define SHA_LC "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static void expect_update_error(const char *update_json, const char *want) {
  sqr_config *cfg = NULL;
  char err[256] = "";
  assert_int_equal(parse_with_update(update_json, &cfg, err), SQR_EINVAL);
  assert_null(cfg);
  if(!strstr(err, want)) fail_msg("error \"%s\" does not mention \"%s\"", err, want);
}

static void test_update_object(void **state) {
  (void)state;
  sqr_config *cfg = NULL;
  char err[256] = "";
  assert_int_equal(parse_with_update("{\"version\":\"1.4.0\",\"sha256\":\"" SHA "\","
                                     "\"size\":123456,\"url\":\"/v1/bundles/" SHA_LC ".bundle\"}",
                                     &cfg, err),
                   SQR_OK);
  assert_true(cfg->update.present);
  assert_string_equal(cfg->update.version, "1.4.0");
  assert_string_equal(cfg->update.sha256, SHA_LC);
  assert_int_equal(cfg->update.size, 123456);
  assert_string_equal(cfg->update.url, "/v1/bundles/" SHA_LC ".bundle");
  assert_false(cfg->update.forced);
  config_free(cfg);
  /* No update object: nothing to fetch. */
  char *json = tu_demo_config(&keys, 1, 1795500000);
  assert_int_equal(parse(json, &cfg, err), SQR_OK);
  assert_false(cfg->update.present);
  config_free(cfg);
  free(json);
  assert_int_equal(parse_with_update("{\"version\":\"2\",\"sha256\":\"" SHA "\",\"size\":1,"
                                     "\"url\":\"/v1/bundles/x.bundle\",\"forced\":true}",
                                     &cfg, err),
                   SQR_OK);
  assert_true(cfg->update.forced);
  config_free(cfg);

#define U(v, sha, size, url)                                                                       \
  "{\"version\":" v ",\"sha256\":" sha ",\"size\":" size ",\"url\":" url "}"
#define GOOD_SHA "\"" SHA "\""
#define GOOD_URL "\"/v1/bundles/" SHA_LC ".bundle\""
  expect_update_error("[]", "update: must be an object");
  expect_update_error("{}", "update.version: is required");
  expect_update_error(U("\"1.4.x\"", GOOD_SHA, "1", GOOD_URL), "update.version: must be 1 to 4");
  expect_update_error(U("\"1.2.3.4.5\"", GOOD_SHA, "1", GOOD_URL), "update.version");
  expect_update_error(U("\"1..2\"", GOOD_SHA, "1", GOOD_URL), "update.version");
  expect_update_error(U("\"1.2.\"", GOOD_SHA, "1", GOOD_URL), "update.version");
  expect_update_error(U("\"1.2000000\"", GOOD_SHA, "1", GOOD_URL), "update.version");
  expect_update_error(U("\"1.0\"", "\"abc\"", "1", GOOD_URL), "update.sha256: must be 64 hex");
  expect_update_error(U("\"1.0\"", GOOD_SHA, "0", GOOD_URL), "update.size: must be between 1");
  expect_update_error(U("\"1.0\"", GOOD_SHA, "2e12", GOOD_URL), "update.size");
  expect_update_error(U("\"1.0\"", GOOD_SHA, "1", "\"https://evil.example/x\""), "update.url");
  expect_update_error(U("\"1.0\"", GOOD_SHA, "1", "\"/v1/bundles/../admin\""), "update.url");
  expect_update_error(U("\"1.0\"", GOOD_SHA, "1", "\"/v1/bundles/\""), "update.url");
  expect_update_error(U("\"1.0\"", GOOD_SHA, "1", "\"/v1/bundles/a b\""), "update.url");
  expect_update_error(U("\"1.0\"", GOOD_SHA, "1", "\"/v1/config\""), "update.url");
#undef U
}

int main(void) {
  tu_make_keys(&keys);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_demo_parses),
      cmocka_unit_test(test_field_errors),
      cmocka_unit_test(test_privacy_sections),
      cmocka_unit_test(test_key_errors),
      cmocka_unit_test(test_index_defaults_and_legacy_index),
      cmocka_unit_test(test_legacy_store_key),
      cmocka_unit_test(test_not_json_and_truncated),
      cmocka_unit_test(test_iso_expiry_and_load_file),
      cmocka_unit_test(test_update_object),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
