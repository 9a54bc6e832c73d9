/* prefetch.c — see prefetch.h.
 *
 * The UI thread owns every job; a worker reads its job's digits and
 * configuration copy and writes its result, then sets done. The UI thread
 * reads the result only after pthread_join (which orders the worker's
 * writes before it) and frees a job only after that join. */
#define _GNU_SOURCE
#include "prefetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "phone.h"

#define COMPONENT "ui"

/* Argon2id with one lane needs a few KiB of stack (its 1 KiB blocks live
 * in the 32 MiB it allocates), but glibc puts the thread's static TLS and
 * descriptor at the top of it too, and a sanitizer's runtime makes that
 * large (ThreadSanitizer wants 900 KiB). Pages never touched cost nothing
 * until the wipe after the join writes them (a quarter of a millisecond). */
#define STACK_BYTES (1024 * 1024)
#define TYPED_MAX   24 /* as ui_flow.phone */

typedef struct job {
  pthread_t thread;
  int running;          /* created and not yet joined */
  atomic_int done;      /* the worker has finished with everything but returning */
  atomic_int cancelled; /* nobody wants the result: skip the work, or wipe it */
  uint8_t *map;         /* the worker's stack with a guard page under it */
  size_t maplen, guard; /* the stack is map + guard .. map + maplen */
  int64_t started_us;
  char typed[TYPED_MAX];     /* the digits as typed: what calls are compared by */
  char phone[PHONE_LEN + 1]; /* normalised: what is derived from (the worker wipes it) */
  sqr_config *cfg;           /* store id and index fields only (the worker wipes them) */
  int64_t config_version;
  sqr_rc rc; /* the worker's result, read after the join */
  uint8_t index[32];
} job;

struct ui_prefetch {
  int enabled;
  job *cur; /* for the digits on the keypad */
  job *old; /* discarded, maybe still running */
  ui_prefetch_stats stats;
};

static int64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The one comparison that decides whether a result belongs to a number:
 * both which result follow() keeps and which one a call is given. */
static int same_digits(const char *a, const char *b) {
  size_t n = strnlen(a, TYPED_MAX);
  return n == strnlen(b, TYPED_MAX) && memcmp(a, b, n) == 0;
}

static void *worker(void *arg) {
  job *j = arg;
  if(!atomic_load(&j->cancelled))
    j->rc = member_index_derive(j->cfg, j->phone, j->index);
  else
    j->rc = SQR_ENOTFOUND; /* not derived: nobody asked any more */
  crypto_wipe(j->phone, sizeof j->phone);
  crypto_wipe(j->cfg, sizeof *j->cfg);
  if(atomic_load(&j->cancelled)) crypto_wipe(j->index, sizeof j->index);
  atomic_store(&j->done, 1);
  return NULL;
}

/* Joins j's worker (waiting for it if it still runs) and wipes and
 * unmaps its stack: nothing the derivation left there outlives it. */
static void join(job *j) {
  if(!j->running) return;
  int e = pthread_join(j->thread, NULL);
  if(e) log_error(COMPONENT, "joining the index worker: %s", strerror(e));
  j->running = 0;
  crypto_wipe(j->map + j->guard, j->maplen - j->guard);
  munmap(j->map, j->maplen);
  j->map = NULL;
}

static void job_free(job *j) {
  if(!j) return;
  join(j);
  if(j->cfg) {
    crypto_wipe(j->cfg, sizeof *j->cfg);
    free(j->cfg);
  }
  crypto_wipe(j, sizeof *j);
  free(j);
}

/* j's result is no longer wanted: its worker is told so and j waits in
 * the retired slot until it has finished. Only one job is retired at a
 * time, so a job retired before (whose worker should long be done) is
 * joined first. */
static void retire(ui_prefetch *p, job *j) {
  /* The index is the worker's until the join: it wipes it itself when it
   * sees this, and job_free wipes the whole job after the join. */
  atomic_store(&j->cancelled, 1);
  crypto_wipe(j->typed, sizeof j->typed);
  p->stats.discarded++;
  job_free(p->old);
  p->old = j;
  if(!j->running) {
    job_free(j);
    p->old = NULL;
  }
}

/* A worker for typed (valid; phone its normalised form) under cfg. On any
 * failure nothing is left and the member call will derive instead. */
