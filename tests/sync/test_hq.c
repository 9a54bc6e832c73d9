/* test_hq.c — storeqr-hq over real TLS on 127.0.0.1, driven with libcurl.
 * Run by hq_test.sh, which initialises HQ's directory, starts `serve`
 * (SQLite or PostgreSQL) and stops it afterwards. Environment:
 *   HQ_DIR   HQ's directory (keys, admin.token)
 *   HQ_URL   https://127.0.0.1:PORT
 * The kiosk side is real: a kiosk database configured by the enrolment
 * answer, sign-ups and check-ins recorded by core, batches built by proto.
 * Tests run in order and share one HQ. */
#include "testutil.h"
#include "crypto.h"
#include "member.h"
#include "pki.h"
#include "proto.h"
#include "store.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static const char *hq_dir, *hq_url;
/* The names HQ hands out (hq_test.sh: --kiosk-url, --public-url; by
 * default both are HQ_URL's, from --listen). */
static const char *kiosk_url_want, *resolver_host_want;
static char admin_auth[128], ca_path[600];

typedef struct kiosk {
  char key_pem[2048];
  char *cert_pem;
  tu_store *f;
  char id[PROTO_KIOSK_ID_MAX];
} kiosk;
static kiosk k1, k2;

typedef struct resp {
  long status;
  char *body;
  size_t len;
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  resp *r = ud;
  char *nb = realloc(r->body, r->len + sz * n + 1);
  if(!nb) return 0;
  r->body = nb;
  memcpy(r->body + r->len, p, sz * n);
  r->len += sz * n;
  r->body[r->len] = '\0';
  return sz * n;
}

/* One request. key/cert: PEM text of a client identity, or NULL. */
static resp http(const char *method, const char *path, const void *body, size_t len,
                 const char *cert, const char *key, int gzip, int admin) {
  resp r = {0};
  CURL *c = curl_easy_init();
  char url[700];
  snprintf(url, sizeof url, "%s%s", hq_url, path);
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  if(gzip) h = curl_slist_append(h, "Content-Encoding: gzip");
  if(admin) h = curl_slist_append(h, admin_auth);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, ca_path);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  if(strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  if(cert) {
    struct curl_blob cb = {(void *)cert, strlen(cert), CURL_BLOB_COPY};
    struct curl_blob kb = {(void *)key, strlen(key), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cb);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &kb);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  CURLcode cc = curl_easy_perform(c);
  if(cc != CURLE_OK) fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if(!r.body) r.body = calloc(1, 1);
  return r;
}

static resp post_json(const char *path, const char *json, int admin) {
  return http("POST", path, json, strlen(json), NULL, NULL, 0, admin);
}

static void expect(resp *r, long status, const char *needle) {
  if(r->status != status || (needle && !strstr(r->body, needle)))
    fail_msg("got %ld %s, wanted %ld with \"%s\"", r->status, r->body, status,
             needle ? needle : "");
  free(r->body);
  r->body = NULL;
}

static int64_t json_int(const char *body, const char *name) {
  cJSON *o = cJSON_Parse(body);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  int64_t n = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
  cJSON_Delete(o);
  return n;
}

static void new_code(int kiosk_no, int ttl, char code[32]) {
  char body[128];
  snprintf(body, sizeof body, "{\"store\":\"SH-JA01\",\"kiosk\":%d,\"ttl_s\":%d}", kiosk_no, ttl);
  resp r = post_json("/v1/admin/enroll-codes", body, 1);
  assert_int_equal(r.status, 201);
  cJSON *o = cJSON_Parse(r.body);
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "code");
  assert_true(cJSON_IsString(c));
  snprintf(code, 32, "%s", c->valuestring);
  /* the enrolment QR text names the kiosk URL, then the code */
  const cJSON *qr = cJSON_GetObjectItemCaseSensitive(o, "qr_text");
  char want[300];
  snprintf(want, sizeof want, "storeqr-enroll:%s#%s#", kiosk_url_want, code);
  assert_true(cJSON_IsString(qr));
  assert_memory_equal(qr->valuestring, want, strlen(want));
  cJSON_Delete(o);
  free(r.body);
}

