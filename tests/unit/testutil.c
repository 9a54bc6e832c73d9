/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tu_tmpdir(const char *name) {
  static char dir[512];
  const char *base = getenv("SQR_TEST_TMP");
  if(!base) base = "/tmp/storeqr-test";
  mkdir(base, 0755);
  snprintf(dir, sizeof dir, "%s/%s-%d", base, name, (int)getpid());
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if(system(cmd) != 0) abort();
  if(mkdir(dir, 0755) != 0) abort();
  return dir;
}

const char *tu_path(const char *dir, const char *file) {
  static char buf[2][600];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dir, file);
  return buf[which];
}

int tu_file_contains(const char *path, const void *needle, size_t n) {
  FILE *f = fopen(path, "rb");
  if(!f) return 0;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  if(len <= 0) {
    fclose(f);
    return 0;
  }
  char *data = malloc((size_t)len);
  size_t got = fread(data, 1, (size_t)len, f);
  fclose(f);
  int found = 0;
  for(size_t i = 0; i + n <= got && !found; i++)
    if(memcmp(data + i, needle, n) == 0) found = 1;
  free(data);
  return found;
}

#include "demo.h"
#include "seal.h"
#include "crypto.h"

void tu_make_keys(tu_keys *k) {
  if(seal_keypair_generate(k->hq_pub, k->hq_priv) != SQR_OK) abort();
  memset(&k->d, 0, sizeof k->d);
  if(demo_keys_random(&k->d) != SQR_OK) abort();
  k->d.index_m_kib = 64;
  k->d.index_t = 1;
}

char *tu_demo_config(const tu_keys *k, int64_t version, int64_t now) {
  const char *path = SQR_SOURCE_DIR "/assets/config/demo.json";
  FILE *f = fopen(path, "rb");
  if(!f) abort();
  static char tmpl[64 * 1024];
  size_t n = fread(tmpl, 1, sizeof tmpl - 1, f);
  fclose(f);
  tmpl[n] = '\0';
  char *out = NULL;
  demo_keys d = k->d;
  memcpy(d.hq_pub, k->hq_pub, sizeof d.hq_pub);
  if(demo_config_json(tmpl, version, &d, now, &out) != SQR_OK) abort();
  return out;
}

void tu_apply_demo(store *st, const tu_keys *k, int64_t version, int64_t now_s) {
  char *json = tu_demo_config(k, version, now_s);
  char err[256];
  if(store_apply_config(st, json, strlen(json), err, sizeof err) != SQR_OK) {
    fprintf(stderr, "tu_apply_demo: %s\n", err);
    abort();
  }
  free(json);
}

tu_store *tu_store_new(const char *name, int64_t t0_ms, const tu_keys *k, int64_t version) {
  tu_store *f = calloc(1, sizeof *f);
  char err[256];
  f->dir = tu_tmpdir(name);
  snprintf(f->path, sizeof f->path, "%s/kiosk.db", f->dir);
  if(clock_new_fixed(t0_ms, &f->clock) != SQR_OK) abort();
  if(store_open(f->path, f->clock, &f->st, err, sizeof err) != SQR_OK) {
    fprintf(stderr, "tu_store_new: %s\n", err);
    abort();
  }
  if(version > 0) tu_apply_demo(f->st, k, version, t0_ms / 1000);
  return f;
}

void tu_store_free(tu_store *f) {
  if(!f) return;
  store_close(f->st);
  clock_free(f->clock);
  free(f);
}

member_signup_req tu_signup_req(const char *phone) {
  member_signup_req r = {
      .phone = phone, .consented = 1, .age_confirmed = 1, .consent_version = "2026-11"};
  return r;
}

void tu_make_csr(char key_pem[2048], char csr_pem[2048]) {
  mbedtls_pk_context pk;
  mbedtls_x509write_csr w;
  mbedtls_pk_init(&pk);
  mbedtls_x509write_csr_init(&w);
  assert_int_equal(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
  assert_int_equal(
      mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), crypto_rng, NULL), 0);
  mbedtls_x509write_csr_set_key(&w, &pk);
  mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
  assert_int_equal(mbedtls_x509write_csr_set_subject_name(&w, "CN=anything"), 0);
  assert_int_equal(mbedtls_x509write_csr_pem(&w, (unsigned char *)csr_pem, 2048, crypto_rng, NULL),
                   0);
  assert_int_equal(mbedtls_pk_write_key_pem(&pk, (unsigned char *)key_pem, 2048), 0);
  mbedtls_x509write_csr_free(&w);
  mbedtls_pk_free(&pk);
}
