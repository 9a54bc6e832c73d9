/* test_pki.c — pki_verify_client, HQ's check of a kiosk's certificate
 * (sync/hq/ops/pki.c), against mbedtls_x509_crt_verify, which it
 * replaced (nettle checks the signature instead of mbedtls' bignum):
 *   - a good certificate, one from another HQ's CA, an expired one and one
 *     not valid yet get the verdicts they should from both;
 *   - every one-byte change of the good certificate's DER gets the same
 *     verdict from both (and no change is accepted: the byte compare of
 *     the issuer is stricter, never looser, than mbedtls' name match). */
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "pki.h"
#include "testutil.h"

static char dir[600], other_dir[600];
static pki_ca *ca, *other_ca;
static mbedtls_x509_crt ca_crt; /* the reference's trust anchor */

/* A certificate issued by c for a fresh key, valid from now_s - 1 h for
 * days: its DER in der (*len bytes). */
static void issue(pki_ca *c, int64_t now_s, int days, uint8_t der[2048], size_t *len) {
  char key[2048], csr[2048], err[256], *pem;
  uint8_t sha[32];
  tu_make_csr(key, csr);
  assert_int_equal(pki_sign_csr(c, csr, "SH-JA01/1", now_s, days, &pem, sha, err, sizeof err),
                   SQR_OK);
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1), 0);
  assert_true(crt.raw.len <= 2048);
  memcpy(der, crt.raw.p, crt.raw.len);
  *len = crt.raw.len;
  mbedtls_x509_crt_free(&crt);
  free(pem);
}

/* A certificate written here rather than by pki_sign_csr: subject key on
 * curve, issuer name issuer, signed with md by key_path's key (NULL: the
 * subject's own, self-signed), is_ca as given. DER in der; PEM too when
 * pem_path is set (with the subject key beside it, key_out). */
static void custom(const char *key_path, const char *issuer, mbedtls_md_type_t md,
                   mbedtls_ecp_group_id curve, int is_ca, uint8_t der[2048], size_t *len,
                   const char *pem_path, const char *key_out) {
  mbedtls_pk_context sub, iss;
  mbedtls_pk_init(&sub);
  mbedtls_pk_init(&iss);
  assert_int_equal(mbedtls_pk_setup(&sub, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
  assert_int_equal(mbedtls_ecp_gen_key(curve, mbedtls_pk_ec(sub), crypto_rng, NULL), 0);
  if(key_path) assert_int_equal(mbedtls_pk_parse_keyfile(&iss, key_path, NULL), 0);
  mbedtls_x509write_cert w;
  mbedtls_x509write_crt_init(&w);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  assert_int_equal(mbedtls_mpi_lset(&serial, 4242), 0);
  char from[16], to[16];
  time_t t0 = time(NULL) - 3600, t1 = time(NULL) + 30 * 86400;
  strftime(from, sizeof from, "%Y%m%d%H%M%S", gmtime(&t0));
  strftime(to, sizeof to, "%Y%m%d%H%M%S", gmtime(&t1));
  mbedtls_x509write_crt_set_subject_key(&w, &sub);
  mbedtls_x509write_crt_set_issuer_key(&w, key_path ? &iss : &sub);
  mbedtls_x509write_crt_set_md_alg(&w, md);
  assert_int_equal(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
  assert_int_equal(mbedtls_x509write_crt_set_validity(&w, from, to), 0);
  assert_int_equal(
      mbedtls_x509write_crt_set_subject_name(&w, key_path ? "CN=SH-JA01/1,O=StoreQR" : issuer), 0);
  assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&w, issuer), 0);
  assert_int_equal(mbedtls_x509write_crt_set_basic_constraints(&w, is_ca, is_ca ? 0 : -1), 0);
  unsigned char buf[2048];
  int n = mbedtls_x509write_crt_der(&w, buf, sizeof buf, crypto_rng, NULL);
  assert_true(n > 0);
  memcpy(der, buf + sizeof buf - (size_t)n, (size_t)n);
  *len = (size_t)n;
  if(pem_path) {
    unsigned char pem[4096];
    assert_int_equal(mbedtls_x509write_crt_pem(&w, pem, sizeof pem, crypto_rng, NULL), 0);
    FILE *f = fopen(pem_path, "w");
    assert_non_null(f);
    fputs((char *)pem, f);
    fclose(f);
    assert_int_equal(mbedtls_pk_write_key_pem(&sub, pem, sizeof pem), 0);
    assert_non_null(f = fopen(key_out, "w"));
    fputs((char *)pem, f);
    fclose(f);
  }
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&w);
  mbedtls_pk_free(&sub);
  mbedtls_pk_free(&iss);
}

/* 1: accepted, 0: refused, by pki_verify_client */
static int ours(const uint8_t *der, size_t len) {
  char err[300];
  sqr_rc rc = pki_verify_client(ca, der, len, err, sizeof err);
  assert_true(rc == SQR_OK || rc == SQR_EAUTH);
  if(rc) assert_non_null(strstr(err, "client certificate refused: "));
  return rc == SQR_OK;
}

/* 1: accepted, 0: refused, by mbedtls_x509_crt_verify (the old check) */
static int reference(const uint8_t *der, size_t len) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  uint32_t flags = 0;
  int ok = mbedtls_x509_crt_parse_der(&crt, der, len) == 0 &&
           mbedtls_x509_crt_verify(&crt, &ca_crt, NULL, NULL, &flags, NULL, NULL) == 0;
  mbedtls_x509_crt_free(&crt);
  return ok;
}

