/* ingest.h — POST /v1/events at HQ: a decoded batch into storage.
 *
 * In one transaction, with the kiosk's row locked: events HQ already holds
 * are compared by hash (same: ignored; different: chain_broken), a first
 * new seq past acked+1 is a 409 gap, the new run's chain is checked from
 * the last hash HQ holds (a break: 422 chain_broken, nothing stored, an
 * alert row), then every new event is stored with what it changes: a
 * sign-up's sealed phone is opened with seal.key, stored encrypted
 * (AES-256-GCM under HQ's PII key) and de-duplicated across stores by
 * HQ's phone index (or, with hq_set_seal_later, queued for the background
 * opener: sealjob.h); per-store sign-up/check-in/event counters; erasure
 * confirmations; the daily stats, the kiosk's "behind" when the batch
 * carries it (a replay stores nothing, that included) and its clock jumps
 * (kiosk_clock; after the commit, a clock_jump alert). The answer is the
 * highest contiguous seq HQ holds. Alerts go through hq_alert_raise: once
 * per kiosk and kind per hour.
 */
#ifndef SQR_INGEST_H
#define SQR_INGEST_H

#include "hq.h"
#include "proto.h"

/* cert_kiosk: the kiosk the client certificate maps to ("STORE/N").
 * SQR_OK: *acked is the highest contiguous seq HQ now holds. Refusals
 * (hq_err codes): "wrong_kiosk" (the batch names another kiosk), "gap"
 * (extra expected_seq), "chain_broken" (extra seq; an alert row is
 * written), "certificate" (not enrolled), "storage". */
sqr_rc ingest_batch(hq *h, const char *cert_kiosk, const proto_batch *b, int64_t *acked,
                    hq_err *e) SQR_WARN_UNUSED;

/* Where ingest time goes, for `storeqr-hq ingest-file` and benchmarks;
 * ingest_batch_timed adds to *t (the caller zeroes it once). */
typedef struct ingest_timing {
  int64_t seal_ns; /* opening sealed phones: ECDH, HMAC index, GCM */
  int64_t signups_opened;
} ingest_timing;
sqr_rc ingest_batch_timed(hq *h, const char *cert_kiosk, const proto_batch *b, int64_t *acked,
                          hq_err *e, ingest_timing *t) SQR_WARN_UNUSED;

/* Records a refused batch's alert for kiosk_id (kind e.g. "chain_broken":
 * a batch whose chain did not verify before it reached storage), once per
 * kiosk and kind per hour (hq_alert_raise_seq). */
sqr_rc ingest_alert(hq *h, const char *kiosk_id, int64_t seq, const char *kind,
                    const char *message) SQR_WARN_UNUSED;

#endif
