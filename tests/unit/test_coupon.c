/* test_coupon.c — coupon known answer from an independent implementation,
 * round trips, hand-typing tolerance, tampering and range checks. */
#include "testutil.h"
#include "base32.h"
#include "coupon.h"

#include <stdio.h>
#include <string.h>

#define STORE "SH-001"

static void raw_key(uint8_t k[32], uint8_t seed) {
  for(int i = 0; i < 32; i++)
    k[i] = (uint8_t)(seed + i);
}

/* The coupon key a configuration from before key versions gives: derived
 * from the store key seed, seed+1, ... (the known codes below use it). */
static void skey(uint8_t k[32], uint8_t seed) {
  uint8_t store_key[32];
  raw_key(store_key, seed);
  assert_int_equal(coupon_key_derive(store_key, k), SQR_OK);
}

/* A kiosk's own coupon key (keys.coupon_key) is used as it is, no HKDF. */
static void test_known_answer_kiosk_key(void **state) {
  (void)state;
  uint8_t k[32];
  char code[COUPON_CODE_LEN + 1];
  raw_key(k, 0);
  assert_int_equal(coupon_issue(k, 3, STORE, 2, 5, 42, code), SQR_OK);
  /* python3 -c "import hmac,hashlib,base64,struct;H=lambda
   * k,m:hmac.new(k,m,hashlib.sha256).digest();K=bytes(range(32));p=struct.pack('>BHB',3,2,5)+(42).to_bytes(3,'big');c=base64.b32encode(p+H(K,b'SQR-C1SH-001\0'+p)[:5]).decode().rstrip('=');print('-'.join(c[i:i+5]
   * for i in range(0,20,5)))" */
  assert_string_equal(code, "AMAAE-BIAAA-VP4XY-5Z6YA");
  coupon_info info;
  assert_int_equal(coupon_verify(k, 3, STORE, code, &info), SQR_OK);
  assert_int_equal(info.kiosk, 2);
  assert_int_equal(info.serial, 42);
  /* The legacy derivation of the same 32 bytes is another key. */
  uint8_t derived[32];
  assert_int_equal(coupon_key_derive(k, derived), SQR_OK);
  assert_int_equal(coupon_verify(derived, 3, STORE, code, &info), SQR_EAUTH);
  assert_int_equal(coupon_key_derive(NULL, derived), SQR_EINVAL);
  assert_int_equal(coupon_key_derive(k, NULL), SQR_EINVAL);
}

/* coupon_parse says what a code claims without a key (HQ picks the key of
 * that kiosk and version by it), with the same tolerance for typing, and
 * refuses what is not a code. It proves nothing: an edited code parses. */
static void test_parse(void **state) {
  (void)state;
  coupon_info info;
  assert_int_equal(coupon_parse(" amaae-BIAAA vp4xy-5z6ya", &info), SQR_OK);
  assert_int_equal(info.key_version, 3);
  assert_int_equal(info.kiosk, 2);
  assert_int_equal(info.campaign, 5);
  assert_int_equal(info.serial, 42);
  assert_int_equal(coupon_parse("AMAAE-BIAAA-VP4XZ-5Z6YA", &info), SQR_OK); /* MAC edited */
  assert_int_equal(info.serial, 42);
  const char *bad[] = {"", "AMAAE-BIAAA-VP4XY-5Z6Y", "AMAAE-BIAAA-VP4XY-5Z6YAA",
                       "AMAAE-BIAAA-VP4XY-5Z6Y!", "AMAAE-BIAAA-VP4XY-5Z6Y9"};
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++)
    assert_int_equal(coupon_parse(bad[i], &info), SQR_EINVAL);
  assert_int_equal(coupon_parse(NULL, &info), SQR_EINVAL);
  assert_int_equal(coupon_parse("AMAAE-BIAAA-VP4XY-5Z6YA", NULL), SQR_EINVAL);
}

