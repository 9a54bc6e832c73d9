/* fuzz_enroll_valid.c — enrolment past the code check (ops/enroll.c):
 * fuzz_enroll stops at the request's decoding and a code HQ never issued;
 * here every input comes with a fresh, valid code, so the fuzzer reaches
 * what a hostile box controls after it: the CSR (pki_sign_csr: parsing,
 * key type, self-signature), the certificate HQ issues and the
 * incarnation HQ records.
 *
 * Setup, once per process: a throwaway HQ directory (pki_init_dir, the
 * SQLite backend) with one store, removed at exit. Each input is the
 * CSR text (PEM, or DER up to its first NUL byte, as the JSON string
 * carries it); a new code is issued for it, kiosk numbers taken in turn.
 * Checks, beyond no crash: with a valid code the only refusal is
 * SQR_EINVAL "bad_request" (a CSR problem, never storage, internal or a
 * code error); an enrolment that succeeds names this store and a kiosk id
 * of the number, hands out a certificate that HQ then identifies as that
 * kiosk, a configuration document and HQ's CA; and its code is spent
 * (a second use: "code_used"). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>

#include "enroll.h"
#include "hq.h"
#include "log.h"
#include "manage.h"
#include "pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STORE "FZ-01"

static hq *H;
static char dir[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void teardown(void) {
  hq_close(H);
  if(dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void) {
  char err[256];
  hq_err e = {0};
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%.40s/fuzz-enroll-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if(!mkdtemp(dir)) abort();
  atexit(teardown);
  if(pki_init_dir(dir, "127.0.0.1", err, sizeof err) || hq_open(dir, NULL, &H, err, sizeof err)) {
    fprintf(stderr, "fuzz_enroll_valid: cannot set up HQ in %s: %s\n", dir, err);
    abort();
  }
  hq_set_url(H, "127.0.0.1", 8443);
  hq_store_req s = {.id = STORE, .name = "Fuzz store"};
  hq_store st;
  if(hq_store_add(H, &s, &st, &e)) {
    fprintf(stderr, "fuzz_enroll_valid: store: %s\n", e.message);
    abort();
  }
}

/* The certificate's DER, identified by HQ: must be kiosk_id. */
static void check_identified(const char *pem, const char *kiosk_id) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  if(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1)) abort();
  char who[HQ_ID_MAX];
  hq_err e = {0};
  if(hq_kiosk_identify(H, crt.raw.p, crt.raw.len, who, &e) || strcmp(who, kiosk_id) != 0) abort();
  mbedtls_x509_crt_free(&crt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int kiosk;
  if(!H) {
    log_set_level(LOG_FATAL);
    setup();
  }
  char *csr = malloc(size + 1);
  if(!csr) return 0;
  memcpy(csr, data, size);
  csr[size] = '\0';
  kiosk = kiosk % 65535 + 1;
  hq_code_req req = {.store = STORE, .kiosk = kiosk, .ttl_s = 3600};
  hq_code_out code;
  hq_err e = {0};
  if(hq_code_new(H, &req, &code, &e)) abort();
  hq_enroll_out out;
  sqr_rc rc = hq_enroll(H, code.code, csr, &out, &e);
  if(rc) {
    if(rc != SQR_EINVAL || !e.code || strcmp(e.code, "bad_request") != 0) {
      fprintf(stderr, "fuzz_enroll_valid: a valid code refused: %s (%s)\n", e.code, e.message);
      abort();
    }
  } else {
    char want[HQ_ID_MAX];
    snprintf(want, sizeof want, STORE "/%d", kiosk);
    size_t wl = strlen(want);
    if(strcmp(out.store, STORE) != 0 || out.kiosk != kiosk || out.incarnation < 1 ||
       strncmp(out.kiosk_id, want, wl) != 0 || (out.kiosk_id[wl] && out.kiosk_id[wl] != '@'))
      abort();
    if(!out.certificate || !out.config || !out.hq_ca ||
       strncmp(out.certificate, "-----BEGIN CERTIFICATE-----", 27) != 0)
      abort();
    check_identified(out.certificate, out.kiosk_id);
    hq_enroll_out_clear(&out);
    if(hq_enroll(H, code.code, csr, &out, &e) != SQR_EEXISTS || strcmp(e.code, "code_used") != 0)
      abort();
  }
  free(csr);
  return 0;
}
