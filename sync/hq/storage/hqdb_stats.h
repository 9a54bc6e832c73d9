/* hqdb_stats.h — storage of HQ's figures: daily stats per store and staff
 * member, scans per day (rolled up from the resolver's hourly table),
 * kiosks' last sync, events behind and clock jumps, the alerts people
 * see; and the Shanghai calendar days the figures are kept in.
 *
 * Days are Asia/Shanghai calendar days (UTC+8, no daylight saving): day
 * number d covers [d * 86400000 - 8 h, (d + 1) * 86400000 - 8 h) in unix ms,
 * so day 0 is 1970-01-01 in Shanghai. An event counts on the day of its
 * kiosk timestamp (ts_ms; the kiosk's clock follows HQ's offset), a scan
 * on the day of its hour.
 *
 * Typed calls only: no HTTP, no JSON. Never holds or returns a phone
 * number: the figures are counts, staff ids and store ids.
 */
#ifndef SQR_HQDB_STATS_H
#define SQR_HQDB_STATS_H

#include <stddef.h>
#include <stdint.h>
#include "hqdb.h"
#include "sqr.h"

#define STATS_TZ_OFFSET_MS (8LL * 3600 * 1000)
#define STATS_DAY_MS       (86400LL * 1000)

/* The Shanghai day of a unix time in ms (floor, also before 1970). */
int64_t stats_day_of_ms(int64_t ms);
/* The day an hour number (unix ms / 3,600,000, the scans table) is in. */
int64_t stats_day_of_hour(int64_t hour);
/* "YYYY-MM-DD" (out: 11 bytes). */
void stats_day_format(int64_t day, char out[11]);
/* Strict "YYYY-MM-DD" of a real date between 2000-01-01 and 2099-12-31.
 * SQR_EINVAL otherwise. */
sqr_rc stats_day_parse(const char *s, int64_t *day) SQR_WARN_UNUSED;

/* ---- written by ingest (inside its transaction) --------------------------- */

/* What one batch adds for one day and staff member ("" = none). */
typedef struct stats_delta {
  int64_t day;
  char staff[HQ_ID_MAX];
  int signups, checkins;
} stats_delta;
/* Adds the batch's figures: one upsert per (day) into daily_stats, one per
 * (day, staff) with sign-ups into daily_staff, and the kiosk's last sync. */
sqr_rc hqdb_stats_ingest(hqdb *db, const char *store, const char *kiosk_id, const stats_delta *d,
                         size_t n, int64_t last_seq, int64_t now_ms) SQR_WARN_UNUSED;
/* Records what the batch's "behind" said (>= 0): the events the kiosk still
 * held after it, as of now_ms; replaces the kiosk's previous report.
 * ingest.c does not call it for a batch without the field, so the last
 * report stands. */
sqr_rc hqdb_stats_behind(hqdb *db, const char *store, const char *kiosk_id, int64_t behind,
                         int64_t now_ms) SQR_WARN_UNUSED;

/* The clock_jump events of one batch (ingest.c): how many, and the newest
 * one's kiosk time, jump_ms ("+": the kiosk's time moved ahead) and
 * source ("wall", "hq_offset"). */
typedef struct stats_clock_jump {
  int64_t jumps, last_ts_ms, last_jump_ms;
  char last_source[16];
} stats_clock_jump;
/* Adds them to the kiosk's row in kiosk_clock. */
sqr_rc hqdb_stats_clock(hqdb *db, const char *store, const char *kiosk_id,
                        const stats_clock_jump *j, int64_t now_ms) SQR_WARN_UNUSED;

/* ---- read by the routes ---------------------------------------------------- */

/* Copies the scans table's hours into scan_days (per store and day) from
 * the day of the previous roll-up on; cheap when called often (only the
 * current day's hours are read again, and only changed rows written). */
sqr_rc hqdb_stats_rollup(hqdb *db, int64_t now_ms) SQR_WARN_UNUSED;

typedef struct stats_day_row {
  char store[HQ_ID_MAX];
  int64_t day, signups, checkins, scans;
} stats_day_row;
typedef struct stats_staff_row {
  char store[HQ_ID_MAX];
  int64_t day;
  char staff[HQ_ID_MAX];
  int64_t signups;
} stats_staff_row;
typedef struct stats_store_row {
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  char city[64];
  int64_t members;      /* the store's distinct members HQ links now */
  int64_t last_sync_ms; /* newest upload any of its kiosks made; 0 never */
  int64_t kiosks;
  int64_t events_behind; /* sum of its kiosks' last "behind" (not revoked); -1 none said */
} stats_store_row;
/* Days with any activity in [from, to] (store NULL: every store), by
 * store and day; the staff rows of the same range; the stores themselves
 * (every store, or the one). Arrays malloc'ed; free with free(). */
sqr_rc hqdb_stats_days(hqdb *db, const char *store, int64_t from, int64_t to, stats_day_row **days,
                       size_t *ndays, stats_staff_row **staff, size_t *nstaff) SQR_WARN_UNUSED;
sqr_rc hqdb_stats_stores(hqdb *db, const char *store, stats_store_row **out,
                         size_t *n) SQR_WARN_UNUSED;

