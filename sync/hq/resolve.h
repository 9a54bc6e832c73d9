/* resolve.h — the scan resolver's view of a store's groups, for the
 * dashboard and /metrics (dash.c, metrics.c). The routes themselves
 * (GET /J/<STORE>/<TOKEN>, GET /N/<BRAND>) are declared in web.h.
 *
 * The resolver fills a store's groups one at a time using HQ's own counts:
 * joins the kiosks reported (their sign-up events) plus shoppers the
 * resolver sent to each group's join link (group_scans, including what is
 * still in memory and not yet flushed). This header only reads that state.
 */
#ifndef SQR_RESOLVE_H
#define SQR_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include "hq.h"

/* WeChat admits at most 200 members to a group by scanning its QR code;
 * the resolver moves on before a group reaches it, whatever the capacity. */
#define RESOLVE_SCAN_LIMIT 200

typedef struct resolve_group_state {
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  int capacity;
  int64_t joins;       /* sign-ups the kiosks reported into this group */
  int64_t scans_sent;  /* shoppers the resolver sent to its join link */
  int64_t expires_at;  /* unix seconds, 0 = never */
  int full;            /* the resolver no longer sends shoppers to it */
  int near_full;       /* joins + scans_sent >= 90% of min(capacity, 200) */
  int near_expiry;     /* expires within 24 hours (or already expired) */
  int exhausted;       /* every live-code group of the store is unusable
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

#endif
