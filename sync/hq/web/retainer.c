/* retainer.c — see retainer.h. */
#include "retainer.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "retention.h"

#define CHECK_MAX_MS (10 * 60 * 1000LL) /* a due run waits at most this */

struct retainer {
  hq *h;
  pthread_mutex_t *lock; /* the server's storage lock */
  pthread_mutex_t mu;    /* guards the wait, with wake */
  pthread_cond_t wake;
  pthread_t thread;
  atomic_int stopping;
  int64_t every_ms, check_ms;
};

/* One turn: a run when due, a page per hold of the lock. */
static void turn(retainer *r) {
  int due = 0, held = 0, done = 0;
  hq_retention *run = NULL;
  pthread_mutex_lock(r->lock);
  sqr_rc rc = hq_retention_due(r->h, hq_now_ms(), r->every_ms, &due);
  if(!rc && due) rc = hq_retention_begin(r->h, hq_now_ms(), 0, &run, &held);
  pthread_mutex_unlock(r->lock);
  while(!rc && run && !done) {
    hq_retention_store s;
    int store_done = 0;
    pthread_mutex_lock(r->lock);
    rc = hq_retention_step(r->h, run, &s, &store_done, &done);
    pthread_mutex_unlock(r->lock);
    if(!rc && store_done && s.members)
      log_info("hq", "retention: %s: %lld inactive members erased", s.store, (long long)s.members);
    if(atomic_load(&r->stopping)) break; /* the next run resumes it */
  }
  if(run) {
    pthread_mutex_lock(r->lock);
    sqr_rc erc = hq_retention_end(r->h, run, NULL);
    pthread_mutex_unlock(r->lock);
    if(!rc) rc = erc;
  }
  if(rc)
    log_warn("hq", "retention: %s (%s); tried again in %lld s", sqr_strerror(rc),
             hq_storage_error(r->h), (long long)(r->check_ms / 1000));
}

static void *loop(void *arg) {
  retainer *r = arg;
  while(!atomic_load(&r->stopping)) {
    turn(r);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(r->check_ms / 1000);
    t.tv_nsec += (long)(r->check_ms % 1000) * 1000000L;
    if(t.tv_nsec >= 1000000000L) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while(!atomic_load(&r->stopping) && pthread_cond_timedwait(&r->wake, &r->mu, &t) == 0)
      ;
    pthread_mutex_unlock(&r->mu);
  }
  return NULL;
}

sqr_rc retainer_start(hq *h, pthread_mutex_t *lock, retainer **out) {
  *out = NULL;
  retainer *r = calloc(1, sizeof *r);
  if(!r) return SQR_ENOMEM;
  r->h = h;
  r->lock = lock;
  r->every_ms = HQ_RETENTION_EVERY_MS;
  const char *e = getenv("SQR_HQ_RETENTION_EVERY_MS");
  char *end = NULL;
  long long v = e ? strtoll(e, &end, 10) : 0;
  if(e && end != e && !*end && v >= 1000) r->every_ms = v;
  r->check_ms = r->every_ms / 4 < CHECK_MAX_MS ? r->every_ms / 4 : CHECK_MAX_MS;
  if(pthread_mutex_init(&r->mu, NULL)) {
    free(r);
    return SQR_ENOMEM;
  }
  if(pthread_cond_init(&r->wake, NULL)) {
    pthread_mutex_destroy(&r->mu);
    free(r);
    return SQR_ENOMEM;
  }
  if(pthread_create(&r->thread, NULL, loop, r)) {
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return SQR_ENOMEM;
  }
  *out = r;
  return SQR_OK;
}

void retainer_stop(retainer *r) {
  if(!r) return;
  pthread_mutex_lock(&r->mu);
  atomic_store(&r->stopping, 1);
  pthread_cond_signal(&r->wake);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->wake);
  pthread_mutex_destroy(&r->mu);
  free(r);
}