/* One line of the dashboard's stores table. */
typedef struct stats_board_row {
  char id[HQ_ID_MAX];
  char name[HQ_TEXT_MAX];
  char city[64];
  int64_t signups_today, checkins_today, scans_today;
  int64_t signups_7d, checkins_7d, scans_7d;
  int64_t last_sync_ms;
  int64_t events_behind; /* as stats_store_row's */
} stats_board_row;
typedef enum stats_sort {
  STATS_SORT_ID = 0,
  STATS_SORT_NAME,
  STATS_SORT_SIGNUPS_TODAY,
  STATS_SORT_SIGNUPS_7D,
  STATS_SORT_CHECKINS_7D,
  STATS_SORT_SCANS_7D,
  STATS_SORT_SYNC,
  STATS_SORT_COUNT
} stats_sort;
typedef struct stats_totals {
  int64_t stores, stale_stores, never_synced;
  int64_t signups_today, checkins_today, scans_today;
  int64_t signups_7d, checkins_7d, scans_7d;
} stats_totals;
/* limit rows from offset, sorted (desc: largest / most stale first),
 * aggregated in SQL; today = the day "today" is. stale_before_ms: a store
 * whose last sync is older counts as stale. */
sqr_rc hqdb_stats_board(hqdb *db, int64_t today, stats_sort sort, int desc, int64_t limit,
                        int64_t offset, stats_board_row **out, size_t *n) SQR_WARN_UNUSED;
sqr_rc hqdb_stats_totals(hqdb *db, int64_t today, int64_t stale_before_ms,
                         stats_totals *out) SQR_WARN_UNUSED;
/* Sign-ups and scans per day, all stores (store NULL) or one, for the
 * days [from, to]; out[i] is day from + i (n = to - from + 1 entries each,
 * zero-filled by the caller). */
sqr_rc hqdb_stats_series(hqdb *db, const char *store, int64_t from, int64_t to, int64_t *signups,
                         int64_t *scans) SQR_WARN_UNUSED;

typedef struct stats_kiosk_row {
  int number, revoked;
  int64_t acked_seq, last_sync_ms;
  int64_t behind;      /* its last "behind"; -1 never said */
  int64_t clock_jumps; /* clock_jump events it uploaded; the newest: */
  int64_t last_jump_ts_ms, last_jump_ms;
  char last_jump_source[16];
} stats_kiosk_row;
sqr_rc hqdb_stats_kiosks(hqdb *db, const char *store, stats_kiosk_row **out,
                         size_t *n) SQR_WARN_UNUSED;
/* Newest sync per store that has one (for /metrics). fn per store. */
sqr_rc hqdb_stats_sync_each(hqdb *db, void (*fn)(void *arg, const char *store, int64_t last_ms),
                            void *arg) SQR_WARN_UNUSED;
/* Events behind per store that has a known figure (its kiosks' last
 * reports, revoked kiosks left out; for /metrics). fn per store. */
sqr_rc hqdb_stats_behind_each(hqdb *db, void (*fn)(void *arg, const char *store, int64_t behind),
                              void *arg) SQR_WARN_UNUSED;
/* Ids of stores with live (not retired) groups, malloc'ed. */
sqr_rc hqdb_stats_group_stores(hqdb *db, char (**out)[HQ_ID_MAX], size_t *n) SQR_WARN_UNUSED;
/* Stores with a groups_exhausted alert since since_ms (newest first, at
 * most max), and the alert's time. */
typedef struct stats_alert_row {
  char store[HQ_ID_MAX];
  int64_t at_ms;
} stats_alert_row;
sqr_rc hqdb_stats_exhausted(hqdb *db, int64_t since_ms, stats_alert_row *out, size_t max,
                            size_t *n) SQR_WARN_UNUSED;
/* Alerts of every kind but except_kind (NULL: none left out) since
 * since_ms, newest first, at most max: chain breaks, refused revoked
 * certificates, clock jumps, and whatever kind a caller of hq_alert_raise
 * names. The subject "STORE/N" is split into store and kiosk (0: the
 * alert is about a store). */
typedef struct stats_alert_item {
  char kind[HQ_ID_MAX];
  char store[HQ_ID_MAX];
  int kiosk;
  int64_t seq; /* the event it is about; 0 none */
  char message[HQ_TEXT_MAX];
  int64_t at_ms;
} stats_alert_item;
sqr_rc hqdb_stats_alerts(hqdb *db, int64_t since_ms, const char *except_kind, stats_alert_item *out,
                         size_t max, size_t *n) SQR_WARN_UNUSED;
/* Alerts ever raised, by kind (for /metrics). fn per kind. */
sqr_rc hqdb_stats_alert_kinds_each(hqdb *db, void (*fn)(void *arg, const char *kind, int64_t n),
                                   void *arg) SQR_WARN_UNUSED;
/* Clock jumps each kiosk uploaded, for kiosks with any (for /metrics). */
sqr_rc hqdb_stats_clock_each(hqdb *db,
                             void (*fn)(void *arg, const char *store, const char *kiosk_id,
                                        int64_t jumps),
                             void *arg) SQR_WARN_UNUSED;

#endif
