/* resolve.h — the scan resolver's view of a store's groups, for the
 * dashboard and /metrics (dash.c, metrics.c), and its routes
 * (GET /J/<STORE>/<TOKEN>, GET /N/<BRAND>).
 *
 * The resolver fills a store's groups one at a time using HQ's own counts:
 * joins the kiosks reported (their sign-up events) plus shoppers the
 * resolver sent to each group's join link (group_scans, including what is
 * still in memory and not yet flushed). This header only reads that state.
 *
 * The resolver is one module in several files (resolve_int.h lists them):
 * resolve_serve and resolve_distance_km are resolve_routes.c's,
 * resolve_start/stop/flush resolve_counters.c's, resolve_groups_state and
 * resolve_invalidate resolve_cache.c's.
 */
#ifndef SQR_RESOLVE_H
#define SQR_RESOLVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

#include "hq.h"
#include "scan.h"
#include "reply.h"

typedef struct resolve_group_state {
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  int capacity;
  int64_t joins;      /* sign-ups the kiosks reported into this group */
  int64_t scans_sent; /* shoppers the resolver sent to its join link */
  int64_t expires_at; /* unix seconds, 0 = never */
  int full;           /* counted or marked full (group.h's rule) */
  int usable;         /* the rule would send a shopper to it now (not full,
                         not within the expiry margin) */
  int near_full;      /* full, or joins + scans_sent >= 90% of min(capacity, 200) */
  int near_expiry;    /* expires within 24 hours (or already expired) */
  int exhausted;      /* every live-code group of the store is unusable
                         (same value on each row of the store) */
} resolve_group_state;

/* Up to max live-code groups (store and welfare kinds, not retired) of a
 * store, in fill order, into out; *n is how many were written. Reads the
 * database and the resolver's unflushed counters; takes the resolver's own
 * lock, so any server thread may call it (the caller still serialises use
 * of h->db). SQR_ENOTFOUND for an unknown store, SQR_EINVAL for NULL
 * arguments, SQR_EIO on a storage error. */
sqr_rc resolve_groups_state(hq *h, const char *store, resolve_group_state *out, size_t max,
                            size_t *n) SQR_WARN_UNUSED;
/* resolve_groups_state for every store with live-code groups, from one
 * read of the database (and the resolver's table for the stores in it):
 * fn(arg, store, g, n) once per store, with g = out, which holds up to max
 * groups and is reused for the next store. The caller serialises use of
 * h->db as for resolve_groups_state. SQR_EINVAL for NULL arguments,
 * SQR_EIO on a storage error (fn may have been called for some stores). */
sqr_rc resolve_groups_state_each(hq *h, resolve_group_state *out, size_t max,
                                 void (*fn)(void *arg, const char *store,
                                            const resolve_group_state *g, size_t n),
                                 void *arg) SQR_WARN_UNUSED;

/* Great-circle distance in km between two points in decimal degrees
 * (haversine, mean Earth radius 6371.0088 km); /N/ picks the brand's
 * store with the smallest. */
double resolve_distance_km(double lat1, double lon1, double lat2, double lon2);

/* ---- parsing what a scanning phone sends (resolve_parse.c) ------------------- */
/* Pure functions of the request's bytes (no connection, no cache, no
 * storage), so tests/fuzz/fuzz_resolve feeds them anything. */

#define RESOLVE_URL_MAX 256 /* longer /J or /N paths: 414 */

typedef enum resolve_url_kind {
  RESOLVE_URL_OTHER = 0, /* not /J/... or /N/...: not the resolver's URL */
  RESOLVE_URL_TOO_LONG,  /* longer than RESOLVE_URL_MAX */
  RESOLVE_URL_NO_ID,     /* /J/ with an empty or overlong store part */
  RESOLVE_URL_BAD_ID,    /* an id that breaks livecode_store_id_valid's rule */
  RESOLVE_URL_J,         /* /J/<STORE>[/<TOKEN>]: id and token set */
  RESOLVE_URL_N,         /* /N/<BRAND>: id set */
} resolve_url_kind;

typedef struct resolve_url {
  resolve_url_kind kind;
  int j;              /* 1 for /J/, 0 for /N/ (any kind but OTHER) */
  char id[HQ_ID_MAX]; /* RESOLVE_URL_J: the store, _N: the brand; else "" */
  const char *token;  /* RESOLVE_URL_J: what follows "<STORE>/" in url
                         (borrowed, "" when none), else NULL */
} resolve_url;

/* Splits the (percent-decoded) path url into *out. Only the store or
 * brand id is checked here; the token is livecode's to judge. */
void resolve_url_parse(const char *url, resolve_url *out);

/* Strict decimal degrees for /N/?lat=&lon=: an optional '-', 1..3
 * digits, optionally '.' and 1..12 digits, nothing else (no exponent,
 * spaces, '+', hex, inf, nan), within -max..max. 1 and *out set, or 0. */
int resolve_parse_degrees(const char *s, double max, double *out);

/* The page language an Accept-Language value asks for (NULL: none):
 * SHOPPER_LANG_EN or SHOPPER_LANG_ZH (the default), by q, then order. */
