/* test_proto.c — the wire format: batches built from a real kiosk store's
 * events survive encode/decode with their hashes, the chain check agrees
 * with the kiosk's log, and the strict decoders name the field at fault. */
#include "testutil.h"
#include "chain.h"
#include "crypto.h"
#include "member.h"
#include "proto.h"
#include "proto_int.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1795500000000

static tu_keys keys;

static int collect(const store_event *ev, void *ud) {
  proto_batch *b = ud;
  return proto_batch_add(b, ev) != SQR_OK;
}

/* A kiosk with a configuration, two sign-ups and a check-in. */
static tu_store *kiosk_with_events(void) {
  tu_store *f = tu_store_new("proto", T0, &keys, 1);
  member_signup_req r = {.phone = "13800138000",
                         .consented = 1,
                         .age_confirmed = 1,
                         .consent_version = "2026-11",
                         .staff_id = "s01"};
  member_result res;
  assert_int_equal(member_signup(f->st, &r, &res), SQR_OK);
  r.phone = "13900139000";
  assert_int_equal(member_signup(f->st, &r, &res), SQR_OK);
  assert_int_equal(member_checkin(f->st, "13800138000", NULL, &res), SQR_OK);
  return f;
}

/* behind: the batch's "behind", -1 to leave it out. */
static char *batch_json_behind(tu_store *f, int64_t behind, size_t *len) {
  proto_batch b;
  assert_int_equal(proto_batch_init(&b, "SH-JA01", 1, 1), SQR_OK);
  assert_int_equal(b.behind, -1);
  b.behind = behind;
  assert_int_equal(store_events_after(f->st, 0, 500, collect, &b), SQR_OK);
  assert_true(b.count >= 4);
  char *json;
  assert_int_equal(proto_batch_encode(&b, &json, len), SQR_OK);
  proto_batch_clear(&b);
  return json;
}

static char *batch_json(tu_store *f, size_t *len) {
  return batch_json_behind(f, -1, len);
}

static void test_round_trip_from_kiosk_store(void **state) {
  (void)state;
  tu_store *f = kiosk_with_events();
  size_t len;
  char *json = batch_json(f, &len);
  proto_batch d;
  proto_error err;
  assert_int_equal(proto_batch_decode(json, len, &d, &err), SQR_OK);
  assert_string_equal(d.kiosk_id, "SH-JA01/1");
  assert_string_equal(d.store_id, "SH-JA01");
  assert_int_equal(d.kiosk, 1);
  assert_int_equal((int64_t)d.count, store_last_seq(f->st));
  assert_int_equal(d.events[0].seq, 1);
  int signups = 0;
  for(size_t i = 0; i < d.count; i++)
    signups += strcmp(d.events[i].type, "signup") == 0;
  assert_int_equal(signups, 2);
  /* The chain checks from 32 zero bytes, exactly as the kiosk computed it. */
  uint8_t zero[32] = {0};
  size_t bad = 99;
  assert_int_equal(proto_chain_check(zero, d.events, d.count, &bad), SQR_OK);
  /* And from the middle: prev = events[1].hash. */
  assert_int_equal(proto_chain_check(d.events[1].hash, d.events + 2, d.count - 2, &bad), SQR_OK);
  /* A wrong start breaks at index 0. */
  assert_int_equal(proto_chain_check(d.events[0].hash, d.events + 2, d.count - 2, &bad), SQR_EAUTH);
  assert_int_equal(bad, 0);
  /* Reordered type or timestamp breaks the link of that event. */
  d.events[2].ts_ms++;
  assert_int_equal(proto_chain_check(zero, d.events, d.count, &bad), SQR_EAUTH);
  assert_int_equal(bad, 2);
  proto_batch_clear(&d);
  free(json);
  tu_store_free(f);
}

static void test_chain_hash_matches_store(void **state) {
  (void)state;
  tu_store *f = kiosk_with_events();
  proto_batch b;
  assert_int_equal(proto_batch_init(&b, "SH-JA01", 1, 1), SQR_OK);
  assert_int_equal(store_events_after(f->st, 0, 500, collect, &b), SQR_OK);
  uint8_t prev[32] = {0}, h[32];
  for(size_t i = 0; i < b.count; i++) {
    assert_int_equal(chain_hash(prev, b.events[i].seq, b.events[i].type, b.events[i].ts_ms,
                                b.events[i].body_hash, h),
                     SQR_OK);
    assert_memory_equal(h, b.events[i].hash, 32);
    memcpy(prev, h, 32);
  }
  proto_batch_clear(&b);
  tu_store_free(f);
}

