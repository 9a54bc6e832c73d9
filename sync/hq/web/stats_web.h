/* stats_web.h — HQ's figures for people on the web: GET /v1/stats (JSON)
 * and /v1/stats.csv, the text building the dashboard and /metrics share,
 * the periodic scan roll-up, and the live-code groups' fill as the
 * resolver sees them (the queries themselves: ops/stats.h).
 *
 * Never holds or returns a phone number: the figures are counts, staff
 * ids and store ids.
 */
#ifndef SQR_STATS_WEB_H
#define SQR_STATS_WEB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>
#include "hq.h"
#include "resolve.h"
#include "sqr.h"

#include "reply.h"
#include "stats.h"

/* The most any figures answer or page may be. */
#define STATS_ANSWER_MAX (64u * 1024 * 1024)

/* "2026-11-24T16:58:00+08:00" (Shanghai time; out: 26 bytes). */
void stats_time_format(int64_t ms, char out[26]);
/* Brings scan_days up to date at most every SQR_HQ_ROLLUP_MS (default
 * 30000 ms; 0: on every call): a roll-up re-reads the day's hours of
 * every store (~60 ms at 5,000 stores by evening, 130 ms of CPU with 36
 * hours of scans), so the figures may lag the resolver's scans by up to
 * 31 s (it writes them every second). The readers call it; the roller
 * below keeps it done ahead of them, so they find nothing to do.
 * Caller holds the server's storage lock. */
sqr_rc stats_rollup(hq *h) SQR_WARN_UNUSED;

/* The scan roll-up off the request path: once now (before HQ listens),
 * then from a thread every three quarters of SQR_HQ_ROLLUP_MS, under lock
 * (the server's storage lock), so no page view pays for it, the first
 * after a start included (issue 13). None when SQR_HQ_ROLLUP_MS is 0
 * (every read rolls up). A failed roll-up is logged and tried again at
 * the next turn; a reader that finds it overdue rolls up itself.
 * stats_roller_stop(NULL) does nothing. */
typedef struct stats_roller stats_roller;
sqr_rc stats_roller_start(hq *h, pthread_mutex_t *lock, stats_roller **out) SQR_WARN_UNUSED;
void stats_roller_stop(stats_roller *r);
/* A store's live-code groups as the resolver sees them (resolve.h), and
 * the fill of the group it sends shoppers to now: (joins + scans sent) /
 * min(capacity, GROUP_SCAN_LIMIT), 1 when no group is usable. */
typedef struct stats_groups {
  resolve_group_state g[32];
  size_t n;
  int live;         /* index of the group shoppers go to now, -1: none */
  double live_fill; /* 0..1 */
  int near_full, near_expiry, full, exhausted;
} stats_groups;
sqr_rc stats_groups_get(hq *h, const char *store, stats_groups *out) SQR_WARN_UNUSED;
/* stats_groups_get for every store with live-code groups, from one read
 * (resolve_groups_state_each): fn(arg, store, g) once per store, g reused
 * for the next. */
sqr_rc stats_groups_each(hq *h, void (*fn)(void *arg, const char *store, const stats_groups *g),
                         void *arg) SQR_WARN_UNUSED;
double stats_group_fill(const resolve_group_state *g);

/* GET /v1/stats and /v1/stats.csv (admin: bearer token or session). 1 if
 * url is one of them (r set), else 0. */
int stats_route(hq *h, struct MHD_Connection *c, const char *method, const char *url, hq_reply *r);

#endif