/* A P-256 key and a CSR for it, made as the kiosk makes them. */
static resp enroll(const char *code, const char *csr) {
  char *json;
  assert_int_equal(proto_enroll_request_encode(code, csr, &json), SQR_OK);
  resp r = post_json("/v1/enroll", json, 0);
  free(json);
  return r;
}

static void enroll_kiosk(kiosk *k, int number, const char *name) {
  char code[32], csr[2048];
  new_code(number, 600, code);
  tu_make_csr(k->key_pem, csr);
  resp r = enroll(code, csr);
  if(r.status != 200) fail_msg("enrol: %ld %s", r.status, r.body);
  proto_enroll_answer a;
  char err[256];
  assert_int_equal(proto_enroll_answer_decode(r.body, r.len, &a, err, sizeof err), SQR_OK);
  assert_string_equal(a.store_id, "SH-JA01");
  assert_int_equal(a.kiosk, number);
  k->cert_pem = strdup(a.certificate);
  tu_keys unused = {0};
  k->f = tu_store_new(name, a.hq_time_ms, &unused, 0);
  assert_int_equal(store_apply_config(k->f->st, a.config, strlen(a.config), err, sizeof err),
                   SQR_OK);
  snprintf(k->id, sizeof k->id, "SH-JA01/%d", number);
  proto_enroll_answer_clear(&a);
  /* The code works once. */
  expect(&r, 200, NULL);
  r = enroll(code, csr);
  expect(&r, 403, "code_used");
}

static int add_ev(const store_event *ev, void *ud) {
  return proto_batch_add(ud, ev) != SQR_OK;
}

/* Up to limit of the kiosk's events after `after`, as the request body;
 * behind -1: without the field. */
static char *batch_of(kiosk *k, int64_t after, int limit, int64_t behind, const char *kiosk_id,
                      size_t *len) {
  proto_batch b;
  char sid[PROTO_STORE_ID_MAX + 1];
  int n, inc;
  assert_int_equal(proto_kiosk_parse(kiosk_id, sid, &n, &inc), SQR_OK);
  assert_int_equal(proto_batch_init(&b, sid, n, inc), SQR_OK);
  b.behind = behind;
  assert_int_equal(store_events_after(k->f->st, after, limit, add_ev, &b), SQR_OK);
  char *json;
  assert_int_equal(proto_batch_encode(&b, &json, len), SQR_OK);
  proto_batch_clear(&b);
  return json;
}

/* The kiosk's events after `after`, as the request body. */
static char *batch_after(kiosk *k, int64_t after, const char *kiosk_id, size_t *len) {
  return batch_of(k, after, 500, -1, kiosk_id, len);
}

static resp upload(kiosk *k, const char *json, size_t len) {
  return http("POST", "/v1/events", json, len, k->cert_pem, k->key_pem, 0, 0);
}

static void signup(kiosk *k, const char *phone) {
  member_signup_req q = {
      .phone = phone, .consented = 1, .age_confirmed = 1, .consent_version = "2026-11"};
  member_result res;
  assert_int_equal(member_signup(k->f->st, &q, &res), SQR_OK);
}

/* The store's counts once HQ's background opener has linked every
 * sign-up it acknowledged (serve opens sealed phones after the ack:
 * members_pending says how many wait; at most 10 s). */
static void counts(int64_t *members, int64_t *signups, int64_t *checkins) {
  resp r = {0};
  for(int i = 0; i < 100; i++) {
    free(r.body);
    r = http("GET", "/v1/admin/counts?store=SH-JA01", NULL, 0, NULL, NULL, 0, 1);
    assert_int_equal(r.status, 200);
    if(json_int(r.body, "members_pending") == 0) break;
    struct timespec pause = {0, 100 * 1000000L};
    nanosleep(&pause, NULL);
  }
  assert_int_equal(json_int(r.body, "members_pending"), 0);
  *members = json_int(r.body, "members");
  *signups = json_int(r.body, "signups");
  *checkins = json_int(r.body, "checkins");
  free(r.body);
}

