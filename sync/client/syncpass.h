/* syncpass.h — one sync pass of a kiosk with HQ (docs/PROTOCOL.md):
 * upload every pending event in bounded batches (each telling HQ how many
 * events are still waiting after it), advancing only on HQ's acked_seq,
 * then pull the configuration and apply it, and prune the events HQ
 * acknowledged that are past the retention period. Each pass first checks the
 * box's clock (store_check_clock: a jump becomes a clock_jump event, once,
 * whether the kiosk app or this pass sees it first) and holds sync.lock
 * beside the database, so passes of one kiosk run one after the other.
 *
 * Owns nothing between calls: opens the store, talks to HQ, records the
 * attempt (store_sync_record) and closes. Never logs a payload, and never
 * sees a phone number (payloads hold sealed boxes only).
 */
#ifndef SQR_SYNC_SYNCPASS_H
#define SQR_SYNC_SYNCPASS_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

/* The files beside the kiosk database. */
typedef struct syncpass_paths {
  char dir[1024];
  char key[1100];  /* kiosk.key, 0600 */
  char cert[1100]; /* kiosk.crt */
  char ca[1100];   /* hq-ca.crt, the pinned CA */
  char url[1100];  /* hq.url: HQ's address as given at enrolment */
} syncpass_paths;
sqr_rc syncpass_paths_for(const char *db_path, syncpass_paths *out) SQR_WARN_UNUSED;

typedef struct syncpass_opts {
  const char *db_path;
  const char *hq_url; /* NULL: the config's hq.url, else hq.url beside the db */
  int batch_events;   /* 1..500; 0: 500 */
  int max_batches;    /* 0: no limit (a full pass); else a trickle */
  int skip_config;    /* 1: upload only */
  long connect_timeout_s, total_timeout_s;
  volatile int *abort_flag;
  /* Update bundles the configuration names (fetch.h); after a good pass
   * that pulled the configuration. */
  int skip_update;          /* 1: never fetch */
  const char *update_dir;   /* NULL: "updates" beside the database */
  const char *release_file; /* NULL: /opt/storeqr/current/.storeqr-release */
  const char *update_cmd;   /* NULL: queue for storeqr-update-queue.path */
  /* After a good pass: store_prune_events (retention.event_days), unless
   * skip_prune; the daemon asks for it about once an hour. */
  int skip_prune;
} syncpass_opts;

typedef struct syncpass_result {
  int64_t sent_events; /* events in batches HQ answered */
  int64_t batches;
  int64_t acked_before, acked_after, last_seq;
  int64_t config_before, config_after;
  int64_t hq_offset_ms;
  int64_t feed_pages, feed_entries; /* HQ's feed pages applied, and their entries */
  int64_t feed_voided;              /* this kiosk's check-ins HQ did not keep */
  int64_t pruned;                   /* acknowledged old events deleted here */
  char error[320];                  /* what failed, for people; "" when ok */
  char update_note[320];            /* what happened to an update bundle; "" when nothing */
} syncpass_result;

/* Runs one pass and records it in the database (a good pass's record
 * carries update_note, if any, in its message column). An update bundle
 * that cannot be fetched or installed never fails the pass. Errors:
 *   SQR_ENET    HQ unreachable or the connection broke (retry later)
 *   SQR_EAUTH   HQ refused the kiosk's certificate, or HQ's did not verify
 *   SQR_EPROTO  HQ answered something unusable, or refused a batch
 *   SQR_EINVAL  not enrolled / no HQ URL / bad options
 *   SQR_EBUSY   another pass held sync.lock for 15 minutes (not recorded)
 *   database errors from store_open and friends. */
sqr_rc syncpass_run(const syncpass_opts *o, syncpass_result *res) SQR_WARN_UNUSED;

#endif
