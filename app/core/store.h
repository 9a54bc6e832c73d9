/* store.h — the kiosk database: an append-only event log and the state it
 * describes.
 *
 * Owns the SQLite file (WAL, synchronous=FULL, busy timeout): its schema
 * and numbered migrations, the event log with its hash chain, the applied
 * configuration, group fill and sync bookkeeping. Members live in member.c,
 * which shares this module's internals through store_int.h.
 *
 * Every change appends an event with a strictly increasing seq in the same
 * transaction as the state it changes; when a call returns SQR_OK the
 * change is on disk and survives a power cut. Each event carries
 *   body_hash = SHA-256(payload)
 *   hash      = chain_hash(...) of chain.h, shared with HQ and sync/proto:
 *             SHA-256(prev_hash || be64(seq) || type || 0x00 || be64(ts_ms) || body_hash)
 * (prev_hash of the first event is 32 zero bytes), so HQ and
 * store_verify_log can detect a deleted, reordered or altered event.
 * Erasure may later strip personal fields from a payload; such an event is
 * marked redacted and keeps its original body_hash, so the chain still holds.
 * Events HQ acknowledged are pruned after the retention period; the seq
 * and hash of the last pruned one (the anchor, in meta) is where the
 * chain is verified from.
 *
 * Never opens a network connection; never stores a plaintext phone number.
 */
#ifndef SQR_STORE_H
#define SQR_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "clock.h"
#include "config.h"
#include "group.h"
#include "sqr.h"

typedef struct store store;

#define STORE_SCHEMA_VERSION 6
#define STORE_APPLICATION_ID 0x53515231 /* "SQR1" in PRAGMA application_id */
#define STORE_EVENT_TYPE_MAX 24         /* = CHAIN_TYPE_MAX (chain.h) */

/* Opens (creating if missing) the database at path and migrates it to
 * STORE_SCHEMA_VERSION in one transaction. clock is borrowed and must
 * outlive the store. Errors, with a sentence in err:
 *   SQR_ECORRUPT  the file is not a database, or not a StoreQR one
 *   SQR_EVERSION  written by a newer StoreQR
 *   SQR_EIO       cannot be created or opened (directory, permissions)
 *   SQR_ENOSPC    no room to create or migrate it */
sqr_rc store_open(const char *path, sqr_clock *clock, store **out, char *err,
                  size_t errlen) SQR_WARN_UNUSED;
void store_close(store *st);

/* The last error's full sentence (SQLite's own message included). */
const char *store_errmsg(const store *st);
sqr_clock *store_clock(store *st);
/* The schema version the file is at (PRAGMA user_version). */
sqr_rc store_schema_version(store *st, int *version) SQR_WARN_UNUSED;

/* Parses, validates and applies a configuration document in one
 * transaction, recorded as a config_applied event (plus one erase event per
 * erasure it carries). A version equal to the current one is a no-op; an
 * older one is refused (SQR_EINVAL). err gets "field: problem". */
sqr_rc store_apply_config(store *st, const char *json, size_t len, char *err,
                          size_t errlen) SQR_WARN_UNUSED;

/* The applied configuration, or NULL before the first one. Borrowed: valid
 * until the next store_apply_config or store_close. Another process (the
 * sync client) may apply a newer one: store_reload_config picks it up. */
const sqr_config *store_config(store *st);
sqr_rc store_reload_config(store *st) SQR_WARN_UNUSED;

typedef struct store_event {
  int64_t seq;
  char type[STORE_EVENT_TYPE_MAX];
  int64_t ts_ms;
  const char *payload; /* JSON, borrowed for the callback's duration */
  uint8_t body_hash[32];
  uint8_t hash[32];
  int redacted;
} store_event;

/* Calls fn for up to limit events with seq > after, in order. fn returns
 * non-zero to stop early. */
typedef int (*store_event_fn)(const store_event *ev, void *ud);
sqr_rc store_events_after(store *st, int64_t after, int limit, store_event_fn fn,
                          void *ud) SQR_WARN_UNUSED;

/* Appends an event with a JSON object payload, in its own transaction.
 * For modules outside core (sync client, UI) that record plain facts. */
