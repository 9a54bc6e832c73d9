/* retention.c — see retention.h. */
#include "retention.h"
#include "hq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hqdb_feed.h"
#include "hqdb_jobs.h"
#include "hqdb_retain.h"
#include "log.h"

#define STORES_PAGE 256
#define UTC_OFFSET  480 /* the stores' day, as configdoc.c sends it */

struct hq_retention {
  int dry;
  int64_t started_ms;            /* real time */
  int64_t cutoff_ms, cutoff_day; /* the run's clock less the period */
  int64_t cursor;                /* the job's: members erased, ever */
  char stores[STORES_PAGE][HQ_ID_MAX];
  size_t nstores, at;
  char last_store[HQ_ID_MAX]; /* the page's last, where the next starts */
  char after[HQ_ID_MAX];      /* the store's last member seen */
  int64_t store_count;
  int done, lost;
  hq_retention_result tot;
  char (*page)[HQ_ID_MAX]; /* HQ_RETENTION_BATCH members */
};

int hq_retention_member_days(const hq *h) {
  return h->retain_member_days;
}

sqr_rc hq_retention_begin(hq *h, int64_t now_ms, int dry_run, hq_retention **out, int *held) {
  *out = NULL;
  *held = 1;
  hq_retention *r = calloc(1, sizeof *r);
  if(!r || !(r->page = calloc(HQ_RETENTION_BATCH, sizeof *r->page))) {
    free(r);
    return SQR_ENOMEM;
  }
  r->dry = dry_run;
  r->started_ms = hq_now_ms();
  r->cutoff_ms = now_ms - (int64_t)h->retain_member_days * 86400000;
  r->cutoff_day = clock_local_day(r->cutoff_ms, UTC_OFFSET);
  sqr_rc rc = dry_run ? SQR_OK
                      : hqdb_job_lease(h->db, HQ_RETENTION_JOB, r->started_ms,
                                       HQ_RETENTION_LEASE_MS, held, &r->cursor);
  if(rc || !*held) {
    free(r->page);
    free(r);
    return rc;
  }
  r->tot.held = 1;
  *out = r;
  return SQR_OK;
}

/* Erases one page of the store's inactive members, in one transaction
 * that holds the store's feed head first (the writers' lock order) and
 * advances the job under its lease. */
static sqr_rc erase_page(hq *h, hq_retention *r, const char *store, size_t n) {
  int64_t head = 0, now = hq_now_ms(), gone = 0;
  int advanced = 0;
  sqr_rc rc = hqdb_begin(h->db);
  if(rc) return rc;
  rc = hqdb_feed_lock(h->db, store, &head);
  for(size_t i = 0; !rc && i < n; i++) {
    int person = 0;
    rc = hq__erase_member(h, store, r->page[i], "retention", "hq retention", now, &person);
    gone += person;
  }
  if(!rc)
    rc = hqdb_job_advance(h->db, HQ_RETENTION_JOB, r->cursor, r->cursor + (int64_t)n, hq_now_ms(),
                          HQ_RETENTION_LEASE_MS, &advanced);
  if(!rc && !advanced) {
    log_warn("hq", "retention: the job's lease was lost; the run is left to its new holder");
    hqdb_rollback(h->db);
    r->lost = 1;
    return SQR_OK;
  }
  if(!rc) rc = hqdb_commit(h->db);
  if(rc) {
    hqdb_rollback(h->db); /* a COMMIT that failed may leave the transaction open */
    return rc;
  }
  r->cursor += (int64_t)n;
  r->tot.erased += (int64_t)n;
  r->tot.persons_gone += gone;
  r->store_count += (int64_t)n;
  return SQR_OK;
}

sqr_rc hq_retention_step(hq *h, hq_retention *r, hq_retention_store *finished, int *store_done,
                         int *done) {
  *store_done = 0;
  *done = 0;
  if(r->done || r->lost) {
    *done = 1;
    return SQR_OK;
  }
  if(r->at >= r->nstores) {
    sqr_rc rc = hqdb_retain_stores(h->db, r->last_store, STORES_PAGE, r->stores, &r->nstores);
    if(rc) return rc;
    r->at = 0;
    if(r->nstores == 0) {
      r->done = *done = 1;
      r->tot.complete = 1;
      return SQR_OK;
    }
    snprintf(r->last_store, sizeof r->last_store, "%s", r->stores[r->nstores - 1]);
  }
  const char *store = r->stores[r->at];
  size_t n = 0;
  sqr_rc rc = hqdb_retain_inactive(h->db, store, r->cutoff_ms, r->cutoff_day, r->after,
                                   HQ_RETENTION_BATCH, r->page, &n);
  if(!rc && n && !r->dry) rc = erase_page(h, r, store, n);
  if(rc) return rc;
  if(r->lost) {
    *done = 1;
    return SQR_OK;
  }
  if(r->dry) {
    r->store_count += (int64_t)n;
    r->tot.erased += (int64_t)n;
  }
  if(n) snprintf(r->after, sizeof r->after, "%s", r->page[n - 1]);
  if(n < HQ_RETENTION_BATCH) { /* the store is done */
    snprintf(finished->store, sizeof finished->store, "%s", store);
    finished->members = r->store_count;
    *store_done = 1;
    r->tot.stores++;
    r->store_count = 0;
    r->after[0] = '\0';
    r->at++;
  }
  return SQR_OK;
}

sqr_rc hq_retention_end(hq *h, hq_retention *r, hq_retention_result *out) {
  if(!r) {
    if(out) memset(out, 0, sizeof *out);
    return SQR_OK;
  }
  sqr_rc rc = SQR_OK;
  if(!r->dry && r->tot.erased) hq__scrub(h);
  if(!r->dry && r->tot.complete)
    rc = hqdb_retain_record(h->db, r->started_ms, hq_now_ms(), r->tot.erased);
  if(!r->dry && !r->lost) {
    sqr_rc rrc = hqdb_job_release(h->db, HQ_RETENTION_JOB);
    if(!rc) rc = rrc;
  }
  if(!r->dry && r->tot.erased)
    log_info("hq", "retention: %lld members erased (inactive %d days), %lld phones with them",
             (long long)r->tot.erased, h->retain_member_days, (long long)r->tot.persons_gone);
  if(out) *out = r->tot;
  free(r->page);
  free(r);
  return rc;
}

sqr_rc hq_retention_run(hq *h, int64_t now_ms, int dry_run,
                        void (*each)(void *arg, const hq_retention_store *s), void *arg,
                        hq_retention_result *out) {
  hq_retention *r = NULL;
  int held = 0, done = 0;
  memset(out, 0, sizeof *out);
  sqr_rc rc = hq_retention_begin(h, now_ms, dry_run, &r, &held);
  if(rc || !held) return rc;
  while(!rc && !done) {
    hq_retention_store s;
    int store_done = 0;
    rc = hq_retention_step(h, r, &s, &store_done, &done);
    if(!rc && store_done && s.members && each) each(arg, &s);
  }
  sqr_rc erc = hq_retention_end(h, r, out);
  return rc ? rc : erc;
}

sqr_rc hq_retention_last(hq *h, int *found, int64_t *at_ms, int64_t *erased) {
  return hqdb_retain_last(h->db, found, at_ms, erased);
}

sqr_rc hq_retention_due(hq *h, int64_t now_ms, int64_t every_ms, int *due) {
  int found = 0;
  int64_t at = 0, erased = 0;
  sqr_rc rc = hqdb_retain_last(h->db, &found, &at, &erased);
  *due = !rc && (!found || now_ms - at >= every_ms || now_ms < at);
  return rc;
}