int resolve_lang_of(const char *accept_language);

/* 1 if an Accept-Encoding value (NULL: none) takes gzip: "gzip" or "*"
 * with q > 0, and no "gzip;q=0" after a "*". */
int resolve_accepts_gzip(const char *accept_encoding);

/* ---- the resolver's life in `serve` (server.c) ------------------------------ */

/* Starts the flusher thread: every RESOLVE_FLUSH_MS (or sooner after
 * RESOLVE_FLUSH_SCANS unflushed scans, when they fall on few enough
 * stores: RESOLVE_FLUSH_DENSITY or more a store) it writes the in-memory
 * counters in one transaction and notices store changes made by other
 * processes.
 * db_lock is the mutex that serialises every use of h->db in this process
 * (server.c's); the resolver takes it for storage and never holds its own
 * lock while waiting for it. Without resolve_start (the command line)
 * nothing is cached and resolve_groups_state reads the database only.
 * SQR_ENOMEM, SQR_EIO when the thread cannot start. */
#define RESOLVE_FLUSH_MS    1000
#define RESOLVE_FLUSH_SCANS 1000
/* A flush writes a few rows per store it visits (scans, shoppers sent, the
 * seat lease), whatever the scans per store: 1,000 scans spread over
 * 5,000 stores made a flush every 50 ms writing about three rows per scan,
 * a quarter of HQ's CPU (docs/BENCHMARKS.md). So the early flush waits
 * until the scans average this many per store; scans that spread thinner
 * are written by the flush each second, a second's worth at most. At 4,
 * 40,000 scans a second over 5,000 stores flushed twice a second, each
 * flush settling and topping up the same groups (the flusher used 60-130
 * ms of CPU a second, docs/BENCHMARKS.md). */
#define RESOLVE_FLUSH_DENSITY 8
/* Unflushed scan counts are kept through a database outage, up to
 * RESOLVE_MAX_CELLS (store, kiosk, hour) cells (~40 bytes each); past it
 * scans needing a new cell are dropped (resolve_counts_state). A failed
 * write is retried after a backoff doubling from RESOLVE_FLUSH_MS to
 * RESOLVE_RETRY_MAX_MS; at stop for up to RESOLVE_STOP_RETRY_MS, then
 * what is left is dropped (and logged). */
#define RESOLVE_MAX_CELLS 100000
/* Seats a process leased and has not flushed for this long (it was
 * killed before it could give them back) are returned to their group by
 * the next process that leases seats of it. Far above RESOLVE_FLUSH_MS so
 * a live process's lease never expires unless its writes fail that long.
 * SQR_HQ_LEASE_TTL_S (1..3600) sets it in seconds (tests). */
#define RESOLVE_LEASE_TTL_MS 60000
/* A group that sent nobody for this long gives its leased seats back at
 * the next flush; one in use keeps them, renewed by each flush, and the
 * flusher tops its lease up (in the flush's transaction) when less than
 * half a block is left, so a scan rarely waits for a lease of its own.
 * Far below RESOLVE_LEASE_TTL_MS. */
#define RESOLVE_LEASE_IDLE_S  10
#define RESOLVE_RETRY_MAX_MS  10000
#define RESOLVE_STOP_RETRY_MS 3000
sqr_rc resolve_start(hq *h, pthread_mutex_t *db_lock) SQR_WARN_UNUSED;
/* The counters' state for /metrics: scans counted in memory and not yet
 * written, and scans dropped since the process started. */
void resolve_counts_state(uint64_t *unflushed, uint64_t *dropped);
/* Stops the thread, writes what is still in memory, frees every cache.
 * Call after the HTTP daemon stopped (no request in flight). */
void resolve_stop(void);
/* Writes the in-memory counters now (tests, shutdown). The caller must
 * not hold db_lock. */
sqr_rc resolve_flush(void) SQR_WARN_UNUSED;
/* server.c's hot path for GET/HEAD /J/... and /N/...: queues the cached
 * page's prebuilt response on c (no copy, no allocation per request).
 * 1: queued, *status its HTTP status (503 with Retry-After and a "try
 * again in a moment" page when storage failed); 0: not the resolver's
 * URL; -1: storage failed and no page could be rendered (answer 503);
 * -2: libmicrohttpd refused the response. *sent_min (when queued): bytes
 * libmicrohttpd will send at least for the answer, header and body (0
 * when unknown, and for HEAD), so that server.c can tell an answer
 * libmicrohttpd never corks the socket for.
 * Takes db_lock only on a cache miss: call it without holding it. */
int resolve_serve(hq *h, struct MHD_Connection *c, const char *method, const char *url, int *status,
                  size_t *sent_min) SQR_WARN_UNUSED;
/* Forgets what the resolver cached about a store (NULL: every store and
 * brand); the next scan reloads it. resolve_start subscribes it to the
 * operations layer's changes (hq_subscribe); changes made by another
 * process are noticed through the store's config_version within
 * RESOLVE_FLUSH_MS. */
void resolve_invalidate(const char *store);

#endif
