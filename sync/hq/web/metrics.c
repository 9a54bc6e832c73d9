/* metrics.c — see metrics.h. GET /metrics in the Prometheus text
 * exposition format 0.0.4.
 *
 * The counters (counters.c) are C11 atomics in fixed tables: a request
 * adds one relaxed increment, takes no lock, and a hostile URL or status
 * cannot grow the label space (routes are routes.c's labels, statuses
 * 100..599, scan outcomes at most COUNTERS_OUTCOMES names). Gauges that
 * describe stores (sync lag, events behind, groups near expiry or full)
 * and the counters kept in tables (alerts by kind, kiosks' clock jumps)
 * are read from the database and the resolver at scrape time, under the
 * server's storage lock like every route. When the database cannot be
 * read the scrape still answers 200 with the process's own series and
 * storeqr_hq_storage_up 0.
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

#include "alerts.h"
#include "retention.h"
#include "sealjob.h"
#include "login.h"
#include "log.h"
#include "stats_web.h"
#include "metrics.h"
#include "counters.h"
#include "sockopt.h"

/* A label value: backslash, double quote and line feed escaped. */
static void label(dynbuf *b, const char *s) {
  for(; *s; s++) {
    if(*s == '\\')
      dynbuf_adds(b, "\\\\");
    else if(*s == '"')
      dynbuf_adds(b, "\\\"");
    else if(*s == '\n')
      dynbuf_adds(b, "\\n");
    else
      dynbuf_add(b, s, 1);
  }
}