/* Replaces the first occurrence of from in json by to; returns a new string. */
static char *edit(const char *json, const char *from, const char *to) {
  const char *p = strstr(json, from);
  assert_non_null(p);
  size_t n = strlen(json) - strlen(from) + strlen(to) + 1;
  char *out = malloc(n);
  snprintf(out, n, "%.*s%s%s", (int)(p - json), json, to, p + strlen(from));
  return out;
}

static void expect_refused(const char *json, int status, const char *code, const char *msg) {
  proto_batch d;
  proto_error err;
  assert_int_equal(proto_batch_decode(json, strlen(json), &d, &err), SQR_EINVAL);
  if(err.status != status || strcmp(err.code, code) || !strstr(err.message, msg))
    fail_msg("got %d %s \"%s\", wanted %d %s \"%s\"", err.status, err.code, err.message, status,
             code, msg);
  assert_int_equal(d.count, 0);
  assert_null(d.events);
}

static void test_strict_decode_names_the_field(void **state) {
  (void)state;
  tu_store *f = kiosk_with_events();
  size_t len;
  char *json = batch_json(f, &len);
  char *j;

  expect_refused("", 400, "bad_request", "not valid JSON");
  expect_refused("{\"kiosk\":", 400, "bad_request", "not valid JSON");
  expect_refused("{\"kiosk\":\"SH/1\",\"events\":[]} x", 400, "bad_request", "not valid JSON");
  expect_refused("[]", 400, "bad_request", "must be a JSON object");
  expect_refused("{\"events\":[]}", 400, "bad_request", "kiosk: missing");
  expect_refused("{\"kiosk\":1,\"events\":[]}", 400, "bad_request", "kiosk: must be a string");
  expect_refused("{\"kiosk\":\"sh/1\",\"events\":[]}", 400, "bad_request", "kiosk: must be");
  expect_refused("{\"kiosk\":\"SH/0\",\"events\":[]}", 400, "bad_request", "kiosk: must be");
  expect_refused("{\"kiosk\":\"SH/1\"}", 400, "bad_request", "events: missing");
  expect_refused("{\"kiosk\":\"SH/1\",\"events\":{}}", 400, "bad_request",
                 "events: must be an array");
  expect_refused("{\"kiosk\":\"SH/1\",\"events\":[]}", 400, "bad_request", "at least one");
  expect_refused("{\"kiosk\":\"SH/1\",\"events\":[7]}", 400, "bad_request",
                 "events[0]: must be an object");

  j = edit(json, "\"seq\":3,", "\"seq\":\"3\",");
  expect_refused(j, 400, "bad_request", "events[2].seq: must be an integer");
  free(j);
  j = edit(json, "\"seq\":3,", "\"seq\":3.5,");
  expect_refused(j, 400, "bad_request", "events[2].seq: must be an integer");
  free(j);
  j = edit(json, "\"seq\":1,", "\"seq\":0,");
  expect_refused(j, 400, "bad_request", "events[0].seq: must be between");
  free(j);
  j = edit(json, "\"seq\":3,", "\"seq\":4,");
  expect_refused(j, 400, "bad_request", "events[2].seq: 4 does not follow 2");
  free(j);
  j = edit(json, "\"type\":\"checkin\"", "\"type\":\"teleport\"");
  expect_refused(j, 422, "unknown_type", "unknown event type \"teleport\"");
  free(j);
  j = edit(json, "\"type\":\"checkin\"", "\"type\":[]");
  expect_refused(j, 400, "bad_request", ".type: must be a string");
  free(j);
  j = edit(json, "\"hash\":\"", "\"hash\":\"zz");
  expect_refused(j, 400, "bad_request", "events[0].hash: must be 64 hex digits");
  free(j);
  j = edit(json, "\"redacted\":false", "\"redacted\":0");
  expect_refused(j, 400, "bad_request", "events[0].redacted: must be true or false");
  free(j);
  j = edit(json, "\"payload\":{", "\"payload\":[{");
  /* not well-formed any more: the array is never closed */
  expect_refused(j, 400, "bad_request", "not valid JSON");
  free(j);
  j = edit(json, "\"sealed\":\"", "\"sealed\":\"A");
  expect_refused(j, 422, "chain_broken", "body_hash: does not match the payload");
  free(j);
  /* A redacted event keeps its body_hash: the payload is not checked. */
  j = edit(json, "\"sealed\":\"", "\"sealed\":\"A");
  char *at = strstr(j, "\"sealed\":");
  char *k = edit(at, "\"redacted\":false}", "\"redacted\":true }");
  memcpy(at, k, strlen(k)); /* same length as what it replaces */
  free(k);
  proto_batch d;
  proto_error err;
  assert_int_equal(proto_batch_decode(j, strlen(j), &d, &err), SQR_OK);
  proto_batch_clear(&d);
  free(j);

  free(json);
  tu_store_free(f);
}

