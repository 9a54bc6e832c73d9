/* test_livecode.c — HMAC-SHA256 known answers (RFC 4231), a token known
 * answer from an independent implementation, window boundaries, tampering,
 * malformed input, key versions and URLs. Speed is measured by
 * tools/bench/bench-core, not here. */
#include "testutil.h"
#include "crypto.h"
#include "livecode.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- RFC 4231 HMAC-SHA256 ---------------------------------------------- */

static void check_hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                       const char *hex) {
  uint8_t mac[CRYPTO_SHA256_LEN];
  char got[2 * CRYPTO_SHA256_LEN + 1];
  assert_int_equal(crypto_hmac_sha256(key, klen, msg, mlen, mac), SQR_OK);
  crypto_hex(mac, sizeof mac, got);
  assert_string_equal(got, hex);
}

static void test_rfc4231_hmac_sha256(void **state) {
  (void)state;
  uint8_t key[131], data[50];

  /* Test case 1 */
  memset(key, 0x0b, 20);
  check_hmac(key, 20, "Hi There", 8,
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  /* Test case 2: a key shorter than the output */
  check_hmac("Jefe", 4, "what do ya want for nothing?", 28,
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* Test case 3 */
  memset(key, 0xaa, 20);
  memset(data, 0xdd, 50);
  check_hmac(key, 20, data, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  /* Test case 4 */
  for(int i = 0; i < 25; i++)
    key[i] = (uint8_t)(i + 1);
  memset(data, 0xcd, 50);
  check_hmac(key, 25, data, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  /* Test case 6: a key longer than the block, hashed first */
  memset(key, 0xaa, 131);
  const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  check_hmac(key, 131, m6, strlen(m6),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  /* Test case 7: key and data longer than the block */
  const char *m7 = "This is a test using a larger than block-size key and a larger "
                   "than block-size data. The key needs to be hashed before being "
                   "used by the HMAC algorithm.";
  check_hmac(key, 131, m7, strlen(m7),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* ---- fixtures ---------------------------------------------------------- */

#define STORE "SH-001"
#define T0    INT64_C(1767225600) /* 2026-01-01T00:00:00Z, a multiple of 30 and 60 */

static void store_key(uint8_t k[32], uint8_t seed) {
  for(int i = 0; i < 32; i++)
    k[i] = (uint8_t)(seed + i);
}

static livecode_key key_for(uint8_t seed, uint8_t version) {
  uint8_t sk[32];
  livecode_key k;
  store_key(sk, seed);
  assert_int_equal(livecode_key_init(&k, sk, version), SQR_OK);
  return k;
}

static void mint(const livecode_key *k, uint16_t kiosk, int64_t t, uint32_t period,
                 char out[LIVECODE_TOKEN_LEN + 1]) {
  assert_int_equal(livecode_mint(k, STORE, kiosk, t, period, out), SQR_OK);
  assert_int_equal(strlen(out), LIVECODE_TOKEN_LEN);
}

static sqr_rc verify1(const livecode_key *k, const char *token, int64_t now, uint32_t period,
                      uint32_t skew, livecode_claim *c) {
  return livecode_verify(k, 1, STORE, token, now, period, skew, 0, c);
}

/* ---- known answer ------------------------------------------------------ */

static void test_known_answer_token(void **state) {
  (void)state;
  livecode_key k = key_for(0, 1); /* store key = 00 01 02 .. 1f */
  char tok[LIVECODE_TOKEN_LEN + 1];
  mint(&k, 7, T0, 30, tok);
  /* Independent implementation (HKDF per RFC 5869: PRK = HMAC(zeros, ikm),
   * OKM = HMAC(PRK, info || 0x01)):
   * python3 -c "import hmac,hashlib,base64,struct;H=lambda
   * k,m:hmac.new(k,m,hashlib.sha256).digest();K=H(H(b'\0'*32,bytes(range(32))),b'storeqr/v1/livecode-token\x01');p=struct.pack('>BHI',1,7,1767225600//30);print(base64.b32encode(p+H(K,b'SQR-T1SH-001\0'+p)[:8]).decode())"
   */
  assert_string_equal(tok, "AEAAOA4C3OADFPI3BE77FZCI");

  livecode_claim c;
  assert_int_equal(verify1(&k, tok, T0, 30, 0, &c), SQR_OK);
  assert_int_equal(c.key_version, 1);
  assert_int_equal(c.kiosk, 7);
  assert_int_equal(c.window, (uint32_t)(T0 / 30));
  livecode_key_wipe(&k);
  livecode_key_wipe(NULL);
}

/* A kiosk's own token key (keys.token_key) is used as it is: no HKDF. */
static void test_known_answer_kiosk_key(void **state) {
  (void)state;
  uint8_t tk[32];
  livecode_key k;
  store_key(tk, 0);
  assert_int_equal(livecode_key_set(&k, tk, 4), SQR_OK);
  char tok[LIVECODE_TOKEN_LEN + 1];
  mint(&k, 2, T0, 30, tok);
  /* python3 -c "import hmac,hashlib,base64,struct;H=lambda
   * k,m:hmac.new(k,m,hashlib.sha256).digest();K=bytes(range(32));p=struct.pack('>BHI',4,2,1767225600//30);print(base64.b32encode(p+H(K,b'SQR-T1SH-001\0'+p)[:8]).decode())"
   */
  assert_string_equal(tok, "AQAAEA4C3OANY3TNIFBHPJUX");
  livecode_claim c;
  assert_int_equal(verify1(&k, tok, T0, 30, 0, &c), SQR_OK);
  assert_int_equal(c.key_version, 4);
  /* The legacy derivation of the same bytes is another key. */
  livecode_key derived = key_for(0, 4);
  assert_int_equal(verify1(&derived, tok, T0, 30, 0, &c), SQR_EAUTH);
  livecode_key_wipe(&derived);
  livecode_key_wipe(&k);
  assert_int_equal(livecode_key_set(NULL, tk, 1), SQR_EINVAL);
  assert_int_equal(livecode_key_set(&k, NULL, 1), SQR_EINVAL);
}

/* ---- windows ----------------------------------------------------------- */

static void check_boundaries(uint32_t period) {
  livecode_key k = key_for(9, 1);
  char a[LIVECODE_TOKEN_LEN + 1], b[LIVECODE_TOKEN_LEN + 1];
  livecode_claim c;
  int64_t kp = T0 + 1000 * (int64_t)period; /* k * period */

  /* The last second of a window and the first of the next differ. */
  mint(&k, 3, kp - 1, period, a);
  mint(&k, 3, kp, period, b);
  assert_string_not_equal(a, b);
  /* Same window, same token, for every second in it. */
  char same[LIVECODE_TOKEN_LEN + 1];
  mint(&k, 3, kp + period - 1, period, same);
  assert_string_equal(b, same);

  assert_int_equal(verify1(&k, a, kp - 1, period, 0, &c), SQR_OK);
  assert_int_equal(c.window, (uint32_t)(kp / period - 1));
  /* skew 0: a's window ends exactly at kp. */
  assert_int_equal(verify1(&k, a, kp, period, 0, &c), SQR_EEXPIRED);
  assert_int_equal(verify1(&k, a, kp, period, 1, &c), SQR_OK);
  /* b minted at kp: accepted through the end of window +skew... */
  for(uint32_t skew = 0; skew <= 3; skew++) {
    int64_t last = kp + (int64_t)(skew + 1) * period - 1;
    assert_int_equal(verify1(&k, b, last, period, skew, &c), SQR_OK);
    /* ...and not one second later (skew + 1 windows back). */
    memset(&c, 0, sizeof c);
    assert_int_equal(verify1(&k, b, last + 1, period, skew, &c), SQR_EEXPIRED);
    /* The claim of an authentic but stale token is still reported. */
    assert_int_equal(c.kiosk, 3);
    assert_int_equal(c.window, (uint32_t)(kp / period));
  }
  /* Future: b is one window ahead of kp - 1, whatever the skew. */
  assert_int_equal(verify1(&k, b, kp - 1, period, 0, &c), SQR_EEXPIRED);
  assert_int_equal(verify1(&k, b, kp - 1, period, 100, &c), SQR_EEXPIRED);
  assert_int_equal(verify1(&k, b, kp - 1000 * (int64_t)period, period, 5, &c), SQR_EEXPIRED);
  /* A huge skew does not wrap. */
  assert_int_equal(verify1(&k, b, kp + 50 * (int64_t)period, period, UINT32_MAX, &c), SQR_OK);
  /* Window 0 (t in the first period) and now with a skew that reaches below 0. */
  char z[LIVECODE_TOKEN_LEN + 1];
  mint(&k, 3, 0, period, z);
  assert_int_equal(verify1(&k, z, period - 1, period, 2, &c), SQR_OK);
  assert_int_equal(c.window, 0);
}

static void test_window_boundaries_period_30(void **state) {
  (void)state;
  check_boundaries(30);
}

static void test_window_boundaries_period_60(void **state) {
  (void)state;
  check_boundaries(60);
  /* The period is part of the window, so 30 s and 60 s tokens differ. */
  livecode_key k = key_for(9, 1);
  char a[LIVECODE_TOKEN_LEN + 1], b[LIVECODE_TOKEN_LEN + 1];
  mint(&k, 3, T0, 30, a);
  mint(&k, 3, T0, 60, b);
  assert_string_not_equal(a, b);
  livecode_claim c;
  assert_int_equal(verify1(&k, b, T0, 30, 1, &c), SQR_EEXPIRED);
}

/* A kiosk clock a few seconds fast (issue: "time a shop can trust"): the
 * next window's token is accepted from lead seconds before it starts, and
 * not a second earlier; two windows ahead never. */
static void test_lead(void **state) {
  (void)state;
  livecode_key k = key_for(9, 1);
  char next[LIVECODE_TOKEN_LEN + 1], after[LIVECODE_TOKEN_LEN + 1];
  livecode_claim c;
  const uint32_t period = 30, lead = LIVECODE_LEAD_S;
  int64_t kp = T0 + 1000 * (int64_t)period; /* a window's first second */
  mint(&k, 3, kp, period, next);
  mint(&k, 3, kp + period, period, after);
  /* "second 28 of a window, a token minted 2 s ahead": accepted now */
  assert_int_equal(livecode_verify(&k, 1, STORE, next, kp - 2, period, 1, lead, &c), SQR_OK);
  assert_int_equal(c.window, (uint32_t)(kp / period));
  assert_int_equal(livecode_verify(&k, 1, STORE, next, kp - (int64_t)lead, period, 1, lead, &c),
                   SQR_OK);
  assert_int_equal(livecode_verify(&k, 1, STORE, next, kp - (int64_t)lead - 1, period, 1, lead, &c),
                   SQR_EEXPIRED);
  /* without a lead, as before */
  assert_int_equal(livecode_verify(&k, 1, STORE, next, kp - 1, period, 1, 0, &c), SQR_EEXPIRED);
  /* never two windows ahead, whatever the lead */
  assert_int_equal(livecode_verify(&k, 1, STORE, after, kp - 1, period, 1, lead, &c), SQR_EEXPIRED);
  assert_int_equal(livecode_verify(&k, 1, STORE, after, kp - 1, period, 1, 29, &c), SQR_EEXPIRED);
  /* a lead of a whole period or more counts as period - 1 */
  assert_int_equal(livecode_verify(&k, 1, STORE, next, kp - 29, period, 1, 1000, &c), SQR_OK);
  assert_int_equal(livecode_verify(&k, 1, STORE, next, kp - 30, period, 1, 1000, &c), SQR_EEXPIRED);
}

static void test_period_and_time_errors(void **state) {
  (void)state;
  livecode_key k = key_for(9, 1);
  char tok[LIVECODE_TOKEN_LEN + 1] = "x";
  livecode_claim c;
  assert_int_equal(livecode_mint(&k, STORE, 1, T0, 0, tok), SQR_EINVAL);
  assert_string_equal(tok, "");
  assert_int_equal(livecode_mint(&k, STORE, 1, -1, 30, tok), SQR_EINVAL);
  /* The window must fit in 32 bits. */
  assert_int_equal(livecode_mint(&k, STORE, 1, (INT64_C(1) << 32) * 30, 30, tok), SQR_EINVAL);
  assert_int_equal(livecode_mint(&k, STORE, 1, (INT64_C(1) << 32) * 30 - 1, 30, tok), SQR_OK);
  mint(&k, 1, T0, 30, tok);
  assert_int_equal(verify1(&k, tok, T0, 0, 1, &c), SQR_EINVAL);
  assert_int_equal(verify1(&k, tok, -5, 30, 1, &c), SQR_EINVAL);
  assert_int_equal(livecode_verify(&k, 1, STORE, tok, T0, 30, 1, 0, NULL), SQR_EINVAL);
  assert_int_equal(livecode_verify(&k, 1, STORE, NULL, T0, 30, 1, 0, &c), SQR_EINVAL);
  assert_int_equal(livecode_verify(NULL, 1, STORE, tok, T0, 30, 1, 0, &c), SQR_EINVAL);
  assert_int_equal(livecode_verify(NULL, 0, STORE, tok, T0, 30, 1, 0, &c), SQR_EAUTH);
  /* An all-zero key was never initialised. */
  livecode_key blank;
  memset(&blank, 0, sizeof blank);
  assert_int_equal(livecode_mint(&blank, STORE, 1, T0, 30, tok), SQR_EINVAL);
  assert_int_equal(livecode_mint(NULL, STORE, 1, T0, 30, tok), SQR_EINVAL);
  assert_int_equal(livecode_key_init(NULL, (uint8_t[32]){0}, 1), SQR_EINVAL);
  assert_int_equal(livecode_key_init(&blank, NULL, 1), SQR_EINVAL);
}

/* ---- tampering and malformed tokens ------------------------------------ */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void test_tampered_every_char(void **state) {
  (void)state;
  /* Versions 1 and 2 both held, so a changed version byte finds a key. */
  livecode_key keys[2] = {key_for(9, 1), key_for(10, 2)};
  char tok[LIVECODE_TOKEN_LEN + 1];
  livecode_claim c;
  assert_int_equal(livecode_mint(&keys[0], STORE, 42, T0, 30, tok), SQR_OK);
  assert_int_equal(livecode_verify(keys, 2, STORE, tok, T0, 30, 1, 0, &c), SQR_OK);
  int tried = 0;
  for(size_t i = 0; i < LIVECODE_TOKEN_LEN; i++) {
    for(size_t j = 0; j < 32; j++) {
      if(b32[j] == tok[i]) continue;
      char t[LIVECODE_TOKEN_LEN + 1];
      memcpy(t, tok, sizeof t);
      t[i] = b32[j];
      assert_int_equal(livecode_verify(keys, 2, STORE, t, T0, 30, 1, 0, &c), SQR_EAUTH);
      tried++;
    }
  }
  assert_int_equal(tried, LIVECODE_TOKEN_LEN * 31);
}

static void test_malformed_tokens(void **state) {
  (void)state;
  livecode_key k = key_for(9, 1);
  char tok[LIVECODE_TOKEN_LEN + 1];
  char t[64];
  livecode_claim c;
  mint(&k, 1, T0, 30, tok);

  memcpy(t, tok, LIVECODE_TOKEN_LEN - 1); /* truncated */
  t[LIVECODE_TOKEN_LEN - 1] = '\0';
  assert_int_equal(verify1(&k, t, T0, 30, 1, &c), SQR_EINVAL);
  snprintf(t, sizeof t, "%sA", tok); /* one valid character too many */
  assert_int_equal(verify1(&k, t, T0, 30, 1, &c), SQR_EINVAL);
  snprintf(t, sizeof t, "%s%s", tok, tok); /* doubled */
  assert_int_equal(verify1(&k, t, T0, 30, 1, &c), SQR_EINVAL);
  assert_int_equal(verify1(&k, "", T0, 30, 1, &c), SQR_EINVAL);

  snprintf(t, sizeof t, "%s", tok); /* lower case */
  for(char *p = t; *p; p++)
    if(*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  assert_int_equal(verify1(&k, t, T0, 30, 1, &c), SQR_EINVAL);
  snprintf(t, sizeof t, "%s", tok); /* one lower-case letter */
  for(char *p = t; *p; p++)
    if(*p >= 'A' && *p <= 'Z') {
      *p = (char)(*p - 'A' + 'a');
      break;
    }
  assert_int_equal(verify1(&k, t, T0, 30, 1, &c), SQR_EINVAL);

  const char bad[] = {'0', '1', '8', '9', '=', ' ', '-', '/', '\xc3'};
  for(size_t i = 0; i < sizeof bad; i++) {
    snprintf(t, sizeof t, "%s", tok);
    t[5] = bad[i];
    assert_int_equal(verify1(&k, t, T0, 30, 1, &c), SQR_EINVAL);
  }
}

static void test_store_id(void **state) {
  (void)state;
  assert_true(livecode_store_id_valid("A"));
  assert_true(livecode_store_id_valid("SH-001"));
  assert_true(livecode_store_id_valid("0123456789ABCDEF"));
  assert_false(livecode_store_id_valid("0123456789ABCDEFG")); /* 17 */
  assert_false(livecode_store_id_valid(""));
  assert_false(livecode_store_id_valid(NULL));
  assert_false(livecode_store_id_valid("sh-001"));
  assert_false(livecode_store_id_valid("SH_001"));
  assert_false(livecode_store_id_valid("SH 001"));
  assert_false(livecode_store_id_valid("SH/001"));

  livecode_key k = key_for(9, 1);
  char tok[LIVECODE_TOKEN_LEN + 1];
  livecode_claim c;
  assert_int_equal(livecode_mint(&k, "sh-001", 1, T0, 30, tok), SQR_EINVAL);
  mint(&k, 1, T0, 30, tok);
  assert_int_equal(livecode_verify(&k, 1, "SH-002", tok, T0, 30, 1, 0, &c), SQR_EAUTH);
  /* "SH-00" + payload must not collide with "SH-001" + shifted payload. */
  assert_int_equal(livecode_verify(&k, 1, "SH-00", tok, T0, 30, 1, 0, &c), SQR_EAUTH);
  assert_int_equal(livecode_verify(&k, 1, "sh-001", tok, T0, 30, 1, 0, &c), SQR_EINVAL);
  assert_int_equal(livecode_verify(&k, 1, NULL, tok, T0, 30, 1, 0, &c), SQR_EINVAL);
}

static void test_key_versions(void **state) {
  (void)state;
  livecode_key v1 = key_for(9, 1), v2 = key_for(10, 2);
  livecode_key v2_other = key_for(11, 2); /* version 2, different store key */
  livecode_key both[2] = {v1, v2};
  char t1[LIVECODE_TOKEN_LEN + 1], t2[LIVECODE_TOKEN_LEN + 1];
  livecode_claim c;
  mint(&v1, 5, T0, 30, t1);
  mint(&v2, 5, T0, 30, t2);

  /* During rotation both versions verify, each under its own key. */
  assert_int_equal(livecode_verify(both, 2, STORE, t1, T0, 30, 1, 0, &c), SQR_OK);
  assert_int_equal(c.key_version, 1);
  assert_int_equal(livecode_verify(both, 2, STORE, t2, T0, 30, 1, 0, &c), SQR_OK);
  assert_int_equal(c.key_version, 2);
  /* Right version number, wrong key material. */
  assert_int_equal(verify1(&v2_other, t2, T0, 30, 1, &c), SQR_EAUTH);
  /* Unknown version: v1 retired. */
  assert_int_equal(verify1(&v2, t1, T0, 30, 1, &c), SQR_EAUTH);
  assert_int_equal(verify1(&v1, t2, T0, 30, 1, &c), SQR_EAUTH);
  /* MAC checked before window: a stale token of an unknown version or a
   * forged one says EAUTH, never EEXPIRED. */
  assert_int_equal(verify1(&v2, t1, T0 + 3600, 30, 1, &c), SQR_EAUTH);
  char forged[LIVECODE_TOKEN_LEN + 1];
  memcpy(forged, t1, sizeof forged);
  forged[LIVECODE_TOKEN_LEN - 1] = forged[LIVECODE_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
  assert_int_equal(verify1(&v1, forged, T0 + 3600, 30, 1, &c), SQR_EAUTH);
  assert_int_equal(verify1(&v1, t1, T0 + 3600, 30, 1, &c), SQR_EEXPIRED);
  /* Kiosk numbers round-trip, extremes included. */
  for(unsigned kiosk = 0; kiosk <= 65535; kiosk += 65535) {
    char t[LIVECODE_TOKEN_LEN + 1];
    mint(&v1, (uint16_t)kiosk, T0, 30, t);
    assert_int_equal(verify1(&v1, t, T0, 30, 0, &c), SQR_OK);
    assert_int_equal(c.kiosk, kiosk);
  }
}

/* ---- URLs -------------------------------------------------------------- */

static int qr_alnum(const char *s) {
  for(; *s; s++)
    if(!strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", *s)) return 0;
  return 1;
}

static void test_url(void **state) {
  (void)state;
  livecode_key k = key_for(0, 1);
  char tok[LIVECODE_TOKEN_LEN + 1];
  char url[LIVECODE_URL_MAX];
  mint(&k, 7, T0, 30, tok);

  assert_int_equal(livecode_url("qr.example.com", STORE, tok, url, sizeof url), SQR_OK);
  assert_string_equal(url, "HTTPS://QR.EXAMPLE.COM/J/SH-001/AEAAOA4C3OADFPI3BE77FZCI");
  assert_true(qr_alnum(url));
  assert_int_equal(livecode_url("Hq-1.Example.CN:8443", STORE, tok, url, sizeof url), SQR_OK);
  assert_string_equal(url, "HTTPS://HQ-1.EXAMPLE.CN:8443/J/SH-001/AEAAOA4C3OADFPI3BE77FZCI");
  assert_true(qr_alnum(url));
  assert_int_equal(livecode_url("10.0.0.5:1", STORE, tok, url, sizeof url), SQR_OK);
  assert_string_equal(url, "HTTPS://10.0.0.5:1/J/SH-001/AEAAOA4C3OADFPI3BE77FZCI");
  assert_int_equal(livecode_url("h:65535", STORE, tok, url, sizeof url), SQR_OK);

  const char *bad[] = {
      "",
      "https://qr.example.com",
      "qr.example.com/",
      "qr.example.com/x",
      "qr_example.com",
      "qr example.com",
      "qr.example.com ",
      "qr.exa$mple.com",
      "qr.example.com%2F",
      "a+b",
      "a*b",
      "[::1]",
      "[::1]:443",
      "user@host",
      "host?x",
      "host#x",
      "h\xc3\xa9.cn",
      ".a",
      "a.",
      "a..b",
      "a.:80",
      ":80",
      "host:",
      "host:0",
      "host:65536",
      "host:123456",
      "host:8a",
      "host:80:81",
      "host:-1",
  };
  for(size_t i = 0; i < SQR_ARRAY_LEN(bad); i++) {
    strcpy(url, "junk");
    assert_int_equal(livecode_url(bad[i], STORE, tok, url, sizeof url), SQR_EINVAL);
    assert_string_equal(url, "");
  }
  /* Longest host: LIVECODE_URL_MAX suffices; one more character is refused. */
  char host[LIVECODE_HOST_MAX + 16];
  memset(host, 'a', LIVECODE_HOST_MAX);
  strcpy(host + LIVECODE_HOST_MAX, ":65535");
  assert_int_equal(livecode_url(host, "0123456789ABCDEF", tok, url, sizeof url), SQR_OK);
  assert_int_equal(strlen(url) + 1, LIVECODE_URL_MAX);
  memset(host, 'a', LIVECODE_HOST_MAX + 1);
  host[LIVECODE_HOST_MAX + 1] = '\0';
  assert_int_equal(livecode_url(host, STORE, tok, url, sizeof url), SQR_EINVAL);

  /* Store and token are checked too; a short buffer is an error, not a cut. */
  assert_int_equal(livecode_url("h.cn", "sh-001", tok, url, sizeof url), SQR_EINVAL);
  assert_int_equal(livecode_url("h.cn", STORE, "abc", url, sizeof url), SQR_EINVAL);
  char lower[LIVECODE_TOKEN_LEN + 1];
  memcpy(lower, tok, sizeof lower);
  lower[0] = 'a';
  assert_int_equal(livecode_url("h.cn", STORE, lower, url, sizeof url), SQR_EINVAL);
  size_t need = strlen("HTTPS://H.CN/J/SH-001/") + LIVECODE_TOKEN_LEN + 1;
  assert_int_equal(livecode_url("h.cn", STORE, tok, url, need - 1), SQR_EINVAL);
  assert_string_equal(url, "");
  assert_int_equal(livecode_url("h.cn", STORE, tok, url, need), SQR_OK);
  assert_int_equal(livecode_url("h.cn", STORE, tok, NULL, 0), SQR_EINVAL);
  assert_int_equal(livecode_url(NULL, STORE, tok, url, sizeof url), SQR_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc4231_hmac_sha256),
      cmocka_unit_test(test_known_answer_token),
      cmocka_unit_test(test_known_answer_kiosk_key),
      cmocka_unit_test(test_window_boundaries_period_30),
      cmocka_unit_test(test_window_boundaries_period_60),
      cmocka_unit_test(test_lead),
      cmocka_unit_test(test_period_and_time_errors),
      cmocka_unit_test(test_tampered_every_char),
      cmocka_unit_test(test_malformed_tokens),
      cmocka_unit_test(test_store_id),
      cmocka_unit_test(test_key_versions),
      cmocka_unit_test(test_url),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