/* counts' per-kiosk entry: kiosks.N.FIELD (-1 when absent). */
static int64_t kiosk_count(int number, const char *field) {
  resp r = http("GET", "/v1/admin/counts?store=SH-JA01", NULL, 0, NULL, NULL, 0, 1);
  assert_int_equal(r.status, 200);
  cJSON *o = cJSON_Parse(r.body);
  char k[16];
  snprintf(k, sizeof k, "%d", number);
  const cJSON *ks = cJSON_GetObjectItemCaseSensitive(o, "kiosks");
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ks, k), field);
  int64_t n = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
  cJSON_Delete(o);
  free(r.body);
  return n;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_admin_needs_token(void **state) {
  (void)state;
  resp r = post_json("/v1/admin/enroll-codes", "{\"store\":\"SH-JA01\",\"kiosk\":1}", 0);
  expect(&r, 401, "unauthorized");
  r = post_json("/v1/admin/stores", "{\"id\":\"SH-JA01\",\"name\":\"x\"}", 1);
  expect(&r, 409, "exists");
  r = post_json("/v1/admin/groups",
                "{\"store\":\"SH-JA01\",\"id\":\"ja-1\",\"kind\":\"store\",\"name\":\"1群\","
                "\"link\":\"https://weixin.qq.com/g/ja-1\",\"capacity\":200}",
                1);
  expect(&r, 201, "config_version");
}

static void test_enrolment(void **state) {
  (void)state;
  char code[32], key[2048], csr[2048];
  enroll_kiosk(&k1, 1, "hq-k1");
  enroll_kiosk(&k2, 2, "hq-k2");
  tu_make_csr(key, csr);
  resp r = enroll("AAAA-BBBB-CCCC-DDDD", csr);
  expect(&r, 403, "code_unknown");
  new_code(3, -1, code);
  r = enroll(code, csr);
  expect(&r, 403, "code_expired");
  new_code(3, 600, code);
  r = enroll(code,
             "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
  expect(&r, 400, "csr");
  r = post_json("/v1/enroll", "{\"code\":", 0);
  expect(&r, 400, "bad_request");
  r = post_json("/v1/enroll", "{\"code\":7,\"csr\":\"x\"}", 0);
  expect(&r, 400, "code: must be a string");
  /* The bad CSR did not spend the code. */
  r = enroll(code, csr);
  expect(&r, 200, "certificate");
}

static void test_upload_ack_replay(void **state) {
  (void)state;
  signup(&k1, "13800138000");
  signup(&k1, "13900139000");
  member_result res;
  assert_int_equal(member_checkin(k1.f->st, "13800138000", NULL, &res), SQR_OK);
  signup(&k2, "13800138000"); /* the same shopper at a second kiosk */
  size_t len;
  char *json = batch_after(&k1, 0, k1.id, &len);
  resp r = upload(&k1, json, len);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_int(r.body, "acked_seq"), store_last_seq(k1.f->st));
  assert_true(json_int(r.body, "hq_time_ms") > 0);
  free(r.body);
  int64_t m, s, c;
  counts(&m, &s, &c);
  assert_int_equal(m, 2);
  assert_int_equal(s, 2);
  assert_int_equal(c, 1);
  /* A replay adds nothing and answers the same ack. */
  r = upload(&k1, json, len);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_int(r.body, "acked_seq"), store_last_seq(k1.f->st));
  free(r.body);
  counts(&m, &s, &c);
  assert_int_equal(s, 2);
  /* Per kiosk: the rows HQ holds and their highest seq, as the
   * exactly-once checks of tests/integration read them. */
  assert_int_equal(kiosk_count(1, "events"), store_last_seq(k1.f->st));
  assert_int_equal(kiosk_count(1, "max_seq"), store_last_seq(k1.f->st));
  assert_int_equal(kiosk_count(1, "acked_seq"), store_last_seq(k1.f->st));
  assert_int_equal(kiosk_count(2, "events"), 0);
  assert_int_equal(kiosk_count(2, "max_seq"), 0);
  free(json);
  /* Kiosk 2's member is the same phone: one HQ member, linked twice. */
  json = batch_after(&k2, 0, k2.id, &len);
  r = upload(&k2, json, len);
  expect(&r, 200, "acked_seq");
  free(json);
  counts(&m, &s, &c);
  assert_int_equal(s, 3);
  assert_int_equal(m, 2); /* one store, one member per phone: de-duplicated */
}