/* Refused alike by proto_batch_decode, the cJSON decoder and (where it
 * answers) the one-pass parser; fast: the parser must answer it itself. */
static void expect_refused_both(const char *json, const char *msg, int fast) {
  proto_batch d;
  proto_error err;
  int unsure;
  expect_refused(json, 400, "bad_request", msg);
  assert_int_equal(proto__batch_decode_tree(json, strlen(json), &d, &err), SQR_EINVAL);
  if(err.status != 400 || strcmp(err.message, msg))
    fail_msg("cJSON decoder: %d \"%s\", wanted \"%s\"", err.status, err.message, msg);
  sqr_rc rc = proto__batch_parse(json, strlen(json), &d, &err, &unsure);
  if(fast && unsure) fail_msg("the one-pass parser left \"%s\" to cJSON", msg);
  if(!unsure && (rc != SQR_EINVAL || err.status != 400 || strcmp(err.message, msg)))
    fail_msg("one-pass parser: %d \"%s\", wanted \"%s\"", err.status, err.message, msg);
}

/* "behind" (how many events the kiosk still holds after the batch): sent
 * only when set, -1 when absent, refused by both decoders with the same
 * words unless an integer 0..2^53-1; a repeat is ignored like any other. */
/* json with its "behind":12, written as `as` decodes to want. */
static void expect_behind(const char *json, const char *as, int64_t want) {
  proto_batch d;
  proto_error err;
  char *j = edit(json, "\"behind\":12,", as);
  assert_int_equal(proto_batch_decode(j, strlen(j), &d, &err), SQR_OK);
  assert_int_equal(d.behind, want);
  proto_batch_clear(&d);
  free(j);
}

static void test_behind(void **state) {
  (void)state;
  tu_store *f = kiosk_with_events();
  size_t len;
  proto_batch d;
  proto_error err;
  char *json = batch_json(f, &len);
  assert_null(strstr(json, "behind"));
  assert_int_equal(proto_batch_decode(json, len, &d, &err), SQR_OK);
  assert_int_equal(d.behind, -1);
  proto_batch_clear(&d);
  free(json);

  static const int64_t good[] = {0, 12, 999999999999999LL, 9007199254740991LL};
  for(size_t i = 0; i < SQR_ARRAY_LEN(good); i++) {
    json = batch_json_behind(f, good[i], &len);
    char want[48];
    snprintf(want, sizeof want, "{\"kiosk\":\"SH-JA01/1\",\"behind\":%lld,", (long long)good[i]);
    assert_memory_equal(json, want, strlen(want));
    assert_int_equal(proto_batch_decode(json, len, &d, &err), SQR_OK);
    assert_int_equal(d.behind, good[i]);
    assert_int_equal((int64_t)d.count, store_last_seq(f->st));
    proto_batch_clear(&d);
    free(json);
  }

  json = batch_json_behind(f, 12, &len);
  static const struct {
    const char *value, *msg;
    int fast;
  } bad[] = {
      {"-1", "behind: must be between 0 and 9007199254740991", 1},
      {"-999999999999999", "behind: must be between 0 and 9007199254740991", 1},
      {"1.5", "behind: must be an integer", 0},
      {"\"12\"", "behind: must be an integer", 1},
      {"null", "behind: must be an integer", 1},
      {"true", "behind: must be an integer", 1},
      {"[12]", "behind: must be an integer", 1},
      {"9007199254740993", "behind: must be an integer", 0},
      {"-9007199254740993", "behind: must be an integer", 0},
      {"1e999", "behind: must be an integer", 0},
      {"-1,\"behind\":12", "behind: must be between 0 and 9007199254740991", 1},
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++) {
    char to[64];
    snprintf(to, sizeof to, "\"behind\":%s,", bad[i].value);
    char *j = edit(json, "\"behind\":12,", to);
    expect_refused_both(j, bad[i].msg, bad[i].fast);
    free(j);
  }
  /* refused before any event is looked at, after kiosk and events */
  char *j = edit(json, "\"seq\":1,", "\"seq\":\"1\",");
  char *k = edit(j, "\"behind\":12,", "\"behind\":-1,");
  expect_refused_both(k, "behind: must be between 0 and 9007199254740991", 1);
  free(k);
  k = edit(j, "\"kiosk\":\"SH-JA01/1\"", "\"kiosk\":\"sh\"");
  expect_refused(k, 400, "bad_request", "kiosk: must be");
  free(k);
  free(j);
  /* the first of two counts, as for every member */
  expect_behind(json, "\"behind\":12,\"behind\":-1,", 12);
  /* 1e3 and -0 are whole numbers, as for seq */
  expect_behind(json, "\"behind\":1e3,", 1000);
  expect_behind(json, "\"behind\":-0,", 0);
  free(json);
  tu_store_free(f);
}

