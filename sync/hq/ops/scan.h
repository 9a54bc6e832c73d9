/* scan.h — what the scan resolver reads and writes at HQ (storage in
 * hqdb_resolve.h): a store and its groups, the joins kiosks reported,
 * shoppers sent, scans per hour, alerts and brands, as operations on hq.
 * The resolver's cache and counters (web/) call these; nothing here
 * caches.
 */
#ifndef SQR_HQ_SCAN_H
#define SQR_HQ_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"
#include "hqdb_resolve.h"

/* A store (SQR_ENOTFOUND) and up to max of its groups. */
sqr_rc hq_scan_store(hq *h, const char *id, hq_store *out) SQR_WARN_UNUSED;
sqr_rc hq_scan_groups(hq *h, const char *store, hq_group *out, size_t max,
                      size_t *n) SQR_WARN_UNUSED;
/* The group policy every store's document carries (the store template's:
 * the same for every store, fixed while HQ runs), without building one. */
void hq_scan_group_policy(hq *h, int *reserve, int64_t *expiry_margin_s);
/* Adds the deltas to scans and group_scans, and settles the seats this
 * process leased of each group in sent (spent ones stay claimed, the
 * keep of the rest stay leased, the others go back; kept says what was
 * kept) and leases want more of the groups in use, in one transaction
 * (hqdb_resolve_flush, seats of leases older than ttl_ms reclaimed). */
sqr_rc hq_scan_flush(hq *h, const resolve_scan_delta *scans, size_t nscans,
                     resolve_sent_delta *sent, size_t nsent, int64_t ttl_ms) SQR_WARN_UNUSED;
/* Sign-ups the kiosks reported into a group (their events' "group"), and
 * whether a manager marked it full. */
sqr_rc hq_scan_joins(hq *h, const char *store, const char *grp, int64_t *joins,
                     int *marked_full) SQR_WARN_UNUSED;
/* Every store's (store NULL) or one store's live-code groups with their
 * joins, mark and shoppers sent, in one read (hqdb_resolve_group_counts;
 * *out malloc'ed). */
sqr_rc hq_scan_group_counts(hq *h, const char *store, resolve_group_count **out,
                            size_t *n) SQR_WARN_UNUSED;
/* Shoppers sent to a group, as flushed (0 when none). */
sqr_rc hq_scan_sent(hq *h, const char *store, const char *grp, int64_t *sent) SQR_WARN_UNUSED;
/* Leases up to want seats of a group (hqdb_resolve_lease): *granted
 * 0..want, 0 when the group has no room left across processes; *left,
 * the seats no process holds after it; *others, how many other processes
 * hold seats of it. Seats another process leased and has not flushed for
 * ttl_ms (it died) come back to the group first. */
sqr_rc hq_scan_lease(hq *h, const char *store, const char *grp, int64_t want, int64_t limit,
                     int64_t ttl_ms, int64_t *granted, int64_t *left,
                     int64_t *others) SQR_WARN_UNUSED;
/* Calls fn for every store with its config_version and event counter. */
sqr_rc hq_scan_versions(hq *h,
                        void (*fn)(void *arg, const char *store, int64_t config_version,
                                   int64_t events),
                        void *arg) SQR_WARN_UNUSED;
sqr_rc hq_scan_brand_set(hq *h, const char *store, const char *brand) SQR_WARN_UNUSED;
/* "" when the store is in no brand. */
sqr_rc hq_scan_brand_of(hq *h, const char *store, char brand[HQ_ID_MAX]) SQR_WARN_UNUSED;
/* The brand's stores by city and id (malloc'ed array, caller frees). */
sqr_rc hq_scan_brand_stores(hq *h, const char *brand, resolve_brand_store **out,
                            size_t *n) SQR_WARN_UNUSED;

#endif