static void test_gap_and_chain(void **state) {
  (void)state;
  int64_t acked = store_last_seq(k1.f->st);
  signup(&k1, "13700137000");
  signup(&k1, "13600136000");
  size_t len;
  /* Starting one past what HQ expects: 409 with the expected seq. */
  char *json = batch_after(&k1, acked + 1, k1.id, &len);
  resp r = upload(&k1, json, len);
  assert_int_equal(r.status, 409);
  assert_non_null(strstr(r.body, "\"gap\""));
  assert_int_equal(json_int(r.body, "expected_seq"), acked + 1);
  free(r.body);
  free(json);
  /* An altered new event (its time) breaks the chain: 422, nothing stored. */
  json = batch_after(&k1, acked, k1.id, &len);
  char *p = strstr(json, "\"ts_ms\":");
  assert_non_null(p);
  p += 8;
  *p = *p == '1' ? '2' : '1';
  r = upload(&k1, json, len);
  assert_int_equal(r.status, 422);
  assert_non_null(strstr(r.body, "chain_broken"));
  assert_int_equal(json_int(r.body, "seq"), acked + 1);
  free(r.body);
  free(json);
  /* An altered held event (already acked) is refused too. */
  json = batch_after(&k1, 0, k1.id, &len);
  p = strstr(json, "\"ts_ms\":");
  p += 8;
  *p = *p == '1' ? '2' : '1';
  r = upload(&k1, json, len);
  expect(&r, 422, "chain_broken");
  free(json);
  /* An altered payload: body_hash no longer matches. */
  json = batch_after(&k1, acked, k1.id, &len);
  p = strstr(json, "\"sealed\":\"");
  assert_non_null(p);
  p += 10;
  *p = *p == 'A' ? 'B' : 'A';
  r = upload(&k1, json, len);
  expect(&r, 422, "chain_broken");
  free(json);
  /* The honest batch still goes through. */
  json = batch_after(&k1, acked, k1.id, &len);
  r = upload(&k1, json, len);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_int(r.body, "acked_seq"), acked + 2);
  free(r.body);
  free(json);
}

static void test_certificates(void **state) {
  (void)state;
  size_t len;
  char *json = batch_after(&k1, 0, k1.id, &len);
  /* No client certificate. */
  resp r = http("POST", "/v1/events", json, len, NULL, NULL, 0, 0);
  expect(&r, 401, "certificate");
  /* Another kiosk's body with kiosk 1's certificate. */
  char *other = batch_after(&k1, 0, k2.id, &len);
  r = upload(&k1, other, len);
  expect(&r, 403, "wrong_kiosk");
  free(other);
  /* A certificate from another CA (a second HQ's device CA). */
  const char *dir = tu_tmpdir("hq-other-ca");
  char err[256], key[2048], csr[2048], *pem;
  uint8_t sha[32];
  assert_int_equal(pki_init_dir(dir, "127.0.0.1", err, sizeof err), SQR_OK);
  pki_ca *ca;
  assert_int_equal(pki_ca_load(dir, "device-ca", &ca, err, sizeof err), SQR_OK);
  tu_make_csr(key, csr);
  assert_int_equal(pki_sign_csr(ca, csr, "SH-JA01/1", time(NULL), 30, &pem, sha, err, sizeof err),
                   SQR_OK);
  pki_ca_free(ca);
  r = http("POST", "/v1/events", json, len, pem, key, 0, 0);
  expect(&r, 401, "certificate");
  free(pem);
  /* An expired certificate from the right CA. */
  assert_int_equal(pki_ca_load(hq_dir, "device-ca", &ca, err, sizeof err), SQR_OK);
  assert_int_equal(
      pki_sign_csr(ca, csr, "SH-JA01/1", time(NULL) - 10 * 86400, 2, &pem, sha, err, sizeof err),
      SQR_OK);
  pki_ca_free(ca);
  r = http("POST", "/v1/events", json, len, pem, key, 0, 0);
  expect(&r, 401, "certificate");
  free(pem);
  free(json);
  /* A revoked kiosk. */
  r = post_json("/v1/admin/kiosks/revoke", "{\"store\":\"SH-JA01\",\"kiosk\":2}", 1);
  expect(&r, 200, NULL);
  json = batch_after(&k2, 0, k2.id, &len);
  r = upload(&k2, json, len);
  expect(&r, 401, "revoked");
  r = http("GET", "/v1/config?since=0", NULL, 0, k2.cert_pem, k2.key_pem, 0, 0);
  expect(&r, 401, "revoked");
  free(json);
}