/* One check-in event at seq 1 whose payload member is written as `raw`
 * (with `key` as its key) and whose body_hash is SHA-256 of `hashed`. */
static char *one_event(const char *key, const char *raw, const char *hashed, const char *extra) {
  uint8_t bh[32], h[32], zero[32] = {0};
  char bhx[65], hx[65];
  assert_int_equal(crypto_sha256(hashed, strlen(hashed), bh), SQR_OK);
  assert_int_equal(chain_hash(zero, 1, "checkin", T0, bh, h), SQR_OK);
  crypto_hex(bh, 32, bhx);
  crypto_hex(h, 32, hx);
  size_t n = strlen(raw) + strlen(extra) + 400;
  char *json = malloc(n);
  snprintf(json, n,
           "{\"kiosk\":\"SH-JA01/1\",\"events\":[{\"seq\":1,\"type\":\"checkin\",\"ts_ms\":%lld,"
           "%s:%s%s,\"body_hash\":\"%s\",\"hash\":\"%s\",\"redacted\":false}]}",
           (long long)T0, key, raw, extra, bhx, hx);
  return json;
}

/* The decoder keeps the payload bytes as sent when they already are the
 * compact print, and re-prints otherwise: either way body_hash is checked
 * against the compact print and that is what HQ stores. */
static void test_payload_compact_print(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"{\"a\":1}", "{\"a\":1}"},
      {"{ \"a\" : 1 }", "{\"a\":1}"},
      {"{\"a\":\"x\\/y\"}", "{\"a\":\"x/y\"}"},
      {"{\"a\":\"\\u00e9\"}", "{\"a\":\"\xc3\xa9\"}"},
      {"{\"a\":1.0,\"b\":1e2,\"c\":01}", "{\"a\":1,\"b\":100,\"c\":1}"},
      {"{\"a\":-0,\"b\":1234567890123456}", "{\"a\":-0,\"b\":1234567890123456}"},
      {"{\"a\":\"t\\tb\\\"q\\\\\",\"b\":[true,false,null,{},[]],\"c\":-12,\"d\":{\"e\":0}}",
       "{\"a\":\"t\\tb\\\"q\\\\\",\"b\":[true,false,null,{},[]],\"c\":-12,\"d\":{\"e\":0}}"},
      {"{}", "{}"},
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(cases); i++) {
    const char *raw = cases[i][0], *compact = cases[i][1];
    for(int k = 0; k < 2; k++) {
      /* k = 1: the key written with an escape, which cJSON unescapes. */
      char *json = one_event(k ? "\"pay\\u006coad\"" : "\"payload\"", raw, compact, "");
      proto_batch d;
      proto_error err;
      if(proto_batch_decode(json, strlen(json), &d, &err))
        fail_msg("case %zu/%d: %s (%s)", i, k, err.message, raw);
      assert_int_equal(d.events[0].payload_len, strlen(compact));
      assert_string_equal(d.events[0].payload, compact);
      proto_batch_clear(&d);
      free(json);
    }
    if(strcmp(raw, compact) != 0) { /* hashing the bytes as sent is refused */
      char *json = one_event("\"payload\"", raw, raw, "");
      expect_refused(json, 422, "chain_broken", "events[0].body_hash");
      free(json);
    }
  }
  /* A second "payload" member is ignored, as before. */
  char *json = one_event("\"payload\"", "{\"a\":1}", "{\"a\":1}", ",\"payload\":{\"b\":2}");
  proto_batch d;
  proto_error err;
  assert_int_equal(proto_batch_decode(json, strlen(json), &d, &err), SQR_OK);
  assert_string_equal(d.events[0].payload, "{\"a\":1}");
  proto_batch_clear(&d);
  free(json);
}

