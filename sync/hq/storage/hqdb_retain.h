/* hqdb_retain.h — what retention reads and records at HQ (docs/PRIVACY.md
 * "Retention", ops/retention.h): a store's inactive members, found in one
 * statement per page as a set difference, and the record of each run.
 *
 * Tables: retention_runs (one row per finished run: when it started and
 * ended, how many members it erased), and an index of member_links by
 * phone, so "does another store still link this phone" is a lookup, not
 * a scan, for every member erased.
 *
 * Must never: hold or return a phone, an index or a box.
 */
#ifndef SQR_HQDB_RETAIN_H
#define SQR_HQDB_RETAIN_H

#include <stddef.h>
#include <stdint.h>

#include "hqdb.h"
#include "sqr.h"

/* Up to max store ids after `after` ("" from the start), in id order. */
sqr_rc hqdb_retain_stores(hqdb *db, const char *after, size_t max, char (*out)[HQ_ID_MAX],
                          size_t *n) SQR_WARN_UNUSED;

/* Up to max members of the store after `after` ("" from the start), in
 * id order, inactive since cutoff: members HQ knows at the store (shared
 * members, store_members, and members whose phone it opened,
 * member_links) that signed up before cutoff_ms (a shared member's
 * sign-up time; a member known by its link only: when HQ linked it) and
 * have no kept check-in on cutoff_day or later (checkin_days; for a
 * member known by its link only, its check-in events since cutoff_ms:
 * kiosks from before the feed). One statement: the union of the two,
 * minus the store's recent check-ins. */
sqr_rc hqdb_retain_inactive(hqdb *db, const char *store, int64_t cutoff_ms, int64_t cutoff_day,
                            const char *after, size_t max, char (*out)[HQ_ID_MAX],
                            size_t *n) SQR_WARN_UNUSED;

/* Records a finished run (its own transaction). */
sqr_rc hqdb_retain_record(hqdb *db, int64_t started_ms, int64_t finished_ms,
                          int64_t erased) SQR_WARN_UNUSED;

/* The last finished run: *found 0 when none. */
sqr_rc hqdb_retain_last(hqdb *db, int *found, int64_t *finished_ms,
                        int64_t *erased) SQR_WARN_UNUSED;

#endif /* SQR_HQDB_RETAIN_H */
