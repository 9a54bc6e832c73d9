/* retention.h — erasing members inactive at a store (issue 16, PIPL;
 * docs/PRIVACY.md "Retention").
 *
 * The rule: a member is erased at a store once it has been inactive there
 * for the store template's retention.member_days (default 730, 30..3650;
 * hq.c checks it at open, every store's document carries it): no sign-up
 * and no check-in at that store since. Inactivity at one store says
 * nothing of another: the same phone's membership elsewhere stays, and
 * the person's member row (encrypted phone) goes with its last link.
 *
 * An erasure is the erase path's variant for one store's member
 * (hq__erase_member): link, consent state, sealed phone and blind index
 * in its stored sign-ups, an erase entry in the store's feed (its kiosks
 * erase it and confirm) and an erasure request, erasure_log (reason
 * "retention", asked by "hq retention"). The run walks the stores in id
 * order; each store's inactive members are found a page at a time in one
 * statement (a set difference: hqdb_retain.h), each page of at most
 * HQ_RETENTION_BATCH erased in one transaction that also advances the
 * "retention" job (hqdb_jobs.h) under its lease, so several HQ processes
 * never run it at once and a holder that stalled and was taken over rolls
 * back. A run that stops halfway is resumed by the next: what it erased
 * is no longer inactive. hq__scrub once at the end, not per member.
 *
 * Judged on what HQ holds: check-ins a kiosk has not uploaded yet do not
 * count (a kiosk offline for months against a period of years), and
 * days count whole (a check-in on the cutoff's day keeps the member).
 *
 * Must never: print, log or return a phone; run on the acknowledgement
 * path (serve runs it from a thread of its own, a page at a time).
 */
#ifndef SQR_RETENTION_H
#define SQR_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "hq.h"

#define HQ_RETENTION_JOB      "retention"
#define HQ_RETENTION_BATCH    500                 /* erasures per transaction */
#define HQ_RETENTION_LEASE_MS (10 * 60 * 1000)    /* renewed by every page */
#define HQ_RETENTION_EVERY_MS (6 * 3600 * 1000LL) /* serve: a run at most this often */

/* The template's retention.member_days. */
int hq_retention_member_days(const hq *h);

/* A store the run finished: members erased there (or, dry, to erase). */
typedef struct hq_retention_store {
  char store[HQ_ID_MAX];
  int64_t members;
} hq_retention_store;

typedef struct hq_retention_result {
  int held;             /* 0: another process holds the job, nothing done */
  int complete;         /* every store walked (not stopped, lease kept) */
  int64_t erased;       /* members erased (dry: found) */
  int64_t persons_gone; /* member rows (phones) erased with their last link */
  int64_t stores;       /* stores walked */
} hq_retention_result;

/* A run in steps, for a caller that shares its storage handle between
 * threads (serve) and holds its lock only for each step:
 *   hq_retention_begin  takes the job's lease (dry: none): *r, or NULL
 *                       with *held 0 when another process holds it;
 *                       now_ms is the run's clock (the cutoff is now_ms
 *                       less member_days), leases use the real one;
 *   hq_retention_step   one page of one store, in one transaction;
 *                       *finished filled (and *store_done 1) when that
 *                       store is done; *done when the run is;
 *   hq_retention_end    scrubs once when anything was erased, records a
 *                       complete run (retention_runs), gives the lease
 *                       up, frees r; *out the totals (may be NULL).
 * Storage errors as they come (the step rolled back); end still frees. */
typedef struct hq_retention hq_retention;
sqr_rc hq_retention_begin(hq *h, int64_t now_ms, int dry_run, hq_retention **r,
                          int *held) SQR_WARN_UNUSED;
sqr_rc hq_retention_step(hq *h, hq_retention *r, hq_retention_store *finished, int *store_done,
                         int *done) SQR_WARN_UNUSED;
sqr_rc hq_retention_end(hq *h, hq_retention *r, hq_retention_result *out) SQR_WARN_UNUSED;

/* The steps at once (the command line): each(arg, store) per store
 * finished with members to erase (NULL: none). */
sqr_rc hq_retention_run(hq *h, int64_t now_ms, int dry_run,
                        void (*each)(void *arg, const hq_retention_store *s), void *arg,
                        hq_retention_result *out) SQR_WARN_UNUSED;

/* The last complete run: *found 0 when none yet. */
sqr_rc hq_retention_last(hq *h, int *found, int64_t *at_ms, int64_t *erased) SQR_WARN_UNUSED;

/* Whether a run is due: none complete yet, or the last ended every_ms
 * or more before now_ms (any HQ process's). */
sqr_rc hq_retention_due(hq *h, int64_t now_ms, int64_t every_ms, int *due) SQR_WARN_UNUSED;

#endif /* SQR_RETENTION_H */
