/* hqdb_resolve.h — storage of the scan resolver: scans per store, kiosk
 * and hour; shoppers sent per group; the joins kiosks reported; resolver
 * alerts; brands and their stores.
 *
 * Typed calls only: no HTTP, no JSON.
 */
#ifndef SQR_HQDB_RESOLVE_H
#define SQR_HQDB_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include "hqdb.h"
#include "sqr.h"

typedef struct resolve_scan_delta {
  char store[HQ_ID_MAX];
  int kiosk;
  int64_t hour; /* unix ms / 3,600,000 */
  int64_t n;
} resolve_scan_delta;
typedef struct resolve_sent_delta {
  char store[HQ_ID_MAX];
  char grp[HQ_ID_MAX];
  int64_t n;         /* shoppers sent */
  int64_t unused;    /* seats leased (hqdb_resolve_lease) and not spent */
  int64_t keep;      /* of unused, the seats to go on holding (0: give them all back) */
  int64_t keep_room; /* want grants nothing unless this many seats of limit are unclaimed */
  int64_t kept;      /* out: the seats kept (keep, or 0 when another process reclaimed the lease) */
  int64_t want;      /* seats to lease more, as hqdb_resolve_lease (0: none) */
  int64_t limit;     /* the group's limit (for left, keep_room and want) */
  int64_t granted, left; /* out: as hqdb_resolve_lease's; when kept, left is the
                          * seats of limit unclaimed */
  int64_t others;        /* out, with left: other handles' seat_leases rows of the group */
} resolve_sent_delta;
typedef struct resolve_brand_store {
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  char city[64];
  double lat, lon;
} resolve_brand_store;

/* Adds the deltas to scans and group_scans, and settles the seats this
 * handle leased of each group in sent (the spent ones stay claimed; of
 * the rest, keep stay leased, renewed at now_ms, and the others go back
 * to group_seats; its seat_leases row holds what is kept, or goes), in
 * one transaction. A group whose row another process reclaimed meanwhile
 * (hqdb_resolve_lease) gets its spent seats claimed again and keeps
 * nothing (kept 0). A delta with want leases that many seats more
 * of its group in the same transaction (hqdb_resolve_lease, with ttl_ms;
 * granted, left), when its lease was kept (0 kept included; the leases
 * kept are topped up in batches, which leave expired rows of other
 * processes to the next hqdb_resolve_lease). sent must be sorted by
 * store then group: PostgreSQL's row locks are taken in that order, so
 * that two processes' flushes never wait on each other in a circle. Rows
 * go in statements of up
 * to 64 (one round trip each on PostgreSQL, prepared once on SQLite).
 * On an error every out field is 0. */
sqr_rc hqdb_resolve_flush(hqdb *db, const resolve_scan_delta *scans, size_t nscans,
                          resolve_sent_delta *sent, size_t nsent, int64_t now_ms,
                          int64_t ttl_ms) SQR_WARN_UNUSED;
/* Sign-ups the kiosks reported into a group (their events' "group"), and
 * whether a manager marked it full. */
sqr_rc hqdb_resolve_joins(hqdb *db, const char *store, const char *grp, int64_t *joins,
                          int *marked_full) SQR_WARN_UNUSED;
/* One live-code group with the counts the group rule reads. */
typedef struct resolve_group_count {
  char store[HQ_ID_MAX];
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  int capacity;
  int64_t expires_at; /* unix seconds, 0 = never */
  int retired;
  int64_t joins;   /* as hqdb_resolve_joins */
  int marked_full; /* as hqdb_resolve_joins */
  int64_t sent;    /* as hqdb_resolve_sent */
} resolve_group_count;
/* Every store's live-code groups (store NULL) or one store's (interest
 * groups left out, retired ones in), ordered by store and then as
 * hqdb_groups orders a store's, each with its joins, mark and shoppers
 * sent: what hqdb_groups, hqdb_resolve_joins and hqdb_resolve_sent give
 * group by group, in one statement. *out is malloc'ed (NULL when none);
 * the caller frees it. */
sqr_rc hqdb_resolve_group_counts(hqdb *db, const char *store, resolve_group_count **out,
                                 size_t *n) SQR_WARN_UNUSED;
/* Shoppers sent to a group, as flushed (0 when none). */
sqr_rc hqdb_resolve_sent(hqdb *db, const char *store, const char *grp,
                         int64_t *sent) SQR_WARN_UNUSED;
/* Leases seats of a group to this process: up to want (>= 1), so that
 * the seats claimed by every process sharing the database (shoppers
 * sent, flushed or not, plus seats leased and unspent) never pass limit.
 * *granted: 0..want, 0 when the group has no room left; *left: the seats
 * no process holds after this grant; *others: how many other handles
 * hold a lease of the group after it (0: this one has it to itself for
 * now). One atomic conditional UPDATE
 * decides. The grant is recorded as this handle's (seat_leases, renewed
 * at now_ms; a row of 0 seats when nothing was granted, so a process
 * keeping seats of the group sees *others; *left is then what is
 * unclaimed) until its next flush settles it; first, seats other handles were
 * granted and have not flushed for ttl_ms (a process killed before it
 * gave them back) are returned to the group. SQR_EINVAL for want < 1. */
sqr_rc hqdb_resolve_lease(hqdb *db, const char *store, const char *grp, int64_t want, int64_t limit,
                          int64_t now_ms, int64_t ttl_ms, int64_t *granted, int64_t *left,
                          int64_t *others) SQR_WARN_UNUSED;
/* Calls fn for every store with its config_version and event counter. */
sqr_rc hqdb_resolve_versions(hqdb *db,
                             void (*fn)(void *arg, const char *store, int64_t config_version,
                                        int64_t events),
                             void *arg) SQR_WARN_UNUSED;
sqr_rc hqdb_resolve_brand_set(hqdb *db, const char *store, const char *brand) SQR_WARN_UNUSED;
/* "" when the store is in no brand. */
sqr_rc hqdb_resolve_brand_of(hqdb *db, const char *store, char brand[HQ_ID_MAX]) SQR_WARN_UNUSED;
/* The brand's stores by city and id (malloc'ed array, caller frees). */
sqr_rc hqdb_resolve_brand_stores(hqdb *db, const char *brand, resolve_brand_store **out,
                                 size_t *n) SQR_WARN_UNUSED;

#endif
