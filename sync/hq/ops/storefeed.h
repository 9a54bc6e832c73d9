/* storefeed.h — each store's feed (docs/PROTOCOL.md "Feed"): what
 * ingest adds to it, and the pages kiosks read.
 *
 * Ingest hands every new sign-up, check-in and erasure of a batch to a
 * collector (hq__feed, hq_int.h) and writes them at the end, in its
 * transaction: sign-ups carrying a blind index become the store's shared
 * members and `member` entries; check-ins of shared members become
 * `checkin` entries, and one check-in a day counts across the store's
 * kiosks (the rule below); erasures become `erase` entries after every
 * trace of the member is dropped from the feed.
 *
 * One check-in a day: when two kiosks of a store accepted the same
 * member's check-in for the same day, HQ keeps the one with the earlier
 * kiosk time (ties: the smaller kiosk id), whatever order the uploads
 * arrive in. The other still gets its `checkin` entry, followed by a
 * `void` entry that takes its points off at every kiosk; the kiosk that
 * accepted it records a `checkin_voided` event. The shopper there was
 * told "done" honestly: the check-in was made, and the day counts once.
 */
#ifndef SQR_STOREFEED_H
#define SQR_STOREFEED_H

#include <stddef.h>

#include "hq.h"
#include "sqr.h"

/* The page after cursor for the kiosk of kiosk_id (its certificate's):
 * *json (free()) is the answer body. A cursor HQ could not have written
 * is SQR_EINVAL "bad_cursor". */
sqr_rc hq_feed_get(hq *h, const char *kiosk_id, const char *cursor, char **json, size_t *len,
                   hq_err *e) SQR_WARN_UNUSED;

/* Erase entries for pending erasure requests made before the feed (run
 * by `serve` at start; idempotent, several processes may run it at once).
 * Storage errors as they come. */
sqr_rc hq_feed_backfill_erasures(hq *h) SQR_WARN_UNUSED;

#endif /* SQR_STOREFEED_H */