static void test_limits(void **state) {
  (void)state;
  /* 501 events. */
  size_t cap = 600 * 400, n = 0;
  char *big = malloc(cap);
  n += (size_t)snprintf(big + n, cap - n, "{\"kiosk\":\"SH/1\",\"events\":[");
  for(int i = 1; i <= 501; i++)
    n += (size_t)snprintf(big + n, cap - n,
                          "%s{\"seq\":%d,\"type\":\"sync_note\",\"ts_ms\":1,\"payload\":{},"
                          "\"body_hash\":\"%064d\",\"hash\":\"%064d\"}",
                          i > 1 ? "," : "", i, 0, 0);
  snprintf(big + n, cap - n, "]}");
  expect_refused(big, 413, "too_large", "more than the limit of 500");
  free(big);

  /* One payload over 16 KiB. */
  size_t plen = PROTO_MAX_PAYLOAD + 10;
  big = malloc(plen + 400);
  n = (size_t)snprintf(big, 400,
                       "{\"kiosk\":\"SH/1\",\"events\":[{\"seq\":1,\"type\":\"sync_note\","
                       "\"ts_ms\":1,\"body_hash\":\"%064d\",\"hash\":\"%064d\","
                       "\"payload\":{\"x\":\"",
                       0, 0);
  memset(big + n, 'a', plen);
  snprintf(big + n + plen, 400, "\"}}]}");
  expect_refused(big, 413, "too_large", "events[0].payload");
  free(big);

  /* Encoder: a 501st event is ENOSPC, a giant payload EINVAL, a gap EINVAL. */
  proto_batch b;
  assert_int_equal(proto_batch_init(&b, "SH-JA01", 2, 1), SQR_OK);
  store_event ev = {.type = "sync_note", .ts_ms = 5, .payload = "{}"};
  for(int i = 1; i <= 500; i++) {
    ev.seq = i;
    assert_int_equal(proto_batch_add(&b, &ev), SQR_OK);
  }
  ev.seq = 501;
  assert_int_equal(proto_batch_add(&b, &ev), SQR_ENOSPC);
  proto_batch_clear(&b);
  assert_int_equal(proto_batch_init(&b, "SH-JA01", 2, 1), SQR_OK);
  char *huge = malloc(PROTO_MAX_PAYLOAD + 16);
  memset(huge, ' ', PROTO_MAX_PAYLOAD + 15);
  huge[0] = '{';
  huge[PROTO_MAX_PAYLOAD + 14] = '}';
  huge[PROTO_MAX_PAYLOAD + 15] = '\0';
  ev.seq = 1;
  ev.payload = huge;
  assert_int_equal(proto_batch_add(&b, &ev), SQR_EINVAL);
  ev.payload = "{}";
  assert_int_equal(proto_batch_add(&b, &ev), SQR_OK);
  ev.seq = 3;
  assert_int_equal(proto_batch_add(&b, &ev), SQR_EINVAL);
  assert_int_equal(b.count, 1);
  char *json;
  size_t len;
  assert_int_equal(proto_batch_encode(&b, &json, &len), SQR_OK);
  assert_non_null(strstr(json, "\"kiosk\":\"SH-JA01/2\""));
  free(json);
  free(huge);
  proto_batch_clear(&b);
  assert_int_equal(proto_batch_init(&b, "sh", 1, 1), SQR_EINVAL);
  assert_int_equal(proto_batch_init(&b, "SH", 65536, 1), SQR_EINVAL);
}