static void test_known_answer(void **state) {
  (void)state;
  uint8_t k[32];
  char code[COUPON_CODE_LEN + 1];
  skey(k, 0); /* 00 01 02 .. 1f */
  assert_int_equal(coupon_issue(k, 1, STORE, 7, 3, 123456, code), SQR_OK);
  /* Independent implementation (HKDF per RFC 5869: PRK = HMAC(zeros, ikm),
   * OKM = HMAC(PRK, info || 0x01)):
   * python3 -c "import hmac,hashlib,base64,struct;H=lambda
   * k,m:hmac.new(k,m,hashlib.sha256).digest();K=H(H(b'\0'*32,bytes(range(32))),b'storeqr/v1/coupon\x01');p=struct.pack('>BHB',1,7,3)+(123456).to_bytes(3,'big');c=base64.b32encode(p+H(K,b'SQR-C1SH-001\0'+p)[:5]).decode().rstrip('=');print('-'.join(c[i:i+5]
   * for i in range(0,20,5)))"
   */
  assert_string_equal(code, "AEAAO-AYB4J-AOE57-OLN5Q");
  assert_int_equal(strlen(code), COUPON_CODE_LEN);

  coupon_info info;
  assert_int_equal(coupon_verify(k, 1, STORE, code, &info), SQR_OK);
  assert_int_equal(info.key_version, 1);
  assert_int_equal(info.kiosk, 7);
  assert_int_equal(info.campaign, 3);
  assert_int_equal(info.serial, 123456);
}

static void test_round_trip(void **state) {
  (void)state;
  static const struct {
    uint8_t ver;
    uint16_t kiosk;
    uint8_t camp;
    uint32_t serial;
  } v[] = {
      {0, 0, 0, 0},
      {1, 1, 1, 1},
      {255, 65535, 255, COUPON_SERIAL_MAX},
      {7, 300, 12, 0x800000},
      {2, 0x1234, 0x56, 0x789abc},
  };
  uint8_t k[32];
  skey(k, 40);
  for(size_t i = 0; i < SQR_ARRAY_LEN(v); i++) {
    char code[COUPON_CODE_LEN + 1];
    coupon_info info;
    assert_int_equal(coupon_issue(k, v[i].ver, STORE, v[i].kiosk, v[i].camp, v[i].serial, code),
                     SQR_OK);
    assert_int_equal(strlen(code), COUPON_CODE_LEN);
    for(int d = 5; d < COUPON_CODE_LEN; d += 6)
      assert_int_equal(code[d], '-');
    assert_int_equal(coupon_verify(k, v[i].ver, STORE, code, &info), SQR_OK);
    assert_int_equal(info.key_version, v[i].ver);
    assert_int_equal(info.kiosk, v[i].kiosk);
    assert_int_equal(info.campaign, v[i].camp);
    assert_int_equal(info.serial, v[i].serial);
  }
}

