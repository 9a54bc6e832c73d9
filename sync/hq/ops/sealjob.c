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
  h->seal_backlog_max = HQ_SEAL_BACKLOG_MAX;
  const char *e = getenv("SQR_HQ_SEAL_BACKLOG_MAX");
  char *end = NULL;
  long long v = e ? strtoll(e, &end, 10) : 0;
  if(e && end != e && !*end && v >= 1 && v <= 10000000) h->seal_backlog_max = v;
}

int hq_seal_later(const hq *h) {
  return h->seal_later;
}

#define ENC_MAX (GCM_NONCE + SEAL_MAX_PLAIN + GCM_TAG)

/* Opens one base64 box with the fast opener, and makes the member's blind
 * index and the phone encrypted under the PII key (nonce | ciphertext |
 * tag, AAD = the index) with g, keyed by the caller. SQR_EAUTH for a box
 * HQ cannot open. The phone exists only on this stack, wiped. */
static sqr_rc open_one(hq *h, mbedtls_gcm_context *g, const char *sealed_b64, uint8_t index[32],
                       uint8_t enc[ENC_MAX], size_t *enclen) {
  uint8_t box[SEAL_MAX_BOX + 8];
  char phone[SEAL_MAX_PLAIN + 1];
  size_t boxlen = 0, plen = 0;
  if(crypto_unb64(sealed_b64, box, sizeof box, &boxlen) ||
     seal_fast_open(h->opener, box, boxlen, phone, sizeof phone - 1, &plen))
    return SQR_EAUTH;
  sqr_rc rc = crypto_hmac_sha256(h->index_key, 32, phone, plen, index);
  if(!rc) rc = crypto_random(enc, GCM_NONCE);
  if(!rc && mbedtls_gcm_crypt_and_tag(g, MBEDTLS_GCM_ENCRYPT, plen, enc, GCM_NONCE, index, 32,
                                      (const unsigned char *)phone, enc + GCM_NONCE, GCM_TAG,
                                      enc + GCM_NONCE + plen))
    rc = SQR_ECRYPTO;
  crypto_wipe(phone, sizeof phone);
  *enclen = GCM_NONCE + plen + GCM_TAG;
  return rc;
}

static sqr_rc gcm_start(const hq *h, mbedtls_gcm_context *g) {
  mbedtls_gcm_init(g);
  return mbedtls_gcm_setkey(g, MBEDTLS_CIPHER_ID_AES, h->pii_key, 256) ? SQR_ECRYPTO : SQR_OK;
}

sqr_rc hq__phone_open(const hq *h, const uint8_t index[32], const uint8_t *enc, size_t len,
                      char *out, size_t size) {
  if(len < GCM_NONCE + GCM_TAG || len - GCM_NONCE - GCM_TAG >= size) return SQR_ECRYPTO;
  size_t plen = len - GCM_NONCE - GCM_TAG;
  mbedtls_gcm_context g;
  sqr_rc rc = gcm_start(h, &g);
  if(!rc && mbedtls_gcm_auth_decrypt(&g, plen, enc, GCM_NONCE, index, 32, enc + GCM_NONCE + plen,
                                     GCM_TAG, enc + GCM_NONCE, (unsigned char *)out))
    rc = SQR_ECRYPTO;
  mbedtls_gcm_free(&g);
  if(rc)
    crypto_wipe(out, size);
  else
    out[plen] = '\0';
  return rc;
}

sqr_rc hq__seal_drain(hq *h) {
  for(int i = 0; i < 64; i++) {
    int64_t count = 0, oldest = 0;
    sqr_rc rc = hq_seal_backlog(h, &count, &oldest);
    if(rc || count == 0) return rc;
    hq_seal_slice s;
    if((rc = hq_seal_work(h, 256, &s))) return rc;
  }
  return SQR_EBUSY;
}

sqr_rc hq__seal_link(hq *h, const char *store, const char *member, const char *sealed_b64,
                     int64_t now, int64_t *open_ns) {
  uint8_t index[32], enc[ENC_MAX];
  size_t enclen = 0;
  int new_member = 0;
  int64_t t0 = open_ns ? mono_ns() : 0;
  mbedtls_gcm_context g;
  sqr_rc rc = gcm_start(h, &g);
  if(!rc) rc = open_one(h, &g, sealed_b64, index, enc, &enclen);
  mbedtls_gcm_free(&g);
  if(open_ns) *open_ns += mono_ns() - t0;
  if(!rc) rc = hqdb_member_upsert(h->db, index, enc, enclen, store, member, now, &new_member);
  return rc;
}

struct hq_seal_batch {
  hq_sealed_row *rows;
  hq_seal_opened *out;
  uint8_t (*enc)[ENC_MAX];
  size_t n;
  int64_t cursor; /* the job's, when taken */
};

void hq_seal_batch_free(hq_seal_batch *b) {
  if(!b) return;
  free(b->rows);
  free(b->out);
  if(b->enc) crypto_wipe(b->enc, b->n * sizeof *b->enc);
  free(b->enc);
  free(b);
}