sqr_rc store_append(store *st, const char *type, const char *payload_json,
                    int64_t *seq) SQR_WARN_UNUSED;

/* Where the kept log starts: the seq and hash of the last pruned event
 * (store_prune_events). Before any pruning: seq 0 and 32 zero bytes,
 * which is exactly the prev_hash of seq 1, so one walk serves both. */
typedef struct store_anchor {
  int64_t seq;
  uint8_t hash[32];
} store_anchor;
/* SQR_ECORRUPT (with a sentence in store_errmsg) if the stored anchor is
 * damaged: half of it, a seq below 0, a hash that is not 64 hex digits. */
sqr_rc store_anchor_get(store *st, store_anchor *out) SQR_WARN_UNUSED;

/* Walks the whole kept log from the anchor and checks seqs, body hashes
 * and the chain: the first kept event must be the anchor's seq + 1 and
 * link to the anchor's hash. SQR_ECORRUPT with *bad_seq and a reason in
 * why on the first break (an anchor with no event after it is a break).
 * store_verify_log_from also hands out the anchor it started from, read
 * in the same snapshot as the events (from may be NULL). */
sqr_rc store_verify_log(store *st, int64_t *checked, int64_t *bad_seq, char *why,
                        size_t whylen) SQR_WARN_UNUSED;
sqr_rc store_verify_log_from(store *st, store_anchor *from, int64_t *checked, int64_t *bad_seq,
                             char *why, size_t whylen) SQR_WARN_UNUSED;

/* Retention (docs/PRIVACY.md "How long"): deletes the oldest events that
 * HQ has acknowledged and whose ts_ms is older than the configuration's
 * retention.event_days before now_ms, and moves the anchor to the last
 * one deleted, in the same transaction. Only ever a prefix of the log:
 * it stops at the first event that is too young, not acknowledged, or
 * the newest one (never pruned, so the chain's tail is always there), so
 * an event with a clock jump in front of it waits for its successors.
 * Deletes in transactions of at most STORE_PRUNE_BATCH events, so the
 * app's writes wait at most one of them, then gives the freed pages back
 * to the file system (docs/ARCHITECTURE.md "Kiosk database"). *pruned
 * (may be NULL) gets how many went; 0 and SQR_OK when there is nothing to
 * do or no configuration yet. SQR_ECORRUPT if the log does not start
 * right after the anchor (run store_verify_log), database errors else. */
#define STORE_PRUNE_BATCH 5000
sqr_rc store_prune_events(store *st, int64_t now_ms, int64_t *pruned) SQR_WARN_UNUSED;

/* The seq of the newest event (0 for an empty log). A failed read is an
 * error (SQR_EBUSY, SQR_EIO, SQR_ECORRUPT, ...), never 0. */
sqr_rc store_last_seq_get(store *st, int64_t *seq) SQR_WARN_UNUSED;

/* The highest seq HQ acknowledged (0 before the first acknowledgement);
 * SQR_ECORRUPT if the stored value is damaged. Setting it never moves it
 * backwards, and refuses (SQR_EPROTO) a seq beyond the last event. */
sqr_rc store_acked_seq_get(store *st, int64_t *seq) SQR_WARN_UNUSED;
sqr_rc store_set_acked_seq(store *st, int64_t seq) SQR_WARN_UNUSED;

/* Unchecked forms of the two above, for callers that only report the
 * figure: -1 when it cannot be read (logged; store_errmsg has why). Never
 * base a decision on them: use the _get forms. */
int64_t store_last_seq(store *st);
int64_t store_acked_seq(store *st);

/* Compares wall and monotonic time with the reference kept in the
 * database (clock.h); a difference larger than STORE_CLOCK_JUMP_MS is
 * recorded as a clock_jump event {"jump_ms", "source": "wall"} and the
 * reference moves past it, so of the app and the sync daemon (both check)
 * only the first to look records it. Another boot only renews the
 * reference (no clock spans a reboot; the next sync's HQ offset tells,
 * see store_sync_record). Writes nothing unless there is something to
 * record or the reference is older than STORE_CLOCK_REF_REFRESH_MS of
 * monotonic time. *jumped is set. */