static void test_hand_typed(void **state) {
  (void)state;
  uint8_t k[32];
  skey(k, 0);
  coupon_info info;
  const char *ok[] = {
      "AEAAO-AYB4J-AOE57-OLN5Q",   "AEAAOAYB4JAOE57OLN5Q", /* no dashes */
      "aeaao-ayb4j-aoe57-oln5q",                           /* lower case */
      "AEAAO AYB4J AOE57 OLN5Q",                           /* spaces */
      " aeAAo ayb4j-AOE57OLN5q ",                          /* a mixture */
      "AEA-AO-AY-B4JAOE-57OL-N5Q",                         /* dashes anywhere */
      "AEAA0-AY84J-A0E57-0LN5Q",                           /* 0 for O, 8 for B */
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(ok); i++) {
    memset(&info, 0, sizeof info);
    assert_int_equal(coupon_verify(k, 1, STORE, ok[i], &info), SQR_OK);
    assert_int_equal(info.serial, 123456);
  }

  /* Find a code with an I in it and type it with 1s (and 0s, 8s). */
  int found = 0;
  for(uint32_t serial = 0; serial < 1000 && !found; serial++) {
    char code[COUPON_CODE_LEN + 1];
    assert_int_equal(coupon_issue(k, 1, STORE, 9, 1, serial, code), SQR_OK);
    if(!strchr(code, 'I')) continue;
    found = 1;
    for(char *p = code; *p; p++) {
      if(*p == 'I')
        *p = '1';
      else if(*p == 'O')
        *p = '0';
      else if(*p == 'B')
        *p = '8';
      else if(*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
    }
    assert_int_equal(coupon_verify(k, 1, STORE, code, &info), SQR_OK);
    assert_int_equal(info.serial, serial);
    assert_int_equal(info.kiosk, 9);
  }
  assert_true(found);
}

static void test_malformed(void **state) {
  (void)state;
  uint8_t k[32];
  skey(k, 0);
  coupon_info info;
  const char *bad[] = {
      "",
      "-----",
      "AEAAO-AYB4J-AOE57-OLN5",   /* 19 */
      "AEAAO-AYB4J-AOE57-OLN5QA", /* 21 */
      "AEAAO-AYB4J-AOE57-OLN59",  /* 9 has no look-alike */
      "AEAAO-AYB4J-AOE57-OLN5!",
      "AEAAO_AYB4J_AOE57_OLN5Q",
      "AEAAO.AYB4J.AOE57.OLN5Q",
      "AEAAO\tAYB4J\tAOE57\tOLN5Q",
      "AEAAO-AYB4J-AOE57-OLN5Q=",
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++)
    assert_int_equal(coupon_verify(k, 1, STORE, bad[i], &info), SQR_EINVAL);

  /* Longer than anyone types, even if it is mostly dashes. */
  char longcode[COUPON_INPUT_MAX + 2];
  memset(longcode, '-', sizeof longcode - 1);
  longcode[sizeof longcode - 1] = '\0';
  memcpy(longcode, "AEAAOAYB4JAOE57OLN5Q", 20);
  assert_int_equal(coupon_verify(k, 1, STORE, longcode, &info), SQR_EINVAL);
  longcode[COUPON_INPUT_MAX] = '\0'; /* exactly the maximum is fine */
  assert_int_equal(coupon_verify(k, 1, STORE, longcode, &info), SQR_OK);

  assert_int_equal(coupon_verify(NULL, 1, STORE, "AEAAOAYB4JAOE57OLN5Q", &info), SQR_EINVAL);
  assert_int_equal(coupon_verify(k, 1, STORE, NULL, &info), SQR_EINVAL);
  assert_int_equal(coupon_verify(k, 1, STORE, "AEAAOAYB4JAOE57OLN5Q", NULL), SQR_EINVAL);
  assert_int_equal(coupon_verify(k, 1, "sh-001", "AEAAOAYB4JAOE57OLN5Q", &info), SQR_EINVAL);
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void test_tampered(void **state) {
  (void)state;
  uint8_t k[32];
  skey(k, 0);
  char code[COUPON_CODE_LEN + 1];
  coupon_info info;
  assert_int_equal(coupon_issue(k, 1, STORE, 7, 3, 123456, code), SQR_OK);
  for(size_t i = 0; i < COUPON_CODE_LEN; i++) {
    if(code[i] == '-') continue;
    for(size_t j = 0; j < 32; j++) {
      if(b32[j] == code[i]) continue;
      char t[COUPON_CODE_LEN + 1];
      memcpy(t, code, sizeof t);
      t[i] = b32[j];
      sqr_rc rc = coupon_verify(k, 1, STORE, t, &info);
      /* The last character carries 4 spare bits: changing those is a
       * malformed code, anything else a MAC (or version) mismatch. */
      if(i == COUPON_CODE_LEN - 1)
        assert_true(rc == SQR_EAUTH || rc == SQR_EINVAL);
      else
        assert_int_equal(rc, SQR_EAUTH);
    }
  }
}

/* Re-encodes a code with its payload edited but the MAC kept. */
static void edit_payload(const char *code, size_t at, uint8_t value, char *out) {
  char plain[COUPON_CHARS + 1];
  uint8_t raw[12];
  size_t n = 0, len;
  for(const char *p = code; *p; p++)
    if(*p != '-') plain[n++] = *p;
  assert_int_equal(base32_decode(plain, n, raw, sizeof raw, &len), SQR_OK);
  raw[at] = value;
  assert_int_equal(base32_encode(raw, sizeof raw, out, COUPON_CHARS + 1), SQR_OK);
}

static void test_wrong_store_kiosk_version(void **state) {
  (void)state;
  uint8_t k[32], other[32];
  skey(k, 0);
  skey(other, 1);
  char code[COUPON_CODE_LEN + 1], edited[COUPON_CHARS + 1];
  coupon_info info;
  assert_int_equal(coupon_issue(k, 1, STORE, 7, 3, 123456, code), SQR_OK);

  assert_int_equal(coupon_verify(k, 1, "SH-002", code, &info), SQR_EAUTH);
  assert_int_equal(coupon_verify(k, 1, "SH-00", code, &info), SQR_EAUTH);
  assert_int_equal(coupon_verify(other, 1, STORE, code, &info), SQR_EAUTH);
  assert_int_equal(coupon_verify(k, 2, STORE, code, &info), SQR_EAUTH);

  edit_payload(code, 2, 8, edited); /* kiosk 7 -> 8 */
  assert_int_equal(coupon_verify(k, 1, STORE, edited, &info), SQR_EAUTH);
  edit_payload(code, 3, 4, edited); /* campaign 3 -> 4 */
  assert_int_equal(coupon_verify(k, 1, STORE, edited, &info), SQR_EAUTH);
  edit_payload(code, 6, 0x41, edited); /* serial low byte */
  assert_int_equal(coupon_verify(k, 1, STORE, edited, &info), SQR_EAUTH);
  edit_payload(code, 0, 2, edited); /* version 1 -> 2 */
  assert_int_equal(coupon_verify(k, 2, STORE, edited, &info), SQR_EAUTH);
  edit_payload(code, 2, 7, edited); /* unchanged: still good */
  assert_int_equal(coupon_verify(k, 1, STORE, edited, &info), SQR_OK);

  /* The same triple under another kiosk is a different code. */
  char code8[COUPON_CODE_LEN + 1];
  assert_int_equal(coupon_issue(k, 1, STORE, 8, 3, 123456, code8), SQR_OK);
  assert_string_not_equal(code, code8);
  assert_int_equal(coupon_verify(k, 1, STORE, code8, &info), SQR_OK);
  assert_int_equal(info.kiosk, 8);
}

static void test_issue_errors(void **state) {
  (void)state;
  uint8_t k[32];
  skey(k, 0);
  char code[COUPON_CODE_LEN + 1] = "junk";
  assert_int_equal(coupon_issue(k, 1, STORE, 7, 3, COUPON_SERIAL_MAX + 1, code), SQR_EINVAL);
  assert_string_equal(code, "");
  assert_int_equal(coupon_issue(k, 1, STORE, 7, 3, UINT32_MAX, code), SQR_EINVAL);
  assert_int_equal(coupon_issue(k, 1, STORE, 7, 3, COUPON_SERIAL_MAX, code), SQR_OK);
  assert_int_equal(coupon_issue(k, 1, "", 7, 3, 1, code), SQR_EINVAL);
  assert_int_equal(coupon_issue(k, 1, "sh-001", 7, 3, 1, code), SQR_EINVAL);
  assert_int_equal(coupon_issue(k, 1, NULL, 7, 3, 1, code), SQR_EINVAL);
  assert_int_equal(coupon_issue(NULL, 1, STORE, 7, 3, 1, code), SQR_EINVAL);
  assert_int_equal(coupon_issue(k, 1, STORE, 7, 3, 1, NULL), SQR_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answer), cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_hand_typed),   cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_tampered),     cmocka_unit_test(test_wrong_store_kiosk_version),
      cmocka_unit_test(test_issue_errors), cmocka_unit_test(test_known_answer_kiosk_key),
      cmocka_unit_test(test_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
