/* hqdb_jobs.h — leased, resumable background jobs shared by HQ processes.
 *
 * For: work HQ does after the fact, over rows already committed (opening
 * sealed phones off the acknowledgement path first; later the WeCom sweep
 * and retention), safely when several HQ processes share one database.
 *
 * A job is a name and a cursor: how far through its ordered input (row ids,
 * say) its effects are committed. One process at a time holds a job's
 * lease (the handle's random owner, until now + ttl); it renews it by
 * leasing again. It does a slice of work and, in the same transaction as
 * the slice's effects, advances the cursor with a compare-and-set on
 * (owner, lease still live by the caller's clock, the cursor it started
 * from). A holder that stalled past its lease and was taken over therefore
 * cannot commit over the new holder: its advance changes nothing, it rolls
 * back, and the slice is done once, by the holder whose advance took. A
 * holder that dies leaves its lease to lapse after ttl; the next one
 * resumes at the cursor. Leases compare the callers' clocks: HQ processes
 * must keep them in step (NTP) to within much less than ttl.
 *
 * Owns the `jobs` table only; what a job's cursor counts is the caller's.
 * Must never: advance a cursor outside the transaction of the effects it
 * stands for.
 */
#ifndef SQR_HQDB_JOBS_H
#define SQR_HQDB_JOBS_H

#include <stdint.h>

#include "hqdb.h"
#include "sqr.h"

#define HQ_JOB_OWNER_MAX 33 /* the hqdb handle's owner, 32 hex digits + NUL */

typedef struct hq_job {
  int64_t cursor; /* effects committed up to here */
  char owner[HQ_JOB_OWNER_MAX];
  int64_t lease_until_ms; /* 0: released */
  int64_t updated_ms;     /* last advance */
} hq_job;

/* Takes or renews the lease of job `name` (created at cursor 0 the first
 * time) for this handle until now_ms + ttl_ms: one atomic upsert, so of
 * several processes asking at once exactly one gets it. *held = 1 and
 * *cursor = where to resume when this handle holds it; *held = 0 (and
 * *cursor untouched) when another live lease does. Its own transaction:
 * not inside hqdb_begin. SQR_EINVAL for an empty name or ttl_ms <= 0. */
sqr_rc hqdb_job_lease(hqdb *db, const char *name, int64_t now_ms, int64_t ttl_ms, int *held,
                      int64_t *cursor) SQR_WARN_UNUSED;

/* In the caller's transaction (hqdb_begin .. hqdb_commit), with the
 * effects of the slice: moves the cursor from `from` to `to` and renews the
 * lease to now_ms + ttl_ms, if this handle still holds a live lease and
 * the cursor is still `from`. *advanced = 0 otherwise: the caller must
 * roll back its slice. */
sqr_rc hqdb_job_advance(hqdb *db, const char *name, int64_t from, int64_t to, int64_t now_ms,
                        int64_t ttl_ms, int *advanced) SQR_WARN_UNUSED;

/* Gives the lease up now (a clean stop), if this handle holds it; the
 * cursor stays. Its own transaction. */
sqr_rc hqdb_job_release(hqdb *db, const char *name) SQR_WARN_UNUSED;

/* The job's row, for /metrics and the dashboard. SQR_ENOTFOUND if it was
 * never leased. */
sqr_rc hqdb_job_get(hqdb *db, const char *name, hq_job *out) SQR_WARN_UNUSED;

#endif /* SQR_HQDB_JOBS_H */