static void start(ui_prefetch *p, const sqr_config *cfg, const char *typed, const char *phone) {
  long page = sysconf(_SC_PAGESIZE);
  size_t guard = page > 0 ? (size_t)page : 4096;
  pthread_attr_t attr;
  int attr_ok = 0, e = 0;
  job *j = calloc(1, sizeof *j);
  if(!j || !(j->cfg = calloc(1, sizeof *j->cfg))) {
    e = ENOMEM;
    goto out;
  }
  /* Only what member_index_derive reads: the salt's store id, the
   * algorithm, its costs and key. */
  memcpy(j->cfg->store_id, cfg->store_id, sizeof j->cfg->store_id);
  j->cfg->index_alg = cfg->index_alg;
  j->cfg->index_m_kib = cfg->index_m_kib;
  j->cfg->index_t = cfg->index_t;
  j->cfg->index_p = cfg->index_p;
  memcpy(j->cfg->index_key, cfg->index_key, sizeof j->cfg->index_key);
  j->config_version = cfg->version;
  snprintf(j->typed, sizeof j->typed, "%s", typed);
  memcpy(j->phone, phone, sizeof j->phone);
  /* Our own stack, so that it can be wiped after the join; the guard page
   * at its low end stops an overflow. */
  j->guard = guard;
  j->maplen = guard + STACK_BYTES;
  void *m =
      mmap(NULL, j->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if(m == MAP_FAILED) {
    e = errno;
    j->map = NULL;
    goto out;
  }
  j->map = m;
  if(mprotect(j->map, guard, PROT_NONE) != 0 || (e = pthread_attr_init(&attr)) != 0) {
    if(!e) e = errno;
    goto out;
  }
  attr_ok = 1;
  if((e = pthread_attr_setstack(&attr, j->map + guard, STACK_BYTES)) != 0) goto out;
  j->started_us = mono_us();
  if((e = pthread_create(&j->thread, &attr, worker, j)) != 0) goto out;
  j->running = 1;
  p->cur = j;
  p->stats.started++;
  j = NULL;
out:
  if(attr_ok) pthread_attr_destroy(&attr);
  if(j) {
    log_warn(COMPONENT, "cannot start deriving the blind index ahead (%s); the call will",
             strerror(e));
    if(j->map) munmap(j->map, j->maplen);
    j->map = NULL;
    job_free(j);
  }
}

sqr_rc ui_prefetch_new(int enabled, ui_prefetch **out) {
  *out = calloc(1, sizeof **out);
  if(!*out) return SQR_ENOMEM;
  (*out)->enabled = enabled;
  return SQR_OK;
}

void ui_prefetch_free(ui_prefetch *p) {
  if(!p) return;
  ui_prefetch_discard(p);
  crypto_wipe(p, sizeof *p);
  free(p);
}

void ui_prefetch_follow(ui_prefetch *p, store *st, const char *typed) {
  if(!p) return;
  if(p->cur && !same_digits(p->cur->typed, typed)) {
    retire(p, p->cur);
    p->cur = NULL;
  }
  const sqr_config *cfg = store_config(st);
  if(p->cur || !p->enabled || !cfg || strnlen(typed, TYPED_MAX) >= TYPED_MAX) return;
  char phone[PHONE_LEN + 1];
  if(phone_normalize(typed, phone, NULL) == SQR_OK) start(p, cfg, typed, phone);
  crypto_wipe(phone, sizeof phone);
}

const member_index *ui_prefetch_index(ui_prefetch *p, store *st, const char *phone,
                                      member_index *out) {
  job *j = p ? p->cur : NULL;
  const sqr_config *cfg = store_config(st);
  const char *why = NULL;
  if(!j || !cfg || !same_digits(j->typed, phone)) {
    why = !p || !p->enabled ? "prefetch off" : "no worker for these digits";
  } else {
    if(j->running) {
      int64_t t0 = mono_us();
      int was_done = atomic_load(&j->done);
      join(j);
      if(!was_done) {
        p->stats.waited++;
        log_debug(COMPONENT,
                  "blind index: waited %.1f ms for the worker (%.1f ms after it started)",
                  (double)(mono_us() - t0) / 1000.0, (double)(mono_us() - j->started_us) / 1000.0);
      }
    }
    if(j->rc) {
      log_warn(COMPONENT, "deriving the blind index ahead failed: %s", sqr_strerror(j->rc));
      why = "the worker failed";
    } else if(j->config_version != cfg->version)
      why = "the configuration changed since";
  }
  if(why) {
    if(p) p->stats.in_call++;
    log_debug(COMPONENT, "blind index: derived in the call (%s)", why);
    return NULL;
  }
  memcpy(out->bytes, j->index, sizeof out->bytes);
  out->config_version = j->config_version;
  p->stats.ahead++;
  log_debug(COMPONENT, "blind index: derived ahead and used");
  return out;
}

void ui_prefetch_discard(ui_prefetch *p) {
  if(!p) return;
  if(p->cur) {
    retire(p, p->cur);
    p->cur = NULL;
  }
  job_free(p->old);
  p->old = NULL;
}

void ui_prefetch_reap(ui_prefetch *p) {
  if(!p) return;
  if(p->cur && p->cur->running && atomic_load(&p->cur->done)) join(p->cur);
  if(p->old && (!p->old->running || atomic_load(&p->old->done))) {
    job_free(p->old);
    p->old = NULL;
  }
}

int ui_prefetch_holds(const ui_prefetch *p) {
  return p && (p->cur || p->old);
}

void ui_prefetch_stats_get(const ui_prefetch *p, ui_prefetch_stats *out) {
  if(p)
    *out = p->stats;
  else
    memset(out, 0, sizeof *out);
}
