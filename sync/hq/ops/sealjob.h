/* sealjob.h — opening sign-ups' sealed phones off the acknowledgement path
 * (issue 13).
 *
 * With hq_set_seal_later on, ingest stores a sign-up's sealed box in the
 * queue (storage/hqdb_seal.h) and acknowledges; hq_seal_work then opens
 * queued boxes in slices under the "seal_open" job's lease
 * (storage/hqdb_jobs.h): open (seal_fast), index and encrypt outside any
 * transaction, then delete the queued rows, add and link the members and
 * advance the job's cursor (a count of boxes done) in one transaction, so
 * a slice is done exactly once even with several HQ processes and a
 * crash anywhere. With
 * it off (the default) ingest opens each box in its own transaction, as
 * before.
 *
 * Must never: log a phone number or a box; link a member whose erasure was
 * confirmed (the queue drops it then). Anything that finds members by
 * phone (a person's data request, an erasure by phone: PIPL) must first
 * see the queue empty up to its own moment (hq_seal_backlog's oldest is
 * later, or the count is 0), or open the waiting boxes itself: until
 * then a phone uploaded earlier has no member row to be found by.
 */
#ifndef SQR_SEALJOB_H
#define SQR_SEALJOB_H

#include <stddef.h>
#include <stdint.h>

#include "hq.h"

#define HQ_SEAL_JOB      "seal_open"
#define HQ_SEAL_LEASE_MS 30000 /* a holder that stops renewing is replaced after this */
#define HQ_SEAL_SLICE    256   /* boxes per transaction */
/* Past this many boxes waiting (as hq_seal_count last saw them), ingest
 * opens sign-ups' boxes itself again: at ~10,000 openings a second, a few
 * seconds of the opener's work, and the queue stays bounded however far
 * uploads outrun it. */
#define HQ_SEAL_BACKLOG_MAX 50000

/* On: ingest queues sealed phones for hq_seal_work instead of opening them
 * (while the backlog is under HQ_SEAL_BACKLOG_MAX; SQR_HQ_SEAL_BACKLOG_MAX,
 * 1..10,000,000, sets another bound for tests). */
void hq_set_seal_later(hq *h, int on);
int hq_seal_later(const hq *h);

typedef struct hq_seal_slice {
  int held;        /* 0: another process holds the job: nothing done */
  int64_t opened;  /* boxes opened and linked */
  int64_t refused; /* boxes HQ cannot open: dropped, alerted ("seal") */
} hq_seal_slice;

/* A slice in three steps, so that a process sharing one storage handle
 * between threads holds its lock only for the storage steps and opens
 * boxes (the CPU) without it:
 *   hq_seal_take    (storage) reads up to max queued boxes, oldest first,
 *                   and, when there are some, leases the job: *b, or NULL
 *                   when there are none (*held 1) or another process holds
 *                   the job (*held 0);
 *   hq_seal_open_batch (no storage) opens, indexes and encrypts them;
 *   hq_seal_commit  (storage) one transaction: deletes the boxes still
 *                   queued (an erasure meanwhile keeps its box out), adds
 *                   members and links them in multi-row statements,
 *                   advances the job's cursor; frees b. Adds what it did
 *                   to *out. SQR_OK also when the lease was lost mid-slice
 *                   (rolled back, nothing done). Storage errors roll back
 *                   and are returned. */
typedef struct hq_seal_batch hq_seal_batch;
sqr_rc hq_seal_take(hq *h, size_t max, hq_seal_batch **b, int *held) SQR_WARN_UNUSED;
sqr_rc hq_seal_open_batch(hq *h, hq_seal_batch *b) SQR_WARN_UNUSED;
sqr_rc hq_seal_commit(hq *h, hq_seal_batch *b, hq_seal_slice *out) SQR_WARN_UNUSED;
/* Gives the job's lease up (a clean stop), so another process's opener
 * need not wait HQ_SEAL_LEASE_MS for it. */
sqr_rc hq_seal_release(hq *h) SQR_WARN_UNUSED;
/* Frees a batch not handed to hq_seal_commit (after an error). */
void hq_seal_batch_free(hq_seal_batch *b);

/* The three steps at once, for a caller that owns its handle: *out says
 * what was done. */
sqr_rc hq_seal_work(hq *h, size_t max, hq_seal_slice *out) SQR_WARN_UNUSED;

/* Counts the queue into what ingest checks against HQ_SEAL_BACKLOG_MAX
 * (the opener's thread, a few times a second). */
sqr_rc hq_seal_count(hq *h) SQR_WARN_UNUSED;

/* Boxes waiting, and the oldest's enqueue time (0 when none). */
sqr_rc hq_seal_backlog(hq *h, int64_t *count, int64_t *oldest_ms) SQR_WARN_UNUSED;

#endif /* SQR_SEALJOB_H */
