/* metrics.c — see web.h. Counters every server thread feeds, and
 * GET /metrics in the Prometheus text exposition format 0.0.4.
 *
 * Counters are C11 atomics in fixed tables: a request adds one relaxed
 * increment, takes no lock, and a hostile URL or status cannot grow the
 * label space (routes are server.c's bounded labels, statuses 100..599,
 * scan outcomes at most METRICS_OUTCOMES names of [a-z0-9_]). Gauges that
 * describe stores (sync lag, events behind, groups near expiry or full)
 * are read from the database and the resolver at scrape time, under the
 * server's storage lock like every route.
 *
 * /metrics needs the admin bearer token (or a dashboard session): it names
 * every store. Prometheus sends it with `authorization: credentials_file`.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "log.h"
#include "stats.h"
#include "web.h"

static const char *const routes[] = {"/v1/events",    "/v1/config", "/v1/enroll",  "/v1/stats",
                                     "/v1/stats.csv", "/metrics",   "/J",          "/N",
                                     "/dash",         "/v1/admin",  "/v1/bundles", "other"};
#define NROUTES    (sizeof routes / sizeof routes[0])
#define STATUS_MIN 100
#define NSTATUS    500
static _Atomic uint64_t requests[NROUTES][NSTATUS];
static _Atomic uint64_t ingest_batches, ingest_events;

#define METRICS_OUTCOMES 16
static struct {
  char name[32];
  _Atomic uint64_t n;
} outcomes[METRICS_OUTCOMES];
static _Atomic size_t noutcomes;
static pthread_mutex_t outcome_lock = PTHREAD_MUTEX_INITIALIZER;

void metrics_request(const char *route, int status) {
  size_t ri = NROUTES - 1;
  for(size_t i = 0; route && i < NROUTES - 1; i++)
    if(strcmp(route, routes[i]) == 0) {
      ri = i;
      break;
    }
  if(status < STATUS_MIN || status >= STATUS_MIN + NSTATUS) status = 500;
  atomic_fetch_add_explicit(&requests[ri][status - STATUS_MIN], 1, memory_order_relaxed);
}

void metrics_ingest(int batches, int events) {
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

void metrics_scan(const char *outcome) {
  size_t slot = METRICS_OUTCOMES - 1; /* the last slot is "other" */
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
      if(i == n && n < METRICS_OUTCOMES - 1) {
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

/* A label value: backslash, double quote and line feed escaped. */
static void label(stats_buf *b, const char *s) {
  for(; *s; s++) {
    if(*s == '\\')
      stats_buf_puts(b, "\\\\");
    else if(*s == '"')
      stats_buf_puts(b, "\\\"");
    else if(*s == '\n')
      stats_buf_puts(b, "\\n");
    else
      stats_buf_put(b, s, 1);
  }
}

static void head(stats_buf *b, const char *name, const char *type, const char *help) {
  stats_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef struct lag_ctx {
  stats_buf *b;
  int64_t now;
  int64_t stores;
} lag_ctx;

static void lag_line(void *arg, const char *store, int64_t last_ms) {
  lag_ctx *l = arg;
  int64_t lag = l->now > last_ms ? (l->now - last_ms) / 1000 : 0;
  stats_buf_puts(l->b, "storeqr_hq_store_sync_lag_seconds{store=\"");
  label(l->b, store);
  stats_buf_printf(l->b, "\"} %lld\n", (long long)lag);
  l->stores++;
}

static void behind_line(void *arg, const char *store, int64_t behind) {
  stats_buf *b = arg;
  stats_buf_puts(b, "storeqr_hq_store_events_behind{store=\"");
  label(b, store);
  stats_buf_printf(b, "\"} %lld\n", (long long)behind);
}

static sqr_rc render(hq *h, stats_buf *b) {
  head(b, "storeqr_hq_http_requests_total", "counter",
       "Requests HQ answered, by route and HTTP status.");
  for(size_t r = 0; r < NROUTES; r++)
    for(int s = 0; s < NSTATUS; s++) {
      uint64_t v = atomic_load_explicit(&requests[r][s], memory_order_relaxed);
      if(v)
        stats_buf_printf(b, "storeqr_hq_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                         routes[r], s + STATUS_MIN, (unsigned long long)v);
    }
  head(b, "storeqr_hq_scans_total", "counter",
       "Scans of kiosk and brand codes the resolver answered, by outcome.");
  size_t n = atomic_load_explicit(&noutcomes, memory_order_acquire);
  for(size_t i = 0; i < METRICS_OUTCOMES; i++) {
    if(i >= n && i != METRICS_OUTCOMES - 1) continue;
    uint64_t v = atomic_load_explicit(&outcomes[i].n, memory_order_relaxed);
    if(i == METRICS_OUTCOMES - 1 && !v) continue;
    stats_buf_puts(b, "storeqr_hq_scans_total{outcome=\"");
    label(b, i == METRICS_OUTCOMES - 1 ? "other" : outcomes[i].name);
    stats_buf_printf(b, "\"} %llu\n", (unsigned long long)v);
  }
  head(b, "storeqr_hq_ingest_batches_total", "counter",
       "Event batches kiosks uploaded and HQ stored.");
  stats_buf_printf(b, "storeqr_hq_ingest_batches_total %llu\n",
                   (unsigned long long)atomic_load_explicit(&ingest_batches, memory_order_relaxed));
  head(b, "storeqr_hq_ingest_events_total", "counter", "Events in those batches.");
  stats_buf_printf(b, "storeqr_hq_ingest_events_total %llu\n",
                   (unsigned long long)atomic_load_explicit(&ingest_events, memory_order_relaxed));

  stats_totals t;
  int64_t now = hq_now_ms();
  sqr_rc rc = hqdb_stats_totals(h->db, stats_day_of_ms(now), now - 24 * 3600 * 1000LL, &t);
  if(rc) return rc;
  head(b, "storeqr_hq_stores", "gauge", "Stores HQ knows.");
  stats_buf_printf(b, "storeqr_hq_stores %lld\n", (long long)t.stores);
  head(b, "storeqr_hq_stores_never_synced", "gauge", "Stores none of whose kiosks ever uploaded.");
  stats_buf_printf(b, "storeqr_hq_stores_never_synced %lld\n", (long long)t.never_synced);
  head(b, "storeqr_hq_store_sync_lag_seconds", "gauge",
       "Seconds since the newest upload HQ accepted from any kiosk of the store.");
  lag_ctx l = {b, now, 0};
  if((rc = hqdb_stats_sync_each(h->db, lag_line, &l))) return rc;
  head(b, "storeqr_hq_store_events_behind", "gauge",
       "Events the store's kiosks said they still held after their last accepted upload.");
  if((rc = hqdb_stats_behind_each(h->db, behind_line, b))) return rc;

  /* groups: only stores with live groups, and only non-zero series, so
   * 5,000 stores without trouble add no lines */
  char(*ids)[HQ_ID_MAX] = NULL;
  size_t nids = 0;
  if((rc = hqdb_stats_group_stores(h->db, &ids, &nids))) return rc;
  stats_groups *g = malloc(sizeof *g);
  stats_buf near_exp = {0}, near_full = {0}, full = {0}, exhausted = {0};
  int64_t tot_exp = 0, tot_full = 0, tot_nfull = 0, tot_exh = 0;
  if(!g) rc = SQR_ENOMEM;
  for(size_t i = 0; !rc && i < nids; i++) {
    if((rc = stats_groups_get(h, ids[i], g))) break;
    struct {
      stats_buf *buf;
      const char *name;
      int v;
      int64_t *tot;
    } rows[] = {{&near_exp, "storeqr_hq_store_groups_near_expiry", g->near_expiry, &tot_exp},
                {&near_full, "storeqr_hq_store_groups_near_full", g->near_full, &tot_nfull},
                {&full, "storeqr_hq_store_groups_full", g->full, &tot_full},
                {&exhausted, "storeqr_hq_store_groups_exhausted", g->exhausted, &tot_exh}};
    for(size_t k = 0; k < SQR_ARRAY_LEN(rows); k++) {
      if(!rows[k].v) continue;
      *rows[k].tot += rows[k].v;
      stats_buf_printf(rows[k].buf, "%s{store=\"", rows[k].name);
      label(rows[k].buf, ids[i]);
      stats_buf_printf(rows[k].buf, "\"} %d\n", rows[k].v);
    }
  }
  free(g);
  free(ids);
  if(!rc) {
    head(b, "storeqr_hq_store_groups_near_expiry", "gauge",
         "Live-code groups of the store expiring within 24 hours (or expired).");
    stats_buf_puts(b, near_exp.p ? near_exp.p : "");
    head(b, "storeqr_hq_store_groups_near_full", "gauge",
         "Live-code groups of the store at 90% of their fill limit, not yet full.");
    stats_buf_puts(b, near_full.p ? near_full.p : "");
    head(b, "storeqr_hq_store_groups_full", "gauge",
         "Live-code groups of the store the resolver no longer sends shoppers to.");
    stats_buf_puts(b, full.p ? full.p : "");
    head(b, "storeqr_hq_store_groups_exhausted", "gauge",
         "1 when every live-code group of the store is unusable.");
    stats_buf_puts(b, exhausted.p ? exhausted.p : "");
    head(b, "storeqr_hq_groups_near_expiry", "gauge",
         "Groups expiring within 24 hours, all stores.");
    stats_buf_printf(b, "storeqr_hq_groups_near_expiry %lld\n", (long long)tot_exp);
    head(b, "storeqr_hq_groups_near_full", "gauge", "Groups near full, all stores.");
    stats_buf_printf(b, "storeqr_hq_groups_near_full %lld\n", (long long)tot_nfull);
    head(b, "storeqr_hq_groups_full", "gauge", "Full groups, all stores.");
    stats_buf_printf(b, "storeqr_hq_groups_full %lld\n", (long long)tot_full);
    head(b, "storeqr_hq_stores_exhausted", "gauge", "Stores whose groups are all unusable.");
    stats_buf_printf(b, "storeqr_hq_stores_exhausted %lld\n", (long long)tot_exh);
  }
  if(near_exp.failed || near_full.failed || full.failed || exhausted.failed) b->failed = 1;
  free(near_exp.p);
  free(near_full.p);
  free(full.p);
  free(exhausted.p);
  return rc;
}

int metrics_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  hq_reply *r) {
  if(strcmp(url, "/metrics") != 0) return 0;
  if(strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    hq_reply_error(r, 405, "method", "GET only", NULL, 0);
    return 1;
  }
  if(!auth_request_ok(h, c)) {
    hq_reply_error(r, 401, "unauthorized", "Authorization: Bearer token required", NULL, 0);
    return 1;
  }
  stats_buf b = {0};
  sqr_rc rc = render(h, &b);
  if(rc) {
    free(b.p);
    log_error("metrics", "scrape: %s", hqdb_errmsg(h->db));
    hq_reply_error(r, 500, "storage", "HQ's database failed; try again", NULL, 0);
    return 1;
  }
  stats_buf_reply(&b, r, 200, "text/plain; version=0.0.4; charset=utf-8");
  return 1;
}
