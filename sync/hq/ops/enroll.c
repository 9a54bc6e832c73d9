/* enroll.c — see enroll.h. */
#include "enroll.h"
#include "hq_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "configdoc.h"
#include "crypto.h"
#include "log.h"
#include "proto.h"

/* Upper-case, dashes and spaces dropped; exactly 16 Base32 characters. */
static int code_normalise(const char *in, char out[17]) {
  size_t n = 0;
  for(; *in; in++) {
    if(*in == '-' || *in == ' ') continue;
    char c = (char)toupper((unsigned char)*in);
    if(!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')) || n >= 16) return 0;
    out[n++] = c;
  }
  out[n] = '\0';
  return n == 16;
}

sqr_rc hq_enroll(hq *h, const char *code_text, const char *csr, hq_enroll_out *out, hq_err *e) {
  memset(out, 0, sizeof *out);
  char code[17], sid[HQ_ID_MAX], kiosk_id[PROTO_KIOSK_ID_MAX], err[256];
  uint8_t hash[32], cert_hash[32];
  int kiosk = 0, used = 0;
  int64_t expires = 0, now = hq_now_ms();
  char *pem = NULL, *doc = NULL;
  sqr_rc rc = SQR_OK;
  if(!code_text || !code_normalise(code_text, code)) {
    rc = hq_fail(e, SQR_EAUTH, "code_unknown", "code: not an enrolment code HQ issued");
    goto out;
  }
  if(crypto_sha256(code, 16, hash)) {
    rc = hq_fail(e, SQR_ECRYPTO, "internal", "hash");
    goto out;
  }
  rc = hqdb_code_peek(h->db, hash, sid, &kiosk, &expires, &used);
  if(rc == SQR_ENOTFOUND) {
    rc = hq_fail(e, SQR_EAUTH, "code_unknown", "code: not an enrolment code HQ issued");
    goto out;
  }
  if(rc) {
    hq_fail_storage(h, e, rc);
    goto out;
  }
  if(used) {
    rc = hq_fail(e, SQR_EEXISTS, "code_used", "code: already used; ask HQ for a new one");
    goto out;
  }
  if(expires <= now) {
    rc = hq_fail(e, SQR_EEXPIRED, "code_expired", "code: expired; ask HQ for a new one");
    goto out;
  }
  if(proto_kiosk_format(sid, kiosk, kiosk_id)) {
    rc = hq_fail(e, SQR_ECRYPTO, "internal", "stored code names a bad kiosk");
    goto out;
  }
  rc = pki_sign_csr(h->device_ca, csr, kiosk_id, now / 1000, PKI_DEVICE_CERT_DAYS, &pem, cert_hash,
                    err, sizeof err);
  if(rc == SQR_EINVAL) {
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "%s", err);
    goto out;
  }
  if(rc) {
    log_error("hq", "enrolment of %s: %s", kiosk_id, err);
    rc = hq_fail(e, SQR_ECRYPTO, "internal", "HQ cannot issue a certificate");
    goto out;
  }
  int64_t version;
  if((rc = hq_config_doc(h, sid, kiosk, &doc, &version, err, sizeof err))) {
    log_error("hq", "enrolment of %s: %s", kiosk_id, err);
    rc = hq_fail(e, SQR_ECRYPTO, "internal", "HQ cannot build this store's configuration");
    goto out;
  }
  rc = hqdb_enroll(h->db, hash, now, sid, kiosk, cert_hash);
  if(rc == SQR_EEXISTS) {
    rc = hq_fail(e, SQR_EEXISTS, "code_used", "code: already used; ask HQ for a new one");
    goto out;
  }
  if(rc == SQR_EEXPIRED) {
    rc = hq_fail(e, SQR_EEXPIRED, "code_expired", "code: expired; ask HQ for a new one");
    goto out;
  }
  if(rc) {
    hq_fail_storage(h, e, rc);
    goto out;
  }
  out->kiosk = kiosk;
  snprintf(out->store, sizeof out->store, "%s", sid);
  out->certificate = pem;
  out->config = doc;
  out->hq_ca = h->hq_ca_pem;
  pem = doc = NULL;
  log_info("hq", "kiosk %s enrolled", kiosk_id);
out:
  if(doc) crypto_wipe(doc, strlen(doc));
  free(doc);
  free(pem);
  return rc;
}

void hq_enroll_out_clear(hq_enroll_out *out) {
  if(out->config) crypto_wipe(out->config, strlen(out->config));
  free(out->config);
  free(out->certificate);
  memset(out, 0, sizeof *out);
}

sqr_rc hq_kiosk_identify(hq *h, const uint8_t *der, size_t len, char kiosk_id[HQ_ID_MAX],
                         hq_err *e) {
  char why[300];
  if(pki_verify_client(h->device_ca, der, len, why, sizeof why)) {
    log_warn("hq", "%s", why);
    return hq_fail(e, SQR_EAUTH, "certificate",
                   "certificate: not issued by HQ's device CA, or expired");
  }
  uint8_t sha[32];
  int revoked = 0;
  sqr_rc rc = crypto_sha256(der, len, sha);
  if(!rc) rc = hqdb_kiosk_by_cert(h->db, sha, kiosk_id, &revoked);
  if(rc == SQR_ENOTFOUND)
    return hq_fail(e, SQR_EAUTH, "certificate", "certificate: not a kiosk HQ enrolled (replaced?)");
  if(rc)
    return hq_fail(e, SQR_EIO, "storage", "HQ's database failed; try again"); /* 500 as before */
  if(revoked) {
    log_warn("hq", "refused revoked kiosk %s", kiosk_id);
    hq_alert_raise(h, kiosk_id, "revoked_cert", "HQ refused the revoked kiosk's certificate");
    return hq_fail(e, SQR_EAUTH, "certificate", "certificate: revoked");
  }
  return SQR_OK;
}
