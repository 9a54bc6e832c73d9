/* counters.h — the counters every route feeds (requests by route and
 * status, scans by outcome, ingested batches and events), read by
 * GET /metrics. Lock-free once a scan outcome's name is known; safe from
 * any server thread. A leaf of the web layer: includes nothing of HQ's.
 */
#ifndef SQR_COUNTERS_H
#define SQR_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#define COUNTERS_STATUS_MIN 100
#define COUNTERS_STATUS_MAX 600 /* statuses outside count as 500 */
#define COUNTERS_OUTCOMES   16  /* the last slot is "other" */
#define COUNTERS_ROUTES_MAX 31  /* route labels (routes.c has 14) */

/* The route labels requests are counted under (the route table's, in its
 * order; the strings must outlive the counters), plus "other". Called
 * once, before the server takes requests. */
void counters_set_routes(const char *const *labels, size_t n);
/* route: one of those labels (unknown ones count as "other"). */
void counters_add_request(const char *route, int status);
void counters_add_ingest(int batches, int events);
/* A trusted balancer's connection closed for want of a valid PROXY v2
 * header (server.c). */
void counters_add_proxy_refused(void);
/* A lease of a group's seats asked of the database: by a scan whose
 * group had spent its seats (on the request's thread), or by the
 * flusher (a top-up, or the next group ahead of its first shopper). */
void counters_add_lease(int by_scan);
uint64_t counters_leases(int by_scan);
uint64_t counters_proxy_refused(void);
/* When HQ's certificates stop being valid (unix seconds; 0: none), set
 * once at start: which 0 is server.crt, 1 the public certificate. */
void counters_set_cert_expiry(int which, int64_t not_after);
int64_t counters_cert_expiry(int which);
/* One scan the resolver answered, by outcome: a name of [a-z0-9_], at
 * most 31 characters (e.g. "sent", "expired", "forged", "all_full",
 * "unknown_store"); the first 15 names get their own series, others and
 * malformed ones count as "other". */
void counters_add_scan(const char *outcome);

/* Reading them: routes 0..counters_routes()-1, scan slots
 * 0..COUNTERS_OUTCOMES-1 (those below counters_scans() are named, the
 * last is "other"). */
size_t counters_routes(void);
const char *counters_route_name(size_t route);
uint64_t counters_request_count(size_t route, int status);
uint64_t counters_ingest_batches(void);
uint64_t counters_ingest_events(void);
size_t counters_scans(void);
const char *counters_scan_name(size_t i);
uint64_t counters_scan_count(size_t i);

#endif
