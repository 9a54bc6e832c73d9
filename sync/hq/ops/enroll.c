/* enroll.c — see enroll.h. */
#include "enroll.h"
#include "hq_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "configdoc.h"
#include "hqdb_keys.h"
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
  /* One transaction: the code is claimed, the number's previous
   * incarnation revoked with its keys, the new incarnation recorded with
   * its first key version, and its document built from what this
   * transaction sees. Two enrolments of one number race to the kiosk id:
   * the loser rolls back and its code stays unused. */
  if((rc = hqdb_begin(h->db))) {
    hq_fail_storage(h, e, rc);
    goto out;
  }
  int inc = 0, changed = 0;
  hq_kiosk_key key = {.number = kiosk, .created_ms = now};
  rc = hqdb_code_claim(h->db, hash, now);
  if(!rc) {
    /* The incarnation is in the newest id ("N" is 1, "N@2" is 2). */
    char last[HQ_ID_MAX], lsid[HQ_ID_MAX];
    int n;
    rc = hqdb_kiosk_newest(h->db, sid, kiosk, last);
    if(rc == SQR_ENOTFOUND)
      rc = SQR_OK; /* the number's first box */
    else if(!rc && proto_kiosk_parse(last, lsid, &n, &inc))
      rc = SQR_ECORRUPT;
  }
  if(!rc && (inc >= PROTO_INCARNATION_MAX || proto_kiosk_format(sid, kiosk, inc + 1, kiosk_id)))
    rc = SQR_ETOOBIG;
  if(!rc) {
    rc = pki_sign_csr(h->device_ca, csr, kiosk_id, now / 1000, PKI_DEVICE_CERT_DAYS, &pem,
                      cert_hash, err, sizeof err);
    if(rc && rc != SQR_EINVAL) {
      log_error("hq", "enrolment of %s: %s", kiosk_id, err);
      rc = SQR_ECRYPTO;
    }
  }
  if(!rc) rc = hqdb_kiosk_retire_number(h->db, sid, kiosk, now, &changed);
  if(!rc) rc = hqdb_kiosk_insert(h->db, kiosk_id, sid, kiosk, cert_hash, now);
  if(!rc) rc = hqdb_key_next_version(h->db, sid, kiosk, &key.version);
  if(!rc) {
    snprintf(key.kiosk_id, sizeof key.kiosk_id, "%s", kiosk_id);
    rc = hqdb_key_insert(h->db, sid, &key);
  }
  if(!rc) rc = hqdb_keys_changed(h->db, sid);
  int64_t version;
  if(!rc && hq_config_doc(h, sid, kiosk_id, 0, &doc, &version, err, sizeof err)) {
    log_error("hq", "enrolment of %s: %s", kiosk_id, err);
    rc = SQR_EPROTO; /* told apart below */
  }
  if(!rc)
    rc = hqdb_commit(h->db);
  else
    hqdb_rollback(h->db);
  switch(rc) {
  case SQR_OK:
    break;
  case SQR_EEXISTS:
    /* the code used meanwhile, or another enrolment of the number won */
    rc = hq_fail(e, SQR_EEXISTS, "code_used", "code: already used; ask HQ for a new one");
    goto out;
  case SQR_EEXPIRED:
    rc = hq_fail(e, SQR_EEXPIRED, "code_expired", "code: expired; ask HQ for a new one");
    goto out;
  case SQR_EINVAL:
    rc = hq_fail(e, SQR_EINVAL, "bad_request", "%s", err);
    goto out;
  case SQR_ECRYPTO:
    rc = hq_fail(e, rc, "internal", "HQ cannot issue a certificate");
    goto out;
  case SQR_ETOOBIG:
    rc = hq_fail(e, rc, "internal", "kiosk %d: no incarnation or key version left", kiosk);
    goto out;
  case SQR_EPROTO:
    rc = hq_fail(e, SQR_ECRYPTO, "internal", "HQ cannot build this store's configuration");
    goto out;
  default:
    hq_fail_storage(h, e, rc);
    goto out;
  }
  if(changed) log_info("hq", "kiosk %s/%d: the previous incarnation is revoked", sid, kiosk);
  hq__notify(h, HQ_CHANGE_KEYS, sid);
  out->incarnation = inc + 1;
  snprintf(out->kiosk_id, sizeof out->kiosk_id, "%s", kiosk_id);
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
  if(rc) return hq__fail_db(e, rc == SQR_ENET ? SQR_ENET : SQR_EIO); /* 500 unless unreachable */
  if(revoked) {
    log_warn("hq", "refused revoked kiosk %s", kiosk_id);
    hq_alert_raise(h, kiosk_id, "revoked_cert", "HQ refused the revoked kiosk's certificate");
    return hq_fail(e, SQR_EAUTH, "certificate", "certificate: revoked");
  }
  return SQR_OK;
}
