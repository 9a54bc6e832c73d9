/* stats.h — the stats queries of HQ's figures (storage in hqdb_stats.h):
 * what the dashboard, /v1/stats and /metrics read, as operations on hq.
 *
 * Never returns a phone number: counts, staff ids and store ids.
 */
#ifndef SQR_HQ_STATS_H
#define SQR_HQ_STATS_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"
#include "hqdb_stats.h"

/* Copies the scans table's hours into scan_days (per store and day) from
 * the day of the previous roll-up on; cheap when called often (only the
 * current day's hours are read again, and only changed rows written). */
sqr_rc hq_stats_rollup(hq *h, int64_t now_ms) SQR_WARN_UNUSED;
/* Days with any activity in [from, to] (store NULL: every store), by
 * store and day; the staff rows of the same range; the stores themselves
 * (every store, or the one). Arrays malloc'ed; free with free(). */
sqr_rc hq_stats_days(hq *h, const char *store, int64_t from, int64_t to, stats_day_row **days,
                     size_t *ndays, stats_staff_row **staff, size_t *nstaff) SQR_WARN_UNUSED;
sqr_rc hq_stats_stores(hq *h, const char *store, stats_store_row **out, size_t *n) SQR_WARN_UNUSED;
/* limit rows from offset, sorted (desc: largest / most stale first),
 * aggregated in SQL; today = the day "today" is. stale_before_ms: a store
 * whose last sync is older counts as stale. */
sqr_rc hq_stats_board(hq *h, int64_t today, stats_sort sort, int desc, int64_t limit,
                      int64_t offset, stats_board_row **out, size_t *n) SQR_WARN_UNUSED;
sqr_rc hq_stats_totals(hq *h, int64_t today, int64_t stale_before_ms,
                       stats_totals *out) SQR_WARN_UNUSED;
/* Sign-ups and scans per day, all stores (store NULL) or one, for the
 * days [from, to]; out[i] is day from + i (n = to - from + 1 entries each,
 * zero-filled by the caller). */
sqr_rc hq_stats_series(hq *h, const char *store, int64_t from, int64_t to, int64_t *signups,
                       int64_t *scans) SQR_WARN_UNUSED;
sqr_rc hq_stats_kiosks(hq *h, const char *store, stats_kiosk_row **out, size_t *n) SQR_WARN_UNUSED;
/* Newest sync per store that has one (for /metrics). fn per store. */
sqr_rc hq_stats_sync_each(hq *h, void (*fn)(void *arg, const char *store, int64_t last_ms),
                          void *arg) SQR_WARN_UNUSED;
/* Events behind per store that has a known figure (its kiosks' last
 * reports, revoked kiosks left out; for /metrics). fn per store. */
sqr_rc hq_stats_behind_each(hq *h, void (*fn)(void *arg, const char *store, int64_t behind),
                            void *arg) SQR_WARN_UNUSED;
/* Ids of stores with live (not retired) groups, malloc'ed. */
sqr_rc hq_stats_group_stores(hq *h, char (**out)[HQ_ID_MAX], size_t *n) SQR_WARN_UNUSED;
sqr_rc hq_stats_exhausted(hq *h, int64_t since_ms, stats_alert_row *out, size_t max,
                          size_t *n) SQR_WARN_UNUSED;
/* The alerts people see (alerts.h), newest first, of every kind but
 * except_kind (NULL: all), since since_ms, at most max. */
sqr_rc hq_stats_alerts(hq *h, int64_t since_ms, const char *except_kind, stats_alert_item *out,
                       size_t max, size_t *n) SQR_WARN_UNUSED;
/* Alerts ever raised, by kind (for /metrics). */
sqr_rc hq_stats_alert_kinds_each(hq *h, void (*fn)(void *arg, const char *kind, int64_t n),
                                 void *arg) SQR_WARN_UNUSED;
/* Clock jumps per kiosk that uploaded any (for /metrics). */
sqr_rc hq_stats_clock_each(hq *h,
                           void (*fn)(void *arg, const char *store, const char *kiosk_id,
                                      int64_t jumps),
                           void *arg) SQR_WARN_UNUSED;

#endif