#define STORE_CLOCK_JUMP_MS        120000
#define STORE_CLOCK_REF_REFRESH_MS 600000
sqr_rc store_check_clock(store *st, int *jumped) SQR_WARN_UNUSED;

/* What the app calls every few seconds (well within one rotation): takes
 * the HQ clock offset the last successful sync recorded (the sync daemon
 * is another process, so the store's clock would otherwise keep the
 * offset it opened with), drops members still on the old blind index once
 * keys.legacy_index_until has passed (once per configuration; applying a
 * configuration does it too), and store_check_clock. *offset_changed and
 * *jumped (either may be NULL) say what happened. */
sqr_rc store_clock_refresh(store *st, int *offset_changed, int *jumped) SQR_WARN_UNUSED;

/* The live code's group. group is -1 when none is usable (show the staff
 * contact code). A change from the last answer is recorded as a
 * group_switched or groups_exhausted event. */
typedef struct store_live {
  int group;             /* index into config groups, or -1 */
  const config_group *g; /* NULL when group is -1 */
  int joined;
  const char *link; /* group's link, or the fallback link */
  int exhausted;
} store_live;
sqr_rc store_live_group(store *st, store_live *out) SQR_WARN_UNUSED;

/* Fill of every configured group (cfg->ngroups entries). */
sqr_rc store_group_fill(store *st, group_fill *fill, size_t n) SQR_WARN_UNUSED;

/* The manager's "this group is full" (recorded, and the code moves on). */
sqr_rc store_group_mark_full(store *st, const char *group_id) SQR_WARN_UNUSED;

/* What the manager screen and `storeqr status` show, read in one
 * transaction. On any failed read the error is returned and *out is all
 * zero, never a mix of real figures and defaults. */
#define STORE_DAYS 7
typedef struct store_staff_count {
  char staff[CONFIG_ID_MAX + 1];
  int signups;
} store_staff_count;
typedef struct store_status {
  int64_t members;
  int signups_today, checkins_today;
  int signups_by_day[STORE_DAYS]; /* [0] = 6 days ago ... [6] = today */
  int checkins_by_day[STORE_DAYS];
  size_t nstaff;
  store_staff_count staff_today[CONFIG_MAX_STAFF + 1];
  int64_t last_seq, acked_seq, pending_events;
  int64_t last_sync_ok_ms;      /* 0 = never */
  int64_t last_sync_attempt_ms; /* 0 = never */
  char last_sync_error[256];
  int64_t hq_offset_ms;
  int64_t config_version;
  int64_t clock_jumps;             /* clock_jump events in the kept log */
  int64_t last_clock_jump_ms;      /* when the newest was recorded; 0 = never */
  int64_t last_clock_jump_by_ms;   /* its jump_ms: + the kiosk's time moved ahead */
  char last_clock_jump_source[16]; /* "wall" or "hq_offset" */
} store_status;
sqr_rc store_status_get(store *st, store_status *out) SQR_WARN_UNUSED;

/* Records one sync attempt (for the manager screen and status). A
 * successful one also sets the clock's HQ offset (store_open starts from
 * the last successful offset), and when the offset moved by more than
 * STORE_CLOCK_JUMP_MS beyond what the wall-clock jumps recorded since the
 * previous good sync explain, appends a clock_jump event {"jump_ms" (the
 * kiosk's time against HQ's: minus the unexplained change), "source":
 * "hq_offset", "offset_ms", "previous_offset_ms"} in the same
 * transaction. */
sqr_rc store_sync_record(store *st, int ok, const char *error,
                         int64_t hq_offset_ms) SQR_WARN_UNUSED;

/* Test seam: caps the file at pages * page_size bytes (PRAGMA
 * max_page_count), so a full disk can be tested without filling one. */
sqr_rc store_set_max_pages(store *st, int pages) SQR_WARN_UNUSED;

/* Test seam: creates a database at path migrated only up to version, as an
 * older StoreQR would have left it. */
sqr_rc store_create_at_version(const char *path, int version) SQR_WARN_UNUSED;

#endif