sqr_rc hq_seal_take(hq *h, size_t max, hq_seal_batch **out, int *held) {
  *out = NULL;
  *held = 1; /* an empty queue is nobody's */
  hq_seal_batch *b = calloc(1, sizeof *b);
  if(!b) return SQR_ENOMEM;
  /* Read first, lease only with work to do: an idle opener in every
   * process would otherwise write the lease a few times a second. The
   * rows may be taken by the holder meanwhile: the commit's delete and
   * the cursor's compare-and-set decide. */
  sqr_rc rc = hqdb_seal_take(h->db, max, &b->rows, &b->n);
  int64_t now = hq_now_ms();
  if(!rc && b->n && now + HQ_SEAL_LEASE_MS / 2 < h->seal_lease_until_ms) {
    b->cursor = h->seal_cursor; /* ours, renewed by the last advance */
  } else if(!rc && b->n) {
    rc = hqdb_job_lease(h->db, HQ_SEAL_JOB, now, HQ_SEAL_LEASE_MS, held, &b->cursor);
    h->seal_lease_until_ms = !rc && *held ? now + HQ_SEAL_LEASE_MS : 0;
    h->seal_cursor = b->cursor;
  }
  if(!rc && b->n && *held &&
     (!(b->out = calloc(b->n, sizeof *b->out)) || !(b->enc = calloc(b->n, sizeof *b->enc))))
    rc = SQR_ENOMEM;
  if(rc || !b->n || !*held) {
    hq_seal_batch_free(b);
    return rc;
  }
  *out = b;
  return SQR_OK;
}

sqr_rc hq_seal_release(hq *h) {
  h->seal_lease_until_ms = 0;
  return hqdb_job_release(h->db, HQ_SEAL_JOB);
}

sqr_rc hq_seal_open_batch(hq *h, hq_seal_batch *b) {
  mbedtls_gcm_context g;
  sqr_rc rc = gcm_start(h, &g);
  for(size_t i = 0; !rc && i < b->n; i++) {
    hq_seal_opened *o = &b->out[i];
    o->row = &b->rows[i];
    o->enc = b->enc[i];
    rc = open_one(h, &g, b->rows[i].sealed, o->index, b->enc[i], &o->enclen);
    o->ok = !rc;
    if(rc == SQR_EAUTH) rc = SQR_OK; /* refused: the row goes, reported */
  }
  mbedtls_gcm_free(&g);
  return rc;
}

sqr_rc hq_seal_commit(hq *h, hq_seal_batch *b, hq_seal_slice *out) {
  int advanced = 0;
  int64_t now = hq_now_ms();
  const hq_sealed_row *refused = NULL;
  char refused_kiosk[HQ_ID_MAX] = "";
  int64_t refused_seq = 0, claimed = 0, opened = 0, nrefused = 0;
  sqr_rc rc = hqdb_begin(h->db);
  if(rc) goto out;
  h->seal_lease_until_ms = 0; /* unless the advance below renews it */
  rc = hqdb_seal_settle(h->db, b->out, b->n, now);
  for(size_t i = 0; !rc && i < b->n; i++) {
    const hq_seal_opened *o = &b->out[i];
    if(!o->claimed) continue; /* erased or done elsewhere meanwhile */
    claimed++;
    if(o->ok) {
      opened++;
    } else {
      /* Kept with its event (the payload), reported, never retried. */
      log_warn("hq", "%s seq %lld: a sealed phone HQ cannot open", o->row->kiosk_id,
               (long long)o->row->seq);
      nrefused++;
      refused = o->row;
    }
  }
  /* The cursor counts boxes done; advancing it is what fences this slice
   * against a process that took the job over meanwhile. */
  if(!rc &&
     (rc = hqdb_job_advance(h->db, HQ_SEAL_JOB, b->cursor, b->cursor + claimed, hq_now_ms(),
                            HQ_SEAL_LEASE_MS, &advanced)) == SQR_OK &&
     !advanced) {
    log_warn("hq", "seal opener: lease lost mid-slice; %zu boxes left to the new holder", b->n);
    hqdb_rollback(h->db);
    goto out;
  }
  if(rc) {
    hqdb_rollback(h->db);
    goto out;
  }
  if(refused) {
    snprintf(refused_kiosk, sizeof refused_kiosk, "%s", refused->kiosk_id);
    refused_seq = refused->seq;
  }
  if((rc = hqdb_commit(h->db))) {
    hqdb_rollback(h->db); /* a COMMIT that failed may leave the transaction open */
    goto out;
  }
  h->seal_cursor = b->cursor + claimed;
  h->seal_lease_until_ms = now + HQ_SEAL_LEASE_MS; /* renewed by the advance, from a later now */
  out->opened += opened;
  out->refused += nrefused;
  if(refused_kiosk[0])
    hq_alert_raise_seq(h, refused_kiosk, refused_seq, "seal", "sealed phones HQ cannot open");
out:
  hq_seal_batch_free(b);
  return rc;
}

sqr_rc hq_seal_work(hq *h, size_t max, hq_seal_slice *out) {
  hq_seal_batch *b = NULL;
  memset(out, 0, sizeof *out);
  sqr_rc rc = hq_seal_take(h, max, &b, &out->held);
  if(rc || !b) return rc;
  if((rc = hq_seal_open_batch(h, b))) {
    hq_seal_batch_free(b);
    return rc;
  }
  return hq_seal_commit(h, b, out);
}

sqr_rc hq_seal_count(hq *h) {
  int64_t count = 0, oldest = 0;
  sqr_rc rc = hqdb_seal_backlog(h->db, &count, &oldest);
  if(!rc) atomic_store(&h->seal_backlog, count);
  return rc;
}

sqr_rc hq_seal_backlog(hq *h, int64_t *count, int64_t *oldest_ms) {
  return hqdb_seal_backlog(h->db, count, oldest_ms);
}
