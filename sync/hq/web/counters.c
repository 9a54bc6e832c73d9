/* counters.c — see counters.h. */
#include "counters.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* The labels the route table gives (counters_set_routes), then "other";
 * set once before any request is counted. */
#define NROUTES    (COUNTERS_ROUTES_MAX + 1)
#define STATUS_MIN COUNTERS_STATUS_MIN
#define NSTATUS    (COUNTERS_STATUS_MAX - COUNTERS_STATUS_MIN)
static const char *routes[NROUTES];
static size_t nroutes;
static _Atomic uint64_t requests[NROUTES][NSTATUS];
static _Atomic uint64_t ingest_batches, ingest_events;
static _Atomic uint64_t proxy_refused;
static _Atomic uint64_t leases[2]; /* [by_scan] */
static _Atomic int64_t cert_expiry[2];

static struct {
  char name[32];
  _Atomic uint64_t n;
} outcomes[COUNTERS_OUTCOMES];
static _Atomic size_t noutcomes;
static pthread_mutex_t outcome_lock = PTHREAD_MUTEX_INITIALIZER;

void counters_set_routes(const char *const *labels, size_t n) {
  nroutes = 0;
  for(size_t i = 0; i < n && nroutes < COUNTERS_ROUTES_MAX; i++)
    routes[nroutes++] = labels[i];
  routes[nroutes++] = "other";
}

void counters_add_request(const char *route, int status) {
  size_t ri = nroutes ? nroutes - 1 : 0; /* "other" */
  for(size_t i = 0; route && i + 1 < nroutes; i++)
    if(strcmp(route, routes[i]) == 0) {
      ri = i;
      break;
    }
  if(status < STATUS_MIN || status >= STATUS_MIN + NSTATUS) status = 500;
  atomic_fetch_add_explicit(&requests[ri][status - STATUS_MIN], 1, memory_order_relaxed);
}

void counters_add_ingest(int batches, int events) {
  if(batches > 0)
    atomic_fetch_add_explicit(&ingest_batches, (uint64_t)batches, memory_order_relaxed);
  if(events > 0) atomic_fetch_add_explicit(&ingest_events, (uint64_t)events, memory_order_relaxed);
}

static int outcome_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if(n == 0 || n >= sizeof outcomes[0].name || strcmp(s, "other") == 0) return 0;
  for(; *s; s++)
    if(!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

void counters_add_scan(const char *outcome) {
  size_t slot = COUNTERS_OUTCOMES - 1; /* the last slot is "other" */
  if(outcome_valid(outcome)) {
    /* names are only ever appended and published by the count's release
     * store, so the common case searches without the lock */
    size_t n = atomic_load_explicit(&noutcomes, memory_order_acquire), i = 0;
    while(i < n && strcmp(outcomes[i].name, outcome) != 0)
      i++;
    if(i == n) {
      pthread_mutex_lock(&outcome_lock);
      n = atomic_load_explicit(&noutcomes, memory_order_relaxed);
      i = 0;
      while(i < n && strcmp(outcomes[i].name, outcome) != 0)
        i++;
      if(i == n && n < COUNTERS_OUTCOMES - 1) {
        snprintf(outcomes[n].name, sizeof outcomes[n].name, "%s", outcome);
        atomic_store_explicit(&noutcomes, n + 1, memory_order_release);
        n++;
      }
      pthread_mutex_unlock(&outcome_lock);
    }
    if(i < n) slot = i;
  }
  atomic_fetch_add_explicit(&outcomes[slot].n, 1, memory_order_relaxed);
}

size_t counters_routes(void) {
  return nroutes;
}

const char *counters_route_name(size_t route) {
  return route < nroutes ? routes[route] : "other";
}

uint64_t counters_request_count(size_t route, int status) {
  if(route >= nroutes || status < STATUS_MIN || status >= STATUS_MIN + NSTATUS) return 0;
  return atomic_load_explicit(&requests[route][status - STATUS_MIN], memory_order_relaxed);
}

uint64_t counters_ingest_batches(void) {
  return atomic_load_explicit(&ingest_batches, memory_order_relaxed);
}

uint64_t counters_ingest_events(void) {
  return atomic_load_explicit(&ingest_events, memory_order_relaxed);
}

size_t counters_scans(void) {
  return atomic_load_explicit(&noutcomes, memory_order_acquire);
}

const char *counters_scan_name(size_t i) {
  return i == COUNTERS_OUTCOMES - 1 ? "other" : i < COUNTERS_OUTCOMES ? outcomes[i].name : "";
}

uint64_t counters_scan_count(size_t i) {
  return i < COUNTERS_OUTCOMES ? atomic_load_explicit(&outcomes[i].n, memory_order_relaxed) : 0;
}

void counters_add_proxy_refused(void) {
  atomic_fetch_add_explicit(&proxy_refused, 1, memory_order_relaxed);
}

void counters_add_lease(int by_scan) {
  atomic_fetch_add_explicit(&leases[by_scan != 0], 1, memory_order_relaxed);
}

uint64_t counters_leases(int by_scan) {
  return atomic_load_explicit(&leases[by_scan != 0], memory_order_relaxed);
}

uint64_t counters_proxy_refused(void) {
  return atomic_load_explicit(&proxy_refused, memory_order_relaxed);
}

void counters_set_cert_expiry(int which, int64_t not_after) {
  if(which == 0 || which == 1)
    atomic_store_explicit(&cert_expiry[which], not_after, memory_order_relaxed);
}

int64_t counters_cert_expiry(int which) {
  return which == 0 || which == 1 ? atomic_load_explicit(&cert_expiry[which], memory_order_relaxed)
                                  : 0;
}
