/* hqdb_seal.h — sealed phones waiting to be opened (issue 13): the queue
 * between ingest, which stores a sign-up's sealed box and acknowledges,
 * and the background opener (ops/sealjob.c), which opens, de-duplicates
 * and links members later under the "seal_open" job's lease
 * (hqdb_jobs.h).
 *
 * A queue, not a cursor over events: events have no order that is also the
 * order their transactions commit in across HQ processes, so a cursor could
 * pass a row committed late. A row is queued in ingest's transaction and
 * deleted in the opener's, with the member it made: each is opened once.
 *
 * Holds sealed boxes only (never a phone number). Erasing a member drops
 * its queued box with its links (hqdb_erasure_confirm), so a late opening
 * cannot link an erased member again.
 */
#ifndef SQR_HQDB_SEAL_H
#define SQR_HQDB_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "hqdb.h"
#include "sqr.h"

#define HQ_SEALED_MAX 256 /* base64 of a box (SEAL_MAX_BOX 158 bytes) + NUL, with room */

typedef struct hq_sealed_row {
  char kiosk_id[HQ_ID_MAX];
  int64_t seq;
  char store[HQ_ID_MAX];
  char member[HQ_ID_MAX];     /* the store's member id, 32 hex digits */
  char sealed[HQ_SEALED_MAX]; /* base64 box, as the kiosk sent it */
  int64_t enqueued_ms;
} hq_sealed_row;

/* In the caller's (ingest's) transaction: queues a sign-up's sealed box.
 * A replayed (kiosk, seq) is ignored. SQR_EINVAL if sealed is too long. */
sqr_rc hqdb_seal_enqueue(hqdb *db, const char *kiosk_id, int64_t seq, const char *store,
                         const char *member, const char *sealed, int64_t now_ms) SQR_WARN_UNUSED;

/* In the caller's (the opener's) transaction: up to max queued rows,
 * oldest first, into a new array *rows (free() it) of *n. */
sqr_rc hqdb_seal_take(hqdb *db, size_t max, hq_sealed_row **rows, size_t *n) SQR_WARN_UNUSED;

/* A taken row after the opener's work, for hqdb_seal_settle. */
typedef struct hq_seal_opened {
  const hq_sealed_row *row; /* the queued row (kiosk, seq, store, member) */
  int ok;                   /* opened: index and enc hold the member; 0: refused */
  uint8_t index[32];        /* the phone's blind index */
  const uint8_t *enc;       /* the phone encrypted under the PII key, enclen bytes */
  size_t enclen;
  int claimed; /* out: the row was still queued and is gone now; 0: an erasure
                * or another opener took it meanwhile, so nothing was linked */
} hq_seal_opened;

/* In the caller's (the opener's) transaction: deletes the n rows from the
 * queue, and for those still there (claimed) and opened, adds the member
 * (the first store to bring a phone keeps it) and links the store's
 * member id to it. A few multi-row statements per 64 rows, whatever n. */
sqr_rc hqdb_seal_settle(hqdb *db, hq_seal_opened *rows, size_t n, int64_t now_ms) SQR_WARN_UNUSED;

/* The backlog: rows waiting and the oldest's enqueue time (0 when none);
 * for /metrics, the dashboard and anything that needs every phone opened
 * up to a moment. */
sqr_rc hqdb_seal_backlog(hqdb *db, int64_t *count, int64_t *oldest_ms) SQR_WARN_UNUSED;

#endif /* SQR_HQDB_SEAL_H */