static void test_bad_bodies(void **state) {
  (void)state;
  const char *bad[][3] = {
      {"{\"kiosk\":", "400", "not valid JSON"},
      {"[1,2]", "400", "must be a JSON object"},
      {"{\"kiosk\":\"SH-JA01/1\",\"events\":[{\"seq\":\"1\"}]}", "400",
       "events[0].seq: must be an integer"},
      {"{\"kiosk\":\"SH-JA01/1\",\"events\":[{\"seq\":1,\"type\":\"teleport\",\"ts_ms\":1,"
       "\"payload\":{},\"body_hash\":\""
       "4444444444444444444444444444444444444444444444444444444444444444"
       "\",\"hash\":\"4444444444444444444444444444444444444444444444444444444444444444\"}]}",
       "422", "teleport"},
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++) {
    resp r = upload(&k1, bad[i][0], strlen(bad[i][0]));
    expect(&r, atol(bad[i][1]), bad[i][2]);
  }
  /* Over 1 MiB on the wire. */
  size_t n = PROTO_MAX_BODY + 100;
  char *big = malloc(n);
  memset(big, ' ', n);
  resp r = upload(&k1, big, n);
  expect(&r, 413, "too_large");
  /* A gzip bomb: 64 MiB of spaces in about 64 KiB. */
  size_t raw = 64u << 20;
  char *spaces = malloc(raw);
  memset(spaces, ' ', raw);
  z_stream z;
  memset(&z, 0, sizeof z);
  assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  uLong cap = deflateBound(&z, raw);
  unsigned char *gz = malloc(cap);
  z.next_in = (Bytef *)spaces;
  z.avail_in = (uInt)raw;
  z.next_out = gz;
  z.avail_out = (uInt)cap;
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  size_t gzlen = z.total_out;
  deflateEnd(&z);
  free(spaces);
  assert_true(gzlen < PROTO_MAX_BODY);
  r = http("POST", "/v1/events", gz, gzlen, k1.cert_pem, k1.key_pem, 1, 0);
  expect(&r, 413, "inflated");
  r = http("POST", "/v1/events", "not gzip", 8, k1.cert_pem, k1.key_pem, 1, 0);
  expect(&r, 400, "gzip");
  /* A real gzip batch is accepted (a replay: same ack). */
  size_t len;
  char *json = batch_after(&k1, 0, k1.id, &len);
  memset(&z, 0, sizeof z);
  assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  z.next_in = (Bytef *)json;
  z.avail_in = (uInt)len;
  z.next_out = gz;
  z.avail_out = (uInt)cap;
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  gzlen = z.total_out;
  deflateEnd(&z);
  r = http("POST", "/v1/events", gz, gzlen, k1.cert_pem, k1.key_pem, 1, 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_int(r.body, "acked_seq"), store_last_seq(k1.f->st));
  free(r.body);
  free(gz);
  free(big);
  free(json);
}