static void test_kiosk_ids(void **state) {
  (void)state;
  char sid[PROTO_STORE_ID_MAX + 1];
  int n, inc = 0;
  assert_int_equal(proto_kiosk_parse("SH-JA01/65535", sid, &n, &inc), SQR_OK);
  assert_string_equal(sid, "SH-JA01");
  assert_int_equal(n, 65535);
  assert_int_equal(inc, 1);
  assert_int_equal(proto_kiosk_parse("SH-JA01/2@9999", sid, &n, &inc), SQR_OK);
  assert_int_equal(n, 2);
  assert_int_equal(inc, 9999);
  assert_int_equal(proto_kiosk_parse("SH-JA01/2@2", sid, &n, NULL), SQR_OK);
  const char *bad[] = {"",           "/1",
                       "SH-JA01",    "SH-JA01/",
                       "SH-JA01/01", "SH-JA01/65536",
                       "sh/1",       "SH/1x",
                       "SH/-1",      "ABCDEFGHIJKLMNOPQ/1",
                       "SH/1/2",     "SH/1@",
                       "SH/1@1",     "SH/1@02",
                       "SH/1@10000", "SH/1@2@3",
                       "SH/@2",      "SH/1@-2",
                       "SH/1@2x"};
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++)
    assert_int_equal(proto_kiosk_parse(bad[i], sid, &n, &inc), SQR_EINVAL);
  char id[PROTO_KIOSK_ID_MAX];
  assert_int_equal(proto_kiosk_format("SH-JA01", 7, 1, id), SQR_OK);
  assert_string_equal(id, "SH-JA01/7");
  assert_int_equal(proto_kiosk_format("ABCDEFGHIJKLMNOP", 65535, 9999, id), SQR_OK);
  assert_string_equal(id, "ABCDEFGHIJKLMNOP/65535@9999");
  assert_int_equal(proto_kiosk_format("SH", 1, 0, id), SQR_EINVAL);
  assert_int_equal(proto_kiosk_format("SH", 1, 10000, id), SQR_EINVAL);
  assert_true(proto_type_known("signup"));
  assert_false(proto_type_known("signups"));
}

/* A configuration answer is the document (up to CONFIG_MAX_BYTES) plus
 * hq_time_ms. The kiosk read it with proto_answer_decode, which stops at
 * PROTO_MAX_ANSWER, so a store with a large document could never sync. */
static void test_config_answer_time(void **state) {
  (void)state;
  size_t pad = 200 * 1024;
  char *big = malloc(pad + 128);
  assert_non_null(big);
  int n = snprintf(big, 128, "{\"version\":3,\"hq_time_ms\":1795500000000,\"note\":\"");
  memset(big + n, 'x', pad);
  strcpy(big + n + pad, "\"}");
  size_t len = strlen(big);
  proto_answer a;
  char err[160];
  int64_t t = 0;
  assert_int_equal(proto_answer_decode(big, len, &a, err, sizeof err), SQR_EPROTO);
  assert_int_equal(proto_config_time(big, len, &t, err, sizeof err), SQR_OK);
  assert_int_equal(t, 1795500000000LL);
  free(big);
  assert_int_equal(proto_config_time("{\"version\":3}", 13, &t, err, sizeof err), SQR_EPROTO);
  assert_non_null(strstr(err, "hq_time_ms"));
  assert_int_equal(proto_config_time("[1]", 3, &t, err, sizeof err), SQR_EPROTO);
}

