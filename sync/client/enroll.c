/* enroll.c — see enroll.h. */
#include "enroll.h"

#include <errno.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "clock.h"
#include "crypto.h"
#include "synchttp.h"
#include "log.h"
#include "store.h"
#include "syncpass.h"
#include "proto.h"

#define COMPONENT "sync"

/* A fresh P-256 key (PEM, into key_pem) and a CSR signed by it. */
static sqr_rc make_key_and_csr(char *key_pem, size_t key_size, char *csr_pem, size_t csr_size) {
  mbedtls_pk_context key;
  mbedtls_x509write_csr req;
  mbedtls_pk_init(&key);
  mbedtls_x509write_csr_init(&req);
  sqr_rc rc = SQR_ECRYPTO;
  int mr = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if(!mr) mr = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), crypto_rng, NULL);
  if(!mr) mr = mbedtls_pk_write_key_pem(&key, (unsigned char *)key_pem, key_size);
  if(!mr) {
    mbedtls_x509write_csr_set_md_alg(&req, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&req, &key);
    /* HQ ignores the subject and sets CN = STORE/KIOSK itself. */
    mr = mbedtls_x509write_csr_set_subject_name(&req, "CN=storeqr-kiosk");
  }
  if(!mr)
    mr = mbedtls_x509write_csr_pem(&req, (unsigned char *)csr_pem, csr_size, crypto_rng, NULL);
  if(mr)
    log_error(COMPONENT, "key or CSR generation failed (mbedtls -0x%04x)", (unsigned)-mr);
  else
    rc = SQR_OK;
  mbedtls_x509write_csr_free(&req);
  mbedtls_pk_free(&key);
  return rc;
}

sqr_rc enroll_run(const enroll_opts *o, char *err, size_t errlen) {
  syncpass_paths p;
  char key_pem[1024] = "", csr_pem[2048];
  char *req = NULL;
  synchttp *h = NULL;
  synchttp_response resp = {0};
  proto_enroll_answer ans = {0};
  sqr_clock *clk = NULL;
  store *st = NULL;
  sqr_rc rc;
  err[0] = 0;
  if(!o->db_path || !o->hq_url || !o->code || !o->ca_file) {
    snprintf(err, errlen, "enrol needs --db, --hq, --code and --ca");
    return SQR_EINVAL;
  }
  if((rc = syncpass_paths_for(o->db_path, &p))) {
    snprintf(err, errlen, "database path too long");
    return rc;
  }
  if(access(p.cert, F_OK) == 0) {
    snprintf(err, errlen, "%s exists: this kiosk is already enrolled (remove it to enrol again)",
             p.cert);
    return SQR_EEXISTS;
  }
  if(access(o->ca_file, R_OK) != 0) {
    snprintf(err, errlen, "cannot read HQ's CA %s: %s", o->ca_file, strerror(errno));
    return SQR_EINVAL;
  }
  if((rc = make_key_and_csr(key_pem, sizeof key_pem, csr_pem, sizeof csr_pem))) {
    snprintf(err, errlen, "could not generate the kiosk key");
    goto out;
  }
  if((rc = proto_enroll_request_encode(o->code, csr_pem, &req))) goto out;
  synchttp_opts ho = {
      .base_url = o->hq_url, .ca_file = o->ca_file, .connect_timeout_s = o->connect_timeout_s};
  if((rc = synchttp_new(&ho, &h))) {
    snprintf(err, errlen, "HQ URL must start with https://");
    goto out;
  }
  rc = synchttp_request(h, "POST", "/v1/enroll", req, strlen(req), PROTO_MAX_ENROLL_ANSWER, &resp,
                        err, errlen);
  if(rc) goto out;
  if(resp.status != 200) {
    proto_answer a;
    char aerr[160];
    if(proto_answer_decode(resp.body, resp.len, &a, aerr, sizeof aerr))
      a.error[0] = a.message[0] = 0;
    snprintf(err, errlen, "HQ refused the enrolment: %ld %s%s%s", resp.status,
             a.error[0] ? a.error : "(no error code)", a.message[0] ? ": " : "", a.message);
    rc = resp.status == 403 || resp.status == 401 ? SQR_EAUTH : SQR_EPROTO;
    goto out;
  }
  if((rc = proto_enroll_answer_decode(resp.body, resp.len, &ans, err, errlen))) goto out;
  /* Each file whole or not at all (a power cut leaves the old one or the
   * new one). Key first: a certificate without its key would be useless. */
  if((rc = atomicfile_write(p.key, key_pem, strlen(key_pem), 0600, 0, err, errlen))) goto out;
  if((rc = atomicfile_write(p.ca, ans.hq_ca, strlen(ans.hq_ca), 0644, 0, err, errlen))) goto out;
  char url_line[1100];
  snprintf(url_line, sizeof url_line, "%s\n", o->hq_url);
  if((rc = atomicfile_write(p.url, url_line, strlen(url_line), 0644, 0, err, errlen))) goto out;
  /* The certificate last: its presence means "enrolled". */
  if((rc =
          atomicfile_write(p.cert, ans.certificate, strlen(ans.certificate), 0644, 0, err, errlen)))
    goto out;
  if((rc = clock_new_real(&clk))) goto out;
  if((rc = store_open(o->db_path, clk, &st, err, errlen))) goto out;
  char cerr[512] = "";
  rc = store_apply_config(st, ans.config, strlen(ans.config), cerr, sizeof cerr);
  if(rc) {
    /* Enrolled all the same: the next sync pulls the configuration again. */
    snprintf(err, errlen, "enrolled, but HQ's configuration was refused: %s", cerr);
    goto out;
  }
  int64_t now = clock_now_ms(clk) - clock_offset_ms(clk);
  if(store_sync_record(st, 1, NULL, ans.hq_time_ms ? ans.hq_time_ms - now : 0))
    log_warn(COMPONENT, "could not record the enrolment as a sync attempt");
  log_info(COMPONENT, "enrolled as %s/%d", ans.store_id, ans.kiosk);
out:
  /* A refused or failed enrolment is a failed attempt the manager screen
   * and `storeqr status` show, like a failed sync. */
  if(rc && !st && rc != SQR_EEXISTS && !clk && !clock_new_real(&clk)) {
    char oerr[64];
    if(store_open(o->db_path, clk, &st, oerr, sizeof oerr)) st = NULL;
  }
  if(rc && st) {
    char msg[600];
    snprintf(msg, sizeof msg, "enrol: %s", err[0] ? err : sqr_strerror(rc));
    if(store_sync_record(st, 0, msg, 0))
      log_warn(COMPONENT, "could not record the failed enrolment");
  }
  crypto_wipe(key_pem, sizeof key_pem);
  store_close(st);
  clock_free(clk);
  proto_enroll_answer_clear(&ans);
  synchttp_response_clear(&resp);
  synchttp_free(h);
  free(req);
  return rc;
}