static void test_config(void **state) {
  (void)state;
  resp r = http("GET", "/v1/config?since=0", NULL, 0, k1.cert_pem, k1.key_pem, 0, 0);
  assert_int_equal(r.status, 200);
  int64_t v = json_int(r.body, "version");
  assert_true(v >= 2);
  /* Every answer carries HQ's clock, the configuration document too (the
   * kiosk's sync refused a 200 without it). */
  assert_true(json_int(r.body, "hq_time_ms") > 0);
  assert_non_null(strstr(r.body, "ja-1"));
  /* Kiosks are sent to the kiosk URL, phones (live codes) to the public
   * name, never to where the process listens unless that is all there is. */
  cJSON *doc = cJSON_Parse(r.body);
  const cJSON *hqo = cJSON_GetObjectItemCaseSensitive(doc, "hq");
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(hqo, "url");
  const cJSON *rh = cJSON_GetObjectItemCaseSensitive(hqo, "resolver_host");
  assert_true(cJSON_IsString(u) && cJSON_IsString(rh));
  assert_string_equal(u->valuestring, kiosk_url_want);
  assert_string_equal(rh->valuestring, resolver_host_want);
  cJSON_Delete(doc);
  /* The kiosk applies it as it comes. */
  char err[256];
  assert_int_equal(store_apply_config(k1.f->st, r.body, r.len, err, sizeof err), SQR_OK);
  free(r.body);
  char path[64];
  snprintf(path, sizeof path, "/v1/config?since=%lld", (long long)v);
  r = http("GET", path, NULL, 0, k1.cert_pem, k1.key_pem, 0, 0);
  expect(&r, 304, NULL);
  r = post_json("/v1/admin/groups",
                "{\"store\":\"SH-JA01\",\"id\":\"ja-2\",\"name\":\"2群\","
                "\"link\":\"https://weixin.qq.com/g/ja-2\"}",
                1);
  expect(&r, 201, NULL);
  r = http("GET", path, NULL, 0, k1.cert_pem, k1.key_pem, 0, 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_int(r.body, "version"), v + 1);
  assert_non_null(strstr(r.body, "ja-2"));
  free(r.body);
  r = http("GET", "/v1/config?since=x", NULL, 0, k1.cert_pem, k1.key_pem, 0, 0);
  expect(&r, 400, "since");
  /* An erasure request is counted pending until the kiosk confirms it. */
  r = post_json("/v1/admin/erasures",
                "{\"store\":\"SH-JA01\",\"member\":"
                "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
                1);
  expect(&r, 202, NULL);
  r = http("GET", "/v1/admin/counts?store=SH-JA01", NULL, 0, NULL, NULL, 0, 1);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_int(r.body, "erasures_pending"), 1);
  assert_int_equal(json_int(r.body, "erasures_confirmed"), 0);
  free(r.body);
  /* Still serving after everything above. */
  r = http("GET", "/v1/admin/counts?store=SH-JA01", NULL, 0, NULL, NULL, 0, 1);
  expect(&r, 200, "acked_seq");
}

/* The seq HQ acknowledged for kiosk k (its counts). */
static int64_t acked_of(kiosk *k) {
  resp r = http("GET", "/v1/admin/counts?store=SH-JA01", NULL, 0, NULL, NULL, 0, 1);
  assert_int_equal(r.status, 200);
  cJSON *o = cJSON_Parse(r.body);
  const char *slash = strchr(k->id, '/');
  const cJSON *v =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "acked_seq"), slash + 1);
  assert_true(cJSON_IsNumber(v));
  int64_t n = (int64_t)v->valuedouble;
  cJSON_Delete(o);
  free(r.body);
  return n;
}

/* SH-JA01's events_behind in /v1/stats; -1 for null. */
static int64_t events_behind(void) {
  resp r = http("GET", "/v1/stats?store=SH-JA01", NULL, 0, NULL, NULL, 0, 1);
  assert_int_equal(r.status, 200);
  cJSON *o = cJSON_Parse(r.body);
  const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "stores"), 0);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, "events_behind");
  assert_true(cJSON_IsNumber(v) || cJSON_IsNull(v));
  int64_t n = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
  cJSON_Delete(o);
  free(r.body);
  return n;
}