static void test_answers(void **state) {
  (void)state;
  char *json, err[256];
  proto_answer a;
  assert_int_equal(proto_ack_encode(41, T0, &json), SQR_OK);
  assert_int_equal(proto_answer_decode(json, strlen(json), &a, err, sizeof err), SQR_OK);
  assert_int_equal(a.acked_seq, 41);
  assert_true(a.has_acked);
  assert_int_equal(a.hq_time_ms, T0);
  free(json);
  assert_int_equal(proto_error_encode("gap", "expected seq 42", T0, "expected_seq", 42, &json),
                   SQR_OK);
  assert_int_equal(proto_answer_decode(json, strlen(json), &a, err, sizeof err), SQR_OK);
  assert_string_equal(a.error, "gap");
  assert_string_equal(a.message, "expected seq 42");
  assert_int_equal(a.expected_seq, 42);
  assert_false(a.has_acked);
  free(json);
  const char *bad = "{\"acked_seq\":\"1\",\"hq_time_ms\":1}";
  assert_int_equal(proto_answer_decode(bad, strlen(bad), &a, err, sizeof err), SQR_EPROTO);
  assert_non_null(strstr(err, "acked_seq"));
  bad = "{\"acked_seq\":1}";
  assert_int_equal(proto_answer_decode(bad, strlen(bad), &a, err, sizeof err), SQR_EPROTO);
  assert_non_null(strstr(err, "hq_time_ms"));
  assert_int_equal(proto_answer_decode("nope", 4, &a, err, sizeof err), SQR_EPROTO);
}

#define CSR "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
#define CRT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static void test_enrolment(void **state) {
  (void)state;
  char *json;
  proto_enroll_request r;
  proto_error e;
  assert_int_equal(proto_enroll_request_encode("ABCD-EFGH-IJKL-MNOP", CSR, &json), SQR_OK);
  assert_int_equal(proto_enroll_request_decode(json, strlen(json), &r, &e), SQR_OK);
  assert_string_equal(r.code, "ABCD-EFGH-IJKL-MNOP");
  assert_string_equal(r.csr, CSR);
  proto_enroll_request_clear(&r);
  free(json);
  const char *bad = "{\"code\":1,\"csr\":\"x\"}";
  assert_int_equal(proto_enroll_request_decode(bad, strlen(bad), &r, &e), SQR_EINVAL);
  assert_string_equal(e.message, "code: must be a string");
  bad = "{\"code\":\"A\",\"csr\":\"x\"}";
  assert_int_equal(proto_enroll_request_decode(bad, strlen(bad), &r, &e), SQR_EINVAL);
  assert_string_equal(e.message, "csr: must be a PEM certificate request");
  char *big = calloc(1, PROTO_MAX_ENROLL + 2);
  memset(big, ' ', PROTO_MAX_ENROLL + 1);
  assert_int_equal(proto_enroll_request_decode(big, PROTO_MAX_ENROLL + 1, &r, &e), SQR_EINVAL);
  assert_int_equal(e.status, 413);
  free(big);

  proto_enroll_answer a = {.store_id = "SH-JA01",
                           .kiosk = 3,
                           .certificate = CRT,
                           .hq_ca = CRT,
                           .config = "{\"version\": 4}",
                           .hq_time_ms = T0};
  assert_int_equal(proto_enroll_answer_encode(&a, &json), SQR_OK);
  proto_enroll_answer d;
  char err[256];
  assert_int_equal(proto_enroll_answer_decode(json, strlen(json), &d, err, sizeof err), SQR_OK);
  assert_string_equal(d.store_id, "SH-JA01");
  assert_int_equal(d.kiosk, 3);
  assert_string_equal(d.certificate, CRT);
  assert_string_equal(d.config, "{\"version\":4}");
  assert_int_equal(d.hq_time_ms, T0);
  proto_enroll_answer_clear(&d);
  free(json);
  a.config = "[1]";
  assert_int_equal(proto_enroll_answer_encode(&a, &json), SQR_EINVAL);
  bad = "{\"store_id\":\"SH\",\"kiosk\":1.5,\"config\":{}}";
  assert_int_equal(proto_enroll_answer_decode(bad, strlen(bad), &d, err, sizeof err), SQR_EPROTO);
  assert_non_null(strstr(err, "kiosk"));
}

int main(void) {
  tu_make_keys(&keys);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_from_kiosk_store),
      cmocka_unit_test(test_chain_hash_matches_store),
      cmocka_unit_test(test_strict_decode_names_the_field),
      cmocka_unit_test(test_behind),
      cmocka_unit_test(test_payload_compact_print),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_kiosk_ids),
      cmocka_unit_test(test_answers),
      cmocka_unit_test(test_config_answer_time),
      cmocka_unit_test(test_enrolment),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