static int setup(void **state) {
  (void)state;
  char err[256], path[700];
  snprintf(dir, sizeof dir, "%s", tu_tmpdir("pki-hq"));
  snprintf(other_dir, sizeof other_dir, "%s", tu_tmpdir("pki-other"));
  assert_int_equal(pki_init_dir(dir, "127.0.0.1", err, sizeof err), SQR_OK);
  assert_int_equal(pki_init_dir(other_dir, "127.0.0.1", err, sizeof err), SQR_OK);
  assert_int_equal(pki_ca_load(dir, "device-ca", &ca, err, sizeof err), SQR_OK);
  assert_int_equal(pki_ca_load(other_dir, "device-ca", &other_ca, err, sizeof err), SQR_OK);
  mbedtls_x509_crt_init(&ca_crt);
  snprintf(path, sizeof path, "%s/device-ca.crt", dir);
  assert_int_equal(mbedtls_x509_crt_parse_file(&ca_crt, path), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  pki_ca_free(ca);
  pki_ca_free(other_ca);
  mbedtls_x509_crt_free(&ca_crt);
  return 0;
}

static void test_verdicts(void **state) {
  (void)state;
  uint8_t der[2048];
  size_t len;
  int64_t now = time(NULL);
  issue(ca, now, 30, der, &len);
  assert_int_equal(ours(der, len), 1);
  assert_int_equal(reference(der, len), 1);
  issue(other_ca, now, 30, der, &len); /* a second HQ's device CA */
  assert_int_equal(ours(der, len), 0);
  assert_int_equal(reference(der, len), 0);
  issue(ca, now - 10 * 86400, 2, der, &len); /* expired 8 days ago */
  assert_int_equal(ours(der, len), 0);
  assert_int_equal(reference(der, len), 0);
  issue(ca, now + 10 * 86400, 30, der, &len); /* valid from 10 days on */
  assert_int_equal(ours(der, len), 0);
  assert_int_equal(reference(der, len), 0);
  assert_int_equal(ours((const uint8_t *)"not a certificate", 17), 0);
}

/* Certificates HQ's CA signed that pki_sign_csr never makes: each check
 * after the signature decides one. */
static void test_signed_but_wrong(void **state) {
  (void)state;
  char key[700], subject[] = "CN=StoreQR device CA,O=StoreQR";
  snprintf(key, sizeof key, "%s/device-ca.key", dir);
  uint8_t der[2048];
  size_t len;
  custom(key, subject, MBEDTLS_MD_SHA256, MBEDTLS_ECP_DP_SECP256R1, 0, der, &len, NULL, NULL);
  assert_int_equal(ours(der, len), 1); /* the control: as pki_sign_csr would */
  assert_int_equal(reference(der, len), 1);
  /* another issuer name, the right key: both refuse (no parent) */
  custom(key, "CN=StoreQR device CA,O=Elsewhere", MBEDTLS_MD_SHA256, MBEDTLS_ECP_DP_SECP256R1, 0,
         der, &len, NULL, NULL);
  assert_int_equal(ours(der, len), 0);
  assert_int_equal(reference(der, len), 0);
  /* SHA-384, or a P-384 key: mbedtls' default profile takes them, HQ
   * issues neither and refuses both */
  custom(key, subject, MBEDTLS_MD_SHA384, MBEDTLS_ECP_DP_SECP256R1, 0, der, &len, NULL, NULL);
  assert_int_equal(ours(der, len), 0);
  assert_int_equal(reference(der, len), 1);
  custom(key, subject, MBEDTLS_MD_SHA256, MBEDTLS_ECP_DP_SECP384R1, 0, der, &len, NULL, NULL);
  assert_int_equal(ours(der, len), 0);
  assert_int_equal(reference(der, len), 1);
  /* a "CA" whose certificate says it is none is not loaded at all */
  char d3[600], crt[700], k3[700], err[256];
  snprintf(d3, sizeof d3, "%s", tu_tmpdir("pki-notca"));
  snprintf(crt, sizeof crt, "%s/device-ca.crt", d3);
  snprintf(k3, sizeof k3, "%s/device-ca.key", d3);
  custom(NULL, "CN=not a CA,O=StoreQR", MBEDTLS_MD_SHA256, MBEDTLS_ECP_DP_SECP256R1, 0, der, &len,
         crt, k3);
  pki_ca *c = NULL;
  assert_int_equal(pki_ca_load(d3, "device-ca", &c, err, sizeof err), SQR_EINVAL);
  assert_null(c);
  assert_non_null(strstr(err, "not a CA certificate"));
}

static void test_every_byte_changed(void **state) {
  (void)state;
  uint8_t der[2048];
  size_t len;
  issue(ca, time(NULL), 30, der, &len);
  size_t parsed = 0;
  for(int bit = 0; bit < 8; bit += 7) /* the lowest bit, then the highest */
    for(size_t i = 0; i < len; i++) {
      der[i] ^= (uint8_t)(1u << bit);
      int a = ours(der, len), b = reference(der, len);
      if(a != b)
        fail_msg("byte %zu of %zu, bit %d changed: ours %d, mbedtls %d", i, len, bit, a, b);
      assert_int_equal(a, 0);
      mbedtls_x509_crt crt;
      mbedtls_x509_crt_init(&crt);
      parsed += mbedtls_x509_crt_parse_der(&crt, der, len) == 0;
      mbedtls_x509_crt_free(&crt);
      der[i] ^= (uint8_t)(1u << bit);
    }
  assert_int_equal(ours(der, len), 1);
  /* The comparison means something only where changes still parse (names,
   * dates, key, signature): about half of the 2 x len here. */
  printf("changed %zu bytes one bit at a time, twice: %zu still parse\n", len, parsed);
  assert_true(parsed > len / 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_verdicts),
      cmocka_unit_test(test_signed_but_wrong),
      cmocka_unit_test(test_every_byte_changed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
