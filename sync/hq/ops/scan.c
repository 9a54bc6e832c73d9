/* scan.c — see scan.h. */
#include "scan.h"
#include "hq_int.h"

sqr_rc hq_scan_store(hq *h, const char *id, hq_store *out) {
  return hqdb_store_get(h->db, id, out);
}

sqr_rc hq_scan_groups(hq *h, const char *store, hq_group *out, size_t max, size_t *n) {
  return hqdb_groups(h->db, store, out, max, n);
}

void hq_scan_group_policy(hq *h, int *reserve, int64_t *expiry_margin_s) {
  *reserve = h->group_reserve;
  *expiry_margin_s = h->group_margin_s;
}

sqr_rc hq_scan_flush(hq *h, const resolve_scan_delta *scans, size_t nscans,
                     resolve_sent_delta *sent, size_t nsent, int64_t ttl_ms) {
  return hqdb_resolve_flush(h->db, scans, nscans, sent, nsent, hq_now_ms(), ttl_ms);
}

sqr_rc hq_scan_joins(hq *h, const char *store, const char *grp, int64_t *joins, int *marked_full) {
  return hqdb_resolve_joins(h->db, store, grp, joins, marked_full);
}

sqr_rc hq_scan_group_counts(hq *h, const char *store, resolve_group_count **out, size_t *n) {
  return hqdb_resolve_group_counts(h->db, store, out, n);
}

sqr_rc hq_scan_sent(hq *h, const char *store, const char *grp, int64_t *sent) {
  return hqdb_resolve_sent(h->db, store, grp, sent);
}

sqr_rc hq_scan_lease(hq *h, const char *store, const char *grp, int64_t want, int64_t limit,
                     int64_t ttl_ms, int64_t *granted, int64_t *left, int64_t *others) {
  return hqdb_resolve_lease(h->db, store, grp, want, limit, hq_now_ms(), ttl_ms, granted, left,
                            others);
}

sqr_rc hq_scan_versions(hq *h,
                        void (*fn)(void *arg, const char *store, int64_t config_version,
                                   int64_t events),
                        void *arg) {
  return hqdb_resolve_versions(h->db, fn, arg);
}

sqr_rc hq_scan_brand_set(hq *h, const char *store, const char *brand) {
  return hqdb_resolve_brand_set(h->db, store, brand);
}

sqr_rc hq_scan_brand_of(hq *h, const char *store, char brand[HQ_ID_MAX]) {
  return hqdb_resolve_brand_of(h->db, store, brand);
}

sqr_rc hq_scan_brand_stores(hq *h, const char *brand, resolve_brand_store **out, size_t *n) {
  return hqdb_resolve_brand_stores(h->db, brand, out, n);
}