/* HQ keeps each kiosk's last "behind" from a batch it stored; batches
 * without the field (kiosks from before it), refused ones and replays
 * leave that report as it was. */
static void test_events_behind(void **state) {
  (void)state;
  assert_int_equal(events_behind(), -1); /* no batch so far carried it */
  /* What the kiosk recorded since its last upload (the configuration
   * test_config applied) goes up first, without the field. */
  int64_t acked = store_last_seq(k1.f->st);
  size_t len;
  char *json = batch_of(&k1, acked_of(&k1), 500, -1, k1.id, &len);
  resp r = upload(&k1, json, len);
  expect(&r, 200, "acked_seq");
  free(json);
  signup(&k1, "13500135000");
  signup(&k1, "13400134000");
  signup(&k1, "13300133000");
  json = batch_of(&k1, acked, 1, 2, k1.id, &len);
  r = upload(&k1, json, len);
  expect(&r, 200, "acked_seq");
  assert_int_equal(events_behind(), 2);
  /* a replay, then a gap: nothing stored, the report stays */
  r = upload(&k1, json, len);
  expect(&r, 200, "acked_seq");
  free(json);
  json = batch_of(&k1, acked, 1, 9, k1.id, &len);
  r = upload(&k1, json, len);
  expect(&r, 200, "acked_seq");
  free(json);
  json = batch_of(&k1, acked + 2, 1, 7, k1.id, &len);
  r = upload(&k1, json, len);
  expect(&r, 409, "gap");
  free(json);
  assert_int_equal(events_behind(), 2);
  /* without the field: stored, report unchanged */
  json = batch_of(&k1, acked + 1, 1, -1, k1.id, &len);
  r = upload(&k1, json, len);
  expect(&r, 200, "acked_seq");
  free(json);
  assert_int_equal(events_behind(), 2);
  json = batch_of(&k1, acked + 2, 500, 0, k1.id, &len);
  r = upload(&k1, json, len);
  expect(&r, 200, "acked_seq");
  free(json);
  assert_int_equal(events_behind(), 0);
  /* a bad one is refused like any envelope field, and changes nothing */
  const char *bad = "{\"kiosk\":\"SH-JA01/1\",\"behind\":-1,\"events\":[{}]}";
  r = upload(&k1, bad, strlen(bad));
  expect(&r, 400, "behind: must be between 0 and");
  assert_int_equal(events_behind(), 0);
}

int main(void) {
  hq_dir = getenv("HQ_DIR");
  hq_url = getenv("HQ_URL");
  if(!hq_dir || !hq_url) {
    fprintf(stderr, "test_hq: run by hq_test.sh (HQ_DIR, HQ_URL)\n");
    return 2;
  }
  kiosk_url_want = getenv("HQ_KIOSK_URL");
  if(!kiosk_url_want) kiosk_url_want = hq_url;
  resolver_host_want = getenv("HQ_RESOLVER_HOST");
  if(!resolver_host_want) resolver_host_want = hq_url + strlen("https://");
  char *tok = NULL;
  snprintf(ca_path, sizeof ca_path, "%s/admin.token", hq_dir);
  if(pki_read_file(ca_path, 128, &tok, NULL) != SQR_OK) return 2;
  snprintf(admin_auth, sizeof admin_auth, "Authorization: Bearer %s", tok);
  free(tok);
  snprintf(ca_path, sizeof ca_path, "%s/hq-ca.crt", hq_dir);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_admin_needs_token),
      cmocka_unit_test(test_enrolment),
      cmocka_unit_test(test_upload_ack_replay),
      cmocka_unit_test(test_gap_and_chain),
      cmocka_unit_test(test_certificates),
      cmocka_unit_test(test_bad_bodies),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_events_behind),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  tu_store_free(k1.f);
  tu_store_free(k2.f);
  free(k1.cert_pem);
  free(k2.cert_pem);
  curl_global_cleanup();
  return rc;
}
