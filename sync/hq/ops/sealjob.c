/* sealjob.c — see sealjob.h; also the opening of one sealed phone that
 * ingest and the job share (hq__seal_link). */
#include "sealjob.h"
#include "hq_int.h"

#include <mbedtls/gcm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "crypto.h"
#include "hqdb_jobs.h"
#include "hqdb_seal.h"
#include "log.h"

#define GCM_NONCE 12
#define GCM_TAG   16

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void hq_set_seal_later(hq *h, int on) {
  h->seal_later = on ? 1 : 0;
}

int hq_seal_later(const hq *h) {
  return h->seal_later;
}

/* nonce | ciphertext | tag, AAD = the phone index. */
static sqr_rc pii_encrypt(const hq *h, const char *phone, const uint8_t index[32], uint8_t *out,
                          size_t *outlen) {
  size_t n = strlen(phone);
  mbedtls_gcm_context g;
  mbedtls_gcm_init(&g);
  sqr_rc rc = crypto_random(out, GCM_NONCE);
  if(!rc && (mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, h->pii_key, 256) ||
             mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, n, out, GCM_NONCE, index, 32,
                                       (const unsigned char *)phone, out + GCM_NONCE, GCM_TAG,
                                       out + GCM_NONCE + n)))
    rc = SQR_ECRYPTO;
  mbedtls_gcm_free(&g);
  *outlen = GCM_NONCE + n + GCM_TAG;
  return rc;
}

sqr_rc hq__seal_link(hq *h, const char *store, const char *member, const char *sealed_b64,
                     int64_t now, int64_t *open_ns) {
  uint8_t box[SEAL_MAX_BOX + 8], index[32], enc[GCM_NONCE + SEAL_MAX_PLAIN + GCM_TAG];
  char phone[SEAL_MAX_PLAIN + 1];
  size_t boxlen = 0, plen = 0, enclen = 0;
  int new_member = 0;
  int64_t t0 = open_ns ? mono_ns() : 0;
  if(crypto_unb64(sealed_b64, box, sizeof box, &boxlen) ||
     seal_fast_open(h->opener, box, boxlen, phone, sizeof phone - 1, &plen))
    return SQR_EAUTH;
  phone[plen] = '\0';
  sqr_rc rc = crypto_hmac_sha256(h->index_key, 32, phone, plen, index);
  if(!rc) rc = pii_encrypt(h, phone, index, enc, &enclen);
  crypto_wipe(phone, sizeof phone);
  if(open_ns) *open_ns += mono_ns() - t0;
  if(!rc) rc = hqdb_member_upsert(h->db, index, enc, enclen, store, member, now, &new_member);
  return rc;
}

sqr_rc hq_seal_work(hq *h, size_t max, hq_seal_slice *out) {
  hq_sealed_row *rows = NULL;
  size_t n = 0, k = 0;
  int64_t now = hq_now_ms(), cursor = 0;
  int held = 0, advanced = 0;
  const hq_sealed_row *last_refused = NULL;
  char refused_kiosk[HQ_ID_MAX] = "";
  int64_t refused_seq = 0;

  memset(out, 0, sizeof *out);
  sqr_rc rc = hqdb_job_lease(h->db, HQ_SEAL_JOB, now, HQ_SEAL_LEASE_MS, &held, &cursor);
  if(rc || !held) return rc;
  out->held = 1;
  if((rc = hqdb_begin(h->db))) return rc;
  if((rc = hqdb_seal_take(h->db, max, &rows, &n))) goto fail;
  for(k = 0; k < n; k++) {
    const hq_sealed_row *s = &rows[k];
    rc = hq__seal_link(h, s->store, s->member, s->sealed, now, NULL);
    if(rc == SQR_EAUTH) {
      /* Kept with its event (the payload), reported, never retried. */
      log_warn("hq", "%s seq %lld: a sealed phone HQ cannot open", s->kiosk_id, (long long)s->seq);
      out->refused++;
      last_refused = s;
      rc = SQR_OK;
    } else if(!rc) {
      out->opened++;
    }
    if(!rc) rc = hqdb_seal_done(h->db, s->kiosk_id, s->seq);
    if(rc) goto fail;
  }
  /* The cursor counts boxes done; advancing it is what fences this slice
   * against a process that took the job over meanwhile. */
  if(n && (rc = hqdb_job_advance(h->db, HQ_SEAL_JOB, cursor, cursor + (int64_t)n, hq_now_ms(),
                                 HQ_SEAL_LEASE_MS, &advanced)))
    goto fail;
  if(n && !advanced) {
    log_warn("hq", "seal opener: lease lost mid-slice; %zu boxes left to the new holder", n);
    hqdb_rollback(h->db);
    free(rows);
    out->opened = out->refused = 0;
    return SQR_OK;
  }
  if(last_refused) {
    snprintf(refused_kiosk, sizeof refused_kiosk, "%s", last_refused->kiosk_id);
    refused_seq = last_refused->seq;
  }
  free(rows);
  rows = NULL;
  if((rc = hqdb_commit(h->db))) goto fail;
  if(refused_kiosk[0])
    hq_alert_raise_seq(h, refused_kiosk, refused_seq, "seal", "sealed phones HQ cannot open");
  return SQR_OK;
fail:
  hqdb_rollback(h->db);
  free(rows);
  out->opened = out->refused = 0;
  return rc;
}

sqr_rc hq_seal_backlog(hq *h, int64_t *count, int64_t *oldest_ms) {
  return hqdb_seal_backlog(h->db, count, oldest_ms);
}
