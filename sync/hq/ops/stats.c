/* stats.c — see stats.h. */
#include "stats.h"
#include "hq_int.h"

sqr_rc hq_stats_rollup(hq *h, int64_t now_ms) {
  return hqdb_stats_rollup(h->db, now_ms);
}

sqr_rc hq_stats_days(hq *h, const char *store, int64_t from, int64_t to, stats_day_row **days,
                     size_t *ndays, stats_staff_row **staff, size_t *nstaff) {
  return hqdb_stats_days(h->db, store, from, to, days, ndays, staff, nstaff);
}

sqr_rc hq_stats_stores(hq *h, const char *store, stats_store_row **out, size_t *n) {
  return hqdb_stats_stores(h->db, store, out, n);
}

sqr_rc hq_stats_board(hq *h, int64_t today, stats_sort sort, int desc, int64_t limit,
                      int64_t offset, stats_board_row **out, size_t *n) {
  return hqdb_stats_board(h->db, today, sort, desc, limit, offset, out, n);
}

sqr_rc hq_stats_totals(hq *h, int64_t today, int64_t stale_before_ms, stats_totals *out) {
  return hqdb_stats_totals(h->db, today, stale_before_ms, out);
}

sqr_rc hq_stats_series(hq *h, const char *store, int64_t from, int64_t to, int64_t *signups,
                       int64_t *scans) {
  return hqdb_stats_series(h->db, store, from, to, signups, scans);
}

sqr_rc hq_stats_kiosks(hq *h, const char *store, stats_kiosk_row **out, size_t *n) {
  return hqdb_stats_kiosks(h->db, store, out, n);
}

sqr_rc hq_stats_sync_each(hq *h, void (*fn)(void *arg, const char *store, int64_t last_ms),
                          void *arg) {
  return hqdb_stats_sync_each(h->db, fn, arg);
}

sqr_rc hq_stats_behind_each(hq *h, void (*fn)(void *arg, const char *store, int64_t behind),
                            void *arg) {
  return hqdb_stats_behind_each(h->db, fn, arg);
}

sqr_rc hq_stats_group_stores(hq *h, char (**out)[HQ_ID_MAX], size_t *n) {
  return hqdb_stats_group_stores(h->db, out, n);
}

sqr_rc hq_stats_exhausted(hq *h, int64_t since_ms, stats_alert_row *out, size_t max, size_t *n) {
  return hqdb_stats_exhausted(h->db, since_ms, out, max, n);
}

sqr_rc hq_stats_alerts(hq *h, int64_t since_ms, const char *except_kind, stats_alert_item *out,
                       size_t max, size_t *n) {
  return hqdb_stats_alerts(h->db, since_ms, except_kind, out, max, n);
}

sqr_rc hq_stats_alert_kinds_each(hq *h, void (*fn)(void *arg, const char *kind, int64_t n),
                                 void *arg) {
  return hqdb_stats_alert_kinds_each(h->db, fn, arg);
}

sqr_rc hq_stats_clock_each(hq *h,
                           void (*fn)(void *arg, const char *store, const char *kiosk_id,
                                      int64_t jumps),
                           void *arg) {
  return hqdb_stats_clock_each(h->db, fn, arg);
}
