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
  int64_t n;
} resolve_sent_delta;
typedef struct resolve_brand_store {
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  char city[64];
  double lat, lon;
} resolve_brand_store;

/* Adds the deltas to scans and group_scans in one transaction. */
sqr_rc hqdb_resolve_flush(hqdb *db, const resolve_scan_delta *scans, size_t nscans,
                          const resolve_sent_delta *sent, size_t nsent) SQR_WARN_UNUSED;
/* Sign-ups the kiosks reported into a group (their events' "group"), and
 * whether a manager marked it full. */
sqr_rc hqdb_resolve_joins(hqdb *db, const char *store, const char *grp, int64_t *joins,
                          int *marked_full) SQR_WARN_UNUSED;
/* Shoppers sent to a group, as flushed (0 when none). */
sqr_rc hqdb_resolve_sent(hqdb *db, const char *store, const char *grp,
                         int64_t *sent) SQR_WARN_UNUSED;
/* An alert (alerts.kiosk = the store id, seq 0) unless one of that kind
 * for the store is younger than window_ms; *recorded says which. */
sqr_rc hqdb_resolve_alert(hqdb *db, const char *store, const char *kind, const char *message,
                          int64_t now_ms, int64_t window_ms, int *recorded) SQR_WARN_UNUSED;
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