static void head(dynbuf *b, const char *name, const char *type, const char *help) {
  dynbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef struct lag_ctx {
  dynbuf *b;
  int64_t now;
  int64_t stores;
} lag_ctx;

static void lag_line(void *arg, const char *store, int64_t last_ms) {
  lag_ctx *l = arg;
  int64_t lag = l->now > last_ms ? (l->now - last_ms) / 1000 : 0;
  dynbuf_adds(l->b, "storeqr_hq_store_sync_lag_seconds{store=\"");
  label(l->b, store);
  dynbuf_addf(l->b, "\"} %lld\n", (long long)lag);
  l->stores++;
}

static void behind_line(void *arg, const char *store, int64_t behind) {
  dynbuf *b = arg;
  dynbuf_adds(b, "storeqr_hq_store_events_behind{store=\"");
  label(b, store);
  dynbuf_addf(b, "\"} %lld\n", (long long)behind);
}

static void alert_kind_line(void *arg, const char *kind, int64_t n) {
  dynbuf *b = arg;
  dynbuf_adds(b, "storeqr_hq_alerts_total{kind=\"");
  label(b, kind);
  dynbuf_addf(b, "\"} %lld\n", (long long)n);
}

/* kiosk_id is "STORE/N": the kiosk label is N, the store its own label. */
static void clock_jump_line(void *arg, const char *store, const char *kiosk_id, int64_t jumps) {
  dynbuf *b = arg;
  const char *slash = strchr(kiosk_id, '/');
  dynbuf_adds(b, "storeqr_hq_kiosk_clock_jumps_total{store=\"");
  label(b, store);
  dynbuf_adds(b, "\",kiosk=\"");
  label(b, slash ? slash + 1 : kiosk_id);
  dynbuf_addf(b, "\"} %lld\n", (long long)jumps);
}

/* The process's own series: counters in memory, the resolver's unflushed
 * counts. Never touches storage, so they show during an outage. */
static void render_process(hq *h, dynbuf *b) {
  head(b, "storeqr_hq_http_requests_total", "counter",
       "Requests HQ answered, by route and HTTP status.");
  for(size_t r = 0; r < counters_routes(); r++)
    for(int s = 0; s < COUNTERS_STATUS_MAX - COUNTERS_STATUS_MIN; s++) {
      uint64_t v = counters_request_count(r, s + COUNTERS_STATUS_MIN);
      if(v)
        dynbuf_addf(b, "storeqr_hq_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                    counters_route_name(r), s + COUNTERS_STATUS_MIN, (unsigned long long)v);
    }
  head(b, "storeqr_hq_scans_total", "counter",
       "Scans of kiosk and brand codes the resolver answered, by outcome.");
  size_t n = counters_scans();
  for(size_t i = 0; i < COUNTERS_OUTCOMES; i++) {
    if(i >= n && i != COUNTERS_OUTCOMES - 1) continue;
    uint64_t v = counters_scan_count(i);
    if(i == COUNTERS_OUTCOMES - 1 && !v) continue;
    dynbuf_adds(b, "storeqr_hq_scans_total{outcome=\"");
    label(b, counters_scan_name(i));
    dynbuf_addf(b, "\"} %llu\n", (unsigned long long)v);
  }
  head(b, "storeqr_hq_ingest_batches_total", "counter",
       "Event batches kiosks uploaded and HQ stored.");
  dynbuf_addf(b, "storeqr_hq_ingest_batches_total %llu\n",
              (unsigned long long)counters_ingest_batches());
  head(b, "storeqr_hq_ingest_events_total", "counter", "Events in those batches.");
  dynbuf_addf(b, "storeqr_hq_ingest_events_total %llu\n",
              (unsigned long long)counters_ingest_events());
  head(b, "storeqr_hq_tls_cert_expiry_timestamp_seconds", "gauge",
       "When HQ's certificates stop being valid: server (kiosks, HQ's CA) and public (phones).");
  for(int i = 0; i < 2; i++)
    if(counters_cert_expiry(i))
      dynbuf_addf(b, "storeqr_hq_tls_cert_expiry_timestamp_seconds{cert=\"%s\"} %lld\n",
                  i ? "public" : "server", (long long)counters_cert_expiry(i));
  head(b, "storeqr_hq_proxy_refused_total", "counter",
       "Connections from a trusted balancer closed without a valid PROXY v2 header.");
  dynbuf_addf(b, "storeqr_hq_proxy_refused_total %llu\n",
              (unsigned long long)counters_proxy_refused());
  head(b, "storeqr_hq_seat_leases_total", "counter",
       "Leases of a group's seats asked of the database: by a scan that found its group's seats"
       " spent (it waits for the transaction), or by the flusher ahead of need.");
  for(int by_scan = 1; by_scan >= 0; by_scan--)
    dynbuf_addf(b, "storeqr_hq_seat_leases_total{by=\"%s\"} %llu\n", by_scan ? "scan" : "flush",
                (unsigned long long)counters_leases(by_scan));
  head(b, "storeqr_hq_connections_open", "gauge",
       "HTTPS connections open (those whose TCP options HQ keeps; 0 with SQR_HQ_TCP_OWN=0).");
  dynbuf_addf(b, "storeqr_hq_connections_open %ld\n", sockopt_owned());
  uint64_t unflushed = 0, dropped = 0;
  resolve_counts_state(&unflushed, &dropped);
  head(b, "storeqr_hq_scan_counts_unflushed", "gauge",
       "Scans the resolver counted in memory and has not yet written to the database.");
  dynbuf_addf(b, "storeqr_hq_scan_counts_unflushed %llu\n", (unsigned long long)unflushed);
  head(b, "storeqr_hq_scan_counts_dropped_total", "counter",
       "Scans never written: past the unflushed memory bound, out of memory, or stopping during a"
       " database outage.");
  dynbuf_addf(b, "storeqr_hq_scan_counts_dropped_total %llu\n", (unsigned long long)dropped);
  uint64_t waiting = 0, alerts_dropped = 0;
  hq_alert_queue_state(h, &waiting, &alerts_dropped);
  head(b, "storeqr_hq_alerts_waiting", "gauge",
       "Alerts raised while the database was unavailable, kept in memory until it is back.");
  dynbuf_addf(b, "storeqr_hq_alerts_waiting %llu\n", (unsigned long long)waiting);
  head(b, "storeqr_hq_alerts_dropped_total", "counter",
       "Alerts never written: raised while the database was unavailable with the memory queue"
       " full.");
  dynbuf_addf(b, "storeqr_hq_alerts_dropped_total %llu\n", (unsigned long long)alerts_dropped);
}

/* The per-store group series, gathered store by store. */
typedef struct group_lines {
  dynbuf near_exp, near_full, full, exhausted;
  int64_t tot_exp, tot_full, tot_nfull, tot_exh;
} group_lines;

static void group_line(void *arg, const char *store, const stats_groups *g) {
  group_lines *gl = arg;
  struct {
    dynbuf *buf;
    const char *name;
    int v;
    int64_t *tot;
  } rows[] = {{&gl->near_exp, "storeqr_hq_store_groups_near_expiry", g->near_expiry, &gl->tot_exp},
              {&gl->near_full, "storeqr_hq_store_groups_near_full", g->near_full, &gl->tot_nfull},
              {&gl->full, "storeqr_hq_store_groups_full", g->full, &gl->tot_full},
              {&gl->exhausted, "storeqr_hq_store_groups_exhausted", g->exhausted, &gl->tot_exh}};
  for(size_t k = 0; k < SQR_ARRAY_LEN(rows); k++) {
    if(!rows[k].v) continue;
    *rows[k].tot += rows[k].v;
    dynbuf_addf(rows[k].buf, "%s{store=\"", rows[k].name);
    label(rows[k].buf, store);
    dynbuf_addf(rows[k].buf, "\"} %d\n", rows[k].v);
  }
}

/* The series read from the database; b holds them only when it returns
 * SQR_OK (the caller drops the part of a failed read). */
static sqr_rc render_storage(hq *h, dynbuf *b) {
  stats_totals t;
  int64_t now = hq_now_ms();
  sqr_rc rc = hq_stats_totals(h, stats_day_of_ms(now), now - 24 * 3600 * 1000LL, &t);
  if(rc) return rc;
  int64_t backlog = 0, oldest = 0;
  if((rc = hq_seal_backlog(h, &backlog, &oldest))) return rc;
  head(b, "storeqr_hq_seal_backlog", "gauge",
       "Sign-ups' sealed phones acknowledged and waiting for the background opener.");
  dynbuf_addf(b, "storeqr_hq_seal_backlog %lld\n", (long long)backlog);
  head(b, "storeqr_hq_seal_backlog_age_seconds", "gauge",
       "Age of the oldest sealed phone waiting (0 when none).");
  dynbuf_addf(b, "storeqr_hq_seal_backlog_age_seconds %.3f\n",
              oldest && now > oldest ? (double)(now - oldest) / 1000.0 : 0.0);
  int ran = 0;
  int64_t ran_ms = 0, erased = 0;
  if((rc = hq_retention_last(h, &ran, &ran_ms, &erased))) return rc;
  head(b, "storeqr_hq_retention_last_run_timestamp_seconds", "gauge",
       "When HQ's retention job last completed a run, unix seconds (0: never).");
  dynbuf_addf(b, "storeqr_hq_retention_last_run_timestamp_seconds %.3f\n",
              ran ? (double)ran_ms / 1000.0 : 0.0);
  head(b, "storeqr_hq_retention_last_run_erased", "gauge",
       "Members the last completed retention run erased (inactive for retention.member_days).");
  dynbuf_addf(b, "storeqr_hq_retention_last_run_erased %lld\n", (long long)erased);
  head(b, "storeqr_hq_stores", "gauge", "Stores HQ knows.");
  dynbuf_addf(b, "storeqr_hq_stores %lld\n", (long long)t.stores);
  head(b, "storeqr_hq_stores_never_synced", "gauge", "Stores none of whose kiosks ever uploaded.");
  dynbuf_addf(b, "storeqr_hq_stores_never_synced %lld\n", (long long)t.never_synced);
  head(b, "storeqr_hq_store_sync_lag_seconds", "gauge",
       "Seconds since the newest upload HQ accepted from any kiosk of the store.");
  lag_ctx l = {b, now, 0};
  if((rc = hq_stats_sync_each(h, lag_line, &l))) return rc;
  head(b, "storeqr_hq_store_events_behind", "gauge",
       "Events the store's kiosks said they still held after their last accepted upload.");
  if((rc = hq_stats_behind_each(h, behind_line, b))) return rc;
  head(b, "storeqr_hq_alerts_total", "counter",
       "Alerts HQ raised (chain_broken, revoked_cert, clock_jump, seal, groups_exhausted, ...;"
       " at most one per kiosk or store and kind an hour), by kind.");
  if((rc = hq_stats_alert_kinds_each(h, alert_kind_line, b))) return rc;
  head(b, "storeqr_hq_kiosk_clock_jumps_total", "counter",
       "Clock jumps the kiosk recorded and uploaded: its clock set by more than 2 minutes, or its"
       " time against HQ's moved that much.");
  if((rc = hq_stats_clock_each(h, clock_jump_line, b))) return rc;

  /* groups: only stores with live groups, and only non-zero series, so
   * 5,000 stores without trouble add no lines; all of them from one read
   * (a store at a time made the first scrape after a start take 1.9 s) */
  group_lines gl = {0};
  dynbuf_init(&gl.near_exp, STATS_ANSWER_MAX);
  dynbuf_init(&gl.near_full, STATS_ANSWER_MAX);
  dynbuf_init(&gl.full, STATS_ANSWER_MAX);
  dynbuf_init(&gl.exhausted, STATS_ANSWER_MAX);
  rc = stats_groups_each(h, group_line, &gl);
  if(!rc) {
    head(b, "storeqr_hq_store_groups_near_expiry", "gauge",
         "Live-code groups of the store expiring within 24 hours (or expired).");
    dynbuf_adds(b, dynbuf_ptr(&gl.near_exp));
    head(b, "storeqr_hq_store_groups_near_full", "gauge",
         "Live-code groups of the store at 90% of their fill limit, not yet full.");
    dynbuf_adds(b, dynbuf_ptr(&gl.near_full));
    head(b, "storeqr_hq_store_groups_full", "gauge",
         "Live-code groups of the store the resolver no longer sends shoppers to.");
    dynbuf_adds(b, dynbuf_ptr(&gl.full));
    head(b, "storeqr_hq_store_groups_exhausted", "gauge",
         "1 when every live-code group of the store is unusable.");
    dynbuf_adds(b, dynbuf_ptr(&gl.exhausted));
    head(b, "storeqr_hq_groups_near_expiry", "gauge",
         "Groups expiring within 24 hours, all stores.");
    dynbuf_addf(b, "storeqr_hq_groups_near_expiry %lld\n", (long long)gl.tot_exp);
    head(b, "storeqr_hq_groups_near_full", "gauge", "Groups near full, all stores.");
    dynbuf_addf(b, "storeqr_hq_groups_near_full %lld\n", (long long)gl.tot_nfull);
    head(b, "storeqr_hq_groups_full", "gauge", "Full groups, all stores.");
    dynbuf_addf(b, "storeqr_hq_groups_full %lld\n", (long long)gl.tot_full);
    head(b, "storeqr_hq_stores_exhausted", "gauge", "Stores whose groups are all unusable.");
    dynbuf_addf(b, "storeqr_hq_stores_exhausted %lld\n", (long long)gl.tot_exh);
  }
  /* a part that failed fails the whole exposition */
  if(!rc) rc = dynbuf_error(&gl.near_exp);
  if(!rc) rc = dynbuf_error(&gl.near_full);
  if(!rc) rc = dynbuf_error(&gl.full);
  if(!rc) rc = dynbuf_error(&gl.exhausted);
  dynbuf_free(&gl.near_exp);
  dynbuf_free(&gl.near_full);
  dynbuf_free(&gl.full);
  dynbuf_free(&gl.exhausted);
  return rc;
}

int metrics_route(hq *h, struct MHD_Connection *c, const char *method, const char *url,
                  hq_reply *r) {
  if(strcmp(url, "/metrics") != 0) return 0;
  if(strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    hq_reply_error(r, 405, "method", "GET only", NULL, 0);
    return 1;
  }
  if(!login_request_ok(h, c)) {
    hq_reply_error(r, 401, "unauthorized", "Authorization: Bearer token required", NULL, 0);
    return 1;
  }
  dynbuf b, st;
  dynbuf_init(&b, STATS_ANSWER_MAX);
  dynbuf_init(&st, STATS_ANSWER_MAX);
  render_process(h, &b);
  sqr_rc rc = render_storage(h, &st);
  if(rc == SQR_ENOMEM || rc == SQR_ETOOBIG) { /* a part of the text, not the storage */
    dynbuf_free(&b);
    dynbuf_free(&st);
    hq_reply_error(r, rc == SQR_ETOOBIG ? 413 : 500, rc == SQR_ETOOBIG ? "too_large" : "internal",
                   rc == SQR_ETOOBIG ? "the exposition would pass 64 MiB" : "out of memory", NULL,
                   0);
    return 1;
  }
  /* The database down is what a scrape must show most: 200 with the
   * process's own series and storage_up 0, the database's series left
   * out (absent, not zero: no alert fires on a store "never synced"). */
  if(rc) log_error("metrics", "scrape without the database's series: %s", hq_storage_error(h));
  head(&b, "storeqr_hq_storage_up", "gauge",
       "1 when this scrape read HQ's database, 0 when it could not (its series are left out).");
  dynbuf_addf(&b, "storeqr_hq_storage_up %d\n", rc ? 0 : 1);
  if(!rc) dynbuf_add(&b, dynbuf_ptr(&st), dynbuf_len(&st));
  dynbuf_free(&st);
  hq_reply_text(r, &b, 200, "text/plain; version=0.0.4; charset=utf-8",
                "the exposition would pass 64 MiB");
  return 1;
}
